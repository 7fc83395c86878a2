"""The wording catalogue is the one home of French in ``gateway/`` Python code.

Every ``say``/``label`` call names a code the catalogue has, with the values its
sentence expects; and no string literal of ``gateway/**/*.py`` is a French
sentence or label (docstrings and comments aside), except the configuration's
error messages, which are read by operators alongside the TOML they name.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import wording
from gateway.wording import WordingError, codes, label, labels, placeholders, say

ROOT = Path(__file__).resolve().parents[3]
GATEWAY = ROOT / "gateway"
# Operator-facing configuration errors stay beside the keys they name.
ALLOWED_FILES = {"gateway/config.py"}
_ACCENTED = re.compile(r"[éèêëàâùûüçôîïœÉÈÊÀÂÇÔÎ]")
_FRENCH_WORDS = re.compile(
    r"\b(le|la|les|des|une|est|sont|pas|vous|nous|votre|aucun|aucune|merci|demande|"
    r"dossier|médecin|patient|patiente)\b",
    re.IGNORECASE,
)


def _python_files() -> Iterator[Path]:
    for path in sorted(GATEWAY.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel not in ALLOWED_FILES:
            yield path


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _is_french(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text)
    if len(words) < 1:
        return False
    if _ACCENTED.search(text):
        return True
    return len(words) >= 3 and len(_FRENCH_WORDS.findall(text)) >= 2


def _patterns(tree: ast.AST) -> set[int]:
    """Regular expressions read French (a doctor's "accepte"); they do not write it."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "compile"
            and node.args
        ):
            found.add(id(node.args[0]))
    return found


def french_literals() -> list[str]:
    hits: list[str] = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree) | _patterns(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and _is_french(node.value)
            ):
                rel = path.relative_to(ROOT).as_posix()
                hits.append(f"{rel}:{node.lineno}: {node.value[:60]!r}")
    return hits


def test_no_french_sentence_in_gateway_python() -> None:
    assert french_literals() == []


def _calls() -> Iterator[tuple[str, int, str, str, frozenset[str]]]:
    """(file, line, function, code, keyword names) of every literal say/label call."""
    for path in sorted(GATEWAY.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in ("say", "label") or not node.args:
                continue
            args = node.args
            if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args[:2]):
                continue  # a computed code: checked where its table is defined
            if name == "say":
                code = str(args[0].value)  # type: ignore[attr-defined]
            elif len(args) >= 2:
                code = f"{args[0].value}.{args[1].value}"  # type: ignore[attr-defined]
            else:
                continue
            keywords = frozenset(k.arg for k in node.keywords if k.arg is not None)
            rel = path.relative_to(ROOT).as_posix()
            yield rel, node.lineno, name, code, keywords


def test_every_literal_code_exists_with_its_placeholders() -> None:
    known = codes()
    problems = []
    for rel, line, name, code, keywords in _calls():
        if code not in known:
            problems.append(f"{rel}:{line}: {name}({code!r}): no such code")
        elif name == "say" and placeholders(code) != keywords:
            expected = sorted(placeholders(code))
            problems.append(f"{rel}:{line}: {code} expects {expected}, given {sorted(keywords)}")
    assert problems == []


def test_the_catalogue_formats_and_refuses_what_it_lacks() -> None:
    assert say("summary.age.years", n=76) == "76 ans"
    with pytest.raises(WordingError):
        say("summary.age.years")
    with pytest.raises(WordingError):
        say("no.such.code")
    assert label("status", "no_such", default="x") == "x"
    assert labels("summary.age") == {"years": "{n} ans", "months": "{n} mois"}


def test_a_code_defined_twice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.toml").write_text('[x]\ny = "un"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('x.y = "deux"\n', encoding="utf-8")
    monkeypatch.setattr(wording, "_folder", lambda: tmp_path)
    wording._catalogue.cache_clear()
    wording.labels.cache_clear()
    try:
        with pytest.raises(ValueError, match="defined twice"):
            wording._catalogue()
    finally:
        monkeypatch.undo()
        wording._catalogue.cache_clear()
        wording.labels.cache_clear()


def test_the_detector_sees_french_and_lets_english_through() -> None:
    assert _is_french("Le dossier est clos.")
    assert _is_french("Accusé de réception")
    assert not _is_french("message_processed")
    assert not _is_french("cannot read programmes file")
