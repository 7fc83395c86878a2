"""``Label : valeur`` lines, tick lines and headings, from any plain text.

Shared by the mail body, DOCX paragraphs and the PDF text layer. The label
may sit alone on a line with its value on the next one; free-text fields
(type ``long_text``) take the following lines until a blank line or a new label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from parsers.field_catalog import find_field, find_section
from parsers.fields import RawField
from parsers.text import TICK_MARKS, TICKED, fold, has_tick

__all__ = ["LineReader", "fields_from_lines", "match_label_value", "split_tick_options"]

_LABEL_VALUE = re.compile(r"^(?P<label>[^:：]{1,90}?)\s*[:：]\s*(?P<value>.*)$")
# "Adresse - 3 rue du Lac", "CP/Ville – 88400 Gérardmer": a dash separates only a known label.
_DASH_VALUE = re.compile(r"^(?P<label>[^:：\-–—]{1,60}?)\s+[-–—]\s+(?P<value>.+)$")


def match_label_value(text: str) -> re.Match[str] | None:
    """``Label : valeur``, or ``Label - valeur`` when the label is in the synonym table."""
    match = _LABEL_VALUE.match(text)
    if match is not None:
        return match
    dashed = _DASH_VALUE.match(text)
    if dashed is not None and find_field(dashed.group("label")) is not None:
        return dashed
    return None


_SEGMENT_SPLIT = re.compile(r"\t+|\s{3,}")
_BRACKET_TICK = re.compile(r"\[\s*[xX✓✔]\s*\]|\(\s*[xX]\s*\)")
_BRACKET_EMPTY = re.compile(r"\[\s{0,2}\]|\(\s{0,2}\)")
_MARKS = "".join(sorted(TICK_MARKS))
_OPTION = re.compile(f"([{_MARKS}])([^{_MARKS}]*)")
_YES_NO_WORDS = {"oui", "non", "yes", "no", "o", "n", ""}
_LONE_ANSWERS = frozenset({"oui", "non", "x"})


def normalise_ticks(text: str) -> str:
    """ "[X] oui [ ] non" -> "☒ oui ☐ non"."""
    if "[" in text or "(" in text:
        text = _BRACKET_TICK.sub("☒", text)
        text = _BRACKET_EMPTY.sub("☐", text)
    return text


def split_tick_options(text: str) -> tuple[str, list[tuple[bool, str]]]:
    """ "Situation : ☒ ALD ☐ Arrêt" -> ("Situation", [(True, "ALD"), (False, "Arrêt")])."""
    first = min((text.find(c) for c in TICK_MARKS if c in text), default=-1)
    if first < 0:
        return text, []
    prefix = text[:first].strip().rstrip(":：").strip()
    options = [
        (m.group(1) in TICKED, m.group(2).strip(" :;,\t")) for m in _OPTION.finditer(text[first:])
    ]
    return prefix, options


def _looks_like_label(label: str) -> bool:
    stripped = label.strip()
    if not stripped or not any(c.isalpha() for c in stripped):
        return False
    if re.search(r"[.!?]\s", stripped):
        return False  # "ALD n°13. Arrêt de travail : non": a sentence, not a label
    lowered = stripped.lower()
    if (
        lowered.endswith(("http", "https", "mailto", "tel", "le", "à"))
        and find_field(stripped) is None
    ):
        return False
    return len(stripped.split()) <= 12


class LineReader:
    """Stateful reader: feed lines in order, collect raw fields."""

    def __init__(self, *, section: str | None = None, title_count: int = 3) -> None:
        self.fields: list[RawField] = []
        self.title_lines: list[str] = []
        self.section = section
        self._title_count = title_count
        self._pending: tuple[str, str] | None = None  # (label, locator) awaiting a value
        self._bare_pending = False  # that label had no colon: its value must follow at once
        self._lone_tick: str | None = None  # a box alone on its line, labelled by the next
        self._continuing: int | None = None  # index in fields of a long_text being extended

    def _emit(self, label: str, value: str, locator: str) -> None:
        self.fields.append(
            RawField(
                label=label.strip(), value=value.strip(), locator=locator, section=self.section
            )
        )

    def _is_long_text(self, label: str) -> bool:
        spec = find_field(label, self.section)
        return spec is not None and spec.type == "long_text"

    def feed(self, line: str, locator: str) -> None:
        text = normalise_ticks(line.strip())
        if not text:
            self._continuing = None
            if self._bare_pending:  # "MT" alone, then a blank line: a word, not a label
                self._pending = None
            return
        if len(self.title_lines) < self._title_count:
            self.title_lines.append(text[:200])
        lone, self._lone_tick = self._lone_tick, None
        if (len(text) == 1 and text in TICK_MARKS) or (
            self._pending is None and fold(text) in _LONE_ANSWERS
        ):
            self._lone_tick = text  # "☐" or "Non", then "Patient sortant d'une hospitalisation"
            return
        if (
            lone is not None
            and len(text) < 120
            and not has_tick(text)
            and match_label_value(text) is None
        ):
            self._emit(text.rstrip(" :"), lone, locator)
            return
        if has_tick(text):
            self._tick_line(text, locator)
            return
        segments = [s for s in _SEGMENT_SPLIT.split(text) if s.strip()]
        if len(segments) > 1 and all(_LABEL_VALUE.match(s) for s in segments):
            for segment in segments:
                self._label_value(segment, locator)
            return
        if self._label_value(text, locator):
            return
        bare = text.rstrip(" .")
        section = find_section(bare)
        if section is not None:
            self.section = section
            self._pending = None
            self._continuing = None
            return
        if find_field(bare, self.section) is not None and len(bare) < 90:
            self._pending = (bare, locator)
            self._bare_pending = True
            self._continuing = None
            return
        if self._pending is not None:
            label, pending_locator = self._pending
            self._pending = None
            self._bare_pending = False
            self._emit(label, text, pending_locator)
            self._continuing = len(self.fields) - 1 if self._is_long_text(label) else None
            return
        if self._continuing is not None:
            previous = self.fields[self._continuing]
            self.fields[self._continuing] = RawField(
                previous.label,
                f"{previous.value}\n{text}".strip(),
                previous.locator,
                previous.section,
            )

    def _label_value(self, text: str, locator: str) -> bool:
        match = match_label_value(text)
        if match is None or not _looks_like_label(match.group("label")):
            return False
        label, value = match.group("label"), match.group("value").strip()
        if value.startswith("//"):
            return False
        self._continuing = None
        if not value:
            section = find_section(label)
            if section is not None:
                self.section = section
            self._pending = (label, locator)
            self._bare_pending = False
            return True
        self._pending = None
        self._emit(label, value, locator)
        if self._is_long_text(label):
            self._continuing = len(self.fields) - 1
        return True

    def _tick_line(self, text: str, locator: str) -> None:
        self._continuing = None
        prefix, options = split_tick_options(text)
        option_words = {fold(label) for _, label in options}
        label = prefix or (self._pending[0] if self._pending else "")
        self._pending = None
        if label and not self._is_long_text(label):
            first = min(text.find(c) for c in TICK_MARKS if c in text)
            self._emit(label, text[first:], locator)
            if option_words <= _YES_NO_WORDS:
                return
        for ticked, option in options:
            if option and fold(option) not in _YES_NO_WORDS:
                self._emit(option, "☒" if ticked else "☐", locator)


def fields_from_lines(
    lines: Iterable[tuple[str, str]], *, section: str | None = None
) -> tuple[list[RawField], list[str]]:
    """Raw fields and the first (title) lines of a sequence of (text, locator)."""
    reader = LineReader(section=section)
    for text, locator in lines:
        reader.feed(text, locator)
    return reader.fields, reader.title_lines
