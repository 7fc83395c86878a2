"""DAC: anyone may ask; a request from the patient or family means the médecin
traitant must be contacted, which this rule records as an evidence flag."""

from __future__ import annotations

from parsers.request import Request
from rules.base import Params, Rule, passed
from rules.context import RuleContext
from rules.result import RuleResult

__all__ = ["NOTIFY_MT", "RULE", "DacRequesterParams", "check"]

RULE_ID = "dac_requester"
NOTIFY_MT = "notifier_medecin_traitant"  # evidence key read by the engine's Decision


class DacRequesterParams(Params):
    patient_domains: tuple[str, ...] = ("patient.mssante.fr",)


def check(request: Request, context: RuleContext, params: DacRequesterParams) -> RuleResult:
    role = request.reporter.declared_role
    email = (request.reporter.email or "").lower()
    patient_mailbox = context.sender.is_patient_mailbox or any(
        email.endswith("@" + d.lower()) for d in params.patient_domains
    )
    if role in ("patient", "family") or patient_mailbox:
        mt_known = "oui" if request.patient.medecin_traitant else "non"
        return passed(
            RULE_ID,
            "La demande émane du patient ou de son entourage : elle est prise en compte, et son "
            "médecin traitant en sera informé.",
            demandeur="famille" if role == "family" else "patient",
            medecin_traitant_connu=mt_known,
            **{NOTIFY_MT: "oui"},
        )
    return passed(
        RULE_ID,
        "La demande émane d'un professionnel.",
        demandeur="professionnel",
        **{NOTIFY_MT: "non"},
    )


RULE = Rule(
    id=RULE_ID,
    description=(
        "Le demandeur est un professionnel, le patient ou sa famille ; dans ces deux derniers "
        "cas, le médecin traitant est informé."
    ),
    params_model=DacRequesterParams,
    check=check,
    reads=("reporter.declared_role", "reporter.email"),
)
