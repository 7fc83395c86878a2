"""CDA R2 (CI-SIS): patient INS and traits, author, document code, sections, level-1 PDF body."""

from __future__ import annotations

import base64
import binascii

from lxml import etree  # type: ignore[import-untyped]

from parsers.fields import Extraction, RawField
from parsers.label_lines import fields_from_lines, match_label_value
from parsers.limits import ParseLimits
from parsers.normalise.dates import parse_date
from parsers.normalise.geo import normalise_insee_code, normalise_postal_code
from parsers.normalise.ins import RETIRED_INS_C_OID, check_ins, ins_kind_for_oid
from parsers.normalise.phones import normalise_phone
from parsers.pdf_form import pdf_extraction
from parsers.problems import field_problem, problem
from parsers.request import RequestKind
from parsers.safe_xml import parse_xml

__all__ = ["TELE_EXPERTISE_CODES", "cda_extractions", "cda_from_bytes", "is_cda"]

H = "{urn:hl7-org:v3}"
RPPS_OID = "1.2.250.1.71.4.2.1"
TELE_EXPERTISE_CODES = frozenset({"75496-0"})  # "Demande d'acte de télémédecine"
_TE_ACTS = frozenset({"TE1", "TE2", "TLE", "RQD"})
_MAX_SECTIONS = 200


def is_cda(root: etree._Element) -> bool:
    return bool(root.tag == H + "ClinicalDocument")


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _attr(element: etree._Element | None, name: str) -> str:
    if element is None:
        return ""
    return (element.get(name) or "").strip()


class _CdaReader:
    def __init__(self, root: etree._Element, extraction: Extraction) -> None:
        self.root = root
        self.out = extraction

    def _part(self, path: str) -> tuple[etree._Element | None, str]:
        """The element at ``path`` below the root ("author/assignedAuthor") and its locator."""
        element = self.root.find("/".join(H + step for step in path.split("/")))
        return element, f"/ClinicalDocument/{path}"

    def _rpps(self, element: etree._Element, path: str, locator: str) -> None:
        """``element``'s RPPS ids (extension "8" and the 11-digit RPPS) into ``path``."""
        for identifier in element.findall(H + "id"):
            extension = _attr(identifier, "extension")
            if (
                _attr(identifier, "root") == RPPS_OID
                and extension.startswith("8")
                and len(extension) == 12
            ):
                self.out.add(path, extension[1:], locator, extension)

    def patient(self) -> None:
        role, base = self._part("recordTarget/patientRole")
        if role is None:
            return
        for index, identifier in enumerate(role.findall(H + "id"), start=1):
            root_oid, extension = _attr(identifier, "root"), _attr(identifier, "extension")
            locator = f"{base}/id[{index}]"
            if root_oid == RETIRED_INS_C_OID:
                self.out.problems.append(
                    problem("patient.ins.retired_oid", field="patient.ins", source=self.out.source)
                )
                continue
            kind = ins_kind_for_oid(root_oid)
            if kind is None or not extension:
                continue
            value, status = check_ins(extension)
            if status != "ok":
                self.out.problems.append(
                    field_problem("patient.ins", status, source=self.out.source)
                )
                continue
            self.out.add("patient.ins", value, locator, extension)
            self.out.add("patient.ins_oid", root_oid, f"{locator}/@root", root_oid)
            self.out.add("patient.ins_kind", kind, f"{locator}/@root", root_oid)
            if kind in ("test", "demo"):
                self.out.problems.append(
                    problem("patient.ins.test_oid", field="patient.ins", source=self.out.source)
                )
        address = role.find(H + "addr")
        if address is not None:
            postal = normalise_postal_code(_text(address.find(H + "postalCode")))
            if postal:
                self.out.add("patient.postal_code", postal, f"{base}/addr/postalCode")
            city = _text(address.find(H + "city"))
            if city:
                self.out.add("patient.city", city, f"{base}/addr/city")
            street = " ".join(
                t
                for t in (
                    _text(address.find(H + "houseNumber")),
                    _text(address.find(H + "streetName")),
                    _text(address.find(H + "streetAddressLine")),
                )
                if t
            )
            if street:
                self.out.add("patient.address", street, f"{base}/addr")
        seen: set[str] = set()
        for telecom in role.findall(H + "telecom"):
            value = _attr(telecom, "value")
            if value.startswith("tel:") and "phone" not in seen:
                if phone := normalise_phone(value[4:]):
                    seen.add("phone")
                    self.out.add("patient.phone", phone, f"{base}/telecom", value)
            elif value.startswith("mailto:") and "email" not in seen:
                seen.add("email")
                self.out.add("patient.email", value[7:].lower(), f"{base}/telecom", value)
        person = role.find(H + "patient")
        if person is not None:
            self.patient_person(person, f"{base}/patient")

    def patient_person(self, person: etree._Element, base: str) -> None:
        name = person.find(H + "name")
        if name is not None:
            families: dict[str, str] = {}
            for family in name.findall(H + "family"):
                qualifier = _attr(family, "qualifier") or "-"
                families.setdefault(qualifier, _text(family))
            birth = families.get("BR")
            used = families.get("CL") or families.get("SP") or families.get("-") or birth
            if birth:
                self.out.add("patient.birth_name", birth, f"{base}/name/family[@qualifier='BR']")
            if used:
                self.out.add("patient.family_name", used, f"{base}/name/family")
            givens = name.findall(H + "given")
            plain = [_text(g) for g in givens if not _attr(g, "qualifier")]
            chosen = plain or [_text(g) for g in givens]
            names = [n for text in chosen for n in text.split() if n]
            if names:
                self.out.add(
                    "patient.given_names", list(dict.fromkeys(names)), f"{base}/name/given"
                )
        sex = _attr(person.find(H + "administrativeGenderCode"), "code").upper()
        if sex in ("M", "F", "U"):
            self.out.add("patient.sex", sex, f"{base}/administrativeGenderCode/@code")
        birth_time = _attr(person.find(H + "birthTime"), "value")
        if birth_time:
            parsed = parse_date(birth_time[:8])
            if parsed is None:
                self.out.problems.append(
                    field_problem("patient.birth_date", "invalid", source=self.out.source)
                )
            else:
                self.out.add("patient.birth_date", parsed, f"{base}/birthTime/@value", birth_time)
        county = _text(person.find(f"{H}birthplace/{H}place/{H}addr/{H}county"))
        if county and (insee := normalise_insee_code(county)):
            self.out.add("patient.birthplace_insee", insee, f"{base}/birthplace/place/addr/county")

    def author(self) -> None:
        assigned, base = self._part("author/assignedAuthor")
        if assigned is None:
            return
        self._rpps(assigned, "reporter.rpps", f"{base}/id/@extension")
        code = _attr(assigned.find(H + "code"), "code")
        if code.startswith("G15_"):
            profession, _, speciality = code[4:].partition("/")
            if profession.isdigit():
                self.out.add("reporter.profession_code", profession, f"{base}/code/@code", code)
            if speciality:
                self.out.add("reporter.speciality_code", speciality, f"{base}/code/@code", code)
        person_name = assigned.find(f"{H}assignedPerson/{H}name")
        if person_name is not None:
            family = _text(person_name.find(H + "family"))
            given = _text(person_name.find(H + "given"))
            if family:
                self.out.add("reporter.family_name", family, f"{base}/assignedPerson/name/family")
            if given:
                self.out.add("reporter.given_name", given, f"{base}/assignedPerson/name/given")
        organisation = _text(assigned.find(f"{H}representedOrganization/{H}name"))
        if organisation:
            self.out.add(
                "reporter.organisation", organisation, f"{base}/representedOrganization/name"
            )
        for telecom in assigned.findall(H + "telecom"):
            value = _attr(telecom, "value")
            if value.startswith("mailto:"):
                self.out.add("reporter.email", value[7:].lower(), f"{base}/telecom", value)
                break

    def kind(self) -> bool:
        code = _attr(self.root.find(H + "code"), "code")
        title = _text(self.root.find(H + "title"))
        if title:
            self.out.title_lines.append(title)
        acts = {
            _attr(e, "code")
            for e in self.root.iterfind(f"{H}documentationOf/{H}serviceEvent/{H}code")
        }
        folded_title = title.lower().replace("-", "").replace(" ", "")
        if (code in TELE_EXPERTISE_CODES and "expertise" in folded_title) or acts & _TE_ACTS:
            self.out.add("kind", RequestKind.TELE_EXPERTISE, "/ClinicalDocument/code/@code", code)
            effective = _attr(self.root.find(H + "effectiveTime"), "value")
            if effective and (when := parse_date(effective[:8])):
                self.out.add(
                    "request_date", when, "/ClinicalDocument/effectiveTime/@value", effective
                )
            return True
        return False

    def recipient(self) -> None:
        intended, base = self._part("informationRecipient/intendedRecipient")
        if intended is None:
            return
        self._rpps(intended, "tele_expertise.requis_rpps", f"{base}/id")
        name = intended.find(f"{H}informationRecipient/{H}name")
        if name is not None and (text := _text(name)):
            self.out.add("tele_expertise.requis_name", text, f"{base}/informationRecipient/name")
        for telecom in intended.findall(H + "telecom"):
            value = _attr(telecom, "value")
            if value.startswith("mailto:"):
                self.out.add(
                    "tele_expertise.requis_email", value[7:].lower(), f"{base}/telecom", value
                )

    def sections(self, limits: ParseLimits) -> None:
        texts: list[str] = []
        for index, section in enumerate(self.root.iter(H + "section")):
            if index >= _MAX_SECTIONS:
                break
            title = _text(section.find(H + "title"))
            body = _text(section.find(H + "text"))
            if title:
                texts.append(title)
            if body:
                texts.append(body)
            if title and body:
                self.out.raw_fields.append(RawField(title, body, f"section « {title[:60]} »"))
        self.out.text = "\n".join(texts)[: limits.text_max_chars]
        # "ALD : non." inside a narrative section is a labelled value too.
        lines = [
            (line, f"section « {title[:60]} », ligne {number}")
            for title, body in ((f.label, f.value) for f in list(self.out.raw_fields))
            for number, line in enumerate(body.splitlines(), start=1)
        ]
        inner, _ = fields_from_lines(lines)
        self.out.raw_fields.extend(f for f in inner if match_label_value(f"{f.label} : x"))

    def pdf_body(self, limits: ParseLimits) -> list[Extraction]:
        found: list[Extraction] = []
        for text in self.root.iterfind(f"{H}component/{H}nonXMLBody/{H}text"):
            if _attr(text, "mediaType").lower() != "application/pdf":
                continue
            try:
                data = base64.b64decode("".join((text.text or "").split()), validate=False)
            except (binascii.Error, ValueError):
                self.out.problems.append(
                    problem("cda.body_unreadable", name=self.out.source, source=self.out.source)
                )
                continue
            if len(data) > limits.max_attachment_bytes:
                self.out.problems.append(
                    problem("cda.body_unreadable", name=self.out.source, source=self.out.source)
                )
                continue
            found.append(pdf_extraction(data, f"{self.out.source} (corps PDF)", limits))
        return found


def cda_extractions(root: etree._Element, name: str, limits: ParseLimits) -> list[Extraction]:
    """The CDA's own extraction first, then one per embedded PDF body."""
    extraction = Extraction(source=name, kind="cda")
    if not is_cda(root):
        extraction.problems.append(problem("cda.not_cda", name=name, source=name))
        return [extraction]
    reader = _CdaReader(root, extraction)
    reader.patient()
    reader.author()
    if reader.kind():
        reader.recipient()
    reader.sections(limits)
    return [extraction, *reader.pdf_body(limits)]


def cda_from_bytes(data: bytes, name: str, limits: ParseLimits) -> list[Extraction]:
    root = parse_xml(data, name, limits)
    if not isinstance(root, etree._Element):
        failed = Extraction(source=name, kind="cda")
        failed.problems.append(root)
        return [failed]
    return cda_extractions(root, name, limits)
