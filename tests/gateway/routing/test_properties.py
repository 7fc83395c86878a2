"""Properties of the routing decisions over generated inputs."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from gateway.routing.answers import classify_answer
from gateway.routing.candidates import signalement_candidates
from gateway.routing.roster import RosterDoctor

ON = date(2026, 3, 10)

doctors = st.lists(
    st.builds(
        RosterDoctor,
        rpps=st.text(alphabet="0123456789", min_size=1, max_size=3),
        name=st.just("Dr"),
        email=st.just("dr@medecin.mssante.fr"),
        speciality_code=st.sampled_from(["SM54", "SM26", "SM15", None]),
        accepts_new_patients=st.booleans(),
        capacity=st.integers(0, 3),
        open_offers=st.integers(0, 3),
        communes=st.frozensets(st.sampled_from(["88160", "88100", "75056"]), max_size=2),
    ),
    max_size=8,
    unique_by=lambda d: d.rpps,
)


@given(doctors, st.integers(0, 50), st.frozensets(st.text("0123456789", max_size=3)))
def test_candidates_are_admissible_and_sorted(
    roster: list[RosterDoctor], cursor: int, offered: frozenset[str]
) -> None:
    found = signalement_candidates(roster, "88160", ON, offered, cursor)
    for d in found:
        assert d.is_gp and d.accepts_new_patients and "88160" in d.communes
        assert d.open_offers < d.capacity and d.rpps not in offered
    loads = [d.open_offers for d in found]
    assert loads == sorted(loads)
    # Nobody admissible is left out.
    admissible = {
        d.rpps
        for d in roster
        if d.is_gp
        and d.accepts_new_patients
        and "88160" in d.communes
        and d.open_offers < d.capacity
        and d.rpps not in offered
    }
    assert {d.rpps for d in found} == admissible


@given(st.text(max_size=300))
def test_classify_never_fails_and_quotes_do_not_count(text: str) -> None:
    verdict = classify_answer(text)
    assert verdict in ("accept", "refuse", "ambiguous")
    quoted = "\n".join("> " + line for line in text.splitlines())
    assert classify_answer("ACCEPTE\n" + quoted) == "accept"
