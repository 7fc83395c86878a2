from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli import app
from gateway.cli.samples import demo_samples

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_config_check_accepts_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(
        '[[mailboxes]]\nname = "sig"\naddress = "s@cpts.test"\nprogramme = "signalement"\n'
    )
    result = runner.invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_config_check_warns_about_an_unset_territory_until_it_is_set(tmp_path: Path) -> None:
    box = '[[mailboxes]]\nname = "sig"\naddress = "s@cpts.test"\nprogramme = "signalement"\n'
    path = tmp_path / "ok.toml"
    path.write_text(box)
    result = runner.invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning: programme signalement: rule patient_in_territory" in result.stderr
    assert "insee_codes, postal_codes" in result.stderr
    example = ROOT.parent / "deploy" / "programmes.example.toml"
    path.write_text(f'[routing]\nprogrammes_path = "{example}"\n\n{box}')
    result = runner.invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


def test_config_check_rejects_a_broken_programmes_file(tmp_path: Path) -> None:
    programmes = tmp_path / "programmes.toml"
    programmes.write_text('[signalement]\nrules = ["no_such_rule"]\n')
    path = tmp_path / "cfg.toml"
    path.write_text(
        f'[routing]\nprogrammes_path = "{programmes}"\n\n'
        '[[mailboxes]]\nname = "sig"\naddress = "s@cpts.test"\nprogramme = "signalement"\n'
    )
    result = runner.invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "no_such_rule" in result.stderr


def test_config_check_names_the_bad_key_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[pipeline]\nworkers = 0\n")
    result = runner.invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 2
    assert "pipeline.workers" in result.output


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = runner.invoke(app, ["db", "upgrade", "--url", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    tables = {r[0] for r in sqlite3.connect(db).execute("select name from sqlite_master")}
    assert {"inbound_message", "cases", "case_event", "outbound_message"} <= tables


def test_process_dry_run_parses_without_writing(tmp_path: Path) -> None:
    sample = demo_samples(
        {"signalement": "s@cpts.test", "tele_expertise": "t@cpts.test", "appui_dac": "a@cpts.test"}
    )[0]
    eml = tmp_path / "m.eml"
    eml.write_bytes(sample.raw)
    result = runner.invoke(
        app, ["process", str(eml), "--dry-run", "--config", str(tmp_path / "none.toml")]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["no_reply_reason"] is None
    assert data["request"]["patient"]["family_name"] == "DURAND"
    assert list(tmp_path.iterdir()) == [eml]


def test_process_writes_case_and_reply(tmp_path: Path) -> None:
    samples = demo_samples(
        {"signalement": "s@cpts.test", "tele_expertise": "t@cpts.test", "appui_dac": "a@cpts.test"}
    )
    eml = tmp_path / "m.eml"
    eml.write_bytes(samples[0].raw)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'instance = "t"\n[database]\nurl = "sqlite:///{tmp_path}/db.sqlite"\n'
        f'[smtp]\ntransport = "maildir"\nmaildir_path = "{tmp_path}/out"\n'
        'from_address = "s@cpts.test"\n'
        "[pipeline]\nparse_processes = 1\n"
        '[[mailboxes]]\nname = "sig"\nkind = "maildir"\naddress = "s@cpts.test"\n'
        f'programme = "signalement"\nmaildir_path = "{tmp_path}/in"\n'
    )
    result = runner.invoke(app, ["process", str(eml), "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "processed" and data["case"].startswith("AIG-")
    assert data["replies"][0]["status"] == "sent"
    assert len(list((tmp_path / "out" / "new").iterdir())) == 1


def test_demo_processes_every_sample(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    db = sqlite3.connect(tmp_path / "demo" / "aiguilleur.db")
    statuses = sorted(r[0] for r in db.execute("select status from inbound_message"))
    assert statuses.count("processed") == 4 and statuses.count("ignored") == 2
    case_statuses = sorted(r[0] for r in db.execute("select status from cases"))
    # Signalement offered to a GP, télé-expertise to the filière, DAC to the team.
    assert case_statuses == ["incomplete", "routed", "routed", "routed"]
    kinds = sorted(r[0] for r in db.execute("select kind from outbound_message"))
    assert kinds == [
        "ack",
        "ack",
        "dac_referral",
        "incomplete",
        "offer",
        "te_request",
        "transmitted",
    ]
    replies = list((tmp_path / "demo" / "outbox" / "new").iterdir())
    assert len(replies) == 7
    assert "AIG-" in result.output
    # The summary speaks French: reply kinds and statuses by their labels, not their codes
    # (whole words only: the table wraps its cells).
    assert "réception" in result.output and "Orienté" in result.output
    codes = r"\b(ack|offer|te_request|dac_referral|incomplete|transmitted|processed|routed)\b"
    assert re.search(codes, result.output) is None, result.output


def test_the_demo_samples_are_data_with_one_known_address_each() -> None:
    from gateway.cli.demo import PROGRAMMES
    from gateway.cli.demo_data import demo_data

    mails = demo_data()["mail"]
    samples = demo_samples(PROGRAMMES)
    assert [s.name for s in samples] == [m["name"] for m in mails]
    assert all(m["programme"] in PROGRAMMES for m in mails)
    form = samples[0].raw
    assert b"Signalement-sans-MT-V3.docx" in form and b"Bonjour," in form
    assert "Auto-Submitted: auto-replied" in samples[4].raw.decode()


def test_python_dash_m_run_migrates_apart_and_says_why_it_cannot(tmp_path: Path) -> None:
    # The upgrade at start runs in a spawned interpreter: started through ``-m`` too, the
    # command runs once, and what went wrong comes back in its one line.
    import subprocess
    import sys

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'instance = "t"\n[database]\nurl = "postgresql://nobody@127.0.0.1:1/none"\n'
        f'[smtp]\ntransport = "maildir"\nmaildir_path = "{tmp_path}/out"\n'
        'from_address = "s@cpts.test"\n'
        '[[mailboxes]]\nname = "sig"\nkind = "maildir"\naddress = "s@cpts.test"\n'
        f'programme = "signalement"\nmaildir_path = "{tmp_path}/in"\n'
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "gateway.cli", "run", "-c", str(cfg)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT.parent,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "cannot upgrade the database" in result.stderr + result.stdout
    assert result.stderr.count("cannot upgrade") + result.stdout.count("cannot upgrade") == 1


def test_python_dash_m_runs_the_command() -> None:
    import subprocess
    import sys

    for module in ("gateway.cli", "gateway.cli.main"):
        result = subprocess.run(
            [sys.executable, "-W", "ignore", "-m", module, "demo", "--help"],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT.parent,
        )
        assert result.returncode == 0 and "--dir" in result.stdout, (module, result.stderr)


def test_the_command_line_loads_no_web_server_until_a_command_serves_it() -> None:
    # `aiguilleur run` without a UI, `user add`, `billing`: none needs the server or its
    # routes (uvicorn and Starlette, 5 MB in the daemon).
    heavy = ("uvicorn", "starlette", "gateway.web.app", "gateway.web.server")
    code = f"import sys, gateway.cli; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
