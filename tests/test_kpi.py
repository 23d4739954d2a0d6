"""Board-overview maths (domain/kpi.py): periods, on-track rule, moving the right way, and the
sentences that say what changed."""
from __future__ import annotations

import math

import pytest

from domain import kpi, sentences


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
        (40.0, 40.0, 42.0, 42.0, True),  # up, higher is better: right way
        (20.0, 20.0, 18.0, 18.0, False),  # down, lower is better: right way
        (60.0, 60.0, 59.0, 59.0, True),  # wrong way
        (30.0, 30.0, 31.0, 31.0, False),  # wrong way
        (50.0, 50.0, 50.01, 50.01, True),  # no change: counted, not moving the right way
        (None, None, 40.0, 40.0, True),  # no previous year: not counted
        (40.0, 40.0, float("nan"), float("nan"), True),  # suppressed now: not counted
        (40.0, 40.0, 0.0, 100.0, True),  # a band over the whole scale now: says nothing, not counted
        (40.0, 44.0, 42.0, 60.0, True),  # ranges that overlap: too close to call, not counted
        (40.0, 44.0, 45.0, 60.0, True),  # a range wholly above the other: right way (its midpoint is not used)
    ]
    assert kpi.moving_right_way(pairs) == (3, 6)
    assert sentences.headline(2, 5) == "2 of 5 measures moving the right way"
    assert "No measure" in sentences.headline(0, 0)


def test_change_sentences_carry_their_numbers():
    rose = kpi.Change("Participations", 1200, 1380, "2025 Q2", "count", True, "participations are not unique students")
    assert sentences.reach_change(rose) == ("Participations rose from 1,200 in 2025 Q2 to 1,380 (+180, +15%). That is the right way. "
                               "(Participations are not unique students.)")
    fell = kpi.Change("Chronic absence", 19.7, 17.6, "2023–24", "rate", False)
    assert sentences.reach_change(fell) == "Chronic absence fell from 19.7% in 2023–24 to 17.6% (−2.1 points). That is the right way."
    worse = kpi.Change("Grade 3 reading proficiency", 45.0, 43.0, "2023–24", "rate", True)
    assert sentences.reach_change(worse).endswith("(−2.0 points). That is the wrong way.")
    same = kpi.Change("Partners", 48, 48, "2025 Q2")
    assert sentences.reach_change(same) == "Partners held steady at 48 since 2025 Q2."
    from_zero = kpi.Change("Seats in Grundy County", 0, 40, "2025 Q2")
    assert "from 0 in 2025 Q2 to 40 (+40)." in sentences.reach_change(from_zero)


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


# --- pace to a target ----------------------------------------------------------------------------

YEARS = ["2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25"]


def test_a_steady_rise_reaches_a_far_target_late_with_its_uncertainty():
    points = [(y, v, v) for y, v in zip(YEARS, [80.0, 81.0, 82.2, 82.9, 84.0, 85.0])]
    pace = kpi.pace(points, 92.0, "2027-28")
    assert pace.status == kpi.OFF_PACE and pace.to_go_low == pytest.approx(7.0)
    assert pace.per_period == pytest.approx(0.9914, abs=1e-3)
    assert pace.reached == "2032-33"  # 2024 + 7 / 0.99 = 2031.06: first reached in the year starting 2032
    assert pace.reached_early <= pace.reached <= pace.reached_late
    assert kpi.pace(points, 92.0, "2033-34").status == kpi.ON_PACE


def test_too_few_periods_a_met_target_and_a_trend_moving_away():
    assert kpi.pace([("2023-24", 80.0, 80.0), ("2024-25", 81.0, 81.0)], 90.0, "2029-30").status == kpi.TOO_FEW
    assert kpi.pace([(y, 91.0, 91.0) for y in YEARS[:3]], 90.0, "2029-30").status == kpi.MET
    falling = [(y, v, v) for y, v in zip(YEARS, [85.0, 84.0, 83.2, 82.0, 81.1, 80.0])]
    assert kpi.pace(falling, 90.0, "2029-30").status == kpi.AWAY
    # lower is better: a falling rate is the right way
    assert kpi.pace(falling, 75.0, "2035-36", higher_is_better=False).status == kpi.ON_PACE


def test_a_range_gives_a_range_to_go_and_a_suppressed_year_is_left_out():
    points = [("2021-22", 80.0, 80.0), ("2022-23", None, None), ("2023-24", 82.0, 82.0), ("2024-25", 83.0, 87.0)]
    pace = kpi.pace(points, 90.0, "2029-30")
    assert (pace.to_go_low, pace.to_go_high) == (pytest.approx(3.0), pytest.approx(7.0))
    assert pace.status != kpi.TOO_FEW  # three shown years


def test_quarters_pace_in_quarters():
    points = [("2024-Q4", 3000, 3000), ("2025-Q1", 3200, 3200), ("2025-Q2", 3390, 3390), ("2025-Q3", 3610, 3610)]
    pace = kpi.pace(points, 4040, "2026-Q2")
    assert pace.per_period == pytest.approx(202.0) and pace.reached == "2026-Q2"  # 430 to go at 202 a quarter: 3 quarters on
    assert pace.status == kpi.ON_PACE


def test_a_status_is_never_made_of_a_range_over_the_whole_scale_nor_of_a_band_s_midpoint():
    # 0-100% says nothing: no data, as a suppressed value (not "too close to call", not a midpoint of 50)
    assert kpi.track_status(0.0, 100.0, 40, True) == kpi.NO_DATA
    assert kpi.track_status(0.0, 100.0, None, True) == kpi.NO_TARGET
    # A band of a small number that straddles the target is too close to call, whatever its midpoint.
    assert kpi.track_status(88.7, 100.0, 90, True) == kpi.UNCLEAR  # midpoint 94.4 would say on track
    assert kpi.moved(93.7, 93.7, 88.7, 100.0, True) == kpi.UNCLEAR  # midpoint 94.4 would say "better"
    assert kpi.moved(93.7, 93.7, 0.0, 100.0, True) is None
    assert kpi.moved(90.0, 94.0, 95.0, 97.0, True) == "better" and kpi.moved(90.0, 94.0, 95.0, 97.0, False) == "worse"
    assert kpi.moved(90.0, 90.02, 90.0, 90.03, True) == "same"
    assert kpi.change_range(90.0, 94.0, 95.0, 97.0) == (1.0, 7.0)


@pytest.mark.parametrize("previous, now, expected", [
    ((93.7, 93.7), (94.2, 94.2), ("+0.5 points since 2023–24", False)),
    ((93.7, 93.7), (93.72, 93.72), ("no change since 2023–24", True)),
    ((90.0, 92.0), (95.0, 97.0), ("+3 to +7 points since 2023–24", False)),
    ((93.7, 93.7), (88.7, 100.0), ("-5 to +6 points since 2023–24: too close to call", True)),
    ((93.7, 93.7), (0.0, 100.0), (None, True)),
    ((None, None), (94.2, 94.2), (None, True)),
])
def test_an_indicator_card_states_its_change_from_the_ranges(previous, now, expected):
    from components.overview_charts import indicator_delta

    item = {"previous_low": previous[0], "previous_high": previous[1], "rate_low": now[0], "rate_high": now[1],
            "previous_year": "2023-24", "higher_is_better": True}
    assert indicator_delta(item) == expected
