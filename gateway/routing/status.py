"""A case's status as the sender reads it: FHIR Task status, business code, French label."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["StatusView", "TaskStatus", "status_view"]

# FHIR Task.status values we use.
TaskStatus = Literal[
    "received", "accepted", "rejected", "in-progress", "completed", "cancelled", "failed"
]


@dataclass(frozen=True)
class StatusView:
    task_status: TaskStatus
    code: str
    label_fr: str
    lines_fr: list[str] = field(default_factory=list)


_VIEWS: dict[str, tuple[TaskStatus, str, str]] = {
    "received": ("received", "recu", "Reçu, en cours de traitement"),
    "incomplete": ("received", "incomplet", "Informations manquantes"),
    "eligible": ("accepted", "eligible", "Éligible, orientation en cours"),
    "ineligible": ("rejected", "non_eligible", "Non éligible"),
    "rejected": ("rejected", "non_recevable", "Non recevable"),
    "routed": ("in-progress", "oriente", "Orientation en cours"),
    "waiting_coordinator": (
        "in-progress",
        "attente_coordinateur",
        "Repris par un coordinateur",
    ),
    "accepted": ("accepted", "pris_en_charge", "Pris en charge par un médecin"),
    "completed": ("completed", "termine", "Terminé"),
    "closed": ("completed", "clos", "Clos par un coordinateur"),
}

# The completed state means something different in each programme.
_COMPLETED: dict[str, tuple[str, str]] = {
    "signalement": ("medecin_trouve", "Un médecin traitant a accepté le patient"),
    "tele_expertise": ("avis_rendu", "Avis rendu"),
    "medecin_referent": ("eligible", "Éligible au dispositif médecin référent"),
    "appui_dac": ("termine", "Terminé"),
}


def status_view(status: str, programme: str) -> StatusView:
    """The view of a case in ``status`` (a ``CaseStatus`` value) of ``programme``."""
    task, code, label = _VIEWS.get(status, ("received", status, status))
    if status == "completed" and programme in _COMPLETED:
        code, label = _COMPLETED[programme]
    if status == "routed" and programme == "appui_dac":
        code, label = "transmis_dac", "Transmis à l'équipe du DAC"
    lines: list[str] = []
    if status == "routed" and programme == "signalement":
        lines.append("La demande est proposée aux médecins de la CPTS ; en attente de réponse.")
    return StatusView(task_status=task, code=code, label_fr=label, lines_fr=lines)
