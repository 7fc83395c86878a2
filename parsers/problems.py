"""Problem codes: stable identifiers with French messages.

Scheme (codes are lower-case, dot-separated, never renamed once published):

* ``<field path>.<condition>`` for a field of the request, where the path is the
  dotted ``Request`` path (``patient.birth_date``) or a requirement group
  (``patient.commune``, ``situation``, ``tele_expertise.destinataire``):

  - ``.missing``: a field (or group) the programme needs is absent;
  - ``.invalid``: a value was written but could not be read (bad date, bad code);
  - ``.conflict``: two sources disagree (warning; the kept value follows precedence);
  - ``patient.ins.invalid_key``: the INS has the right shape but a wrong key;
  - ``patient.ins.retired_oid``: INS-C (OID …4.2), not an INS;
  - ``patient.ins.test_oid``: test/demo INS OID (warning);
  - ``tele_expertise.consent.refused``: consent explicitly "non".

* ``<layer>.<condition>`` for the input itself, where layer is one of
  ``message`` (size, count, unreadable), ``mime`` (charsets, TNEF, S/MIME),
  ``zip``, ``xml``, ``cda``, ``xdm``, ``docx``, ``pdf``, ``document`` and
  ``parse`` (``parse.timeout``, ``parse.memory_exceeded``, ``parse.worker_died``,
  ``parse.internal_error``: the message could not be read at all and goes to
  quarantine), and ``kind.unknown``.

Messages never quote patient data: the value as written stays in provenance.
"""

from __future__ import annotations

from typing import Literal

from parsers.field_catalog import field_label_fr
from parsers.request import Problem

__all__ = ["CATALOG", "field_problem", "problem"]

Severity = Literal["error", "warning", "info"]

CATALOG: dict[str, tuple[Severity, str]] = {
    "message.too_large": (
        "error",
        "Le message dépasse la taille maximale acceptée ({limit} octets).",
    ),
    "message.unreadable": ("error", "Le message n'a pas pu être lu."),
    "message.sender_unreadable": (
        "error",
        "L'adresse de l'expéditeur du message n'a pas pu être lue ; "
        "il sera examiné par un coordinateur.",
    ),
    "message.too_many_attachments": (
        "warning",
        "Le message contient trop de pièces jointes ; seules les {limit} premières ont été lues.",
    ),
    "message.too_many_parts": (
        "warning",
        "Le message contient trop de parties MIME ; la suite a été ignorée.",
    ),
    "message.too_deep": (
        "warning",
        "Le message contient des parties trop imbriquées ; elles ont été ignorées.",
    ),
    "message.headers_too_large": (
        "warning",
        "Les en-têtes du message dépassent la taille maximale acceptée ; la suite a été ignorée.",
    ),
    "message.header_too_long": (
        "warning",
        "Un en-tête du message est anormalement long ; seul son début a été lu.",
    ),
    "mime.charset_fallback": (
        "info",
        "Un jeu de caractères inconnu ou erroné a été remplacé lors de la lecture.",
    ),
    "mime.tnef": (
        "warning",
        "La pièce jointe « winmail.dat » (format Outlook TNEF) ne peut pas être lue ; "
        "merci de renvoyer le message au format texte ou HTML.",
    ),
    "mime.smime_encrypted": ("error", "Le message est chiffré (S/MIME) et ne peut pas être lu."),
    "mime.smime_unreadable": (
        "warning",
        "La signature S/MIME du message n'a pas pu être lue ; son contenu est ignoré.",
    ),
    "mime.attachment_too_large": (
        "error",
        "La pièce jointe « {name} » dépasse la taille maximale acceptée ({limit} octets) ; "
        "elle n'a pas été lue.",
    ),
    "mime.attachment_unreadable": (
        "warning",
        "La pièce jointe « {name} » n'a pas pu être décodée.",
    ),
    "zip.invalid": ("error", "L'archive « {name} » est illisible."),
    "zip.too_many_entries": (
        "error",
        "L'archive « {name} » contient trop de fichiers (plus de {limit}).",
    ),
    "zip.too_large": (
        "error",
        "L'archive « {name} » décompressée dépasse la taille maximale acceptée.",
    ),
    "zip.bomb": (
        "error",
        "L'archive « {name} » a un taux de compression anormal ; elle n'a pas été lue.",
    ),
    "zip.unsafe_path": (
        "error",
        "L'archive « {name} » contient un chemin de fichier dangereux ; il a été ignoré.",
    ),
    "zip.corrupt": (
        "error",
        "Un fichier de l'archive « {name} » est endommagé et n'a pas pu être décompressé.",
    ),
    "zip.encrypted": ("error", "L'archive « {name} » est protégée par un mot de passe."),
    "xml.too_large": ("error", "Le document XML « {name} » dépasse la taille maximale acceptée."),
    "xml.doctype_forbidden": (
        "error",
        "Le document XML « {name} » contient une déclaration DOCTYPE ou d'entités, "
        "refusée par sécurité.",
    ),
    "xml.malformed": ("error", "Le document XML « {name} » est mal formé."),
    "xml.too_deep": ("error", "Le document XML « {name} » est trop profondément imbriqué."),
    "cda.not_cda": ("warning", "Le document XML « {name} » n'est pas un document CDA."),
    "cda.body_unreadable": ("warning", "Le corps du document CDA « {name} » n'a pas pu être lu."),
    "xdm.no_subset": ("error", "L'archive « {name} » ne contient pas de dossier IHE_XDM lisible."),
    "xdm.metadata_missing": ("warning", "Le fichier METADATA.XML est absent du lot « {name} »."),
    "xdm.metadata_soap": (
        "warning",
        "Le fichier METADATA.XML du lot « {name} » est une enveloppe SOAP et non une "
        "SubmitObjectsRequest ebRIM.",
    ),
    "xdm.metadata_unreadable": (
        "warning",
        "Le fichier METADATA.XML du lot « {name} » est illisible.",
    ),
    "xdm.document_missing": (
        "error",
        "Un document décrit dans les métadonnées XDM est absent de l'archive.",
    ),
    "xdm.hash_mismatch": (
        "error",
        "L'empreinte (SHA-1) d'un document XDM ne correspond pas aux métadonnées.",
    ),
    "xdm.size_mismatch": (
        "warning",
        "La taille d'un document XDM ne correspond pas aux métadonnées.",
    ),
    "xdm.no_document": ("warning", "L'archive XDM « {name} » ne contient aucun document CDA."),
    "docx.invalid": ("error", "Le document Word « {name} » est illisible."),
    "pdf.invalid": ("error", "Le document PDF « {name} » est illisible."),
    "pdf.encrypted": ("error", "Le document PDF « {name} » est protégé par un mot de passe."),
    "pdf.content_too_large": (
        "error",
        "Le contenu du document PDF « {name} » est anormalement volumineux ; il n'a pas été lu.",
    ),
    "pdf.text_truncated": (
        "warning",
        "Le texte du document PDF « {name} » est trop long à lire ; "
        "seules les premières pages ont été lues.",
    ),
    "pdf.too_many_pages": (
        "warning",
        "Le document PDF « {name} » est trop long ; seules les premières pages ont été lues.",
    ),
    "document.unsupported_type": (
        "info",
        "Le type du fichier « {name} » n'est pas pris en charge ; il a été ignoré.",
    ),
    "parse.timeout": (
        "error",
        "La lecture du message a dépassé le temps imparti ; il sera examiné par un coordinateur.",
    ),
    "parse.memory_exceeded": (
        "error",
        "La lecture du message a dépassé la mémoire autorisée ; "
        "il sera examiné par un coordinateur.",
    ),
    "parse.worker_died": (
        "error",
        "Le processus de lecture s'est arrêté pendant la lecture du message ; "
        "il sera examiné par un coordinateur.",
    ),
    "parse.internal_error": (
        "error",
        "Une erreur interne a empêché la lecture complète du message.",
    ),
    "kind.unknown": ("warning", "Le type de demande n'a pas pu être déterminé."),
    "patient.ins.invalid_key": ("error", "La clé du matricule INS du patient est incorrecte."),
    "patient.ins.retired_oid": (
        "error",
        "L'identifiant fourni est un ancien INS-C, qui n'est plus un INS valide.",
    ),
    "patient.ins.test_oid": (
        "warning",
        "Le matricule INS du patient porte un OID de test ou de démonstration.",
    ),
    "tele_expertise.consent.refused": (
        "error",
        "Le patient n'a pas donné son accord à la télé-expertise.",
    ),
}


def problem(
    code: str,
    *,
    field: str | None = None,
    source: str | None = None,
    severity: Severity | None = None,
    **params: object,
) -> Problem:
    """A catalogued problem; unknown codes fall back to a generic French message."""
    default_severity, template = CATALOG.get(code, ("error", "Problème de lecture : {code}."))
    try:
        message = template.format(code=code, **params)
    except (KeyError, IndexError):
        message = template
    return Problem(
        code=code,
        message_fr=message,
        field=field,
        severity=severity or default_severity,
        source=source,
    )


def field_problem(path: str, condition: str, *, source: str | None = None) -> Problem:
    """``<path>.missing`` / ``<path>.invalid`` / ``<path>.conflict`` with a French message."""
    code = f"{path}.{condition}"
    if code in CATALOG:
        return problem(code, field=path, source=source)
    label = field_label_fr(path)
    if condition == "missing":
        return Problem(
            code=code, message_fr=f"Information manquante : {label}.", field=path, source=source
        )
    if condition == "conflict":
        return Problem(
            code=code,
            message_fr=f"Les documents reçus se contredisent sur : {label}.",
            field=path,
            severity="warning",
            source=source,
        )
    return Problem(
        code=code,
        message_fr=f"Valeur illisible ou invalide : {label}.",
        field=path,
        # A contact detail we cannot read never holds a patient's request back.
        severity="warning" if path in _ADVISORY else "error",
        source=source,
    )


_ADVISORY = frozenset(
    {
        "patient.phone",
        "patient.email",
        "reporter.phone",
        "reporter.email",
        "patient.sex",
        "reporter.speciality_code",
    }
)
