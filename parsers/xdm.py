"""IHE XDM zips (ITI-32): subsets, METADATA.XML (ebRIM 3.0, 2.1 read loosely), hashes, CDAs.

Element names are matched by local name so that ebRIM 3.0, 2.1 and the odd
namespaces seen in the wild all read; a SOAP-wrapped metadata file is
reported, and the SubmitObjectsRequest inside it is still read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from lxml import etree  # type: ignore[import-untyped]

from parsers.cda import cda_extractions, is_cda
from parsers.fields import Extraction
from parsers.limits import ParseLimits
from parsers.normalise.ins import check_ins, ins_kind_for_oid
from parsers.problems import problem
from parsers.safe_xml import parse_xml
from parsers.safe_zip import SafeZip, ZipLimitError

__all__ = ["find_subsets", "looks_like_xdm", "xdm_extractions"]

_PATIENT_ID_SCHEME = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
_IGNORED_PREFIXES = ("__macosx/",)


@dataclass
class _Document:
    uri: str | None
    hash: str | None
    size: int | None
    mime_type: str
    patient_id: str | None


@dataclass
class _Subset:
    folder: str  # normalised entry prefix, e.g. "IHE_XDM/SUBSET01"
    files: dict[str, str] = field(default_factory=dict)  # lower-case name -> entry name


def _ignored(entry: str) -> bool:
    lowered = entry.lower()
    base = lowered.rsplit("/", 1)[-1]
    return lowered.startswith(_IGNORED_PREFIXES) or "/__macosx/" in lowered or base.startswith(".")


def find_subsets(entries: list[str]) -> list[_Subset]:
    """Folders holding documents: ``…/IHE_XDM/<subset>/`` in any case, else any METADATA folder."""
    subsets: dict[str, _Subset] = {}
    for entry in entries:
        if _ignored(entry):
            continue
        parts = entry.split("/")
        lowered = [p.lower() for p in parts]
        if "ihe_xdm" in lowered[:-2]:
            index = lowered.index("ihe_xdm")
            if index + 2 < len(parts):
                folder = "/".join(parts[: index + 2])
                subsets.setdefault(folder, _Subset(folder)).files[
                    "/".join(lowered[index + 2 :])
                ] = entry
    if subsets:
        return sorted(subsets.values(), key=lambda s: s.folder)
    for entry in entries:  # no IHE_XDM folder: "SUBSET01\METADATA.xml" as Windows tools write it
        if _ignored(entry) or entry.lower().rsplit("/", 1)[-1] != "metadata.xml":
            continue
        folder = entry.rsplit("/", 1)[0] if "/" in entry else ""
        subset = subsets.setdefault(folder, _Subset(folder))
        for other in entries:
            if not _ignored(other) and (other.rsplit("/", 1)[0] if "/" in other else "") == folder:
                subset.files[other.rsplit("/", 1)[-1].lower()] = other
    return sorted(subsets.values(), key=lambda s: s.folder)


def looks_like_xdm(entries: list[str]) -> bool:
    return bool(find_subsets(entries))


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _slot(obj: etree._Element, name: str) -> list[str]:
    for slot in obj.iter():
        if _local(slot) == "Slot" and slot.get("name", "").lower() == name.lower():
            return [(v.text or "").strip() for v in slot.iter() if _local(v) == "Value"]
    return []


def _documents(root: etree._Element) -> list[_Document]:
    documents: list[_Document] = []
    for obj in root.iter():
        if _local(obj) != "ExtrinsicObject":
            continue
        uri = _slot(obj, "URI")
        digest = _slot(obj, "hash")
        size = _slot(obj, "size")
        patient_id = None
        for identifier in obj.iter():
            if (
                _local(identifier) == "ExternalIdentifier"
                and identifier.get("identificationScheme") == _PATIENT_ID_SCHEME
            ):
                patient_id = identifier.get("value")
        documents.append(
            _Document(
                uri="".join(uri) or None,  # long URIs are split across several Value elements
                hash=digest[0].lower() if digest else None,
                size=int(size[0]) if size and size[0].isdigit() else None,
                mime_type=obj.get("mimeType", ""),
                patient_id=patient_id,
            )
        )
    return documents


def _patient_candidate(extraction: Extraction, patient_id: str) -> None:
    # "<INS>^^^&1.2.250.1.213.1.4.8&ISO^NH" (the &amp; may arrive double-escaped)
    value = patient_id.replace("&amp;", "&")
    ins, _, rest = value.partition("^^^")
    oid = rest.split("&")[1] if rest.count("&") >= 2 else None
    kind = ins_kind_for_oid(oid)
    if kind is None:
        return
    cleaned, status = check_ins(ins)
    if status == "ok":
        extraction.add(
            "patient.ins", cleaned, "METADATA.XML ExternalIdentifier patientId", patient_id
        )
        extraction.add("patient.ins_oid", oid or "", "METADATA.XML ExternalIdentifier patientId")
        extraction.add("patient.ins_kind", kind, "METADATA.XML ExternalIdentifier patientId")


def _read_entry(
    archive: SafeZip, entry: str, limits: ParseLimits, meta: Extraction
) -> bytes | None:
    try:
        return archive.read(entry, max_bytes=limits.xml_max_bytes)
    except ZipLimitError as error:
        meta.problems.append(problem(error.code, name=archive.name, source=archive.name))
        return None


def _cda(data: bytes, label: str, limits: ParseLimits, meta: Extraction) -> list[Extraction]:
    root = parse_xml(data, label, limits)
    if not isinstance(root, etree._Element):
        meta.problems.append(root)
        return []
    if not is_cda(root):
        return []
    return cda_extractions(root, label, limits)


def xdm_extractions(archive: SafeZip, limits: ParseLimits) -> list[Extraction]:
    """Metadata extraction first, then every CDA found."""
    name = archive.name
    meta = Extraction(source=name, kind="xdm")
    meta.problems.extend(archive.problems)
    subsets = find_subsets(list(archive.entries))
    if not subsets:
        meta.problems.append(problem("xdm.no_subset", name=name, source=name))
        return [meta]
    found: list[Extraction] = []
    for subset in subsets:
        documents: list[_Document] = []
        metadata_entry = subset.files.get("metadata.xml")
        label = f"{name}/{subset.folder}" if subset.folder else name
        if metadata_entry is None:
            meta.problems.append(problem("xdm.metadata_missing", name=label, source=name))
        else:
            try:
                data = archive.read(metadata_entry, max_bytes=limits.xml_max_bytes)
                root = parse_xml(data, f"{label}/METADATA.XML", limits)
            except ZipLimitError as error:
                meta.problems.append(problem(error.code, name=name, source=name))
                continue
            if isinstance(root, etree._Element):
                if _local(root) == "Envelope":
                    meta.problems.append(problem("xdm.metadata_soap", name=label, source=name))
                documents = _documents(root)
            else:
                meta.problems.append(problem("xdm.metadata_unreadable", name=label, source=name))
        used: set[str] = set()
        for document in documents:
            if document.patient_id:
                _patient_candidate(meta, document.patient_id)
            if not document.uri:
                continue
            base = document.uri.replace("\\", "/").rsplit("/", 1)[-1].lower()
            entry = subset.files.get(document.uri.lower()) or subset.files.get(base)
            if entry is None:
                meta.problems.append(problem("xdm.document_missing", source=name))
                continue
            used.add(entry)
            info = archive.entries[entry]
            if document.size is not None and document.size != info.file_size:
                meta.problems.append(problem("xdm.size_mismatch", source=name))
            is_xml = "xml" in document.mime_type.lower() or base.endswith(".xml")
            if not is_xml and document.hash is None:
                continue
            content = _read_entry(archive, entry, limits, meta)
            if content is None:
                continue
            if document.hash is not None and (
                hashlib.sha1(content, usedforsecurity=False).hexdigest() != document.hash
            ):
                meta.problems.append(problem("xdm.hash_mismatch", source=name))
            if is_xml:
                found.extend(_cda(content, f"{label}/{base.upper()}", limits, meta))
        if not used:
            # No usable URI slot: every XML file of the subset is a candidate document.
            for lowered, entry in sorted(subset.files.items()):
                if lowered.rsplit("/", 1)[-1] == "metadata.xml" or not lowered.endswith(".xml"):
                    continue
                content = _read_entry(archive, entry, limits, meta)
                if content is not None:
                    found.extend(_cda(content, f"{label}/{lowered.upper()}", limits, meta))
    if not found:
        meta.problems.append(problem("xdm.no_document", name=name, source=name))
    return [meta, *found]
