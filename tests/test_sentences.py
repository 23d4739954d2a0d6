"""The sentence layer (domain/sentences.py), sentence by sentence against the tables the charts
draw: exact, range-coded and suppressed values, mirrored pairs, verdicts over the period and
since the year before."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from domain import gaps, sentences
from domain.vocabulary import BUILT_IN_GROUPS

COMPLEMENTS = {g.group_id: g.reference_group_id for g in BUILT_IN_GROUPS}
LABELS = {g.group_id: g.label for g in BUILT_IN_GROUPS}
NAN = math.nan


def table(rows, mode="complement", higher=True, year="2024-25", indicator="grad4", **columns):
    """(group, rate_low, rate_high, denominator[, suppressed]) rows -> a labelled gap table."""
    frame = pd.DataFrame([r if len(r) == 5 else (*r, False) for r in rows],
                         columns=["student_group", "rate_low", "rate_high", "denominator", "suppressed"])
    frame = frame.assign(indicator_id=indicator, school_year=year, **columns)
    out = gaps.compute_gaps(frame, mode, higher, COMPLEMENTS)
    return label(out)


def label(frame):
    frame["group_label"] = frame["student_group"].map(LABELS)
    frame["reference_label"] = frame["reference_group"].map(lambda g: LABELS.get(g) if isinstance(g, str) else None)
    return frame


def summary(years: dict[str, list], **kw):
    by_year = pd.concat([table(rows, year=y, **kw) for y, rows in years.items()], ignore_index=True)
    return label(gaps.trend_summary(by_year))


# --- words ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("label_, mid, start", [
    ("Asian", "Asian students", "Asian students"),
    ("English learners", "English learners", "English learners"),
    ("Not English learners", "not English learners", "Not English learners"),
    ("Economically disadvantaged", "economically disadvantaged students", "Economically disadvantaged students"),
    ("Students with disabilities", "students with disabilities", "Students with disabilities"),
    ("Two or more races", "students of two or more races", "Students of two or more races"),
    ("All students", "all students", "All students"),
    ("Female", "female students", "Female students"),
    ("Black or African American", "Black or African American students", "Black or African American students"),
    ("Asian or Pacific Islander", "Asian or Pacific Islander students", "Asian or Pacific Islander students"),
])
def test_groups_are_named_with_proper_capitals_mid_sentence(label_, mid, start):
    assert sentences.students(label_) == mid
    assert sentences.students(label_, start=True) == start


def test_indicators_are_lower_case_mid_sentence_unless_a_name_or_acronym():
    assert sentences.indicator("Four-year graduation rate") == "four-year graduation rate"
    assert sentences.indicator("STEM credential") == "STEM credential"
    assert sentences.indicator("AP course completion") == "AP course completion"
    assert sentences.indicator("English language proficiency") == "English language proficiency"
    assert sentences.indicator("Algebra I by grade 9") == "Algebra I by grade 9"  # a course's name
    assert sentences.indicator("Grade 8 math proficiency") == "grade 8 math proficiency"


def test_a_gap_in_words_is_signed_and_a_range_is_never_its_midpoint():
    assert sentences.gap_text(-9.26, -9.26) == "−9.3 points"
    assert sentences.gap_text(-10.0, -6.0) == "between −10 and −6 points"
    assert sentences.gap_text(-4.3, -3.8) == "about −4 points"
    assert sentences.gap_size(-57.0, -12.0) == "between 12 and 57 points"
    assert "8.0" not in sentences.gap_text(-10.0, -6.0)


# --- the gap chart's caption -----------------------------------------------------------------------

EXACT = [("all", 87.0, 87.0, 1000), ("econ_disadvantaged", 78.0, 78.0, 450), ("not_econ_disadvantaged", 94.0, 94.0, 550),
         ("black", 80.0, 80.0, 150), ("asian", 95.0, 95.0, 60), ("white", 89.0, 89.0, 700)]


def test_gap_caption_names_the_largest_gap_and_counts_each_comparison_once():
    text = sentences.gap_caption(table(EXACT), "Four-year graduation rate", True, "2024-25")
    # not economically disadvantaged vs economically disadvantaged mirrors the first gap: left out
    assert text == ("In 2024–25, the largest gap in four-year graduation rate is for economically disadvantaged "
                    "students: 78.0%, 16.0 points below not economically disadvantaged students (94.0%); 2 of 4 groups "
                    "are behind their reference group, 2 ahead.")


def test_a_range_spanning_zero_is_neither_behind_nor_ahead_and_never_the_largest_gap():
    # Black students' rate 30-99% against all students' 87%: a gap from −57 to +12 points.
    rows = [("all", 87.0, 87.0, 1000), ("black", 30.0, 99.0, 40), ("hispanic", 80.0, 80.0, 300)]
    frame = table(rows)
    black = frame.set_index("student_group").loc["black"]
    assert not black["behind"] and not black["ahead"] and gaps.side(black) == "level"
    text = sentences.gap_caption(frame, "Four-year graduation rate", True, "2024-25")
    assert text == ("In 2024–25, the largest gap in four-year graduation rate is for Hispanic or Latino students: 80.0%, "
                    "7.0 points below all students (87.0%); 1 of 2 groups is behind their reference group, and 1 can be "
                    "called neither (a range that spans zero, or no gap at all).")
    assert "57" not in text and "12 points" not in text


def test_a_range_behind_reads_as_a_range_of_points():
    rows = [("all", 87.0, 87.0, 1000), ("black", 30.0, 75.0, 40)]
    text = sentences.gap_caption(table(rows), "Four-year graduation rate", True, "2024-25")
    assert "30–75%, between 12 and 57 points below all students (87.0%)" in text


def test_lower_is_better_reads_above_and_says_so():
    rows = [("all", 20.0, 20.0, 1000), ("english_learner", 34.0, 34.0, 300), ("not_english_learner", 18.0, 18.0, 700)]
    text = sentences.gap_caption(table(rows, higher=False), "Chronic absence", False, "2024-25")
    assert text.startswith("In 2024–25, the largest gap in chronic absence is for English learners: 34.0%, 16.0 points "
                           "above not English learners (18.0%) (lower is better)")


def test_suppressed_groups_are_counted_and_a_table_with_no_gap_says_why():
    rows = [("all", 87.0, 87.0, 1000), ("black", NAN, NAN, NAN, True), ("hispanic", 80.0, 80.0, 300)]
    assert sentences.gap_caption(table(rows), "Four-year graduation rate", True, "2024-25").endswith(
        "; 1 group is suppressed to protect small numbers.")
    hidden = [("all", 87.0, 87.0, 1000), ("black", NAN, NAN, NAN, True), ("asian", NAN, NAN, NAN, True)]
    assert sentences.gap_caption(table(hidden), "Four-year graduation rate", True, "2024-25") == (
        "No group has a gap that can be shown for four-year graduation rate in 2024–25: 2 groups are suppressed "
        "to protect small numbers.")


def test_no_group_behind_is_said_plainly():
    rows = [("all", 87.0, 87.0, 1000), ("asian", 95.0, 95.0, 60)]
    assert sentences.gap_caption(table(rows), "Four-year graduation rate", True, "2024-25") == (
        "In 2024–25, no group is clearly behind its reference group in four-year graduation rate; the one group is "
        "not behind their reference group, 1 ahead.")


# --- over time -------------------------------------------------------------------------------------

def econ_years(values: dict[str, tuple[float, float]], n=20_000):
    """Economically disadvantaged (low, high) rates against a fixed 90% complement."""
    return {y: [("all", 85.0, 85.0, 2 * n), ("econ_disadvantaged", lo, hi, n), ("not_econ_disadvantaged", 90.0, 90.0, n)]
            for y, (lo, hi) in values.items()}


def test_a_gap_that_narrowed_over_the_period_but_widened_since_last_year_says_both():
    trend = summary(econ_years({"2021-22": (76.0, 76.0), "2022-23": (83.0, 83.0), "2023-24": (81.0, 81.0)}))
    text = sentences.trend_caption(trend, "econ_disadvantaged", "Four-year graduation rate")
    assert text == ("The gap between economically disadvantaged students and not economically disadvantaged students "
                    "went from −14.0 points in 2021–22 to −9.0 points in 2023–24: it narrowed by 5.0 points, more than "
                    "the uncertainty from group sizes. Since 2022–23, when it was −7.0 points, it widened by 2.0 points, "
                    "more than the uncertainty from group sizes.")


def test_a_range_coded_year_is_a_range_in_words_never_an_exact_midpoint():
    trend = summary(econ_years({"2021-22": (80.0, 84.0), "2022-23": (83.0, 83.0), "2023-24": (82.5, 82.5)}))
    text = sentences.trend_caption(trend, "econ_disadvantaged", "Four-year graduation rate")
    assert text.startswith("The gap between economically disadvantaged students and not economically disadvantaged "
                           "students went from between −10 and −6 points in 2021–22 to −7.5 points in 2023–24: no clear change")
    assert "−8.0" not in text
    assert text.endswith("Since 2022–23, when it was −7.0 points, it has not clearly changed.")  # 2022-23 is exact


def test_one_year_and_no_year_and_the_reference_itself():
    one = summary(econ_years({"2023-24": (81.0, 81.0)}))
    assert sentences.trend_caption(one, "econ_disadvantaged", "Four-year graduation rate") == (
        "Only 2023–24 has a gap that can be shown for economically disadvantaged students (−9.0 points), so there is "
        "no trend yet.")
    assert sentences.trend_caption(one, "all", "Four-year graduation rate").startswith(
        "Four-year graduation rate: no gap to show, this group is the reference group itself")
    assert "no school year has a value" in sentences.trend_caption(one, "asian", "Four-year graduation rate")


def test_change_caption_counts_each_gap_once_with_the_year_before():
    trend = summary(econ_years({"2021-22": (76.0, 76.0), "2022-23": (83.0, 83.0), "2023-24": (81.0, 81.0)}))
    assert sentences.change_caption(trend) == (
        "Between 2021–22 and 2023–24, 1 gap is closing, 0 are widening and 0 show no clear change beyond the "
        "uncertainty that group sizes give; since the year before, 0 narrowed and 1 widened. The largest move: the gap "
        "for economically disadvantaged students narrowed by 5.0 points, from −14.0 points to −9.0 points.")


def test_a_group_that_overtook_its_reference_is_not_counted_as_a_gap_that_widened():
    """From 14 points behind to 16 ahead: by size the gap grew, but the group overtook its
    reference group, and the caption says so (as the overview's 'what changed' does)."""
    trend = summary(econ_years({"2021-22": (76.0, 76.0), "2022-23": (84.0, 84.0), "2023-24": (96.0, 96.0)}))
    econ = trend.set_index("student_group").loc["econ_disadvantaged"]
    assert econ["verdict"] == gaps.CLOSING and econ["recent_verdict"] == gaps.WIDENING  # by size: 6 behind, 6 ahead
    assert sentences.change_caption(trend) == (
        "Between 2021–22 and 2023–24, no gap is closing, 0 are widening, 1 has overtaken its reference group and 0 show "
        "no clear change beyond the uncertainty that group sizes give; since the year before, 0 narrowed, 0 widened "
        "and 1 overtook its reference group. The largest move: economically disadvantaged students overtook not "
        "economically disadvantaged students, from −14.0 points to +6.0 points.")


def test_trend_summary_reports_the_change_since_the_year_before_with_the_same_rule():
    trend = summary(econ_years({"2021-22": (76.0, 76.0), "2022-23": (83.0, 83.0), "2023-24": (81.0, 81.0)}))
    econ = trend.set_index("student_group").loc["econ_disadvantaged"]
    assert econ["verdict"] == gaps.CLOSING and econ["recent_verdict"] == gaps.WIDENING
    assert econ["recent_change"] == pytest.approx(-2.0) and econ["previous_year"] == "2022-23"
    assert bool(trend.set_index("student_group").loc["not_econ_disadvantaged", "mirrors"])
    small = summary(econ_years({"2021-22": (76.0, 76.0), "2022-23": (83.0, 83.0), "2023-24": (81.0, 81.0)}, n=80))
    assert small.set_index("student_group").loc["econ_disadvantaged", "recent_verdict"] == gaps.NO_CLEAR_CHANGE


# --- every indicator, rural vs non-rural -----------------------------------------------------------

def test_heatmap_caption_counts_pairs_behind_and_ranges_across_zero_apart():
    a = table(EXACT, indicator="grad4").assign(indicator_name="Four-year graduation rate")
    b = table([("all", 50.0, 50.0, 1000), ("black", 20.0, 90.0, 40)], indicator="gr3").assign(indicator_name="Grade 3 reading")
    text = sentences.heatmap_caption(pd.concat([a, b], ignore_index=True), "2024-25")
    assert text == ("In 2024–25, 2 of 5 group-and-indicator pairs are behind their reference group (1 more can be called "
                    "neither: their range spans zero); the widest gap is economically disadvantaged students in four-year "
                    "graduation rate (−16.0 points).")


def test_locale_caption_compares_ranges_only_where_they_do_not_overlap():
    rural = table([("all", 80.0, 80.0, 1000), ("black", 60.0, 60.0, 200), ("hispanic", 70.0, 79.0, 100)], area="Rural regions")
    other = table([("all", 85.0, 85.0, 9000), ("black", 80.0, 80.0, 900), ("hispanic", 78.0, 78.0, 800)],
                  area="Non-rural regions")
    text = sentences.locale_caption(pd.concat([rural, other], ignore_index=True), "2024-25")
    assert text == ("In 2024–25, 1 of 2 groups is clearly further behind in rural regions than in non-rural ones (beyond "
                    "the uncertainty that group sizes give); the biggest difference is for Black or African American "
                    "students: −20.0 points in rural regions, −5.0 points elsewhere.")


def test_locale_caption_calls_a_group_further_behind_only_beyond_the_uncertainty():
    # Rural Black students 9 points further behind, but from 40 students: within the 95% margins.
    # White students less far ahead in rural regions are not "further behind".
    rural = table([("all", 80.0, 80.0, 1000), ("black", 62.5, 62.5, 40), ("white", 82.0, 82.0, 700)], area="Rural regions")
    other = table([("all", 85.0, 85.0, 9000), ("black", 76.5, 76.5, 900), ("white", 90.0, 90.0, 6000)],
                  area="Non-rural regions")
    text = sentences.locale_caption(pd.concat([rural, other], ignore_index=True), "2024-25")
    assert text == ("In 2024–25, none of the 2 groups is clearly further behind in rural regions than in non-rural ones "
                    "(beyond the uncertainty that group sizes give); the largest difference, for Black or African "
                    "American students (−17.5 points in rural regions, −8.5 points elsewhere), is within that "
                    "uncertainty.")


def test_nothing_comparable_in_both_areas_is_said_plainly():
    rural = table([("all", 80.0, 80.0, 1000)], area="Rural regions")
    assert sentences.locale_caption(rural, "2024-25").startswith("In 2024–25 no group has a gap that can be shown in both")


def test_sentences_follow_the_table_not_a_fixed_text():
    """The same function on two tables says two different things (no hard-coded sentence)."""
    one = sentences.gap_caption(table(EXACT), "Four-year graduation rate", True, "2024-25")
    moved = [(g, lo - 3 if g == "black" else lo, hi - 3 if g == "black" else hi, n) for g, lo, hi, n in EXACT]
    assert sentences.gap_caption(table(moved), "Four-year graduation rate", True, "2024-25") == one
    worse = [(g, lo - 20 if g == "black" else lo, hi - 20 if g == "black" else hi, n) for g, lo, hi, n in EXACT]
    assert "Black or African American students: 60.0%, 27.0 points below all students" in \
        sentences.gap_caption(table(worse), "Four-year graduation rate", True, "2024-25")
    assert np.isfinite(table(EXACT)["standing"].dropna()).all()


# --- the board overview ----------------------------------------------------------------------------

def indicator_item(**kw):
    item = {"name": "Grade 8 math proficiency", "higher_is_better": True, "previous_year": "2023-24",
            "school_year": "2024-25", "previous_low": 37.0, "previous_high": 37.0, "rate_low": 40.1, "rate_high": 40.1}
    return {**item, **kw}


def test_an_indicator_move_in_words_with_the_direction_of_good():
    assert sentences.indicator_move(indicator_item()) == (
        "Grade 8 math proficiency rose from 37.0% in 2023–24 to 40.1% in 2024–25 (+3.1 points). That is the right way.")
    absent = indicator_item(name="Chronic absence", higher_is_better=False, previous_low=19.7, previous_high=19.7,
                            rate_low=21.0, rate_high=21.0)
    assert sentences.indicator_move(absent).endswith("(+1.3 points). That is the wrong way.")


def test_an_indicator_move_between_ranges_that_overlap_has_no_direction():
    ranged = indicator_item(previous_low=90.0, previous_high=94.0, rate_low=92.0, rate_high=96.0)
    assert sentences.indicator_move(ranged) == (
        "Grade 8 math proficiency moved from 90–94% in 2023–24 to 92–96% in 2024–25: a change of between −2 and +6 "
        "points, so no clear direction (range-coded data).")
    apart = indicator_item(previous_low=80.0, previous_high=84.0, rate_low=90.0, rate_high=94.0)
    assert "(between +6 and +14 points). That is the right way." in sentences.indicator_move(apart)


def gap_move(**kw):
    move = {"name": "Grade 8 math proficiency", "group_label": "Students with disabilities",
            "reference_label": "Students without disabilities", "higher_is_better": True, "previous_year": "2023-24",
            "latest_year": "2024-25", "previous_gap_low": -18.6, "previous_gap_high": -18.6, "latest_gap_low": -22.5,
            "latest_gap_high": -22.5, "recent_verdict": gaps.WIDENING}
    return {**move, **kw}


def test_a_gap_move_says_behind_or_ahead_and_whether_that_is_the_right_way():
    assert sentences.gap_move(gap_move()) == (
        "Students with disabilities were 18.6 points behind students without disabilities in grade 8 math proficiency "
        "in 2023–24; in 2024–25, 22.5 points behind: the gap widened, beyond the uncertainty from group sizes. That is "
        "the wrong way.")
    absent = gap_move(name="Chronic absence", group_label="English learners", reference_label="Not English learners",
                      higher_is_better=False, previous_gap_low=21.5, previous_gap_high=21.5, latest_gap_low=17.0,
                      latest_gap_high=17.0, recent_verdict=gaps.CLOSING)
    assert sentences.gap_move(absent) == (
        "English learners were 21.5 points behind not English learners in chronic absence in 2023–24; in 2024–25, "
        "17.0 points behind: the gap narrowed, beyond the uncertainty from group sizes. That is the right way.")
    overtook = gap_move(latest_gap_low=4.0, latest_gap_high=4.0)
    assert sentences.gap_move(overtook).endswith("in 2024–25 they were 4.0 points ahead: they overtook them, beyond "
                                                 "the uncertainty from group sizes. That is the right way.")


def test_a_target_says_the_distance_to_go_and_where_the_pace_takes_it():
    from domain import kpi

    points = [(y, v, v) for y, v in zip(["2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25"],
                                         [80.0, 81.0, 82.2, 82.9, 84.0, 85.0])]
    item = {"pace": kpi.pace(points, 92.0, "2029-30").as_dict(), "target": 86.0, "status": kpi.OFF_TRACK}
    assert sentences.pace_text(item) == ("target 92.0% by 2029–30: 7.0 points to go; at this pace: 2032–33 "
                                         "(95% range 2031–32 to 2032–33), too late")
    assert sentences.target_text(item, "rate").startswith("target 86.0%: off track; target 92.0% by 2029–30")
    met = {"pace": kpi.pace(points, 84.0, "2029-30").as_dict()}
    assert sentences.pace_text(met) == "target 84.0% by 2029–30: already met"
    few = {"pace": kpi.pace(points[-2:], 92.0, "2029-30").as_dict()}
    assert sentences.pace_text(few) == "target 92.0% by 2029–30: 7.0 points to go; too few periods to tell the pace"
    assert sentences.pace_text({"pace": None}) == ""


def test_the_indicator_caption_tells_met_on_pace_unclear_and_late_apart():
    """'On track' is not only 'already met': each answer of the pace is counted on its own."""
    from domain import kpi

    years = ["2019-20", "2020-21", "2021-22", "2022-23", "2023-24", "2024-25"]
    rising = [(y, v, v) for y, v in zip(years, [80.0, 81.0, 82.2, 82.9, 84.0, 85.0])]
    item = lambda status, final: {"status": status, "pace": kpi.pace(rising, final, "2029-30").as_dict()}  # noqa: E731
    payload = {"school_year": "2024-25", "indicators": [
        item(kpi.ON_TRACK, 84.0),  # already met
        item(kpi.ON_TRACK, 88.0),  # 3 points to go at about a point a year: in time
        item(kpi.OFF_TRACK, 92.0),  # 7 points to go: too late
        {"status": kpi.NO_TARGET, "pace": None}]}
    statuses = [i["pace"]["status"] for i in payload["indicators"][:3]]
    assert statuses == [kpi.MET, kpi.ON_PACE, kpi.OFF_PACE]
    assert sentences.indicator_caption(payload) == (
        "2 indicators on track, 1 off track and 1 without a target in 2024–25; bars are pooled all-students rates, "
        "black ticks the board's targets for the year. Of the 3 indicators with a final target: 1 already met, 1 on "
        "pace to reach it in time and 1 too late at the current pace.")


def test_rural_against_non_rural_counts_only_ranges_that_do_not_overlap():
    locale = {"school_year": "2024-25", "quarter": "2025-Q3", "indicators": [
        {"name": "Algebra I by grade 9", "higher_is_better": True, "rural_low": 60.2, "rural_high": 60.2,
         "nonrural_low": 65.3, "nonrural_high": 65.3},
        {"name": "Chronic absence", "higher_is_better": False, "rural_low": 18.0, "rural_high": 18.0,
         "nonrural_low": 20.0, "nonrural_high": 20.0},
        {"name": "Graduation", "higher_is_better": True, "rural_low": 88.0, "rural_high": 94.0,
         "nonrural_low": 90.0, "nonrural_high": 90.0},
        {"name": "STEM credential", "higher_is_better": True, "rural_low": None, "rural_high": None,
         "rural_suppressed": True, "nonrural_low": 30.0, "nonrural_high": 30.0}],
        "reach": {"rural": {"per_1000": 20.4, "suppressed": False}, "nonrural": {"per_1000": 41.0, "suppressed": False}}}
    assert sentences.rural_caption(locale) == (
        "In 2024–25, rural regions are behind non-rural ones on 1 of 3 indicators and ahead on 1; the widest difference "
        "is Algebra I by grade 9: 60.2% in rural regions against 65.3% elsewhere. Participations per 1,000 K-12 students "
        "in 2025 Q3: 20 in rural regions, 41 elsewhere (participations are enrolments, not unique students).")
    assert sentences.rural_caption(None) == "Rural against non-rural regions is not part of this frozen overview."


# --- ranges over the whole scale say nothing (issue 16) -------------------------------------------

def test_a_rate_published_as_0_to_100_is_a_suppressed_group_never_a_gap_of_minus_100_to_plus_100():
    # White students' rate a band complement (0-100%), Black students' reference (all) exact.
    rows = [("all", 87.0, 87.0, 1000), ("white", 0.0, 100.0, 6000), ("hispanic", 80.0, 80.0, 300)]
    frame = table(rows).set_index("student_group")
    white = frame.loc["white"]
    assert white["suppressed"] and math.isnan(white["rate_low"]) and math.isnan(white["gap_low"])
    assert not white["behind"] and not white["ahead"] and gaps.side(white) == ""
    text = sentences.gap_caption(table(rows), "Four-year graduation rate", True, "2024-25")
    # Sentence by sentence against the table: Hispanic is the one gap (80 - 87), white is suppressed.
    assert text == ("In 2024–25, the largest gap in four-year graduation rate is for Hispanic or Latino students: 80.0%, "
                    "7.0 points below all students (87.0%); 1 of 1 group is behind their reference group; "
                    "1 group is suppressed to protect small numbers.")
    assert "100" not in text


def test_a_reference_published_as_0_to_100_suppresses_every_gap_to_it():
    rows = [("all", 0.0, 100.0, 9000), ("black", 70.0, 70.0, 1200), ("hispanic", 80.0, 80.0, 1500)]
    frame = table(rows).set_index("student_group")
    assert frame.loc[["black", "hispanic"], "reference_suppressed"].all()
    assert frame["gap"].isna().all() and not frame["behind"].any() and not frame["ahead"].any()
    text = sentences.gap_caption(table(rows), "Four-year graduation rate", True, "2024-25")
    assert text == ("No group has a gap that can be shown for four-year graduation rate in 2024–25: too few students, "
                    "or no data.")


def test_a_gap_as_wide_as_the_scale_is_not_comparable_and_counted_apart():
    # 0-55% against 45-100%: the gap could be anything from −100 to +10 points.
    rows = [("all", 45.0, 100.0, 60), ("black", 0.0, 55.0, 20), ("hispanic", 60.0, 60.0, 300),
            ("asian", 70.0, 90.0, 30)]
    frame = table(rows).set_index("student_group")
    black, asian, hispanic = frame.loc["black"], frame.loc["asian"], frame.loc["hispanic"]
    assert black["not_comparable"] and math.isnan(black["gap"]) and not black["behind"] and not black["ahead"]
    assert not asian["not_comparable"] and gaps.side(asian) == "level"  # −30 to +45: wide, not the scale
    assert not hispanic["not_comparable"] and gaps.side(hispanic) == "level"  # −40 to +15
    text = sentences.gap_caption(table(rows), "Four-year graduation rate", True, "2024-25")
    assert text == ("In 2024–25, no group is clearly behind its reference group in four-year graduation rate; none of "
                    "the 2 groups is behind their reference group, and 2 can be called neither (a range that spans "
                    "zero, or no gap at all); 1 group is not comparable with its reference group (both rates are bands "
                    "so wide that the gap could be anything).")
    assert "100" not in text


def test_the_gap_rule_is_the_whole_scale_less_a_point():
    from domain.formatting import gap_says_nothing, says_nothing

    assert says_nothing(0.0, 100.0) and not says_nothing(0.0, 99.9) and not says_nothing(None, 100.0)
    assert gap_says_nothing(-100.0, 0.0) and gap_says_nothing(-99.5, -0.5) and gap_says_nothing(-90.0, 9.0)
    assert not gap_says_nothing(-90.0, 8.9) and not gap_says_nothing(NAN, 5.0) and not gap_says_nothing(-3.0, -3.0)


def test_heatmap_caption_counts_scale_wide_cells_apart_from_suppressed_ones():
    a = table([("all", 45.0, 100.0, 60), ("black", 0.0, 55.0, 20), ("hispanic", 30.0, 30.0, 300)],
              indicator="grad4").assign(indicator_name="Four-year graduation rate")
    b = table([("all", 0.0, 100.0, 9000), ("black", 60.0, 60.0, 300)], indicator="gr3").assign(indicator_name="Grade 3 reading")
    text = sentences.heatmap_caption(pd.concat([a, b], ignore_index=True), "2024-25")
    # Hispanic: 30 against 45-100 is −70 to −15, behind; black in reading: reference 0-100%, suppressed.
    assert text == ("In 2024–25, 1 of 1 group-and-indicator pair is behind their reference group; the widest gap is "
                    "Hispanic or Latino students in four-year graduation rate (between −70 and −15 points); 1 cell (S) "
                    "is suppressed to protect small numbers; 1 cell (S) is not comparable (both rates are bands so wide "
                    "that the gap could be anything).")


def test_a_trend_leaves_out_years_whose_gap_says_nothing():
    n = 20_000
    years = {"2022-23": [("econ_disadvantaged", 70.0, 70.0, n), ("not_econ_disadvantaged", 90.0, 90.0, n)],
             "2023-24": [("econ_disadvantaged", 0.0, 100.0, n), ("not_econ_disadvantaged", 90.0, 90.0, n)],
             "2024-25": [("econ_disadvantaged", 75.0, 75.0, n), ("not_econ_disadvantaged", 90.0, 90.0, n)]}
    row = summary(years).set_index("student_group").loc["econ_disadvantaged"]
    assert row["years"] == 2 and row["previous_year"] == "2022-23" and row["latest_gap"] == pytest.approx(-15.0)
