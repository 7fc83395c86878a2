"""Facts the rules need beyond the request, read from storage and the roster.

Used by the pipeline and by ``aiguilleur check`` alike; reads only, never writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from gateway.directory.verify import identify, normalise_address, verify_sender
from gateway.routing.candidates import RosterDoctor
from gateway.storage.models import TeleExpertiseAct
from parsers.request import Provenance, Request
from rules.context import RequisFacts, RuleContext, SenderIdentity
from rules.keys import norm_key

__all__ = [
    "QUOTA_WINDOW",
    "acts_by_requis",
    "build_context",
    "match_requis",
    "patient_key",
    "with_requis_filiere",
]

QUOTA_WINDOW = timedelta(days=365)  # "4 actes par an": a rolling year


def patient_key(request: Request) -> str | None:
    """A pseudonymous key for quota counting: the INS when known, else name + birth date."""
    p = request.patient
    if p.ins:
        basis = f"ins:{p.ins}"
    elif p.family_name and p.birth_date:
        given = norm_key(p.given_names[0]) if p.given_names else ""
        basis = f"id:{norm_key(p.family_name)}|{given}|{p.birth_date.isoformat()}"
    else:
        return None
    return hashlib.sha256(basis.encode()).hexdigest()


def match_requis(request: Request, roster: Sequence[RosterDoctor]) -> RosterDoctor | None:
    """The roster doctor the requérant named, by RPPS, address, or unambiguous name."""
    te = request.tele_expertise
    if te.requis_rpps:
        return next((d for d in roster if d.rpps == te.requis_rpps), None)
    if te.requis_email:
        addr = normalise_address(te.requis_email)
        return next((d for d in roster if d.email.lower() == addr), None)
    if te.requis_name:
        wanted = set(norm_key(te.requis_name).split("_")) - {"dr", "docteur", "pr"}
        found = [d for d in roster if wanted and wanted <= set(norm_key(d.name).split("_"))]
        return found[0] if len(found) == 1 else None
    return None


def with_requis_filiere(request: Request, roster: Sequence[RosterDoctor]) -> Request:
    """A request naming a requis of the roster but no filière: the requis's filière, when
    they answer in exactly one (pure; the stored request is left as the sender wrote it)."""
    if request.tele_expertise.filiere:
        return request
    doctor = match_requis(request, roster)
    if doctor is None or len(doctor.filieres) != 1:
        return request
    completed = request.model_copy(deep=True)
    completed.tele_expertise.filiere = norm_key(next(iter(doctor.filieres)))
    completed.provenance["tele_expertise.filiere"] = Provenance(
        source="annuaire de la CPTS",
        kind="config",
        locator=f"filière du médecin requis ({doctor.name})",
    )
    return completed


def acts_by_requis(session: Session | None, key: str | None, on_date: date) -> dict[str, int]:
    """TE2 acts per requis RPPS for this patient within the quota window before ``on_date``."""
    if session is None or key is None:
        return {}
    rows = session.exec(
        select(TeleExpertiseAct.requis_rpps, func.count())
        .where(
            col(TeleExpertiseAct.patient_key) == key,
            col(TeleExpertiseAct.code) == "TE2",
            col(TeleExpertiseAct.performed_on) > on_date - QUOTA_WINDOW,
            col(TeleExpertiseAct.performed_on) <= on_date,
        )
        .group_by(col(TeleExpertiseAct.requis_rpps))
    ).all()
    return {rpps: int(n) for rpps, n in rows if rpps}


def _requerant_acts(session: Session | None, sender: str, year: int) -> int:
    if session is None:
        return 0
    count = session.exec(
        select(func.count())
        .select_from(TeleExpertiseAct)
        .where(
            col(TeleExpertiseAct.code) == "RQD",
            col(TeleExpertiseAct.professional_email) == normalise_address(sender),
            col(TeleExpertiseAct.performed_on) >= date(year, 1, 1),
            col(TeleExpertiseAct.performed_on) <= date(year, 12, 31),
        )
    ).one()
    return int(count)


def build_context(
    session: Session | None,
    request: Request,
    roster: Sequence[RosterDoctor],
    *,
    programme: str,
    sender: str | None,
    request_date: date,
) -> RuleContext:
    """Everything the rules read, for one request on one date.

    ``session`` is None when no database is at hand (``aiguilleur check`` without
    a configuration): the sender is then known from the roster only, and no act
    has been recorded.
    """
    identity = SenderIdentity()
    if sender:
        identity = (
            verify_sender(session, sender, roster)
            if session is not None
            else identify(sender, roster, None)
        )
    requis: RequisFacts | None = None
    quota: int | None = None
    requerant: int | None = None
    if programme == "tele_expertise":
        doctor = match_requis(request, roster)
        if doctor is not None:
            requis = RequisFacts(found=True, rpps=doctor.rpps, filieres=doctor.filieres)
        elif any((request.tele_expertise.requis_name, request.tele_expertise.requis_rpps)):
            requis = RequisFacts(found=False, rpps=request.tele_expertise.requis_rpps)
        key = patient_key(request)
        if key is not None:
            quota = acts_by_requis(session, key, request_date).get(doctor.rpps, 0) if doctor else 0
        requerant = _requerant_acts(session, sender, request_date.year) if sender else None
    return RuleContext(
        request_date=request_date,
        sender=identity,
        requis=requis,
        te_acts_last_year_for_patient_and_requis=quota,
        requerant_acts_this_year=requerant,
    )
