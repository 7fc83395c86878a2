"""The decisions on the realistic set (``bench.realistic``): every verdict right, and no
wrongful refusal on other draws of the same generator."""

from __future__ import annotations

from bench.accuracy import evaluate_set
from bench.realistic import generate


def test_every_verdict_of_the_set_is_right() -> None:
    report = evaluate_set(generate(seed=7))
    summary = report.as_json()
    wrong = [(w["id"], w["expected"], w["got"], w["field_errors"][:3]) for w in summary["wrong"]]
    assert summary["requests"] >= 300
    assert not summary["wrongful_refusals"], wrong
    assert summary["verdicts_right"] == summary["requests"], wrong


def test_no_wrongful_refusal_on_another_draw() -> None:
    # Other combinations of the same phrasings: the set is not learnt by heart.
    summary = evaluate_set(generate(seed=11)).as_json()
    assert not summary["wrongful_refusals"], summary["wrong"]
    assert summary["verdicts_right"] >= 0.95 * summary["requests"], summary["wrong"]
