"""`aiguilleur parse --inbound ID`: a stored message, read from the database and not written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import Engine

from gateway.storage import repo
from gateway.storage.models import InboundRaw
from gateway.storage.repo import IncomingRaw
from tests.gateway.cli.commands.site import Site, make_site, run_cli, session_for
from tests.parsers.builders import build_signalement_mail


def _stored(tmp_path: Path) -> tuple[Site, int]:
    site = make_site(tmp_path, with_database=True)
    with session_for(site) as session:
        (stored,) = repo.store_inbound_batch(
            session, [IncomingRaw("sig", build_signalement_mail(), source_key="k1")]
        )
        session.commit()
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        engine.dispose()  # closed, so its WAL is folded into the file now
    return site, stored


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_stored_message_is_parsed_without_writing_the_database(tmp_path: Path) -> None:
    site, stored = _stored(tmp_path)
    before = _digest(site.database)
    code, out, err = run_cli("parse", "--inbound", str(stored), "-c", str(site.config))
    assert code == 0, err
    output = json.loads(out)
    assert output["envelope"]["from_addr"] == "paul.martin@infirmier.mssante.fr"
    assert output["request"]["patient"]["family_name"] == "DUPONT"
    assert _digest(site.database) == before
    wal = site.database.with_name(site.database.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # SQLite may open an empty one


def test_an_unknown_or_purged_message_is_refused_in_french(tmp_path: Path) -> None:
    site, stored = _stored(tmp_path)
    code, out, err = run_cli("parse", "--inbound", "999", "-c", str(site.config))
    assert (code, out) == (2, "")
    assert err.strip() == "erreur : aucun message n° 999 dans la base de données"
    with session_for(site) as session:
        row = session.get(InboundRaw, stored)
        assert row is not None
        row.raw = b""  # as the retention policy leaves it
        session.commit()
    code, out, err = run_cli("parse", "--inbound", str(stored), "-c", str(site.config))
    assert (code, out) == (2, "")
    assert f"le message n° {stored} n'est plus conservé" in err


def test_a_file_or_a_stored_message_but_one_of_them(tmp_path: Path) -> None:
    site, stored = _stored(tmp_path)
    path = tmp_path / "m.eml"
    path.write_bytes(build_signalement_mail())
    for args in ((), (str(path), "--inbound", str(stored), "-c", str(site.config))):
        code, out, err = run_cli("parse", *args)
        assert (code, out) == (2, "")
        assert "indiquez soit un fichier, soit --inbound" in err


def test_a_missing_database_is_named(tmp_path: Path) -> None:
    site = make_site(tmp_path)  # no database created
    code, out, err = run_cli("parse", "--inbound", "1", "-c", str(site.config))
    assert (code, out) == (2, "")
    assert "base de données absente" in err and not site.database.exists()
