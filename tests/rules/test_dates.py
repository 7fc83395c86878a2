from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.dates import (
    add_months,
    completed_months,
    completed_years,
    is_at_most_months_old,
    is_older_than_years,
)

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
offsets = st.integers(min_value=0, max_value=1200)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap February
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 8, 31), 6, date(2025, 2, 28)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # 29 Feb birthday in a common year
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 1, 15), -13, date(2023, 12, 15)),
        (date(2024, 5, 31), 0, date(2024, 5, 31)),
    ],
)
def test_add_months_table(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@given(dates, st.integers(min_value=-600, max_value=600))
def test_add_months_keeps_day_or_clamps_to_month_end(start: date, months: int) -> None:
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    if result.day != start.day:
        assert result.day < start.day
        assert (result + timedelta(days=1)).month != result.month  # last day of its month


@given(dates, offsets)
def test_completed_months_at_anniversary_and_day_before(birth: date, months: int) -> None:
    anniversary = add_months(birth, months)
    assert completed_months(birth, anniversary) == months
    if months > 0:
        assert completed_months(birth, anniversary - timedelta(days=1)) == months - 1


@given(dates, dates)
def test_completed_months_brackets_the_day(birth: date, on: date) -> None:
    months = completed_months(birth, on)
    assert add_months(birth, months) <= on < add_months(birth, months + 1)


@given(dates, dates)
def test_years_match_naive_formula_for_ordinary_days(birth: date, on: date) -> None:
    # The naive birthday comparison is right whenever no clamping can happen.
    if birth.day <= 28 and birth <= on:
        naive = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
        assert completed_years(birth, on) == naive


@given(dates, st.integers(min_value=1, max_value=100))
def test_older_than_is_strict(birth: date, years: int) -> None:
    birthday = add_months(birth, 12 * years)
    assert not is_older_than_years(birth, birthday, years)
    assert is_older_than_years(birth, birthday + timedelta(days=1), years)


@given(dates, st.integers(min_value=0, max_value=240))
def test_at_most_months_is_inclusive(birth: date, months: int) -> None:
    anniversary = add_months(birth, months)
    assert is_at_most_months_old(birth, anniversary, months)
    assert not is_at_most_months_old(birth, anniversary + timedelta(days=1), months)
    assert is_at_most_months_old(birth, birth, months)


def test_not_yet_born_is_not_a_child() -> None:
    assert not is_at_most_months_old(date(2026, 3, 2), date(2026, 3, 1), 18)


@pytest.mark.parametrize(
    ("birth", "on", "over_70"),
    [
        (date(1956, 3, 1), date(2026, 3, 1), False),  # exactly 70
        (date(1956, 2, 29), date(2026, 2, 28), False),  # 29 Feb: 70th birthday is 28 Feb
        (date(1956, 2, 29), date(2026, 3, 1), True),
        (date(1956, 2, 28), date(2026, 3, 1), True),
        (date(1956, 3, 2), date(2026, 3, 1), False),
    ],
)
def test_over_70_boundaries(birth: date, on: date, over_70: bool) -> None:
    assert is_older_than_years(birth, on, 70) is over_70
