from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from gateway.config import Config, load_config, parse_config
from gateway.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "aiguilleur.example.toml"

MAILBOX = {
    "name": "signalement",
    "address": "signalement@cpts.test",
    "programme": "signalement",
    "host": "127.0.0.1",
}


def test_defaults_are_valid_and_verify_tls() -> None:
    config = parse_config({"mailboxes": [MAILBOX]}, environ={})
    assert config.mailboxes[0].tls_verify is True
    assert config.smtp.tls_verify is True
    assert config.database.url.startswith("sqlite")


def test_error_names_the_key() -> None:
    bad = {"mailboxes": [MAILBOX, {**MAILBOX, "name": "b", "port": 70000}]}
    with pytest.raises(ConfigError, match=r"mailboxes\[1\]\.port"):
        parse_config(bad, environ={})


def test_unknown_key_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"smtp\.hots"):
        parse_config({"smtp": {"hots": "x"}}, environ={})


def test_unknown_programme_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"mailboxes\[0\]\.programme"):
        parse_config({"mailboxes": [{**MAILBOX, "programme": "cardio"}]}, environ={})


def test_duplicate_mailbox_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="unique"):
        parse_config({"mailboxes": [MAILBOX, MAILBOX]}, environ={})


def test_environment_overrides_nested_and_indexed_keys() -> None:
    env = {
        "AIGUILLEUR__DATABASE__URL": "postgresql://db/x",
        "AIGUILLEUR__MAILBOXES__0__PORT": "143",
        "AIGUILLEUR__MAILBOXES__0__TLS": "starttls",
        "AIGUILLEUR__PIPELINE__WORKERS": "4",
        "UNRELATED": "1",
    }
    config = parse_config({"mailboxes": [MAILBOX]}, environ=env)
    assert config.database.url == "postgresql://db/x"
    assert config.mailboxes[0].port == 143
    assert config.mailboxes[0].tls == "starttls"
    assert config.pipeline.workers == 4


def test_environment_index_out_of_range_is_named() -> None:
    with pytest.raises(ConfigError, match="AIGUILLEUR__MAILBOXES__3__PORT"):
        parse_config({"mailboxes": [MAILBOX]}, environ={"AIGUILLEUR__MAILBOXES__3__PORT": "1"})


def test_password_file_is_read_and_missing_file_named(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    box = {**MAILBOX, "username": "u", "password_file": str(secret)}
    config = parse_config({"mailboxes": [box]}, environ={})
    assert config.mailboxes[0].secret() == "s3cret"
    with pytest.raises(ConfigError, match=r"mailboxes\[0\]\.password_file: file not found"):
        parse_config(
            {"mailboxes": [{**MAILBOX, "username": "u", "password_file": str(tmp_path / "nope")}]},
            environ={},
        )


def test_password_is_not_in_repr() -> None:
    box = {**MAILBOX, "username": "u", "password": "hunter2"}
    config = parse_config({"mailboxes": [box]}, environ={})
    assert "hunter2" not in repr(config)


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text("[database\n")
    with pytest.raises(ConfigError, match="TOML syntax error"):
        load_config(path, environ={})


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        sub = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if sub is not None:
            keys |= _keys(sub, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_example_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s?([a-z_]+) = ", text, flags=re.M))
    missing = {k for k in _keys(Config) if k.rsplit(".", 1)[-1] not in documented}
    assert not missing, f"keys missing from {EXAMPLE.name}: {sorted(missing)}"
    # every key sits in a block of keys that a comment introduces
    lines = text.splitlines()
    key_line = re.compile(r"^#?\s?[a-z_]+ = ")
    for i, line in enumerate(lines):
        if re.match(r"^[a-z_]+ = ", line):
            j = i - 1
            while j >= 0 and key_line.match(lines[j]) and not lines[j].startswith("# "):
                j -= 1
            assert j >= 0 and lines[j].startswith("#"), f"undocumented: {line}"


def test_example_is_valid_apart_from_its_files() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    file_keys = ("ca_file", "client_cert", "client_key", "password_file")
    for section in [*data["mailboxes"], data["smtp"]]:
        for key in file_keys:
            section.pop(key, None)
    config = parse_config(data, environ={})
    assert config.mailboxes[0].programme == "signalement"


def test_relative_routing_paths_are_read_beside_the_config_file(tmp_path: Path) -> None:
    conf = tmp_path / "etc" / "aiguilleur.toml"
    conf.parent.mkdir()
    conf.write_text(
        '[routing]\nroster_path = "roster.toml"\nprogrammes_path = "/abs/programmes.toml"\n',
        encoding="utf-8",
    )
    config = load_config(conf, environ={})
    assert config.routing.roster_path == conf.parent.resolve() / "roster.toml"
    assert config.routing.programmes_path == Path("/abs/programmes.toml")


def test_a_password_without_a_username_is_refused() -> None:
    with pytest.raises(ConfigError, match="username is required"):
        parse_config({"mailboxes": [{**MAILBOX, "password": "x"}]}, environ={})
