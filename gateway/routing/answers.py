"""What a doctor's reply to an offer means: accept, refuse, or ambiguous.

Only the doctor's own words count: quoted lines (``>``), the quoted original
after "Le … a écrit :" / "-----Original Message-----" / an Outlook header
block, and the signature are cut first. A reply that says both, or neither,
is ambiguous and goes to a coordinator: nothing is assumed.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

__all__ = ["Answer", "classify_answer", "own_text"]

Answer = Literal["accept", "refuse", "ambiguous"]

# Lines that start the quoted original, whatever follows.
_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(original message|message d'origine|message original|forwarded message|"
    r"message transfere)\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE,
)
# "Le 3 mars 2026 à 10:00, Dr X <x@y> a écrit :" (often wrapped over two or three lines).
_WROTE_START = re.compile(r"^\s*(le|on)\s")
_WROTE_END = re.compile(r"(a\s+ecrit|wrote)\s*:\s*$")
# Outlook: "De : …" then "Envoyé : …" / "From: …" then "Sent: …".
_HEADER_FROM = re.compile(r"^\s*\*?(de|from)\s*:", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\*?(envoye|sent|date|a|to|objet|subject)\s*:", re.IGNORECASE)

# Refusals are matched first and cut out, so "je n'accepte pas" is not read as "accepte".
_REFUSE = re.compile(
    r"""
    \b(
        refus\w*                                   # refuse, refusé, refus
      | decline\w*
      | non\s+merci | non
      | (ne|n')\s*(peux|pourrai|pourrais|peut|suis|prends|prendrai|accepte|accepterai)
            \b[^.!?\n]{0,40}?\b(pas|plus)\b       # je ne peux pas, je ne prends plus
      | pas\s+(possible|d'accord|dispo\w*|de\s+place|ok|pour\s+moi)
      | impossible | indisponible
      | complet\w* | plus\s+de\s+place
      | malheureusement
    )\b
    """,
    re.VERBOSE,
)
_ACCEPT = re.compile(
    r"""
    \b(
        accept\w*                                  # accepte, accepté, j'accepte
      | ok(ay)? | d'accord | oui | volontiers | avec\s+plaisir
      | je\s+(le|la|les)?\s*prends | je\s+m'en\s+occupe | (ca|cela)\s+marche
      | c'est\s+bon
    )\b
    """,
    re.VERBOSE,
)


def _fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes, so "J’ACCEPTÉ" reads "j'accepte"."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _starts_quote_header(lines: list[str], i: int) -> bool:
    if not _WROTE_START.match(lines[i]):
        return False
    joined = ""
    for line in lines[i : i + 3]:
        if not line.strip():
            return False
        joined = f"{joined} {line.strip()}"
        if _WROTE_END.search(joined):
            return True
    return False


def own_text(text: str, *, fold: bool = True) -> str:
    """The reply's own words: quotes, quoted original and signature removed.

    Folded (lower case, no accents) for matching; ``fold=False`` keeps the words as
    written, for relaying an avis.
    """
    originals = text.splitlines()
    lines = _fold(text).splitlines()
    if len(lines) != len(originals):  # folding never splits lines; be safe anyway
        originals = lines
    kept: list[str] = []
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- "):  # signature delimiter
            break
        if _SEPARATORS.match(line):
            break
        if _starts_quote_header(lines, i):
            break
        if _HEADER_FROM.match(line) and any(_HEADER_NEXT.match(n) for n in lines[i + 1 : i + 4]):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line if fold else originals[i])
    return "\n".join(kept)


def classify_answer(text: str) -> Answer:
    body = own_text(text)
    refused = _REFUSE.search(body) is not None
    rest = _REFUSE.sub(" ", body)
    accepted = _ACCEPT.search(rest) is not None
    if accepted and not refused:
        return "accept"
    if refused and not accepted:
        return "refuse"
    return "ambiguous"
