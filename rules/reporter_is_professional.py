"""The request comes from a professional, not from the patient or their family."""

from __future__ import annotations

from parsers.request import Request
from rules.base import Params, Rule, failed, passed
from rules.context import RuleContext
from rules.result import RuleResult

__all__ = ["RULE", "ReporterParams", "check"]

RULE_ID = "reporter_is_professional"


class ReporterParams(Params):
    patient_domains: tuple[str, ...] = ("patient.mssante.fr",)


def _is_patient_address(address: str | None, domains: tuple[str, ...]) -> bool:
    if not address or "@" not in address:
        return False
    domain = address.rsplit("@", 1)[1].strip().strip(">").lower()
    return domain in {d.lower() for d in domains}


def check(request: Request, context: RuleContext, params: ReporterParams) -> RuleResult:
    role = request.reporter.declared_role
    patient_mailbox = context.sender.is_patient_mailbox or _is_patient_address(
        request.reporter.email, params.patient_domains
    )
    if patient_mailbox or role in ("patient", "family"):
        who = "famille" if role == "family" else "patient"
        return failed(
            RULE_ID,
            "Cette demande doit être faite par un professionnel de santé, du médico-social ou du "
            "social. Nous ne pouvons pas donner suite aux demandes envoyées directement par les "
            "patients ou leur entourage : nous vous invitons à en parler à votre pharmacien, à "
            "votre infirmier ou à un autre professionnel qui vous suit, qui pourra la transmettre.",
            expediteur=who,
            messagerie_patient="oui" if patient_mailbox else "non",
        )
    return passed(RULE_ID, "La demande émane d'un professionnel.", expediteur="professionnel")


RULE = Rule(
    id=RULE_ID,
    description="Le demandeur est un professionnel, et non le patient ou sa famille.",
    params_model=ReporterParams,
    check=check,
    sender_admission=True,
    reads=("reporter.declared_role", "reporter.email"),
)
