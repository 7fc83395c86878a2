"""The routing log: filters, search, keyset pages, CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from gateway.storage.models import utcnow
from tests.gateway.web.conftest import Web
from tests.support.web import login, seed_case


def _refs(html: str) -> list[str]:
    return re.findall(r'<a href="/cases/(AIG-\d{4}-\d{6})">', html)


def _seed_many(web: Web) -> None:
    now = utcnow()
    for n in range(1, 61):
        seed_case(
            web.engine,
            n,
            family="MARTIN" if n % 3 == 0 else "DURAND",
            programme="tele_expertise" if n % 2 == 0 else "signalement",
            status="waiting_coordinator" if n % 5 == 0 else "routed",
            opened_at=now - timedelta(minutes=n),
        )


def test_pages_walk_every_case_once_newest_first(web: Web) -> None:
    _seed_many(web)
    client = web.client()
    login(client, "viewer")
    first = client.get("/cases").text
    refs = _refs(first)
    assert len(refs) == 50 and refs[0] == "AIG-2026-000001"
    nxt = re.search(r'rel="next" href="([^"]+)"', first)
    assert nxt is not None
    second = client.get(nxt.group(1).replace("&amp;", "&")).text
    rest = _refs(second)
    assert len(rest) == 10 and not set(rest) & set(refs) and 'rel="next"' not in second


def test_filters_and_search(web: Web) -> None:
    _seed_many(web)
    client = web.client()
    login(client, "viewer")
    te = _refs(client.get("/cases?programme=tele_expertise&status=waiting_coordinator").text)
    assert te == [f"AIG-2026-{n:06d}" for n in (10, 20, 30, 40, 50, 60)]
    assert _refs(client.get("/cases?q=AIG-2026-000007").text) == ["AIG-2026-000007"]
    assert len(_refs(client.get("/cases?q=mart").text)) == 20
    assert len(_refs(client.get("/cases?q=248031234567890").text)) == 50
    assert _refs(client.get("/cases?q=nobody@else.test").text) == []
    assert len(_refs(client.get("/cases?doctor=10000000001&programme=signalement").text)) == 30
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    assert _refs(client.get(f"/cases?from={tomorrow}").text) == []


def test_csv_export_follows_the_filters(web: Web) -> None:
    _seed_many(web)
    client = web.client()
    login(client, "viewer")
    response = client.get("/cases.csv?programme=signalement")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 30 and {r["programme"] for r in rows} == {"signalement"}
    assert rows[0]["reference"] == "AIG-2026-000001"


def test_csv_export_is_for_a_french_spreadsheet(web: Web) -> None:
    """Like `aiguilleur export billing`: UTF-8 with a BOM, ";" and CRLF."""
    seed_case(web.engine, 1, doctor=("10000000001", "Dr Hélène Géraud; Épinal"))
    client = web.client()
    login(client, "viewer")
    raw = client.get("/cases.csv").content
    assert raw.startswith(b"\xef\xbb\xbfreference;opened_at;programme;")
    text = raw.decode("utf-8-sig")
    assert text.endswith("\r\n") and text.count("\r\n") == text.count("\n") == 2
    header, row = text.split("\r\n")[:2]
    assert header.split(";")[-4:] == ["doctor_rpps", "doctor_name", "sender", "mailbox"]
    assert ';"Dr Hélène Géraud; Épinal";' in row  # quoted: it holds the separator


def test_live_refresh_partial_only_on_the_first_page(web: Web) -> None:
    _seed_many(web)
    client = web.client()
    login(client, "viewer")
    assert 'hx-trigger="every 15s"' in client.get("/cases?status=routed").text
    partial = client.get("/cases/rows?status=routed")
    assert partial.text.lstrip().startswith('<div id="log"') and "<html" not in partial.text
