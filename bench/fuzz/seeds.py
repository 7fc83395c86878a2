"""Seeds of a fuzz campaign: the shared corpus (when present) and the test builders."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tests.parsers.builders import (
    build_cda,
    build_mail,
    build_signalement_docx,
    build_signalement_docx_paragraphs,
    build_signalement_mail,
    build_signalement_pdf,
    build_teleexpertise_docx,
    build_teleexpertise_mail,
    build_xdm_zip,
)

__all__ = ["CORPUS", "Seed", "load_seeds"]

ROOT = Path(__file__).resolve().parents[2]
# As tests/parsers/conftest.py: $AIGUILLEUR_CORPUS, else ../shared/corpus beside the repository.
CORPUS = Path(os.environ.get("AIGUILLEUR_CORPUS") or ROOT / ".." / "shared" / "corpus")
MAX_SEED_BYTES = 3_000_000


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    kind: str  # "mail", "docx", "pdf", "xml", "zip"


def _kind(path: Path, data: bytes) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return "docx"
    if suffix == ".pdf" or data.startswith(b"%PDF"):
        return "pdf"
    if suffix == ".zip" or data.startswith(b"PK\x03\x04"):
        return "zip"
    if suffix == ".xml":
        return "xml"
    if suffix in (".eml", ".txt", ".msg", "") and b":" in data[:200]:
        return "mail"
    return None


def _corpus_seeds(root: Path) -> list[Seed]:
    seeds: list[Seed] = []
    if not root.is_dir():
        return seeds
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.stat().st_size > MAX_SEED_BYTES:
            continue
        data = path.read_bytes()
        kind = _kind(path, data)
        if kind is not None:
            seeds.append(Seed(str(path.relative_to(root)), data, kind))
    return seeds


def _built_seeds() -> list[Seed]:
    docx = build_signalement_docx()
    pdf = build_signalement_pdf()
    xdm = build_xdm_zip()
    return [
        Seed("builder:signalement_mail", build_signalement_mail(), "mail"),
        Seed("builder:teleexpertise_mail", build_teleexpertise_mail(), "mail"),
        Seed(
            "builder:mail_with_docx_pdf",
            build_mail(
                subject="Signalement",
                body="Bonjour,\nNom : DUPONT\n",
                html="<p>Bonjour,<br>Nom : <b>DUPONT</b></p><table><tr><td>Sexe</td>"
                "<td>F</td></tr></table>",
                attachments=[
                    ("signalement.docx", "application/octet-stream", docx),
                    ("signalement.pdf", "application/pdf", pdf),
                ],
            ),
            "mail",
        ),
        Seed(
            "builder:mail_with_xdm",
            build_mail(
                subject="Télé-expertise",
                body="Voir IHE_XDM.ZIP",
                attachments=[("IHE_XDM.ZIP", "application/zip", xdm)],
            ),
            "mail",
        ),
        Seed("builder:signalement.docx", docx, "docx"),
        Seed("builder:paragraphs.docx", build_signalement_docx_paragraphs(), "docx"),
        Seed("builder:teleexpertise.docx", build_teleexpertise_docx(), "docx"),
        Seed("builder:signalement.pdf", pdf, "pdf"),
        Seed("builder:cda.xml", build_cda(), "xml"),
        Seed("builder:IHE_XDM.ZIP", xdm, "zip"),
    ]


def load_seeds(corpus: Path | None = None) -> list[Seed]:
    """Every seed: the builders always, the corpus when it is there."""
    return [*_built_seeds(), *_corpus_seeds(corpus or CORPUS)]
