"""CDA R2 documents and IHE XDM archives: one template for the benches and the parser tests.

tests/parsers/builders.py builds its fixtures with these (tests may import bench, never the
reverse). Each caller's options reproduce its former bytes exactly: the benches' inputs must
not change, so an optional line is either left out or kept as it always was.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

__all__ = [
    "SAMPLE_TIME",
    "cda_document",
    "cda_sections",
    "xdm_archive",
    "xdm_metadata",
    "xml_escape",
]

# The effectiveTime of the hand-written samples (parser tests, end-to-end bench).
SAMPLE_TIME = datetime(2025, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cda_sections(sections: Iterable[tuple[str, str]]) -> str:
    """Structured-body components, one per (title, text), on one line."""
    return "".join(
        f"<component><section><title>{xml_escape(t)}</title>"
        f"<text>{xml_escape(x)}</text></section></component>"
        for t, x in sections
    )


def cda_document(
    *,
    title: str,
    code: str,
    doc_root: str,
    doc_id: str,
    when: datetime,
    patient_id: tuple[str, str] | None,
    family: str | None,
    given: Sequence[str],
    sex: str,
    birth: str | None,
    street: str | None = None,
    postal_code: str | None,
    city: str | None,
    author_id: str | None,
    author_code: str,
    author_family: str,
    author_given: str,
    body: str,
    coded_header: bool = True,
) -> bytes:
    """A CDA R2 document (CI-SIS header); ``body`` is the structuredBody's XML content.

    ``patient_id`` is (root, extension), its line left out when None; ``coded_header``
    adds the confidentiality and language codes. An absent address or birth date keeps
    its (blank) line, as the realistic corpus always had.
    """
    stamp = when.strftime("%Y%m%d%H%M%S") + when.strftime("%z")
    addr = ""
    if street or postal_code or city:
        addr = "<addr>"
        addr += f"<streetAddressLine>{xml_escape(street)}</streetAddressLine>" if street else ""
        addr += f"<postalCode>{postal_code}</postalCode>" if postal_code else ""
        addr += f"<city>{xml_escape(city)}</city>" if city else ""
        addr += "</addr>"
    name = "<name>"
    name += f'<family qualifier="BR">{xml_escape(family)}</family>' if family else ""
    name += "".join(f"<given>{xml_escape(g)}</given>" for g in given)
    name += "</name>"
    birth_xml = f'<birthTime value="{birth}"/>' if birth else ""
    author = (
        f'<id root="1.2.250.1.71.4.2.1" extension="{author_id}"/>'
        if author_id
        else ('<id nullFlavor="UNK"/>')
    )
    codes = (
        '  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>\n'
        '  <languageCode code="fr-FR"/>\n'
        if coded_header
        else ""
    )
    patient = (
        f'    <id root="{patient_id[0]}" extension="{patient_id[1]}"/>\n' if patient_id else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <id root="{doc_root}" extension="{doc_id}"/>
  <code code="{code}" codeSystem="2.16.840.1.113883.6.1"/>
  <title>{xml_escape(title)}</title>
  <effectiveTime value="{stamp}"/>
{codes}  <recordTarget><patientRole>
{patient}    {addr}
    <patient>
      {name}
      <administrativeGenderCode code="{sex}" codeSystem="2.16.840.1.113883.5.1"/>
      {birth_xml}
    </patient>
  </patientRole></recordTarget>
  <author><time value="{stamp}"/><assignedAuthor>
    {author}
    <code code="{author_code}" codeSystem="1.2.250.1.213.1.1.4.5"/>
    <assignedPerson><name><family>{xml_escape(author_family)}</family><given>{xml_escape(author_given)}</given></name></assignedPerson>
  </assignedAuthor></author>
  <component><structuredBody>{body}</structuredBody></component>
</ClinicalDocument>
""".encode()


def xdm_metadata(
    document: bytes,
    *,
    uri: str = "DOC0001.XML",
    digest: str | None = None,
    patient_info: Sequence[str] = (),
    patient_id: str | None = None,
) -> bytes:
    """METADATA.XML (ITI-32) for one document; ``digest`` overrides its SHA-1.

    ``patient_info`` are sourcePatientInfo values (``PID-5|…``), ``patient_id`` the
    ExternalIdentifier's value; either is left out when empty.
    """
    if digest is None:
        digest = hashlib.sha1(document, usedforsecurity=False).hexdigest()
    info = ""
    if patient_info:
        values = "".join(f"<rim:Value>{xml_escape(v)}</rim:Value>" for v in patient_info)
        info = (
            '    <rim:Slot name="sourcePatientInfo">'
            f"<rim:ValueList>{values}</rim:ValueList></rim:Slot>\n"
        )
    if patient_id:
        info += (
            "    <rim:ExternalIdentifier"
            ' identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"\n'
            f'      value="{xml_escape(patient_id)}"/>\n'
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
    xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>
  <rim:ExtrinsicObject id="Document01" mimeType="text/xml">
    <rim:Slot name="URI"><rim:ValueList><rim:Value>{uri}</rim:Value>
    </rim:ValueList></rim:Slot>
    <rim:Slot name="hash"><rim:ValueList><rim:Value>{digest}</rim:Value>
    </rim:ValueList></rim:Slot>
    <rim:Slot name="size"><rim:ValueList><rim:Value>{len(document)}</rim:Value>
    </rim:ValueList></rim:Slot>
{info}  </rim:ExtrinsicObject>
</rim:RegistryObjectList></lcm:SubmitObjectsRequest>
""".encode()


def xdm_archive(
    entries: Iterable[tuple[str, bytes | str]],
    *,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> bytes:
    """A deflated zip of ``entries``: stamped ``date_time``, else the current time."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            if date_time is None:
                archive.writestr(name, data)
                continue
            entry = zipfile.ZipInfo(name, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return out.getvalue()
