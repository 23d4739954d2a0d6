"""Board-overview maths (domain/kpi.py): periods, on-track rule, moving the right way, and the
sentences that say what changed."""
from __future__ import annotations

import math

import pytest

from domain import kpi


@pytest.mark.parametrize("quarter, year", [
    ("2025-Q3", "2025-26"), ("2025-Q4", "2025-26"), ("2025-Q1", "2024-25"), ("2025-Q2", "2024-25"), ("2000-Q1", "1999-00"),
])
def test_a_quarter_falls_in_the_school_year_running_july_to_june(quarter, year):
    assert kpi.school_year_of_quarter(quarter) == year


def test_a_quarter_without_outcomes_for_its_year_uses_the_latest_year_before_it():
    years = ["2022-23", "2023-24", "2024-25"]
    assert kpi.school_year_for_quarter("2025-Q3", years) == "2024-25"
    assert kpi.school_year_for_quarter("2024-Q1", years) == "2023-24"
    assert kpi.school_year_for_quarter("2023-Q4", years) == "2023-24"
    assert kpi.school_year_for_quarter("2021-Q1", years) is None


def test_labels_and_quarter_bounds():
    assert kpi.quarter_label("2025-Q3") == "2025 Q3"
    assert kpi.school_year_label("2024-25") == "2024–25"
    assert kpi.quarter_bounds("2024-Q1") == ("2024-01-01", "2024-03-31")
    assert kpi.quarter_bounds("2025-Q4") == ("2025-10-01", "2025-12-31")


def test_on_track_respects_higher_is_better():
    assert kpi.track_status(45, 45, 45, True) == kpi.ON_TRACK  # meeting the target is on track
    assert kpi.track_status(44.9, 44.9, 45, True) == kpi.OFF_TRACK
    assert kpi.track_status(20, 20, 23.5, False) == kpi.ON_TRACK  # chronic absence: lower is better
    assert kpi.track_status(25, 25, 23.5, False) == kpi.OFF_TRACK


def test_no_target_no_data_and_ranges():
    assert kpi.track_status(50, 50, None, True) == kpi.NO_TARGET
    assert kpi.track_status(50, 50, float("nan"), True) == kpi.NO_TARGET
    assert kpi.track_status(None, None, 40, True) == kpi.NO_DATA
    assert kpi.track_status(90, 94, 89, True) == kpi.ON_TRACK  # whole range meets it
    assert kpi.track_status(90, 94, 95, True) == kpi.OFF_TRACK  # whole range misses it
    assert kpi.track_status(90, 94, 92, True) == kpi.UNCLEAR
    assert kpi.track_status(10, 14, 12, False) == kpi.UNCLEAR
    assert kpi.track_status(10, 14, 15, False) == kpi.ON_TRACK


def test_moving_the_right_way_counts_only_measures_with_two_years():
    pairs = [
        (40.0, 42.0, True),  # up, higher is better: right way
        (20.0, 18.0, False),  # down, lower is better: right way
        (60.0, 59.0, True),  # wrong way
        (30.0, 31.0, False),  # wrong way
        (50.0, 50.01, True),  # no change: counted, not moving the right way
        (None, 40.0, True),  # no previous year: not counted
        (40.0, float("nan"), True),  # suppressed now: not counted
    ]
    assert kpi.moving_right_way(pairs) == (2, 5)
    assert kpi.headline(2, 5) == "2 of 5 measures moving the right way"
    assert "No measure" in kpi.headline(0, 0)


def test_change_sentences_carry_their_numbers():
    rose = kpi.Change("Participations", 1200, 1380, "2025 Q2", "count", True, "participations are not unique students")
    assert rose.sentence() == ("Participations rose from 1,200 in 2025 Q2 to 1,380 (+180, +15%). That is the right way. "
                               "(Participations are not unique students.)")
    fell = kpi.Change("Chronic absence", 19.7, 17.6, "2023–24", "rate", False)
    assert fell.sentence() == "Chronic absence fell from 19.7% in 2023–24 to 17.6% (-2.1 points). That is the right way."
    worse = kpi.Change("Grade 3 reading proficiency", 45.0, 43.0, "2023–24", "rate", True)
    assert worse.sentence().endswith("(-2.0 points). That is the wrong way.")
    same = kpi.Change("Partners", 48, 48, "2025 Q2")
    assert same.sentence() == "Partners held steady at 48 since 2025 Q2."
    from_zero = kpi.Change("Seats in Grundy County", 0, 40, "2025 Q2")
    assert "from 0 in 2025 Q2 to 40 (+40)." in from_zero.sentence()


def test_biggest_changes_rank_by_relative_size_and_skip_unchanged():
    changes = [
        kpi.Change("Seats", 5000, 5500, "Q"),  # 10%
        kpi.Change("Partners", 48, 48, "Q"),  # unchanged
        kpi.Change("Reading", 20.0, 23.0, "Y", "rate"),  # 15%
        kpi.Change("Participations", 4000, 3000, "Q"),  # 25%
        kpi.Change("Programs", 60, 62, "Q"),  # 3%
        kpi.Change("New county", 0, 15, "Q"),  # from zero: largest
    ]
    top = kpi.biggest_changes(changes, 3)
    assert [c.subject for c in top] == ["New county", "Participations", "Reading"]
    assert math.isinf(top[0].relative)
