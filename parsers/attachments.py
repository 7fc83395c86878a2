"""``list_attachments``: the files a writer attached to a mail, to list, download or relay.

One walk with the MIME walker ``parse_message`` uses (same limits, same parts,
same safe file names, same order as ``Request.attachments``), then:

* left out, as not attached files: body texts, S/MIME signatures and the
  returned original of a DSN/MDN;
* kept, and marked ``embedded``: the resources of an HTML body (the non-root
  parts of a multipart/related) unless marked ``Content-Disposition: attachment``.
  A signature logo and a photo pasted into a doctor's avis look the same, and
  losing the photo costs more than relaying the logo;
* kept, and marked ``forwarded``: files inside an attached message/rfc822;
* kept, and not ``readable``: a part over ``max_attachment_bytes`` or undecodable.

The content is decoded only when ``payload()`` is called, one part at a time:
listing a message hashes its parts chunk by chunk but never holds them whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parsers.limits import ParseLimits
from parsers.mime_walk import MimeAttachment, split_mime, walk_message, without_bom

__all__ = ["AttachmentPart", "list_attachments"]


@dataclass(frozen=True)
class AttachmentPart:
    index: int  # position in ``list_attachments``' result, from 0
    filename: str  # no path, no control characters; "piece-jointe-N" when unnamed
    content_type: str  # lower-case "type/subtype"
    size: int  # decoded bytes (estimated when over the size limit, 0 when undecodable)
    sha256: str  # of the decoded content; "" when not readable
    forwarded: bool  # inside a message attached to this one (message/rfc822)
    embedded: bool  # a resource of an HTML body (an inline image), not a file attached
    _source: MimeAttachment = field(repr=False, compare=False)

    @property
    def readable(self) -> bool:
        """False when over ``max_attachment_bytes`` or undecodable: ``payload()`` is None."""
        return self._source.readable

    def payload(self) -> bytes | None:
        """The decoded content, decoded now (the caller drops it when done); never raises."""
        try:
            return self._source.load()
        except Exception:  # not readable, or a decoder failing on hostile input
            return None


def list_attachments(raw: bytes, limits: ParseLimits | None = None) -> tuple[AttachmentPart, ...]:
    """The attached files of a raw mail, in message order; never raises.

    ``ParseLimits`` bound the walk as in ``parse_message``: a message over
    ``max_message_bytes`` lists nothing; parts past ``max_mime_parts`` or nested
    deeper than ``max_mime_depth`` are not seen; at most ``max_attachments``
    parts are considered (resources of an HTML body count towards it).
    """
    limits = limits or ParseLimits()
    try:
        if len(raw) > limits.max_message_bytes:
            return ()
        content = walk_message(split_mime(without_bom(raw), limits), limits)
    except Exception:  # hostile input lists nothing, never raises
        return ()
    kept = list(content.attachments)
    return tuple(
        AttachmentPart(
            index=index,
            filename=found.filename,
            content_type=found.content_type,
            size=found.size,
            sha256=found.sha256,
            forwarded=found.forwarded,
            embedded=found.embedded,
            _source=found,
        )
        for index, found in enumerate(kept)
    )
