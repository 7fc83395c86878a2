"""``generate``: the realistic corpus, deterministic for a seed."""

from __future__ import annotations

import random
from collections import Counter

from .case import expected_fields, judge
from .dates import mail_datetime
from .directory import MAILBOXES
from .mail import build_raw
from .model import PROGRAMMES, RealisticRequest
from .scenarios import RECIPES, Ctx, Recipe, finalize
from .styles import render

__all__ = ["PROGRAMME_SHARES", "generate"]

# Requests per programme in a corpus of 320 (scaled for other sizes).
PROGRAMME_SHARES: dict[str, int] = {
    "signalement": 160,
    "tele_expertise": 70,
    "appui_dac": 60,
    "medecin_referent": 30,
}


def _largest_remainder(weights: list[float], total: int) -> list[int]:
    scale = sum(weights)
    raw = [w * total / scale for w in weights]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _plan(n: int, rng: random.Random) -> list[tuple[Recipe, str]]:
    """Recipes for ``n`` requests, each with a style (least used first within a programme)."""
    per_programme = _largest_remainder([PROGRAMME_SHARES[p] for p in PROGRAMMES], n)
    plan: list[tuple[Recipe, str]] = []
    for programme, count in zip(PROGRAMMES, per_programme, strict=True):
        recipes = [r for r in RECIPES if r.programme == programme]
        counts = _largest_remainder([r.share for r in recipes], count)
        items = [r for r, c in zip(recipes, counts, strict=True) for _ in range(c)]
        # Scarce styles first, so that recipes with few styles get theirs.
        items.sort(key=lambda r: len(r.styles))
        used: Counter[str] = Counter()
        for recipe in items:
            low = min(used[s] for s in recipe.styles)
            style = rng.choice([s for s in recipe.styles if used[s] == low])
            used[style] += 1
            plan.append((recipe, style))
    rng.shuffle(plan)
    return plan


def generate(seed: int = 7, n: int = 320) -> list[RealisticRequest]:
    """``n`` realistic requests with their expected verdicts and fields."""
    rng = random.Random(seed)
    requests: list[RealisticRequest] = []
    for index, (recipe, style) in enumerate(_plan(n, rng)):
        sub = random.Random(rng.getrandbits(64))
        ctx = Ctx(sub, recipe.programme, style, mail_datetime(sub))
        case = recipe.build(ctx)
        finalize(case, sub)
        verdict, why = judge(case)
        if verdict != recipe.verdict:
            msg = f"recipe {recipe.programme}/{recipe.name} gave {verdict}: {why}"
            raise RuntimeError(msg)
        rendered = render(case, sub)
        raw = build_raw(case, rendered, sub, MAILBOXES[recipe.programme])
        requests.append(
            RealisticRequest(
                id=f"{recipe.programme}-{style}-{index:03d}",
                programme=recipe.programme,
                style=style,
                raw=raw,
                expected_verdict=verdict,
                expected_fields=expected_fields(case),
                notify_medecin_traitant=(
                    recipe.programme == "appui_dac" and case.reporter.role != "professional"
                ),
                why=why,
            )
        )
    return requests
