"""Reading zip archives with bounded entries, sizes and compression ratio.

Sizes are counted while decompressing: headers can lie.
"""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

from parsers.limits import ParseLimits
from parsers.problems import problem
from parsers.request import Problem

__all__ = ["SafeZip", "ZipLimitError", "normalise_entry_name", "open_zip"]

_EOCD = b"PK\x05\x06"
_CHUNK = 64 * 1024


class ZipLimitError(Exception):
    """A limit was hit; ``code`` is the problem code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def normalise_entry_name(name: str) -> str | None:
    """ "SUBSET01\\DOC.XML" -> "SUBSET01/DOC.XML"; None for absolute or ``..`` paths."""
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        return None
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def _declared_entries(data: bytes) -> int | None:
    """Entry count from the end-of-central-directory record, before zipfile reads it all."""
    tail_start = max(0, len(data) - 65_557)
    position = data.rfind(_EOCD, tail_start)
    if position < 0 or position + 22 > len(data):
        return None
    (total,) = struct.unpack_from("<H", data, position + 10)
    return int(total)


@dataclass
class SafeZip:
    archive: zipfile.ZipFile
    name: str
    limits: ParseLimits
    entries: dict[str, zipfile.ZipInfo] = field(default_factory=dict)  # normalised name -> info
    problems: list[Problem] = field(default_factory=list)
    total_read: int = 0

    def read(self, entry: str, *, max_bytes: int | None = None) -> bytes:
        """Decompress one entry, enforcing per-entry, total and ratio limits."""
        info = self.entries[entry]
        if info.flag_bits & 0x1:
            raise ZipLimitError("zip.encrypted")
        cap = min(max_bytes or self.limits.max_attachment_bytes, self.limits.zip_max_total_bytes)
        out = io.BytesIO()
        read = 0
        try:
            with self.archive.open(info) as handle:
                while True:
                    chunk = handle.read(_CHUNK)
                    if not chunk:
                        break
                    read += len(chunk)
                    self.total_read += len(chunk)
                    if self.total_read > self.limits.zip_max_total_bytes or read > cap:
                        raise ZipLimitError("zip.too_large")
                    if (
                        read > self.limits.zip_ratio_floor_bytes
                        and read > max(info.compress_size, 1) * self.limits.zip_max_ratio
                    ):
                        raise ZipLimitError("zip.bomb")
                    out.write(chunk)
        except ZipLimitError:
            raise
        except (zlib.error, lzma.LZMAError) as error:  # a corrupt deflate/LZMA stream
            raise ZipLimitError("zip.corrupt") from error
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            ValueError,
            NotImplementedError,
            RuntimeError,
        ) as error:  # CRC, unsupported method, truncated data
            raise ZipLimitError("zip.invalid") from error
        return out.getvalue()


def open_zip(data: bytes, name: str, limits: ParseLimits) -> SafeZip | Problem:
    declared = _declared_entries(data)
    if declared is not None and declared > limits.zip_max_entries:
        return problem("zip.too_many_entries", name=name, limit=limits.zip_max_entries, source=name)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, struct.error):
        return problem("zip.invalid", name=name, source=name)
    if len(infos) > limits.zip_max_entries:
        return problem("zip.too_many_entries", name=name, limit=limits.zip_max_entries, source=name)
    safe = SafeZip(archive, name, limits)
    unsafe = False
    for info in infos:
        if info.is_dir():
            continue
        normalised = normalise_entry_name(info.filename)
        if normalised is None:
            unsafe = True
            continue
        safe.entries.setdefault(normalised, info)
    if unsafe:
        safe.problems.append(problem("zip.unsafe_path", name=name, source=name))
    return safe
