"""Who is writing: a relative or the patient, told by the first person ("pour ma mère").

Strong cues ("je suis sa fille", "pour ma mère") are enough on their own: no
professional writes them. Weak cues ("fille de la patiente" in a signature, "mon
médecin traitant") count only from a personal address (``is_personal_address``).
"""

from __future__ import annotations

import re
from typing import Literal

from parsers.data import load_toml

__all__ = ["WriterCue", "find_writer", "is_personal_address"]

WriterCue = tuple[Literal["family", "patient"], bool, str]  # role, strong, words matched

_RELATIVE = (
    r"(?:m[èe]re|p[èe]re|maman|papa|mari|femme|[ée]pouse|[ée]poux|conjointe?|compagne|compagnon"
    r"|grand-m[èe]re|grand-p[èe]re|grand m[èe]re|grand p[èe]re|belle-m[èe]re|beau-p[èe]re"
    r"|fils|fille|fr[èe]re|s(?:œ|oe)ur|tante|oncle|b[ée]b[ée]|enfant|petite?-fille|petit-fils)"
)
_STRONG_FAMILY = re.compile(
    r"\b(?:je suis (?:sa|son|la|le) (?:fille|fils|femme|mari|[ée]pouse|[ée]poux|conjointe?"
    r"|compagne|compagnon|s(?:œ|oe)ur|fr[èe]re|petite?-fille|petit-fils|ni[èe]ce|neveu"
    r"|belle-fille|gendre|m[èe]re|p[èe]re|maman|papa|tutrice|tuteur|aidante?)"
    rf"|\b(?:pour|concernant|de|à|a) (?:ma|mon) {_RELATIVE}\b"
    rf"|\b(?:ma|mon) {_RELATIVE},? (?:\w+ ){{0,3}}(?:a|est|n'a|n'est|va|vit|habite|souffre|sort"
    r"|doit|vient|a été|n'a plus|se retrouve|ne peut)\b"
    r"|\bnous (?:cherchons|recherchons) un m[ée]decin (?:traitant )?pour (?:ma|mon|notre))",
    re.IGNORECASE,
)
_WEAK_FAMILY = re.compile(
    rf"\b{_RELATIVE} (?:de la patiente|du patient|de l'int[ée]ress[ée]e?|de (?:Mme|M\.|Madame"
    r"|Monsieur))\b",
    re.IGNORECASE,
)
_PATIENT_SELF = re.compile(
    r"\b(?:je n'ai (?:plus |pas |pas encore )?de m[ée]decin traitant|mon m[ée]decin traitant"
    r"|je suis (?:le|la) patiente?|je cherche un m[ée]decin traitant|je recherche un m[ée]decin"
    r"|je suis en ALD|je suis diab[ée]tique|ma carte vitale|je m['’]appelle|je suis n[ée]e? le"
    r"|j['’]habite|je vis seule?|mon m[ée]decin (?:est|a)|pourriez-vous m['’]aider"
    r"|je cherche un m[ée]decin)",
    re.IGNORECASE,
)


def find_writer(text: str) -> WriterCue | None:
    """The first cue that the writer is a relative or the patient, if any."""
    if match := _STRONG_FAMILY.search(text):
        return "family", True, match.group(0)
    if match := _WEAK_FAMILY.search(text):
        return "family", False, match.group(0)
    if match := _PATIENT_SELF.search(text):
        return "patient", False, match.group(0)
    return None


def is_personal_address(address: str | None) -> bool:
    """A consumer mailbox (gmail.com, orange.fr, ...): not a professional's."""
    if not address or "@" not in address:
        return False
    domain = address.rsplit("@", 1)[1].strip().strip(">").lower()
    personal: list[str] = load_toml("vocabulary.toml").get("writer", {}).get("personal_domains", [])
    return any(domain == d or domain.endswith("." + d) for d in personal)
