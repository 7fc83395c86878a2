"""The patient and the requis of a request, as routing compares them (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta

from gateway.routing.roster import RosterDoctor
from gateway.wording import say
from parsers.normalise.addresses import normalise_address
from parsers.request import Provenance, Request
from rules.keys import norm_key

__all__ = ["QUOTA_WINDOW", "match_requis", "patient_key", "with_requis_filiere"]

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
        source=say("cases.provenance.requis_filiere_source"),
        kind="config",
        locator=say("cases.provenance.requis_filiere", doctor=doctor.name),
    )
    return completed
