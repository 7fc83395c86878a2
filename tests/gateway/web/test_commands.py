"""`aiguilleur user add|passwd|disable` and `aiguilleur status`."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from gateway.cli import app
from gateway.storage.db import make_engine
from gateway.storage.web_models import AuditEntry, WebUser
from gateway.web.passwords import check_password

runner = CliRunner()


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "aiguilleur.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "a.db"}"\n'
        '[[mailboxes]]\nname = "sig"\naddress = "s@cpts.test"\nprogramme = "signalement"\n'
    )
    return path


def test_user_add_passwd_disable(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    add = ["user", "add", "alice", "--role", "coordinator", "--password-stdin", "-c", config]
    result = runner.invoke(app, add, input="first password long\n")
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, add, input="first password long\n")
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(
        app, ["user", "add", "bob", "--password-stdin", "-c", config], input="x\n"
    )
    assert short.exit_code == 1 and "shorter" in short.output
    passwd = ["user", "passwd", "alice", "--password-stdin", "-c", config]
    assert runner.invoke(app, passwd, input="second password long\n").exit_code == 0
    assert runner.invoke(app, ["user", "disable", "alice", "-c", config]).exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with Session(engine) as db:
        (user,) = db.exec(select(WebUser)).all()
        actions = [a.action for a in db.exec(select(AuditEntry)).all()]
    engine.dispose()
    assert user.role == "coordinator" and not user.active
    assert check_password(user.password_hash, "second password long")
    assert actions == ["user_added", "password_changed", "user_disabled"]


def test_status_prints_the_checks_and_fails_when_one_fails(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    runner.invoke(app, ["db", "upgrade", "-c", config])
    result = runner.invoke(app, ["status", "-c", config])
    assert result.exit_code == 1
    assert "mailbox:sig" in result.output and "never synced" in result.output
    assert "FAILING: mailbox:sig" in result.output
