"""Funnel maths (domain/funnel.py): share of the cohort, conversion, the biggest leak, data
problems (rising counts, stages out of order) and cohort trends, including suppressed and zero
stages. Pure functions on frames shaped like queries.pathways.funnel's output."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from domain import funnel, sentences

E, N, ALL = "econ_disadvantaged", "not_econ_disadvantaged", "all"
STAGES = ["Grade 5 science proficient", "Algebra I by grade 9", "Advanced STEM course", "Enrolled in postsecondary"]


def frame(counts: dict[str, list], cohort: int = 2025, stages: list[str] = STAGES, orders: list[int] | None = None,
          suppressed_regions: dict[str, list[int]] | None = None) -> pd.DataFrame:
    """A one-region-per-number funnel frame: `counts[group]` are stage counts (None = suppressed
    when listed in suppressed_regions, else missing); pairs use the counts themselves."""
    orders = orders or list(range(1, len(stages) + 1))
    rows = []
    for group, values in counts.items():
        first = values[0]
        for i, (order, stage, value) in enumerate(zip(orders, stages, values)):
            previous = values[i - 1] if i else None
            shown = value is not None
            left_out = (suppressed_regions or {}).get(group, [0] * len(values))[i]
            both = shown and previous is not None
            pair = both and value <= previous  # a rising region is left out of the conversion
            rows.append({
                "cohort": cohort, "student_group": group, "stage_order": order, "stage": stage, "stage_names": 1,
                "previous_stage_order": orders[i - 1] if i else pd.NA, "previous_stage": stages[i - 1] if i else None,
                "students": float(value) if shown else np.nan,
                "students_suppressed": (not shown) and left_out > 0,
                "regions_in_scope": 1, "regions_reporting": int(shown), "regions_suppressed": left_out,
                "regions_missing": int(not shown and not left_out),
                "share_numerator": float(value) if shown and first is not None else np.nan,
                "share_denominator": float(first) if shown and first is not None and first > 0 else np.nan,
                "share_regions": int(shown and first is not None),
                "conversion_numerator": float(value) if pair and previous > 0 else np.nan,
                "conversion_denominator": float(previous) if pair and previous > 0 else np.nan,
                "conversion_regions": int(bool(pair)),
                "rising_regions": int(bool(both) and value > previous),
                "rates_suppressed": False,
            })
    out = pd.DataFrame(rows)
    out["previous_stage_order"] = out["previous_stage_order"].astype("Int64")
    return out


def stage_rows(orders_names: list[tuple[int, str, int]], cohort: int = 2025) -> pd.DataFrame:
    return pd.DataFrame([(cohort, o, n, r) for o, n, r in orders_names], columns=["cohort", "stage_order", "stage", "regions"])


# --- share of the cohort and conversion ----------------------------------------------------------

def test_share_and_conversion_are_pooled_percentages():
    m = funnel.measures(frame({ALL: [1000, 600, 240, 180]}))
    assert m["share"].tolist() == [100.0, 60.0, 24.0, 18.0]
    assert math.isnan(m["conversion"].iloc[0])  # the first stage has no stage before
    assert m["conversion"].iloc[1:].tolist() == [60.0, 40.0, 75.0]
    assert (m["status"] == "shown").all() and not m["rising"].any()


def test_pooled_rate_sums_before_dividing_and_never_divides_by_zero():
    # Two regions: 9 of 10 and 100 of 1000 pool to 109 of 1010, not the mean of 90% and 10%.
    assert funnel.pooled_rate(9 + 100, 10 + 1000) == round(100 * 109 / 1010, 1)
    assert math.isnan(funnel.pooled_rate(0, 0))
    assert math.isnan(funnel.pooled_rate(5, np.nan))
    series = funnel.pooled_rate(pd.Series([1.0, 0.0, np.nan]), pd.Series([4.0, 0.0, 2.0]))
    assert series.iloc[0] == 25.0 and series.iloc[1:].isna().all()


def test_a_zero_stage_is_zero_and_the_stage_after_it_has_no_conversion():
    m = funnel.measures(frame({ALL: [200, 0, 0, 0]}))
    assert m["students"].tolist() == [200, 0, 0, 0]
    assert m["share"].tolist() == [100.0, 0.0, 0.0, 0.0]
    assert m["conversion"].iloc[1] == 0.0  # 0 of 200 went on: a real 0%
    assert m["conversion"].iloc[2:].isna().all()  # 0 of 0 is not a rate
    assert (m["status"] == "shown").all()


def test_suppressed_and_missing_stages_are_told_apart_and_carry_no_rates():
    counts = {E: [150, 60, None, None]}
    m = funnel.measures(frame(counts, suppressed_regions={E: [0, 0, 1, 0]}))
    assert m["status"].tolist() == ["shown", "shown", "suppressed", "missing"]
    assert m[["share", "conversion"]].iloc[2:].isna().all().all()
    assert m["students"].iloc[2:].isna().all()


# --- biggest leak ---------------------------------------------------------------------------------

def test_biggest_leak_is_the_stage_with_the_largest_conversion_gap():
    m = funnel.measures(frame({E: [1000, 500, 190, 95], N: [1000, 600, 366, 200]}))
    # conversions E: 50, 38, 50 ; N: 60, 61, 54.6 -> gaps 10, 23, 4.6
    leak = funnel.biggest_leak(m, E, N)
    assert (leak.stage_order, leak.from_stage, leak.to_stage) == (3, STAGES[1], STAGES[2])
    assert (leak.group_rate, leak.reference_rate, leak.gap) == (38.0, 61.0, 23.0)
    sentence = sentences.leak_sentence(leak, "Economically disadvantaged", "Not economically disadvantaged")
    assert sentence.startswith("Economically disadvantaged students lose the most ground between "
                               "“Algebra I by grade 9” and “Advanced STEM course”: 38.0% continue, against 61.0% "
                               "of not economically disadvantaged students")
    assert "may be chance" not in sentence  # 500 and 600 students reached Algebra I


def test_biggest_leak_ties_go_to_the_earliest_stage_and_none_when_the_group_keeps_up():
    tie = funnel.measures(frame({E: [100, 50, 25, 20], N: [100, 60, 36, 30]}))  # gaps 10, 10, -3.3
    assert funnel.biggest_leak(tie, E, N).stage_order == 2
    ahead = funnel.measures(frame({E: [100, 70, 50, 40], N: [100, 60, 40, 30]}))
    assert funnel.biggest_leak(ahead, E, N) is None
    sentence = sentences.leak_sentence(None, "Female", "Male")
    assert sentence == "Female students continue at least as often as male students at every stage that can be compared."


def test_biggest_leak_skips_suppressed_zero_and_rising_stages():
    # Stage 2 would be the biggest gap, but the group's count there is suppressed; stage 4 rises.
    m = funnel.measures(frame({E: [1000, None, 100, 150], N: [1000, 800, 400, 100]},
                              suppressed_regions={E: [0, 1, 0, 0]}))
    gaps = funnel.conversion_gaps(m, E, N).set_index("stage_order")
    assert gaps["gap"].isna().all()  # 2: suppressed; 3: stage before suppressed; 4: counts rise
    assert funnel.biggest_leak(m, E, N) is None
    sentence = sentences.leak_sentence(None, "Economically disadvantaged", "Not economically disadvantaged", compared=False)
    assert sentence.startswith("No stage's conversion can be compared")


def test_a_gap_under_two_points_is_keeping_pace_not_a_leak():
    m = funnel.measures(frame({E: [1000, 600, 400, 300], N: [1000, 610, 410, 305]}))
    leak = funnel.biggest_leak(m, E, N)
    assert leak.stage_order == 2 and leak.gap == 1.0 and not leak.material
    assert sentences.leak_sentence(leak, "Economically disadvantaged", "Not economically disadvantaged") == (
        "Economically disadvantaged students keep pace with not economically disadvantaged students at every stage: "
        "the largest gap in going on is 1.0 points, between “Grade 5 science proficient” and “Algebra I by grade 9” "
        "(60.0% against 61.0%).")


def test_leak_sentence_warns_when_few_students_are_involved():
    m = funnel.measures(frame({E: [40, 20, 5, 2], N: [30, 25, 20, 18]}))
    leak = funnel.biggest_leak(m, E, N)
    assert "Only 20 and 25 students reached “Algebra I by grade 9”, so a gap this size may be chance." in (
        sentences.leak_sentence(leak, "Economically disadvantaged", "Not economically disadvantaged"))


def test_without_a_comparison_the_steepest_step_is_stated():
    m = funnel.measures(frame({ALL: [1000, 600, 240, 180]}))
    assert sentences.steepest_step_sentence(m, ALL, "All students") == (
        "For all students, the steepest step is from “Algebra I by grade 9” to “Advanced STEM course”: "
        "40.0% of those at the stage before go on.")
    nothing = funnel.measures(frame({ALL: [1000, None]}, stages=STAGES[:2], suppressed_regions={ALL: [0, 1]}))
    assert sentences.steepest_step_sentence(nothing, ALL, "All students").startswith("No step's conversion can be shown")


def test_students_phrase_reads_as_a_sentence_subject():
    assert sentences.students("Economically disadvantaged", start=True) == "Economically disadvantaged students"
    assert sentences.students("English learners") == "English learners"
    assert sentences.students("Not English learners") == "not English learners"
    assert sentences.students("Students with disabilities") == "students with disabilities"
    assert sentences.students("Two or more races", start=True) == "Students of two or more races"
    assert sentences.students("Asian") == "Asian students"
    assert sentences.students("All students") == "all students"


# --- data problems ----------------------------------------------------------------------------------

def test_rising_counts_are_flagged_not_drawn_as_a_funnel_step():
    m = funnel.measures(frame({ALL: [500, 300, 320, 100]}))
    assert m["rising"].tolist() == [False, False, True, False]
    problems = funnel.data_problems(m, stage_rows([(1, STAGES[0], 1), (2, STAGES[1], 1), (3, STAGES[2], 1), (4, STAGES[3], 1)]),
                                    {ALL: "All students"})
    assert [(p.kind, p.stage_order, p.partial) for p in problems] == [("rising", 3, False)]
    assert "More students reached “Advanced STEM course” than “Algebra I by grade 9”" in problems[0].message
    assert funnel.is_tidy(problems)  # the stages themselves are in order


def test_rising_in_some_regions_only_leaves_those_regions_out_but_keeps_the_step():
    m = frame({ALL: [500, 300, 200, 100]})
    m.loc[m["stage_order"] == 2, "rising_regions"] = 2  # two other regions rose; this one did not
    m = funnel.measures(m)
    assert not m["rising"].any() and m["conversion"].iloc[1] == 60.0
    problems = funnel.data_problems(m, stage_rows([(o, s, 1) for o, s in zip(range(1, 5), STAGES)]))
    assert len(problems) == 1 and problems[0].stage_order == 2 and problems[0].partial
    assert problems[0].message.startswith("In 2 regions, more students reached “Algebra I by grade 9”")
    assert "left out of this step's conversion" in problems[0].message
    assert funnel.is_tidy(problems)


def test_stages_out_of_order_are_data_problems():
    gap = funnel.data_problems(funnel.measures(frame({ALL: [500, 300, 200]}, stages=STAGES[:3], orders=[1, 2, 4])),
                               stage_rows([(1, STAGES[0], 3), (2, STAGES[1], 3), (4, STAGES[2], 3)]))
    assert [p.kind for p in gap] == ["numbering"] and "there is no stage 3" in gap[0].message
    assert not funnel.is_tidy(gap)
    not_from_one = funnel.data_problems(funnel.measures(frame({ALL: [500, 300]}, stages=STAGES[:2], orders=[2, 3])),
                                        stage_rows([(2, STAGES[0], 1), (3, STAGES[1], 1)]))
    assert not_from_one[0].kind == "numbering" and "Stage 1 should be the whole cohort" in not_from_one[0].message
    names = funnel.data_problems(funnel.measures(frame({ALL: [500, 300]}, stages=STAGES[:2])),
                                 stage_rows([(1, STAGES[0], 4), (2, STAGES[1], 3), (2, "Algebra I (any grade)", 1)]))
    assert [p.kind for p in names] == ["names"] and "“Algebra I (any grade)” (1 region)" in names[0].message
    repeated = funnel.data_problems(funnel.measures(frame({ALL: [500, 300, 200]}, stages=STAGES[:3])),
                                    stage_rows([(1, STAGES[0], 1), (2, STAGES[1], 1), (3, STAGES[1], 1)]))
    assert [p.kind for p in repeated] == ["repeated"] and "appears as stage 2 and 3" in repeated[0].message
    assert not funnel.is_tidy(names) and not funnel.is_tidy(repeated)


# --- across cohorts -----------------------------------------------------------------------------------

def trend_frame(conversions: dict[str, dict[int, float | None]], stage: str = STAGES[1]) -> pd.DataFrame:
    """Stage 2's conversion per cohort and group (None = suppressed)."""
    frames = []
    for group, by_cohort in conversions.items():
        for cohort, rate in by_cohort.items():
            counts = [1000, None if rate is None else int(rate * 10)]
            frames.append(frame({group: counts}, cohort=cohort, stages=[STAGES[0], stage],
                                suppressed_regions={group: [0, int(rate is None)]}))
    return funnel.measures(pd.concat(frames, ignore_index=True))


def test_cohort_trend_direction_follows_a_straight_line_fit():
    m = trend_frame({E: {2021: 30.0, 2022: 34.0, 2023: 41.0}, N: {2021: 60.0, 2022: 61.0, 2023: 60.0}})
    row = funnel.cohort_trend(m, E, N).iloc[0]
    assert (row["stage_order"], row["cohorts"], row["first"], row["last"]) == (2, 3, 30.0, 41.0)
    assert row["change"] == 11.0 and row["direction"] == "improving"
    assert (row["gap_first"], row["gap_last"], row["gap_direction"]) == (30.0, 19.0, "narrowing")
    sentence = sentences.funnel_trend_sentence(funnel.cohort_trend(m, E, N), "Economically disadvantaged", "Not economically disadvantaged")
    assert "conversion into Algebra I by grade 9 improved the most, from 30.0% (class of 2021) to 41.0% (class of 2023)" in sentence
    assert "is narrowing: 30.0 points for the class of 2021, 19.0 for the class of 2023" in sentence
    assert "may be chance" not in sentence  # 1,000 students at the stage before in every cohort


def test_a_trend_over_few_students_says_it_may_be_chance():
    m = trend_frame({E: {2021: 30.0, 2022: 34.0, 2023: 41.0}})
    m["conversion_denominator"] = m["conversion_denominator"] / 20  # 50 students per cohort
    summary = funnel.cohort_trend(m, E)
    assert summary.iloc[0]["fewest_students"] == 50
    assert "fewer than 100 students at these steps, so part of the change may be chance" in (
        sentences.funnel_trend_sentence(summary, "Economically disadvantaged"))


@pytest.mark.parametrize("rates, direction", [
    ({2021: 50.0, 2022: 45.0, 2023: 40.0}, "worsening"),
    ({2021: 50.0, 2022: 51.0, 2023: 50.5}, "little change"),
    ({2021: 50.0}, "not enough cohorts"),
    ({2021: 50.0, 2022: None, 2023: None}, "not enough cohorts"),  # suppressed cohorts do not count
])
def test_cohort_trend_directions(rates, direction):
    assert funnel.cohort_trend(trend_frame({E: rates}), E).iloc[0]["direction"] == direction


def test_cohort_trend_leaves_out_cohorts_whose_counts_rise():
    m = trend_frame({E: {2021: 40.0, 2022: 45.0, 2023: 50.0}})
    m.loc[(m["cohort"] == 2023) & (m["stage_order"] == 2), ["rising_regions", "conversion_regions"]] = [1, 0]
    m = funnel.measures(m)
    row = funnel.cohort_trend(m, E).iloc[0]
    assert row["cohorts"] == 2 and row["last_cohort"] == 2022


# --- the conversion rule: a dot's rate and its own counts, shown or hidden together -------------

def two_regions(stage_counts: list[list]) -> pd.DataFrame:
    """An area of regions (one list of stage counts per region, None = suppressed there), summed
    as queries.pathways sums them: bars over the regions showing each stage, conversions over
    the regions showing both stages."""
    rows, n = [], len(stage_counts[0])
    for i in range(n):
        shown = [r[i] for r in stage_counts if r[i] is not None]
        pair = [(r[i], r[i - 1]) for r in stage_counts if i and r[i] is not None and r[i - 1] is not None]
        suppressed = sum(r[i] is None for r in stage_counts)
        num, den = sum(p[0] for p in pair), sum(p[1] for p in pair)
        known = bool(pair) and den > 0
        rows.append({
            "cohort": 2025, "student_group": ALL, "stage_order": i + 1, "stage": STAGES[i], "stage_names": 1,
            "previous_stage_order": i if i else pd.NA, "previous_stage": STAGES[i - 1] if i else None,
            "students": float(sum(shown)) if shown else np.nan, "students_suppressed": not shown and suppressed > 0,
            "regions_in_scope": len(stage_counts), "regions_reporting": len(shown), "regions_suppressed": suppressed,
            "regions_missing": 0, "share_regions": 0,
            "conversion_numerator": float(num) if known else np.nan, "conversion_denominator": float(den) if known else np.nan,
            "conversion_regions": len(pair), "rising_regions": 0, "rates_suppressed": False,
            "share_numerator": float(sum(shown)) if shown else np.nan,
            "share_denominator": float(sum(r[0] for r in stage_counts if r[0] is not None)),
        })
    out = pd.DataFrame(rows)
    out["previous_stage_order"] = out["previous_stage_order"].astype("Int64")
    return out


def test_a_conversion_over_every_region_is_the_bars():
    m = funnel.measures(two_regions([[400, 200, 100], [300, 150, 60]]))
    assert m["conversion_status"].tolist() == [funnel.FIRST, funnel.CONVERTS, funnel.CONVERTS]
    assert m["conversion_whole"].tolist() == [False, True, True]
    assert m["conversion_numerator"].iloc[1:].tolist() == m["students"].iloc[1:].tolist() == [350, 160]
    assert m["conversion_denominator"].iloc[1:].tolist() == m["previous_students"].iloc[1:].tolist() == [700, 350]
    assert m["conversion"].iloc[1:].tolist() == [50.0, round(100 * 160 / 350, 1)]


def test_a_region_suppressed_at_one_stage_is_left_out_of_the_conversion_and_said_so():
    # Region B's stage 2 is suppressed: the bars add the regions that show each stage (stage 1:
    # 700, stage 2: 200); the conversion into stage 2 is region A's alone (200 of 400), and into
    # stage 3 region A's too (B has no stage 2 to convert from). The dot's counts are its own.
    m = funnel.measures(two_regions([[400, 200, 100], [300, None, 60]]))
    stage2, stage3 = m.iloc[1], m.iloc[2]
    assert stage2["students"] == 200 and stage2["previous_students"] == 700
    assert (stage2["conversion_numerator"], stage2["conversion_denominator"], stage2["conversion"]) == (200, 400, 50.0)
    assert stage2["conversion_status"] == funnel.CONVERTS and not stage2["conversion_whole"]
    assert stage3["students"] == 160 and (stage3["conversion_numerator"], stage3["conversion_denominator"]) == (100, 200)
    assert not stage3["conversion_whole"]
    # The rate is its counts' ratio, never the bars' (160 of 200 would be 80%, and wrong).
    assert stage3["conversion"] == 50.0


def test_a_conversion_into_or_out_of_a_suppressed_count_is_hidden_with_both_its_counts():
    # Every region's stage 2 suppressed: no conversion into stage 2 nor out of it; rate,
    # numerator and denominator all hidden, so no rate beside a shown count gives a hidden one.
    m = funnel.measures(two_regions([[400, None, 100], [300, None, 60]]))
    assert m["conversion_status"].tolist() == [funnel.FIRST, funnel.HIDDEN, funnel.HIDDEN]
    for column in ("conversion", "conversion_numerator", "conversion_denominator"):
        assert m[column].iloc[1:].isna().all()
    assert m["students"].iloc[2] == 160  # the bar itself is shown
    # A pooled denominator hidden by the engine hides the rate and its numerator too.
    f = two_regions([[400, 200, 100], [300, 150, 60]])
    f.loc[2, ["conversion_numerator", "conversion_denominator"]] = np.nan
    f.loc[2, "rates_suppressed"] = True
    m = funnel.measures(f)
    assert m["conversion_status"].iloc[2] == funnel.HIDDEN and math.isnan(m["conversion"].iloc[2])
    # An area count hidden at the last check (students_suppressed) hides the conversions beside it,
    # even if the region pairs would give one.
    f = two_regions([[400, 200, 100], [300, 150, 60]])
    f.loc[1, ["students", "students_suppressed"]] = [np.nan, True]
    m = funnel.measures(f)
    assert m["conversion_status"].tolist()[1:] == [funnel.HIDDEN, funnel.HIDDEN]
    assert m[["conversion", "conversion_numerator", "conversion_denominator"]].iloc[1:].isna().all().all()


def test_no_one_at_the_stage_before_rising_counts_and_missing_stages_say_why():
    m = funnel.measures(frame({ALL: [200, 0, 0, None]}))
    assert m["conversion_status"].tolist() == [funnel.FIRST, funnel.CONVERTS, funnel.NO_ONE, funnel.NO_ONE]
    m = funnel.measures(frame({ALL: [200, 100, None, None]}))  # not reported (not suppressed): no data
    assert m["conversion_status"].tolist() == [funnel.FIRST, funnel.CONVERTS, funnel.NO_DATA, funnel.NO_DATA]
    rising = funnel.measures(frame({ALL: [100, 120, 60, 30]}))
    assert rising["conversion_status"].iloc[1] == funnel.RISES and math.isnan(rising["conversion"].iloc[1])


def test_dot_labels_and_the_note_come_from_the_sentence_layer():
    assert sentences.conversion_label(73.3, 11.0, 15.0, funnel.CONVERTS, True, 10) == "73.3% · 11 of 15"
    assert sentences.conversion_label(50.0, 2000.0, 4000.0, funnel.CONVERTS, False, 10) == "50.0% · 2,000 of 4,000 †"
    assert sentences.conversion_label(np.nan, np.nan, np.nan, funnel.HIDDEN, False, 10) == "suppressed (fewer than 10)"
    assert sentences.conversion_label(np.nan, np.nan, np.nan, funnel.RISES, False, 10) == "counts rise"
    note = sentences.conversion_note([
        {"stage_order": 8, "stage": "STEM credential", "group": "Economically disadvantaged", "went_on": 11.0,
         "before": 15.0, "regions": 4, "students": 21.0, "previous_students": 31.0},
        {"stage_order": 2, "stage": "Algebra I", "group": "Economically disadvantaged", "went_on": 200.0,
         "before": 400.0, "regions": 1, "students": 200.0, "previous_students": 410.0},
    ], conversions=7)
    assert note.startswith("**† 2 of 7 conversions count only the regions that show both stages**")
    # The example is the dot furthest from the bars' ratio: 73.3% against 21 of 31 = 67.7%.
    assert ("into “STEM credential”, 11 of 15 economically disadvantaged students went on in the 4 regions that "
            "show both stages; the bars show 21 at that stage and 31 at the one before (67.7%)") in note
    assert sentences.conversion_note([], 7) == ""
