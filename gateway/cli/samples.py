"""Sample requests for the embedded demo: what professionals really send, built in code.

The patients are fictitious; the INS numbers carry valid keys and are meant for the INS test OID.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from docx import Document

__all__ = ["Sample", "demo_samples", "signalement_docx"]


@dataclass(frozen=True)
class Sample:
    name: str
    raw: bytes
    expect: str  # what the demo should do with it, shown in the summary


def signalement_docx(fields: list[tuple[str, str]]) -> bytes:
    """A CPTS signalement form as a Word document: a two-column label/value table."""
    doc = Document()
    doc.add_heading("Signalement patient sans médecin traitant", level=1)
    doc.add_paragraph("CPTS - formulaire de signalement (V3)")
    table = doc.add_table(rows=0, cols=2)
    for label, value in fields:
        row = table.add_row().cells
        row[0].text = label
        row[1].text = value
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _mail(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    when: datetime,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].rstrip(">"))
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg


def demo_samples(addresses: dict[str, str], now: datetime | None = None) -> list[Sample]:
    """``addresses`` maps programme → the structure's address for it."""
    when = now or datetime.now(UTC)
    samples: list[Sample] = []

    form = signalement_docx(
        [
            ("Nom du patient", "DURAND"),
            ("Prénom", "Jeanne"),
            ("Date de naissance", "12/03/1948"),
            ("Sexe", "F"),
            ("N° INS", "248037512345658"),
            ("Adresse", "3 rue des Tilleuls"),
            ("Code postal", "88400"),
            ("Commune", "Gérardmer"),
            ("Téléphone", "06 12 34 56 78"),
            ("Médecin traitant", "Non"),
            ("Patient en ALD", "☒ Oui ☐ Non"),
            ("Arrêt de travail", "☐ Oui ☒ Non"),
            ("Sortie d'hospitalisation", "☐"),
            ("Profession du signaleur", "Infirmière libérale"),
            ("Nom du signaleur", "Claire Petit"),
            ("Motif", "Départ en retraite du médecin traitant, suivi diabète."),
        ]
    )
    msg = _mail(
        sender="Claire Petit <claire.petit@infirmier.mssante.test>",
        to=addresses["signalement"],
        subject="Signalement patient sans médecin traitant",
        body=(
            "Bonjour,\n\nVeuillez trouver ci-joint un signalement.\n\nCordialement,\nC. Petit, IDEL"
        ),
        when=when,
    )
    msg.add_attachment(
        form,
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="Signalement-sans-MT-V3.docx",
    )
    samples.append(Sample("signalement-formulaire-docx", bytes(msg), "proposé à un médecin"))

    msg = _mail(
        sender="Dr Paul Martin <paul.martin@medecin.mssante.test>",
        to=addresses["signalement"],
        subject="Signalement - patient sans MT",
        body=(
            "Bonjour,\n\nJe vous signale un patient sans médecin traitant.\n\n"
            "Nom : LEROY\nPrénom : Marcel\nCode postal : 88400\n"
            "Médecin traitant : non\nSortie d'hospitalisation : oui\n\n"
            "Bien confraternellement,\nDr Martin"
        ),
        when=when,
    )
    samples.append(Sample("signalement-incomplet", bytes(msg), "demande de compléments"))

    msg = _mail(
        sender="Dr Anne Roux <anne.roux@medecin.mssante.test>",
        to=addresses["tele_expertise"],
        subject="Demande de télé-expertise dermatologie",
        body=(
            "Bonjour,\n\nDemande d'avis en télé-expertise.\n\n"
            "Filière : dermatologie\n"
            "Nom du patient : BERNARD\nPrénom : Lucie\nDate de naissance : 1985-06-02\n"
            "Accord du patient : oui\n"
            "Question : lésion pigmentée du dos évolutive depuis 3 mois, faut-il une exérèse ?\n\n"
            "Merci,\nDr Roux"
        ),
        when=when,
    )
    samples.append(Sample("tele-expertise-corps", bytes(msg), "adressé à la filière"))

    msg = _mail(
        sender="Service social <assistante.sociale@ccas.mssante.test>",
        to=addresses["appui_dac"],
        subject="Demande d'appui à la coordination",
        body=(
            "Bonjour,\n\nDemande d'appui pour une situation complexe.\n\n"
            "Nom : GARNIER\nPrénom : Louis\nDate de naissance : 04/11/1939\nCode postal : 88400\n"
            "Polypathologie : oui\nIsolement social : oui\n\nCordialement"
        ),
        when=when,
    )
    samples.append(Sample("appui-dac", bytes(msg), "transmis au DAC"))

    msg = _mail(
        sender="Dr Paul Martin <paul.martin@medecin.mssante.test>",
        to=addresses["signalement"],
        subject="Absence du cabinet",
        body="Je suis absent jusqu'au 2 décembre.",
        when=when,
        headers={"Auto-Submitted": "auto-replied"},
    )
    samples.append(Sample("reponse-automatique", bytes(msg), "ignoré (pas de réponse)"))

    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@mssante.test"
    bounce["To"] = addresses["signalement"]
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Date"] = format_datetime(when)
    bounce["Message-ID"] = make_msgid(domain="mssante.test")
    bounce.set_content("This is the mail system. Your message could not be delivered.")
    samples.append(Sample("rebond", bytes(bounce), "ignoré (pas de réponse)"))
    return samples
