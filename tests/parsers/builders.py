"""French form fixtures built in code: DOCX (3 layouts), AcroForm PDF, CDA, XDM zip, mails.

Other test suites (the daemon's end-to-end tests) import these; keep the
signatures stable. Every builder returns bytes and takes French values as
a person would type them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import docx
from docx.oxml import parse_xml

from bench.cda import SAMPLE_TIME, cda_document, cda_sections, xdm_archive, xdm_metadata, xml_escape
from bench.pdf import pdf_file

__all__ = [
    "DEFAULT_SIGNALEMENT",
    "DEFAULT_TELE_EXPERTISE",
    "build_billion_laughs_xml",
    "build_cda",
    "build_large_attachment_mail",
    "build_mail",
    "build_signalement_docx",
    "build_signalement_docx_paragraphs",
    "build_signalement_mail",
    "build_signalement_pdf",
    "build_teleexpertise_docx",
    "build_teleexpertise_mail",
    "build_traversal_zip",
    "build_xdm_zip",
    "build_xxe_xml",
    "build_zip_bomb",
    "tiny_jpeg",
]

FieldMap = Mapping[str, str | bool | None]

# Label -> value, as on a CPTS signalement form. True/False become ticked boxes.
DEFAULT_SIGNALEMENT: dict[str, str | bool | None] = {
    "Nom": "DUPONT",
    "Prénom": "Marie",
    "Date de naissance": "12/03/1950",
    "Sexe": "F",
    "N° INS": "279035121518989",
    "Adresse": "28 avenue de Breteuil",
    "Code postal": "75007",
    "Commune": "Paris",
    "Téléphone du patient": "06 47 15 10 10",
    "Médecin traitant": "Aucun",
    "ALD": "ALD 8 (diabète)",
    "Arrêt de travail": False,
    "Sortie d'hospitalisation": True,
    "Motif du signalement": "Patiente diabétique sortie d'hospitalisation, sans médecin traitant.",
    "Nom du signaleur": "MARTIN",
    "Prénom du signaleur": "Paul",
    "Profession du signaleur": "Infirmier libéral",
    "RPPS": "10001234567",
    "Téléphone du signaleur": "01 44 53 45 51",
}

DEFAULT_TELE_EXPERTISE: dict[str, str | bool | None] = {
    "Nom du patient": "DURAND",
    "Prénom du patient": "Jean",
    "Date de naissance": "1948-07-01",
    "Sexe": "M",
    "Code postal": "69003",
    "Filière": "Dermatologie",
    "Question posée": "Lésion pigmentée du dos évolutive : exérèse nécessaire ?",
    "Consentement du patient": True,
    "Urgence": "Normale",
    "Nom du requérant": "LEROY",
    "Profession du demandeur": "Médecin généraliste",
    "RPPS": "10009876543",
}


def _merged(defaults: FieldMap, overrides: FieldMap) -> dict[str, str | bool]:
    merged = {**defaults, **overrides}
    return {k: v for k, v in merged.items() if v is not None}


def _box(value: bool) -> str:
    return "☒ Oui ☐ Non" if value else "☐ Oui ☒ Non"


def _docx_bytes(document: object) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


# -- DOCX layout 1: label/value table, merged section rows, a nested table ---------------
def build_signalement_docx(fields: FieldMap | None = None) -> bytes:
    """Signalement form as a two-column label/value table (merged heading rows, nested table)."""
    values = _merged(DEFAULT_SIGNALEMENT, fields or {})
    document = docx.Document()
    document.add_heading("Fiche de signalement – patient sans médecin traitant", level=1)
    document.add_paragraph("CPTS du Val de Seine – à retourner par messagerie sécurisée")
    patient_keys = [k for k in values if "signaleur" not in k.lower() and k != "RPPS"]
    reporter_keys = [k for k in values if k not in patient_keys]
    table = document.add_table(rows=0, cols=2)
    for heading, keys in (("Identité du patient", patient_keys), ("Signaleur", reporter_keys)):
        row = table.add_row()
        merged = row.cells[0].merge(row.cells[1])
        merged.text = heading
        for key in keys:
            if key in ("Arrêt de travail", "Sortie d'hospitalisation"):
                continue
            cells = table.add_row().cells
            cells[0].text = f"{key} :"
            value = values[key]
            cells[1].text = _box(value) if isinstance(value, bool) else str(value)
    # Situation criteria as a nested table inside one cell.
    row = table.add_row()
    row.cells[0].text = "Situation"
    inner = row.cells[1].add_table(rows=0, cols=2)
    for key in ("Arrêt de travail", "Sortie d'hospitalisation"):
        if key in values:
            cells = inner.add_row().cells
            cells[0].text = key
            cells[1].text = "☒" if values[key] is True else "☐"
    return _docx_bytes(document)


# -- DOCX layout 2: "Label : valeur" paragraphs and tick lines ---------------------------
def build_signalement_docx_paragraphs(fields: FieldMap | None = None) -> bytes:
    values = _merged(DEFAULT_SIGNALEMENT, fields or {})
    document = docx.Document()
    document.add_paragraph("SIGNALEMENT D'UN PATIENT SANS MÉDECIN TRAITANT")
    document.add_paragraph("Patient")
    ticks: list[str] = []
    for key, value in values.items():
        if key == "Nom du signaleur":
            document.add_paragraph("Signaleur")
        if isinstance(value, bool):
            ticks.append(f"{'☒' if value else '☐'} {key}")
            continue
        document.add_paragraph(f"{key.replace(' du signaleur', '')} : {value}")
    document.add_paragraph("Critères : " + "   ".join(ticks))
    return _docx_bytes(document)


# -- DOCX layout 3: legacy form fields and content controls ------------------------------
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W14 = "http://schemas.microsoft.com/office/word/2010/wordml"


def _legacy_text_paragraph(label: str, value: str) -> str:
    return (
        f'<w:p xmlns:w="{_W}"><w:r><w:t xml:space="preserve">{xml_escape(label)} : </w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Texte1"/>'
        "<w:enabled/><w:textInput/></w:ffData></w:fldChar></w:r>"
        '<w:r><w:instrText xml:space="preserve"> FORMTEXT </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        f"<w:r><w:t>{xml_escape(value)}</w:t></w:r>"
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )


def _legacy_checkbox_paragraph(label: str, checked: bool) -> str:
    state = "<w:checked/>" if checked else '<w:checked w:val="0"/>'
    return (
        f'<w:p xmlns:w="{_W}"><w:r><w:fldChar w:fldCharType="begin"><w:ffData>'
        f'<w:name w:val="CaseACocher1"/><w:enabled/><w:checkBox><w:sizeAuto/>{state}'
        "</w:checkBox></w:ffData></w:fldChar></w:r>"
        '<w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        f'<w:r><w:t xml:space="preserve"> {xml_escape(label)}</w:t></w:r></w:p>'
    )


def _sdt_paragraph(label: str, value: str, *, kind: str = "text", placeholder: bool = False) -> str:
    extra = {
        "text": "<w:text/>",
        "date": '<w:date w:fullDate="2000-01-01T00:00:00Z">'
        '<w:dateFormat w:val="dd/MM/yyyy"/></w:date>',
        "dropdown": f'<w:dropDownList><w:listItem w:displayText="{xml_escape(value)}" '
        f'w:value="{xml_escape(value)}"/></w:dropDownList>',
    }[kind]
    plc = "<w:showingPlcHdr/>" if placeholder else ""
    shown = "Cliquez ici pour entrer du texte." if placeholder else value
    return (
        f'<w:p xmlns:w="{_W}"><w:r><w:t xml:space="preserve">{xml_escape(label)} : </w:t></w:r>'
        f'<w:sdt><w:sdtPr><w:alias w:val="{xml_escape(label)}"/>'
        f'<w:tag w:val="{xml_escape(label)}"/>'
        f"{plc}{extra}</w:sdtPr><w:sdtContent><w:r><w:t>{xml_escape(shown)}</w:t></w:r>"
        "</w:sdtContent></w:sdt></w:p>"
    )


def _sdt_checkbox_paragraph(label: str, checked: bool) -> str:
    return (
        f'<w:p xmlns:w="{_W}" xmlns:w14="{_W14}"><w:sdt><w:sdtPr>'
        f'<w14:checkbox><w14:checked w14:val="{1 if checked else 0}"/>'
        '<w14:checkedState w14:val="2612"/><w14:uncheckedState w14:val="2610"/></w14:checkbox>'
        f"</w:sdtPr><w:sdtContent><w:r><w:t>{'☒' if checked else '☐'}</w:t></w:r></w:sdtContent>"
        f'</w:sdt><w:r><w:t xml:space="preserve"> {xml_escape(label)}</w:t></w:r></w:p>'
    )


def build_teleexpertise_docx(fields: FieldMap | None = None) -> bytes:
    """Télé-expertise request using legacy FORMTEXT/FORMCHECKBOX fields and content controls."""
    values = _merged(DEFAULT_TELE_EXPERTISE, fields or {})
    document = docx.Document()
    document.add_paragraph("Demande de télé-expertise")
    body = document.element.body
    sect = body[-1]
    for key, value in values.items():
        if isinstance(value, bool):
            xml = (
                _sdt_checkbox_paragraph(key, value)
                if "onsentement" in key
                else (_legacy_checkbox_paragraph(key, value))
            )
        elif key == "Date de naissance":
            xml = _sdt_paragraph(key, value, kind="date")
        elif key in ("Filière", "Urgence"):
            xml = _sdt_paragraph(key, value, kind="dropdown")
        elif key.startswith(("Nom", "Prénom")):
            xml = _legacy_text_paragraph(key, value)
        else:
            xml = _sdt_paragraph(key, value)
        sect.addprevious(parse_xml(xml))
    sect.addprevious(parse_xml(_sdt_paragraph("Commentaire", "", placeholder=True)))
    return _docx_bytes(document)


# -- PDF AcroForm, written by hand -------------------------------------------------------
def _pdf_string(text: str) -> bytes:
    encoded = b"\xfe\xff" + text.encode("utf-16-be")
    return b"<" + encoded.hex().encode() + b">"


def build_signalement_pdf(fields: FieldMap | None = None) -> bytes:
    """A one-page PDF with an AcroForm: text fields (hierarchical names), checkboxes whose
    on-state is ``/Oui`` (not ``/Yes``) and a radio group for the sex."""
    values = _merged(DEFAULT_SIGNALEMENT, fields or {})
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    content = b"BT /F1 14 Tf 50 800 Td (Fiche de signalement - patient sans medecin traitant) Tj ET"
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    stream = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    page_number = len(objects) + 1
    pages_number = page_number + 1
    objects.append(b"")  # page placeholder
    objects.append(b"")  # pages placeholder
    parent = add(b"<< /T (patient) /Kids [] >>")
    widgets: list[int] = []
    kids: list[int] = []
    y = 760
    for key, value in values.items():
        if key == "Sexe":
            continue
        y -= 20
        rect = b"[200 %d 400 %d]" % (y, y + 15)
        if isinstance(value, bool):
            state = b"/Oui" if value else b"/Off"
            number = add(
                b"<< /Type /Annot /Subtype /Widget /FT /Btn /T "
                + _pdf_string(key)
                + b" /TU "
                + _pdf_string(key)
                + b" /V "
                + state
                + b" /AS "
                + state
                + b" /Rect "
                + rect
                + b" /P %d 0 R" % page_number
                + b" /AP << /N << /Oui null /Off null >> >> >>"
            )
            widgets.append(number)
            continue
        name = key.split(" ")[0] if key in ("Nom", "Prénom") else key
        number = add(
            b"<< /Type /Annot /Subtype /Widget /FT /Tx /T "
            + _pdf_string(name)
            + b" /TU "
            + _pdf_string(key)
            + b" /V "
            + _pdf_string(str(value))
            + b" /Rect "
            + rect
            + b" /P %d 0 R" % page_number
            + (b" /Parent %d 0 R" % parent if key in ("Nom", "Prénom") else b"")
            + b" >>"
        )
        widgets.append(number)
        if key in ("Nom", "Prénom"):
            kids.append(number)
    radio_kids: list[int] = []
    sex = values.get("Sexe")
    radio = add(b"")
    for option in (b"F", b"M"):
        state = b"/" + option if sex == option.decode() else b"/Off"
        radio_kids.append(
            add(
                b"<< /Type /Annot /Subtype /Widget /Parent %d 0 R /AS " % radio
                + state
                + b" /Rect [50 50 60 60] /P %d 0 R /AP << /N << /" % page_number
                + option
                + b" null /Off null >> >> >>"
            )
        )
    objects[radio - 1] = (
        b"<< /FT /Btn /Ff 49152 /T (Sexe) /V "
        + (b"/" + str(sex).encode() if sex else b"/Off")
        + b" /Kids ["
        + b" ".join(b"%d 0 R" % k for k in radio_kids)
        + b"] >>"
    )
    widgets.extend(radio_kids)
    objects[parent - 1] = (
        b"<< /T (patient) /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] >>"
    )
    top_fields = [w for w in widgets if w not in kids and w not in radio_kids] + [parent, radio]
    objects[page_number - 1] = (
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
        % (pages_number, stream)
        + b"/Resources << /Font << /F1 %d 0 R >> >> /Annots [" % font
        + b" ".join(b"%d 0 R" % w for w in widgets)
        + b"] >>"
    )
    objects[pages_number - 1] = b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page_number
    catalog = add(
        b"<< /Type /Catalog /Pages %d 0 R /AcroForm << /Fields [" % pages_number
        + b" ".join(b"%d 0 R" % f for f in top_fields)
        + b"] /NeedAppearances true >> >>"
    )
    return pdf_file(objects, version="1.7", root=catalog)


# -- CDA and XDM --------------------------------------------------------------------------
def build_cda(
    *,
    ins: str = "279035121518989",
    ins_oid: str = "1.2.250.1.213.1.4.10",
    family: str = "DUPONT",
    given: str = "MARIE",
    sex: str = "F",
    birth: str = "19500312",
    postal_code: str = "75007",
    city: str = "PARIS",
    code: str = "75496-0",
    title: str = "Demande de téléexpertise",
    author_rpps: str = "810001234567",
    author_code: str = "G15_10/SM54",
    sections: Mapping[str, str] | None = None,
) -> bytes:
    return cda_document(
        title=title,
        code=code,
        doc_root="1.2.250.9999.1",
        doc_id="DOC-42",
        when=SAMPLE_TIME,
        patient_id=(ins_oid, ins),
        family=family,
        given=[given],
        sex=sex,
        birth=birth,
        postal_code=postal_code,
        city=city,
        author_id=author_rpps,
        author_code=author_code,
        author_family="MARTIN",
        author_given="Paul",
        body=cda_sections((sections or {"Question posée": "Avis sur lésion cutanée ?"}).items()),
        coded_header=False,
    )


def build_xdm_zip(
    cda: bytes | None = None,
    *,
    subset: str = "SUBSET01",
    backslashes: bool = False,
    bad_hash: bool = False,
) -> bytes:
    document = cda if cda is not None else build_cda()
    metadata = xdm_metadata(
        document,
        uri="doc0001.xml",
        digest="0" * 40 if bad_hash else None,
        patient_id="279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH",
    )
    sep = "\\" if backslashes else "/"
    return xdm_archive(
        [
            ("README.TXT", "Lot XDM de test"),
            ("INDEX.HTM", "<html><body>index</body></html>"),
            (f"IHE_XDM{sep}{subset}{sep}METADATA.XML", metadata),
            (f"IHE_XDM{sep}{subset}{sep}DOC0001.XML", document),
            ("__MACOSX/IHE_XDM/._DOC0001.XML", b"\x00\x05\x16\x07"),
        ]
    )


# -- Mails -------------------------------------------------------------------------------
def tiny_jpeg() -> bytes:
    """A few bytes that look like a JPEG (content is never decoded)."""
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\x00" * 64
        + b"\xff\xd9"
    )


def build_mail(
    *,
    subject: str,
    body: str,
    sender: str = "paul.martin@infirmier.mssante.fr",
    to: str = "signalement@cpts-val-de-seine.mssante.fr",
    attachments: list[tuple[str, str, bytes]] | None = None,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """An RFC 5322 message; attachments are (filename, content type, bytes)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2025, 3, 3, 9, 30, tzinfo=UTC))
    message["Message-ID"] = make_msgid(domain="infirmier.mssante.fr")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments or []:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def build_signalement_mail(
    fields: FieldMap | None = None,
    *,
    subject: str = "Signalement patient sans médecin traitant",
    sender: str = "paul.martin@infirmier.mssante.fr",
    to: str = "signalement@cpts-val-de-seine.mssante.fr",
    attach_docx: bool = True,
    fields_in_body: bool = False,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """A complete signalement mail: body text, plus the DOCX form (or the fields in the body)."""
    lines = ["Bonjour,", "", "Veuillez trouver ci-joint un signalement.", ""]
    if fields_in_body:
        values = _merged(DEFAULT_SIGNALEMENT, fields or {})
        for key, value in values.items():
            lines.append(
                f"{key} : {'oui' if value is True else 'non' if value is False else value}"
            )
        lines.append("")
    lines.append("Cordialement,")
    attachments = []
    if attach_docx:
        attachments.append(
            (
                "signalement.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                build_signalement_docx(fields),
            )
        )
    return build_mail(
        subject=subject,
        body="\n".join(lines),
        sender=sender,
        to=to,
        attachments=attachments,
        headers=headers,
    )


def build_teleexpertise_mail(
    fields: FieldMap | None = None,
    *,
    subject: str = "Demande de télé-expertise",
    sender: str = "dr.leroy@medecin.mssante.fr",
    to: str = "teleexpertise@cpts-val-de-seine.mssante.fr",
    photos: int = 2,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """A télé-expertise mail: the DOCX form (legacy fields, content controls) and photos."""
    attachments = [
        (
            "demande-te.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            build_teleexpertise_docx(fields),
        )
    ]
    attachments.extend((f"photo-{i}.jpg", "image/jpeg", tiny_jpeg()) for i in range(1, photos + 1))
    return build_mail(
        subject=subject,
        sender=sender,
        to=to,
        headers=headers,
        body="Bonjour,\n\nMerci pour votre avis sur ce patient.\n\nBien cordialement,",
        attachments=attachments,
    )


# -- Hostile inputs ----------------------------------------------------------------------
def build_zip_bomb(
    *, uncompressed: int = 200_000_000, name: str = "IHE_XDM/SUBSET01/DOC0001.XML"
) -> bytes:
    """A small zip whose one entry inflates to ``uncompressed`` zero bytes."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(name, "w", force_zip64=True) as entry,
    ):
        chunk = b"\x00" * 1_048_576
        for _ in range(uncompressed // len(chunk)):
            entry.write(chunk)
    return buffer.getvalue()


def build_traversal_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../etc/passwd", "root:x:0:0")
        archive.writestr("/abs/evil.xml", "<x/>")
        archive.writestr("IHE_XDM/SUBSET01/METADATA.XML", "<x/>")
    return buffer.getvalue()


def build_xxe_xml() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE ClinicalDocument [\n'
        b'<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>'
    )


def build_billion_laughs_xml() -> bytes:
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol0 "lol">{entities}]>\n'
        '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol9;</title></ClinicalDocument>'
    ).encode()


def build_large_attachment_mail(size: int = 50_000_000) -> bytes:
    return build_mail(
        subject="Signalement",
        body="Voir pièce jointe.",
        attachments=[("enorme.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * size)],
    )
