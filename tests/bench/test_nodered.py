"""The Node-RED peer bench's pure parts: the flow and settings it writes.

Nothing here installs or runs Node-RED, nor needs the network or the mail stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.nodered import (
    ACK_ID,
    IN_ID,
    OUT_ID,
    POLL_ID,
    FlowTarget,
    build_flow,
    log_counts,
    log_errors,
    settings_js,
    write_user_dir,
)

TARGET = FlowTarget("127.0.0.1", 10993, 10025, "sig@cpts.test", "pw", "sig@cpts.test")


def _by_id(flow: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in flow}


def test_auto_flow_wires_imap_to_function_to_smtp() -> None:
    flow, credentials = build_flow(TARGET, "auto")
    nodes = _by_id(flow)
    assert [n["type"] for n in flow] == ["tab", "e-mail in", "function", "e-mail"]
    assert nodes[IN_ID]["wires"] == [[ACK_ID]]
    assert nodes[ACK_ID]["wires"] == [[OUT_ID]]
    assert nodes[OUT_ID]["wires"] == []
    imap = nodes[IN_ID]
    assert (imap["protocol"], imap["fetch"], imap["inputs"]) == ("IMAP", "auto", 0)
    assert (imap["criteria"], imap["disposition"], imap["useSSL"]) == ("UNSEEN", "Read", True)
    assert imap["port"] == "10993"
    smtp = nodes[OUT_ID]
    # Empty name: the node would send to its name instead of msg.to.
    assert (smtp["name"], smtp["port"], smtp["authtype"]) == ("", "10025", "NONE")
    assert (smtp["secure"], smtp["tls"]) == (False, True)
    assert credentials == {IN_ID: {"userid": "sig@cpts.test", "password": "pw"}}
    assert all(n.get("z", "aig-tab") == "aig-tab" for n in flow)


def test_trigger_flow_polls_with_an_inject_node() -> None:
    flow, _ = build_flow(TARGET, "trigger")
    nodes = _by_id(flow)
    assert nodes[POLL_ID]["type"] == "inject"
    assert nodes[POLL_ID]["wires"] == [[IN_ID]]
    assert float(nodes[POLL_ID]["repeat"]) > 0
    assert (nodes[IN_ID]["fetch"], nodes[IN_ID]["inputs"]) == ("trigger", 1)


def test_unknown_fetch_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        build_flow(TARGET, "interval")


def test_function_builds_a_threaded_french_ack() -> None:
    flow, _ = build_flow(TARGET, "auto")
    func = _by_id(flow)[ACK_ID]["func"]
    assert func.startswith('const FROM = "sig@cpts.test";')
    for needle in (
        "to: msg.from",
        "from: FROM",
        '"Accusé de réception - Re: "',
        'msg.header["message-id"]',
        "inReplyTo: id",
    ):
        assert needle in func


def test_settings_disable_the_editor_and_encryption(tmp_path: Path) -> None:
    text = settings_js(tmp_path, 18800)
    assert text.startswith("module.exports = ") and text.endswith(";\n")
    settings = json.loads(text.removeprefix("module.exports = ").removesuffix(";\n"))
    assert settings["httpAdminRoot"] is False and settings["httpNodeRoot"] is False
    assert settings["credentialSecret"] is False
    assert (settings["uiHost"], settings["uiPort"]) == ("127.0.0.1", 18800)


def test_user_dir_holds_flow_credentials_and_settings(tmp_path: Path) -> None:
    user_dir = tmp_path / "user"
    settings = write_user_dir(user_dir, TARGET, 18800, "trigger")
    assert settings == user_dir / "settings.js"
    flow = json.loads((user_dir / "flows.json").read_text())
    assert POLL_ID in _by_id(flow)
    creds = json.loads((user_dir / "flows_cred.json").read_text())
    assert creds[IN_ID]["userid"] == "sig@cpts.test"


def test_log_counts() -> None:
    text = "1 - [info] a\n2 - [warn] b\n3 - [error] c\n4 - [error] d\n5 - [error] c\n"
    assert log_counts(text) == {"errors": 3, "warnings": 1, "uncaught": 0}
    assert log_errors(text) == {"c": 2, "d": 1}
