"""Transport hardening: clear-text passwords to another host are refused, weak settings warned
about, and no secret is ever printed by `config check` or logged by the daemon."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.app import run_daemon
from gateway.cli import app
from gateway.config import is_loopback, load_config, parse_config, transport_warnings
from gateway.errors import ConfigError
from gateway.observability import configure_logging

runner = CliRunner()

ALL_INTERFACES = "0.0.0.0"  # noqa: S104  (what is being warned about)
BOX = {"name": "sig", "address": "s@cpts.test", "programme": "signalement"}


def _config(**sections: object) -> dict[str, object]:
    return {"mailboxes": [BOX], **sections}


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "LOCALHOST.", "a.localhost"]
)
def test_loopback_names(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", [ALL_INTERFACES, "10.0.0.1", "imap.mssante.fr", "::", "local"])
def test_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_clear_text_imap_password_to_a_remote_host_is_refused() -> None:
    box = {**BOX, "host": "imap.mssante.example", "tls": "none", "username": "u", "password": "p"}
    with pytest.raises(ConfigError) as raised:
        parse_config({"mailboxes": [box]}, environ={})
    assert "mailboxes[0]" in str(raised.value)
    assert "allow_insecure" in str(raised.value)
    allowed = parse_config({"mailboxes": [{**box, "allow_insecure": True}]}, environ={})
    assert any("travels in clear" in w for w in transport_warnings(allowed))


def test_clear_text_smtp_password_file_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("p\n")
    smtp = {
        "host": "smtp.mssante.example",
        "tls": "none",
        "username": "u",
        "password_file": str(secret),
    }
    with pytest.raises(ConfigError, match=r"smtp: tls = \"none\" sends the password in clear"):
        parse_config(_config(smtp=smtp), environ={})
    parse_config(_config(smtp={**smtp, "allow_insecure": True}), environ={})


def test_clear_text_to_loopback_or_without_password_or_unused_is_allowed() -> None:
    parse_config(
        _config(smtp={"host": "127.0.0.1", "tls": "none", "username": "u", "password": "p"}),
        environ={},
    )
    # No password: allowed, but the mail itself travels in clear, which is warned about.
    config = parse_config(_config(smtp={"host": "relay.example", "tls": "none"}), environ={})
    assert any(
        w.startswith('smtp: tls = "none" to relay.example') for w in transport_warnings(config)
    )
    # A Maildir transport opens no connection.
    parse_config(
        _config(
            smtp={
                "transport": "maildir",
                "maildir_path": "/tmp/x",
                "host": "relay.example",
                "tls": "none",
                "username": "u",
                "password": "p",
            }
        ),
        environ={},
    )


def test_defaults_give_no_warning() -> None:
    assert transport_warnings(parse_config(_config(), environ={})) == []


def test_weak_settings_are_warned_about() -> None:
    config = parse_config(
        _config(
            smtp={"host": "smtp.example", "tls_verify": False},
            web={"host": ALL_INTERFACES, "cookie_secure": "never"},
        ),
        environ={},
    )
    warnings = transport_warnings(config)
    assert any(w.startswith("smtp: tls_verify = false") for w in warnings)
    assert any(w.startswith('web.host = "0.0.0.0" listens beyond loopback') for w in warnings)
    assert any(w.startswith('web.cookie_secure = "never"') for w in warnings)
    behind_tls = parse_config(
        _config(web={"host": ALL_INTERFACES, "cookie_secure": "always"}), environ={}
    )
    assert transport_warnings(behind_tls) == []


def test_config_check_refuses_and_warns(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text('[smtp]\nhost = "smtp.example"\ntls = "none"\nusername = "u"\npassword = "p"\n')
    result = runner.invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert 'smtp: tls = "none" sends the password in clear to smtp.example' in result.stderr
    # The daemon refuses the same file before it starts anything.
    result = runner.invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2
    assert "sends the password in clear" in result.stderr

    path.write_text('[smtp]\nhost = "smtp.example"\ntls_verify = false\n')
    result = runner.invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout
    assert "warning: smtp: tls_verify = false" in result.stderr


# Distinctive values: none may appear in any output or log line.
SECRETS = ("Zq8-imap-S3cret", "Wx4-smtp-S3cret", "Kj2-file-S3cret", "Pg7-db-S3cret")


def _secret_toml(tmp_path: Path, *, smtp_tls: str = "starttls", extra: str = "") -> Path:
    secret_file = tmp_path / "smtp.password"
    secret_file.write_text(SECRETS[2] + "\n")
    path = tmp_path / "secrets.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "db.sqlite"}"
[[mailboxes]]
name = "sig"
address = "s@cpts.test"
programme = "signalement"
host = "127.0.0.1"
port = 9
tls = "implicit"
tls_verify = false
username = "imap-user"
password = "{SECRETS[0]}"
timeout = 1.0
[smtp]
host = "127.0.0.1"
port = 9
tls = "{smtp_tls}"
tls_verify = false
username = "smtp-user"
password_file = "{secret_file}"
timeout = 1.0
[web]
host = "0.0.0.0"
cookie_secure = "never"
{extra}
"""
    )
    return path


def _assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked"


def test_config_check_never_prints_a_secret(tmp_path: Path) -> None:
    ok = _secret_toml(tmp_path)
    result = runner.invoke(app, ["config", "check", str(ok)])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr
    _assert_no_secret(result.stdout + result.stderr)
    # A PostgreSQL URL's password, and an error beside the secrets.
    text = ok.read_text().replace(
        f'url = "sqlite:///{tmp_path / "db.sqlite"}"',
        f'url = "postgresql://aig:{SECRETS[3]}@db.example/aig"',
    )
    ok.write_text(text)
    result = runner.invoke(app, ["config", "check", str(ok)])
    assert result.exit_code == 0, result.output
    _assert_no_secret(result.stdout + result.stderr)
    ok.write_text(text.replace('port = 9\ntls = "implicit"', 'port = "nine"\ntls = "implicit"'))
    result = runner.invoke(app, ["config", "check", str(ok)])
    assert result.exit_code == 2
    _assert_no_secret(result.stdout + result.stderr)
    # The configuration's own repr (what a traceback or a debugger would show).
    config = load_config(_secret_toml(tmp_path), environ={})
    _assert_no_secret(repr(config) + str(config))


def test_the_daemon_logs_no_secret(tmp_path: Path) -> None:
    """The daemon on unreachable servers with passwords: warnings, connection errors, all
    at debug level, and no secret in them."""
    config = load_config(_secret_toml(tmp_path), environ={})
    stream = io.StringIO()
    configure_logging("debug", "json", stream)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run_daemon(config, stop=stop))
        await asyncio.sleep(3.0)
        stop.set()
        await asyncio.wait_for(task, timeout=30)

    from gateway.storage.db import upgrade

    upgrade(config.database.url)
    try:
        asyncio.run(scenario())
    finally:
        configure_logging("info", "json")
    logs = stream.getvalue()
    assert "config_warning" in logs
    assert "daemon_started" in logs
    assert "imap" in logs.lower()  # the reader tried, and logged its failure
    _assert_no_secret(logs)
