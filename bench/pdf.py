"""A PDF file from its numbered objects: one writer for the benches and the parser tests.

tests/parsers/builders.py writes its AcroForm with it (tests may import bench, never the
reverse).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

__all__ = ["pdf_file"]


def pdf_file(objects: Sequence[bytes], *, version: str, root: int) -> bytes:
    """``objects`` numbered from 1, a classic xref table, ``root`` the catalog's number."""
    out = io.BytesIO()
    out.write(b"%PDF-" + version.encode() + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, root, xref)
    )
    return out.getvalue()
