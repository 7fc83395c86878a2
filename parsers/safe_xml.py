"""Hardened XML parsing: no DTD, no entities, no network, bounded size and depth."""

from __future__ import annotations

import re
from functools import cache

from lxml import etree  # type: ignore[import-untyped]

from parsers.limits import ParseLimits
from parsers.problems import problem
from parsers.request import Problem

__all__ = ["parse_xml"]

_DECLARATIONS = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


_PARSER = _parser()


@cache
def _deeper_than(max_depth: int) -> etree.XPath:
    # One XPath step per level: the work is linear in the number of nodes. Compiled once.
    return etree.XPath("boolean(/*" + "/*" * max_depth + ")")


def _too_deep(root: etree._Element, max_depth: int) -> bool:
    return bool(_deeper_than(max_depth)(root))


def parse_xml(data: bytes, name: str, limits: ParseLimits) -> etree._Element | Problem:
    if len(data) > limits.xml_max_bytes:
        return problem("xml.too_large", name=name, source=name)
    head = data[:4096]
    if b"\x00" in head[:4]:  # UTF-16/32: the declaration scan below cannot read it
        try:
            decoded = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return problem("xml.malformed", name=name, source=name)
        data = re.sub(
            rb"^(<\?xml[^>]*?)encoding=[\"'][^\"']*[\"']", rb"\1", decoded.lstrip(b"\xef\xbb\xbf")
        )
    if _DECLARATIONS.search(data):
        return problem("xml.doctype_forbidden", name=name, source=name)
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError:
        return problem("xml.malformed", name=name, source=name)
    except (ValueError, MemoryError):
        return problem("xml.malformed", name=name, source=name)
    if root is None:
        return problem("xml.malformed", name=name, source=name)
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        return problem("xml.doctype_forbidden", name=name, source=name)
    if _too_deep(root, limits.xml_max_depth):
        return problem("xml.too_deep", name=name, source=name)
    return root
