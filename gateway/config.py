"""Configuration: one TOML file, validated, with environment overrides and secret files.

Environment overrides use the ``AIGUILLEUR__`` prefix and ``__`` as the nesting
delimiter, e.g. ``AIGUILLEUR__DATABASE__URL``. Mailboxes are a list, so they are
overridden by index: ``AIGUILLEUR__MAILBOXES__0__PASSWORD``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.errors import ConfigError
from rules.programmes import PROGRAMME_NAMES

__all__ = [
    "Config",
    "DatabaseConfig",
    "LimitsConfig",
    "LoggingConfig",
    "MailboxConfig",
    "PipelineConfig",
    "Programme",
    "RepliesConfig",
    "RetentionConfig",
    "SmtpConfig",
    "is_loopback",
    "load_config",
    "parse_config",
    "transport_warnings",
]

ENV_PREFIX = "AIGUILLEUR__"

# A programme's name: a packaged one, or one a CPTS's programmes file declares.
Programme = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
TlsMode = Literal["implicit", "starttls", "none"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsSettings(_Strict):
    """TLS and authentication options shared by IMAP and SMTP."""

    host: str = "127.0.0.1"
    port: int = Field(default=993, ge=1, le=65535)
    tls: TlsMode = "implicit"
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    tls_verify: bool = True
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    password_file: Path | None = None
    timeout: float = Field(default=30.0, gt=0)
    # Lets a password travel in clear (tls = "none") to a host that is not loopback.
    allow_insecure: bool = False

    @model_validator(mode="after")
    def _check(self) -> TlsSettings:
        if self.client_key and not self.client_cert:
            raise ValueError("client_key is set but client_cert is not")
        if self.password and self.password_file:
            raise ValueError("set password or password_file, not both")
        if (self.password is not None or self.password_file is not None) and not self.username:
            raise ValueError("username is required with password or password_file")
        return self

    def secret(self) -> str | None:
        """The password, read from password_file when one is configured."""
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        return self.password


class MailboxConfig(TlsSettings):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    kind: Literal["imap", "maildir"] = "imap"
    address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    programme: Programme
    folder: str = "INBOX"
    processed_folder: str = "Traites"
    maildir_path: Path | None = None  # kind = "maildir": the watched Maildir
    idle: bool = True
    poll_interval: float = Field(default=30.0, gt=0)
    idle_timeout: float = Field(default=600.0, gt=0)
    fetch_batch: int = Field(default=50, ge=1, le=1000)

    @model_validator(mode="after")
    def _kind(self) -> MailboxConfig:
        if self.kind == "maildir" and self.maildir_path is None:
            raise ValueError("maildir_path is required when kind = 'maildir'")
        return self


class SmtpConfig(TlsSettings):
    transport: Literal["smtp", "maildir"] = "smtp"
    port: int = Field(default=587, ge=1, le=65535)
    tls: TlsMode = "starttls"
    maildir_path: Path | None = None  # transport = "maildir": where replies are written
    from_address: str = Field(default="ne-pas-repondre@localhost", pattern=r"^[^@\s]+@[^@\s]+$")
    from_name: str = "Aiguilleur"
    batch: int = Field(default=20, ge=1, le=1000)
    connections: int = Field(default=2, ge=1, le=16)  # SMTP connections sending at once
    max_attempts: int = Field(default=12, ge=1)
    retry_base: float = Field(default=5.0, gt=0)
    retry_max: float = Field(default=1800.0, gt=0)

    @model_validator(mode="after")
    def _transport(self) -> SmtpConfig:
        if self.transport == "maildir" and self.maildir_path is None:
            raise ValueError("maildir_path is required when transport = 'maildir'")
        return self


class DatabaseConfig(_Strict):
    url: str = Field(default="sqlite:///aiguilleur.db", repr=False)  # may hold a password
    echo: bool = False


class PipelineConfig(_Strict):
    workers: int = Field(default=4, ge=1, le=64)  # messages loaded and parsed at once
    decide_batch: int = Field(default=8, ge=1, le=1000)  # parsed messages per transaction
    # Seconds a batch may wait for parses already under way to fill it (none when none is).
    decide_wait: float = Field(default=0.025, ge=0, le=1)
    max_attempts: int = Field(default=3, ge=1)
    retry_delay: float = Field(default=2.0, ge=0)
    poll_interval: float = Field(default=1.0, gt=0)
    parse_timeout: float = Field(default=20.0, gt=0)
    parse_processes: int = Field(default=2, ge=1, le=16)
    parse_memory_mb: int = Field(default=1024, ge=0)  # per parse worker, over its models; 0: none


class RepliesConfig(_Strict):
    structure_name: str = "CPTS"
    rate_limit_per_hour: int = Field(default=20, ge=0)  # replies per sender per hour; 0 = none
    extra_own_addresses: list[str] = Field(default_factory=list)


class LimitsConfig(_Strict):
    max_message_bytes: int = Field(default=25_000_000, gt=0)
    max_attachments: int = Field(default=30, gt=0)


class RoutingConfig(_Strict):
    roster_path: Path | None = None  # the structure's own doctors (deploy/roster.example.toml)
    programmes_path: Path | None = None  # overrides of rules/programmes.toml
    offer_deadline_hours: float = Field(default=72.0, gt=0)
    reminder_after_hours: float = Field(default=0.0, ge=0)  # 0: no reminder
    coordinator_addresses: list[str] = Field(default_factory=list)
    dac_team_address: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    timer_interval: float = Field(default=30.0, gt=0)  # seconds between timer passes


class WebConfig(_Strict):
    enabled: bool = False  # serve the coordinator UI from the daemon
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    secret_key_file: Path | None = None  # signs session cookies; generated in state dir if unset
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)  # from login, whatever the activity
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    metrics_token_file: Path | None = None  # when set, /metrics requires this bearer token
    # Proxies whose X-Forwarded-For/-Proto are believed (addresses or networks, or "*").
    forwarded_allow_ips: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    ready_mailbox_max_age_seconds: float = Field(default=300.0, gt=0)
    ready_outbox_max_pending: int = Field(default=500, ge=1)
    ready_outbox_max_age_seconds: float = Field(default=900.0, gt=0)


class ReplicasConfig(_Strict):
    """Several daemons on one PostgreSQL database: each mailbox is read by one of them."""

    # A dead replica's mailboxes are read again within lease_seconds + renew_seconds.
    lease_seconds: float = Field(default=15.0, ge=2)
    renew_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _renew_within_lease(self) -> ReplicasConfig:
        if self.renew_seconds * 2 > self.lease_seconds:
            raise ValueError("renew_seconds must be at most half of lease_seconds")
        return self


class RetentionConfig(_Strict):
    """How long personal data is kept (docs/operations.md, "Retention"); 0 keeps it for good.

    The daemon's timers purge what is due at most every ``interval_minutes``, in batches.
    """

    # Raw bytes of handled inbound mails, and of replies sent, after reception.
    raw_months: int = Field(default=12, ge=0)
    # Parsed content of handled inbound mails (the case keeps its own request).
    parsed_months: int = Field(default=24, ge=0)
    # Closed cases are reduced to their audit trail this long after closing.
    closed_case_months: int = Field(default=24, ge=0)
    # Raw bytes of mails still in quarantine (never released): 0 keeps them until released.
    quarantined_months: int = Field(default=0, ge=0)
    login_attempt_days: int = Field(default=180, ge=0)
    interval_minutes: float = Field(default=60.0, gt=0)
    batch: int = Field(default=200, ge=1, le=10_000)  # rows per transaction


class LoggingConfig(_Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class Config(_Strict):
    # Names this process's leases, so a restarted instance takes back its own work at once.
    instance: str = Field(default_factory=socket.gethostname, min_length=1, max_length=120)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    mailboxes: list[MailboxConfig] = Field(default_factory=list)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    replies: RepliesConfig = Field(default_factory=RepliesConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    replicas: ReplicasConfig = Field(default_factory=ReplicasConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @model_validator(mode="after")
    def _unique(self) -> Config:
        names = [m.name for m in self.mailboxes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"mailbox names must be unique: {', '.join(dupes)}")
        return self

    def own_addresses(self) -> frozenset[str]:
        own = {m.address.lower() for m in self.mailboxes}
        own.add(self.smtp.from_address.lower())
        own.update(a.lower() for a in self.replies.extra_own_addresses)
        return frozenset(own)

    def mailbox(self, name: str) -> MailboxConfig | None:
        return next((m for m in self.mailboxes if m.name == name), None)


def _coerce_env(value: str) -> Any:
    """Environment values are strings; TOML syntax gives them types (numbers, booleans, lists)."""
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _apply_env(data: dict[str, Any], environ: dict[str, str]) -> None:
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        path = [p.lower() for p in key[len(ENV_PREFIX) :].split("__") if p]
        if not path:
            continue
        node: Any = data
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(f"{key}: no such list element '{part}'")
                if last:
                    node[int(part)] = _coerce_env(raw)
                else:
                    node = node[int(part)]
            else:
                if last:
                    node[part] = _coerce_env(raw)
                else:
                    node = node.setdefault(part, {})


def _format_errors(err: ValidationError, origin: str) -> str:
    lines = [f"invalid configuration in {origin}:"]
    for item in err.errors():
        loc = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in item["loc"]).replace(
            ".[", "["
        )
        lines.append(f"  {loc or '(root)'}: {item['msg']}")
    return "\n".join(lines)


def parse_config(
    data: dict[str, Any], *, origin: str = "<config>", environ: dict[str, str] | None = None
) -> Config:
    merged = dict(data)
    _apply_env(merged, dict(os.environ) if environ is None else environ)
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, origin)) from None
    for i, mb in enumerate(config.mailboxes):
        _check_files(f"mailboxes[{i}]", mb)
        # A CPTS programmes file may declare more; it is checked when it is loaded.
        if config.routing.programmes_path is None and mb.programme not in PROGRAMME_NAMES:
            raise ConfigError(
                f"mailboxes[{i}].programme: unknown programme '{mb.programme}' "
                f"(known: {', '.join(PROGRAMME_NAMES)})"
            )
    _check_files("smtp", config.smtp)
    _check_transport(config)
    return config


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine: ``localhost`` or a loopback address (no DNS)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _mail_sections(config: Config) -> list[tuple[str, TlsSettings]]:
    """The IMAP and SMTP connections the daemon opens (a Maildir opens none)."""
    found: list[tuple[str, TlsSettings]] = [
        (f"mailboxes[{i}]", mb) for i, mb in enumerate(config.mailboxes) if mb.kind == "imap"
    ]
    if config.smtp.transport == "smtp":
        found.append(("smtp", config.smtp))
    return found


def _check_transport(config: Config) -> None:
    """A password in clear to another host is refused, unless ``allow_insecure`` says so."""
    bad = [
        f'  {prefix}: tls = "none" sends the password in clear to {settings.host}; use '
        'tls = "implicit" or "starttls" (or set allow_insecure = true)'
        for prefix, settings in _mail_sections(config)
        if settings.tls == "none"
        and (settings.password is not None or settings.password_file is not None)
        and not is_loopback(settings.host)
        and not settings.allow_insecure
    ]
    if bad:
        raise ConfigError("\n".join(["insecure transport:", *bad]))


def transport_warnings(config: Config) -> list[str]:
    """What is allowed but weakens the transport: ``config check`` prints it, the daemon logs it.

    Names keys and hosts only, never a secret.
    """
    warnings: list[str] = []
    for prefix, settings in _mail_sections(config):
        if settings.tls == "none" and not is_loopback(settings.host):
            warnings.append(
                f'{prefix}: tls = "none" to {settings.host}: mail (and any password) '
                "travels in clear"
            )
        elif settings.tls != "none" and not settings.tls_verify:
            warnings.append(
                f"{prefix}: tls_verify = false: the server's certificate is not checked, "
                "so anyone on the path can read the mail"
            )
    web = config.web
    if not is_loopback(web.host) and web.cookie_secure != "always":
        warnings.append(
            f'web.host = "{web.host}" listens beyond loopback without TLS: put a TLS '
            'reverse proxy in front and set web.cookie_secure = "always"'
        )
    if web.cookie_secure == "never":
        warnings.append('web.cookie_secure = "never": session cookies are sent over plain HTTP too')
    return warnings


def _check_files(prefix: str, settings: TlsSettings) -> None:
    for key in ("ca_file", "client_cert", "client_key", "password_file"):
        path = getattr(settings, key)
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"{prefix}.{key}: file not found: {path}")


def load_config(path: Path, *, environ: dict[str, str] | None = None) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from None
    config = parse_config(data, origin=str(path), environ=environ)
    return _relative_to(config, path.resolve().parent)


def _relative_to(config: Config, base: Path) -> Config:
    """Routing files given as relative paths are read beside the configuration file,
    not from wherever the daemon happens to be started."""
    routing = config.routing
    updates = {
        key: base / value
        for key, value in (
            ("roster_path", routing.roster_path),
            ("programmes_path", routing.programmes_path),
        )
        if value is not None and not value.is_absolute()
    }
    if not updates:
        return config
    return config.model_copy(update={"routing": routing.model_copy(update=updates)})
