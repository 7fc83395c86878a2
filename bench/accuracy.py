"""How right are the decisions on what people really write? (``python -m bench.accuracy``)

Runs every request of the realistic set (``bench.realistic``: several hundred mails in a
dozen writing styles, with their expected fields and verdict) through ``aiguilleur check``'s
own code, the decision the daemon makes, on a CPTS configured with the set's territory,
roster and directory. Prints and writes:
- field precision and recall, per field;
- verdict accuracy per programme, and the confusion matrix of verdicts;
- every wrong verdict, and every wrongful refusal (ineligible or rejected where the set
  expects eligible, incomplete or a coordinator).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, create_engine

from bench.realistic import (
    KNOWN_PROFESSIONALS,
    MAILBOXES,
    ROSTER,
    TERRITORY_COMMUNES,
    TERRITORY_POSTAL_CODES,
    RealisticRequest,
    generate,
)
from gateway.cli.commands.check import PARIS, check_report
from gateway.cli.demo_routing import DemoDoctor, roster_toml
from gateway.config import Config, load_config
from gateway.storage.db import upgrade
from gateway.storage.directory_models import MssanteAddress
from parsers.text import fold

__all__ = ["Outcome", "Report", "evaluate_set", "main", "site"]

RESULTS = Path(__file__).parent / "results"
VERDICTS = ("eligible", "incomplete", "coordinator", "ineligible", "rejected")
_REFUSALS = frozenset({"ineligible", "rejected"})


def _toml_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def _roster() -> str:
    return roster_toml(
        [
            DemoDoctor(
                d.rpps,
                d.name,
                d.email,
                speciality=d.speciality,
                accepts_new_patients=d.accepts_new_patients,
                capacity=3 if d.accepts_new_patients else 0,
                communes=d.communes,
                filieres=d.filieres,
            )
            for d in ROSTER
        ]
    )


@contextmanager
def site() -> Iterator[Config]:
    """A CPTS on disk: the set's territory, roster and directory, in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="aiguilleur-accuracy-") as folder:
        root = Path(folder)
        programmes = root / "programmes.toml"
        programmes.write_text(
            "[signalement.params.patient_in_territory]\n"
            f"postal_codes = {_toml_list(TERRITORY_POSTAL_CODES)}\n"
            f"communes = {_toml_list(sorted(TERRITORY_COMMUNES))}\n",
            encoding="utf-8",
        )
        roster = root / "roster.toml"
        roster.write_text(_roster(), encoding="utf-8")
        url = f"sqlite:///{root / 'aiguilleur.db'}"
        upgrade(url)
        engine = create_engine(url)
        with Session(engine) as session:
            for pro in KNOWN_PROFESSIONALS:
                session.add(
                    MssanteAddress(
                        address=pro.email.lower(),
                        bal_type="PER",
                        national_id="8" + pro.rpps,
                        profession_code=pro.profession_code,
                        savoir_faire_code=pro.speciality,
                        batch_id=1,
                        changed_batch_id=1,
                        created_batch_id=1,
                    )
                )
            session.commit()
        engine.dispose()
        lines = [
            "[database]",
            f"url = {json.dumps(url)}",
            "[routing]",
            f"programmes_path = {json.dumps(str(programmes))}",
            f"roster_path = {json.dumps(str(roster))}",
            'coordinator_addresses = ["coordination@cpts-massif-vosgien.mssante.fr"]',
            'dac_team_address = "equipe@dac-vosges.mssante.fr"',
        ]
        for programme, address in MAILBOXES.items():
            lines += [
                "[[mailboxes]]",
                f'name = "{programme}"',
                f'address = "{address}"',
                f'programme = "{programme}"',
            ]
        config = root / "aiguilleur.toml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        yield load_config(config)


def _sent_on(raw: bytes) -> date:
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    try:
        return parsedate_to_datetime(str(headers["Date"])).astimezone(PARIS).date()
    except (TypeError, ValueError):
        return datetime.now(PARIS).date()


def _lookup(data: Mapping[str, Any], path: str) -> object:
    value: object = data
    for name in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _normal(path: str, value: object) -> object:
    """Comparable form: folded text, the first given name, sorted numbers; empty is None."""
    if value is None or value == [] or value == "":
        return None
    if path == "patient.given_names" and isinstance(value, list):
        return fold(str(value[0])) if value else None
    if isinstance(value, list):
        return tuple(sorted(str(v) for v in value))
    if isinstance(value, bool | int):
        return value
    if isinstance(value, date):
        return value.isoformat()
    text = fold(str(value)).replace("saint ", "st ").replace("sainte ", "ste ")
    if path.endswith("requis_name"):
        text = re.sub(r"^(?:dr|docteur|pr|professeur) ", "", text)
    return text or None


@dataclass
class FieldScore:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def precision(self) -> float | None:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else None

    @property
    def recall(self) -> float | None:
        wanted = self.true_positive + self.false_negative
        return self.true_positive / wanted if wanted else None


@dataclass(frozen=True)
class Outcome:
    id: str
    programme: str
    style: str
    expected: str
    got: str
    why: str
    reasons: tuple[str, ...]
    field_errors: tuple[str, ...]

    @property
    def right(self) -> bool:
        return self.expected == self.got

    @property
    def wrongful_refusal(self) -> bool:
        return self.got in _REFUSALS and self.expected not in _REFUSALS


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    fields: dict[str, FieldScore] = field(default_factory=dict)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        per_programme: dict[str, dict[str, int]] = {}
        confusion: dict[str, Counter[str]] = {v: Counter() for v in VERDICTS}
        for o in self.outcomes:
            counts = per_programme.setdefault(o.programme, {"right": 0, "total": 0})
            counts["total"] += 1
            counts["right"] += int(o.right)
            confusion.setdefault(o.expected, Counter())[o.got] += 1
        return {
            "requests": len(self.outcomes),
            "verdicts_right": sum(o.right for o in self.outcomes),
            "wrongful_refusals": [o.id for o in self.outcomes if o.wrongful_refusal],
            "per_programme": per_programme,
            "per_style": dict(Counter(o.style for o in self.outcomes)),
            "confusion": {k: dict(v) for k, v in confusion.items()},
            "fields": {
                path: {
                    "precision": score.precision,
                    "recall": score.recall,
                    "tp": score.true_positive,
                    "fp": score.false_positive,
                    "fn": score.false_negative,
                }
                for path, score in sorted(self.fields.items())
            },
            "wrong": [
                {
                    "id": o.id,
                    "expected": o.expected,
                    "got": o.got,
                    "why": o.why,
                    "reasons": list(o.reasons),
                    "field_errors": list(o.field_errors),
                }
                for o in self.outcomes
                if not o.right
            ],
            "seconds": round(self.seconds, 1),
        }


def _verdict(report: Mapping[str, Any]) -> str:
    decision = report["decision"]
    if decision.get("escalate_reason_fr"):
        return "coordinator"
    return str(decision["outcome"])


def _score(
    request: RealisticRequest, data: Mapping[str, Any], scores: dict[str, FieldScore]
) -> list[str]:
    errors: list[str] = []
    for path, expected in request.expected_fields.items():
        want = _normal(path, expected)
        got = _normal(path, _lookup(data, path))
        score = scores.setdefault(path, FieldScore())
        if want is None and got is None:
            continue
        if want == got:
            score.true_positive += 1
            continue
        if got is not None:
            score.false_positive += 1
        if want is not None:
            score.false_negative += 1
        errors.append(f"{path}: attendu {want!r}, lu {got!r}")
    return errors


def evaluate_set(requests: list[RealisticRequest]) -> Report:
    report = Report()
    started = time.perf_counter()
    with site() as config:
        for request in requests:
            data = check_report(
                request.raw,
                config,
                received_on=_sent_on(request.raw),
                programme=request.programme,
            )
            errors = _score(request, data["request"], report.fields)
            report.outcomes.append(
                Outcome(
                    id=request.id,
                    programme=request.programme,
                    style=request.style,
                    expected=request.expected_verdict,
                    got=_verdict(data),
                    why=request.why,
                    reasons=tuple(data["decision"]["reasons_fr"]),
                    field_errors=tuple(errors),
                )
            )
    report.seconds = time.perf_counter() - started
    return report


def _print(summary: dict[str, Any]) -> None:
    print(f"{summary['verdicts_right']}/{summary['requests']} verdicts right")
    for programme, counts in summary["per_programme"].items():
        print(f"  {programme:18} {counts['right']}/{counts['total']}")
    print("confusion (expected -> got):")
    for expected, row in summary["confusion"].items():
        print(f"  {expected:12} {row}")
    print(f"{'field':40} {'precision':>9} {'recall':>7}  tp  fp  fn")
    for path, score in summary["fields"].items():
        p = "-" if score["precision"] is None else f"{score['precision']:.3f}"
        r = "-" if score["recall"] is None else f"{score['recall']:.3f}"
        print(f"{path:40} {p:>9} {r:>7} {score['tp']:3} {score['fp']:3} {score['fn']:3}")
    for wrong in summary["wrong"]:
        print(f"WRONG {wrong['id']}: expected {wrong['expected']}, got {wrong['got']}")
        print(f"   why: {wrong['why']}")
        for line in wrong["field_errors"][:6]:
            print(f"   field {line}")
        for line in wrong["reasons"][:3]:
            print(f"   reason {line[:160]}")
    print(f"wrongful refusals: {summary['wrongful_refusals']}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--n", type=int, default=320)
    parser.add_argument("--out", type=Path, default=None, help="results JSON (default: none)")
    args = parser.parse_args(argv)
    summary = evaluate_set(generate(seed=args.seed, n=args.n)).as_json()
    summary["seed"] = args.seed
    _print(summary)
    if args.out is not None:
        args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
