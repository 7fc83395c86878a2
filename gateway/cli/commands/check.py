"""`aiguilleur check FILE.eml`: what the daemon would decide, without sending or writing.

The message is parsed in-process, the programme is picked the way the daemon
picks it (the mailbox it arrived in), and ``gateway.routing.assess`` runs the
rules and plans the routing. When the configuration's database exists it is
opened read-only, so quotas and the sender's directory entry are those of the
live system; when it does not, nothing is created and the check runs without it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, create_engine

from gateway.cases.services import RoutingServices, assess_stored
from gateway.cli.audience import Audience, print_error
from gateway.config import Config, load_config
from gateway.errors import ConfigError
from gateway.pipeline.parse_budget import parse_within
from gateway.pipeline.parse_pool import failed_parse
from gateway.routing.assess import Assessment
from gateway.routing.decision import FinalDecision, Verdict, verdict
from gateway.routing.plan import RoutingPlan
from gateway.storage.db import make_engine, normalise_url
from gateway.wording import say
from parsers import ParsedMessage, envelope_from_raw, parse_message
from parsers.loop_guard import no_reply_reason
from parsers.request import Problem, RequestKind
from rules.engine import Evaluation
from rules.evidence import rule_evidence
from rules.programmes import PROGRAMME_NAMES, ProgrammeSpec

__all__ = [
    "PARIS",
    "CheckError",
    "check_command",
    "check_report",
    "parse_day",
    "read_database",
    "readonly_session",
]

_Read = TypeVar("_Read")

PARIS = ZoneInfo("Europe/Paris")
# Same names as gateway.cases.flow, which owns them: the cursor and the offers it counts.
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class CheckError(Exception):
    """A usage problem: the message is one French line for stderr (exit code 2)."""


def parse_day(value: str) -> date:
    """``2025-03-14`` or ``14/03/2025``."""
    value = value.strip()
    try:
        found = _FR_DATE.match(value)
        if found:
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        raise CheckError(say("cli.error.bad_date", value=value)) from None


def _sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


@contextmanager
def readonly_session(url: str) -> Iterator[tuple[Session | None, str]]:
    """A session that cannot write, and a French word on what was opened.

    SQLite: the file is opened with ``mode=ro`` and never created when absent
    (the session is then None). PostgreSQL: a READ ONLY transaction, rolled back
    at the end. A database without the schema counts as absent.
    """
    try:
        normalised = normalise_url(url)
    except ArgumentError:
        raise CheckError(say("cli.error.bad_database_url", url=url)) from None
    if normalised.startswith("sqlite"):
        path = _sqlite_path(normalised)
        if path is None or not path.is_file():
            yield None, say("cli.database.absent")
            return
        engine = create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true")
    else:
        engine = make_engine(normalised)
    try:
        try:
            with engine.connect() as connection:
                has_schema = inspect(connection).has_table("tele_expertise_act")
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
            warning = say("cli.database.unreachable_warning", reason=reason)
            print(say("cli.line.warning", message=warning), file=sys.stderr)
            yield None, say("cli.database.unreachable")
            return
        if not has_schema:
            yield None, say("cli.database.no_schema")
            return
        with Session(engine) as session:
            if engine.dialect.name == "postgresql":
                session.execute(text("SET TRANSACTION READ ONLY"))
            try:
                yield session, say("cli.database.read")
            finally:
                session.rollback()
    finally:
        engine.dispose()


def read_database(config_path: Path, read: Callable[[Session], _Read], absent: str) -> _Read | None:
    """What ``read`` returns from the configuration's database, opened read-only; or None,
    once why it could not be read is printed in French (the caller exits with 2). ``absent``
    is the wording for a database that is not there or has no schema."""
    try:
        url = load_config(config_path).database.url
        with readonly_session(url) as (session, state):
            if session is None:
                raise CheckError(say(absent, state=state, url=url))
            return read(session)
    except (CheckError, ConfigError) as exc:
        print_error(Audience.COORDINATOR, exc)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
        print_error(Audience.COORDINATOR, say("cli.error.database_unreadable", reason=reason))
    return None


def choose_programme(
    config: Config,
    envelope_to: list[str],
    *,
    programme: str | None,
    mailbox: str | None,
    known: Collection[str] = PROGRAMME_NAMES,
) -> tuple[str | None, str]:
    """The programme and where it came from; None means "ask the parser"."""
    if programme is not None:
        if programme not in known:
            raise CheckError(
                say(
                    "cli.error.unknown_programme",
                    programme=programme,
                    known=", ".join(known),
                )
            )
        return programme, "--programme"
    if mailbox is not None:
        box = config.mailbox(mailbox)
        if box is None:
            known = ", ".join(m.name for m in config.mailboxes) or say(
                "cli.error.no_mailbox_configured"
            )
            raise CheckError(say("cli.error.unknown_mailbox", mailbox=mailbox, known=known))
        return box.programme, say("cli.check.from_mailbox", name=box.name)
    recipients = {a.lower() for a in envelope_to}
    for box in config.mailboxes:
        if box.address.lower() in recipients:
            return box.programme, say("cli.check.from_recipient", name=box.name)
    if config.mailboxes:
        box = config.mailboxes[0]
        return box.programme, say("cli.check.from_first_mailbox", name=box.name)
    return None, say("cli.check.from_message")


def _parse(
    raw: bytes,
    config: Config,
    programmes: Mapping[str, ProgrammeSpec],
    programme: str | None,
    mailbox: str | None,
) -> tuple[ParsedMessage, str, str]:
    chosen, source = choose_programme(
        config,
        envelope_from_raw(raw).to_addrs,
        programme=programme,
        mailbox=mailbox,
        known=list(programmes),
    )
    if chosen is not None:
        default_kind = RequestKind(programmes[chosen].kind)
        return _bounded(config, raw, default_kind), chosen, source
    parsed = _bounded(config, raw, None)
    read_as = parsed.request.kind.value
    if read_as not in programmes:
        raise CheckError(say("cli.error.no_programme"))
    return parsed, read_as, source


def _plan(plan: RoutingPlan) -> dict[str, Any]:
    return {
        "action": plan.action,
        "reason_fr": plan.reason_fr,
        "targets": [{"rpps": t.rpps, "name": t.name, "email": t.email} for t in plan.targets],
        "notify_medecin_traitant": plan.notify_medecin_traitant,
        "medecin_traitant_email": plan.medecin_traitant_email,
    }


def _routing(plan: RoutingPlan, decision: FinalDecision, step: Verdict) -> dict[str, Any]:
    """The plan as the daemon would run it: held while complements are awaited, or handed
    to a coordinator when sources disagree or our own configuration is missing."""
    if step.step == "escalate":
        return {
            **_plan(plan),
            "action": "escalate",
            "reason_fr": step.escalate_reason_fr,
            "targets": [],
            "when_complete": None,
        }
    if not decision.held:
        return {**_plan(plan), "when_complete": None}
    return {
        "action": "none",
        "reason_fr": say("cli.check.held"),
        "targets": [],
        "notify_medecin_traitant": False,
        "medecin_traitant_email": None,
        "when_complete": _plan(plan),
    }


def _decision(
    evaluation: Evaluation, decision: FinalDecision, step: Verdict, blocking: list[Problem]
) -> dict[str, Any]:
    """The outcome the sender would be told and what the daemon does with it: the very
    ``verdict`` ``gateway.cases.intake.decide`` applies."""
    return {
        "programme": evaluation.programme,
        "outcome": decision.outcome,
        "verdict": step.step,
        "case_status": step.status,
        "closes_case": step.closes,
        "rules_outcome": decision.rules_outcome,
        "reasons_fr": decision.reasons_fr,
        # Set when a person decides: sources disagree, or our own configuration is missing.
        "escalate_reason_fr": decision.escalate_reason_fr,
        "notify_medecin_traitant": evaluation.decision.notify_medecin_traitant,
        "failed_rules": [r.rule_id for r in evaluation.failed],
        "missing_rules": [r.rule_id for r in evaluation.missing],
        "blocking_problems": [p.code for p in blocking],
    }


def _report(
    parsed: ParsedMessage,
    spec: ProgrammeSpec,
    programme: str,
    source: str,
    assessment: Assessment,
    *,
    received_on: date,
    database: str,
    ignored_reason: str | None,
) -> dict[str, Any]:
    request = parsed.request
    evaluation = assessment.evaluation
    plan = assessment.plan
    context = assessment.context
    sender = parsed.envelope.from_addr
    blocking = [p for p in request.problems if p.severity == "error"]
    decision = assessment.decision(request)
    step = verdict(decision, close_on_ineligible=spec.close_on_ineligible)
    spans = rule_evidence(spec, request)
    return {
        "programme": programme,
        "programme_source": source,
        "request": request.model_dump(mode="json", exclude={"provenance", "problems"}),
        "problems": [
            {"code": p.code, "severity": p.severity, "field": p.field, "message_fr": p.message_fr}
            for p in request.problems
        ],
        "rules": [
            {
                "rule_id": r.rule_id,
                "outcome": r.outcome.value,
                "reason_fr": r.reason_fr,
                "evidence": dict(r.evidence),
                # The words the result rests on: sentence or cell, matched span, qualifiers.
                "evidence_text": [e.model_dump(mode="json") for e in spans.get(r.rule_id, [])],
            }
            for r in evaluation.results
        ],
        "conflicts": [c.model_dump(mode="json") for c in assessment.conflicts],
        "decision": _decision(evaluation, decision, step, blocking),
        "routing": _routing(plan, decision, step),
        "context": {
            "request_date": assessment.request_date.isoformat(),
            "request_date_source": say(
                "cli.check.date_from_message"
                if request.request_date
                else "cli.check.date_from_reception"
            ),
            "received_on": received_on.isoformat(),
            "database": database,
            # Set when the daemon would not open a case at all (loop guard, DSN/MDN).
            "ignored_reason": ignored_reason,
            "sender": {"address": sender, **context.sender.model_dump(mode="json")},
            "requis": context.requis.model_dump(mode="json") if context.requis else None,
            "te_acts_last_year_for_patient_and_requis": (
                context.te_acts_last_year_for_patient_and_requis
            ),
            "requerant_acts_this_year": context.requerant_acts_this_year,
        },
    }


def check_report(
    raw: bytes,
    config: Config,
    *,
    received_on: date,
    programme: str | None = None,
    mailbox: str | None = None,
) -> dict[str, Any]:
    """The JSON-ready dry run of one message. Raises CheckError or ConfigError."""
    services = RoutingServices.load(config)
    parsed, chosen, source = _parse(raw, config, services.programmes, programme, mailbox)
    with readonly_session(config.database.url) as (session, database):
        try:
            assessment = assess_stored(
                session,
                services,
                chosen,
                parsed.request,
                sender=parsed.envelope.from_addr,
                received_on=received_on,
            )
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
            raise CheckError(say("cli.error.database_unreadable", reason=reason)) from None
    ignored = no_reply_reason(parsed.envelope, config.own_addresses())
    if parsed.report_kind is not None:
        ignored = ignored or f"report: {parsed.report_kind}"
    return _report(
        parsed,
        services.programmes[chosen],
        chosen,
        source,
        assessment,
        received_on=received_on,
        database=database,
        ignored_reason=ignored,
    )


def check_command(
    file: Path,
    config_path: Path | None,
    *,
    at: str | None,
    programme: str | None,
    mailbox: str | None,
) -> int:
    """Print the dry run as JSON; 0 whatever the decision, 2 on a usage error."""
    try:
        received_on = parse_day(at) if at else datetime.now(PARIS).date()
        config = load_config(config_path) if config_path is not None else Config()
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise CheckError(
                say("cli.error.cannot_read", path=file, reason=exc.strerror or exc)
            ) from None
        if not raw.strip():
            raise CheckError(say("cli.error.empty_file", path=file))
        report = check_report(
            raw, config, received_on=received_on, programme=programme, mailbox=mailbox
        )
    except (CheckError, ConfigError) as exc:
        print_error(Audience.COORDINATOR, exc)
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def _bounded(config: Config, raw: bytes, default_kind: RequestKind | None) -> ParsedMessage:
    """The parse within the daemon's budgets (a hostile file must not hang the command)."""
    return parse_within(
        lambda: parse_message(raw, default_kind=default_kind),
        lambda code: failed_parse(raw, None, code),
        seconds=config.pipeline.parse_timeout,
        memory_mb=config.pipeline.parse_memory_mb,
    )
