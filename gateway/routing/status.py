"""A case's status as the sender reads it: FHIR Task status, business code, French label."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.replies.facts import TaskStatus
from gateway.storage.models import Case, CaseStatus

__all__ = ["StatusView", "status_view"]


@dataclass(frozen=True)
class StatusView:
    task_status: TaskStatus
    code: str
    label_fr: str
    lines_fr: list[str] = field(default_factory=list)


_VIEWS: dict[str, tuple[TaskStatus, str, str]] = {
    CaseStatus.RECEIVED: ("received", "recu", "Reçu, en cours de traitement"),
    CaseStatus.INCOMPLETE: ("received", "incomplet", "Informations manquantes"),
    CaseStatus.ELIGIBLE: ("accepted", "eligible", "Éligible, orientation en cours"),
    CaseStatus.INELIGIBLE: ("rejected", "non_eligible", "Non éligible"),
    CaseStatus.REJECTED: ("rejected", "non_recevable", "Non recevable"),
    CaseStatus.ROUTED: ("in-progress", "oriente", "Orientation en cours"),
    CaseStatus.WAITING_COORDINATOR: (
        "in-progress",
        "attente_coordinateur",
        "Repris par un coordinateur",
    ),
    CaseStatus.ACCEPTED: ("accepted", "pris_en_charge", "Pris en charge par un médecin"),
    CaseStatus.COMPLETED: ("completed", "termine", "Terminé"),
    CaseStatus.CLOSED: ("completed", "clos", "Clos par un coordinateur"),
}

# The completed state means something different in each programme.
_COMPLETED: dict[str, tuple[str, str]] = {
    "signalement": ("medecin_trouve", "Un médecin traitant a accepté le patient"),
    "tele_expertise": ("avis_rendu", "Avis rendu"),
    "medecin_referent": ("eligible", "Éligible au dispositif médecin référent"),
    "appui_dac": ("termine", "Terminé"),
}


def status_view(case: Case) -> StatusView:
    task, code, label = _VIEWS.get(case.status, ("received", case.status, case.status))
    if case.status == CaseStatus.COMPLETED and case.programme in _COMPLETED:
        code, label = _COMPLETED[case.programme]
    if case.status == CaseStatus.ROUTED and case.programme == "appui_dac":
        code, label = "transmis_dac", "Transmis à l'équipe du DAC"
    lines: list[str] = []
    if case.status == CaseStatus.ROUTED and case.programme == "signalement":
        lines.append("La demande est proposée aux médecins de la CPTS ; en attente de réponse.")
    return StatusView(task_status=task, code=code, label_fr=label, lines_fr=lines)
