"""Equity-gap maths (domain/gaps.py) and the gap queries on a real store (queries/gaps.py):
pooled rates, ranges, references, trend verdicts, suppression before data leaves queries/."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from domain import gaps
from domain.vocabulary import BUILT_IN_GROUPS
from domain.scope import Scope

COMPLEMENTS = {g.group_id: g.reference_group_id for g in BUILT_IN_GROUPS}


def rates(rows, year="2024-25", indicator="grad4"):
    """student_group, rate_low, rate_high, denominator[, suppressed] -> a rates frame."""
    frame = pd.DataFrame(rows, columns=["student_group", "rate_low", "rate_high", "denominator", "suppressed"][:len(rows[0])])
    if "suppressed" not in frame:
        frame["suppressed"] = False
    return frame.assign(indicator_id=indicator, school_year=year)


# --- pooled rates ------------------------------------------------------------------------

def test_pooled_rate_sums_numerators_and_denominators_never_averages_rates():
    frame = pd.DataFrame({"g": ["x", "x"], "numerator_low": [9, 50], "numerator_high": [9, 50], "denominator": [10, 100]})
    pooled = gaps.pool(frame, ["g"])
    assert pooled["rate_low"].iloc[0] == pytest.approx(59 / 110 * 100)  # not (90 + 50) / 2
    assert bool(pooled["exact"].iloc[0])


def test_pooled_rate_with_a_range_coded_row_is_a_range():
    # One region exact (80 of 100), one range-coded 90-94% of 50: numerator bounds 45 .. 47.
    frame = pd.DataFrame({"g": ["x", "x"], "numerator_low": [80, 0.90 * 50], "numerator_high": [80, 0.94 * 50],
                          "denominator": [100, 50]})
    pooled = gaps.pool(frame, ["g"])
    assert pooled["rate_low"].iloc[0] == pytest.approx(125 / 150 * 100)
    assert pooled["rate_high"].iloc[0] == pytest.approx(127 / 150 * 100)
    assert not bool(pooled["exact"].iloc[0])


def test_zero_denominator_gives_no_rate():
    frame = pd.DataFrame({"numerator_low": [0], "numerator_high": [0], "denominator": [0]})
    assert math.isnan(gaps.pooled_rates(frame)["rate_low"].iloc[0])


def test_standard_error_is_positive_at_zero_and_hundred_percent():
    se = gaps.standard_error([0.0, 100.0, 50.0], [40, 40, 40])
    assert (se > 0).all()
    assert se[2] > se[0]


# --- gaps and references -----------------------------------------------------------------

FRAME = [
    ("all", 87.0, 87.0, 1000), ("econ_disadvantaged", 78.0, 78.0, 450), ("not_econ_disadvantaged", 94.0, 94.0, 550),
    ("black", 80.0, 80.0, 150), ("asian", 95.0, 95.0, 60), ("white", 89.0, 89.0, 700),
]


def by_group(frame):
    return frame.set_index("student_group")


def test_complementary_reference_by_default_and_all_students_for_groups_without_one():
    out = by_group(gaps.compute_gaps(rates(FRAME), "complement", True, COMPLEMENTS))
    assert out.loc["econ_disadvantaged", "reference_group"] == "not_econ_disadvantaged"
    assert out.loc["econ_disadvantaged", "gap"] == pytest.approx(-16.0)
    assert out.loc["black", "reference_group"] == "all"
    assert out.loc["black", "gap"] == pytest.approx(-7.0)
    assert bool(out.loc["all", "is_reference"]) and math.isnan(out.loc["all", "gap"])
    assert bool(out.loc["econ_disadvantaged", "behind"]) and not bool(out.loc["asian", "behind"])


def test_all_students_best_group_and_a_chosen_group_as_reference():
    out = by_group(gaps.compute_gaps(rates(FRAME), "all", True, COMPLEMENTS))
    assert out.loc["econ_disadvantaged", "gap"] == pytest.approx(-9.0)
    best = by_group(gaps.compute_gaps(rates(FRAME), "best", True, COMPLEMENTS))
    assert set(best["reference_group"]) == {"asian"}
    assert best.loc["black", "gap"] == pytest.approx(-15.0)
    chosen = by_group(gaps.compute_gaps(rates(FRAME), "white", True, COMPLEMENTS))
    assert chosen.loc["black", "gap"] == pytest.approx(-9.0)
    assert bool(chosen.loc["white", "is_reference"])


def test_lower_is_better_flips_behind_and_the_best_group():
    frame = rates([("all", 16.0, 16.0, 1000), ("econ_disadvantaged", 22.0, 22.0, 450),
                   ("not_econ_disadvantaged", 11.0, 11.0, 550), ("asian", 8.0, 8.0, 60)], indicator="absent")
    out = by_group(gaps.compute_gaps(frame, "complement", False, COMPLEMENTS))
    assert out.loc["econ_disadvantaged", "gap"] == pytest.approx(11.0)
    assert bool(out.loc["econ_disadvantaged", "behind"])  # a higher absence rate is worse
    assert out.loc["econ_disadvantaged", "standing"] == pytest.approx(-11.0)
    best = by_group(gaps.compute_gaps(frame, "best", {"absent": False}, COMPLEMENTS))
    assert best.loc["econ_disadvantaged", "reference_group"] == "asian"


def test_a_suppressed_reference_or_group_gives_no_gap_and_is_never_the_best():
    frame = rates([("all", 87.0, 87.0, 1000, False), ("econ_disadvantaged", 78.0, 78.0, 450, False),
                   ("not_econ_disadvantaged", np.nan, np.nan, np.nan, True), ("asian", np.nan, np.nan, np.nan, True),
                   ("white", 89.0, 89.0, 700, False)])
    out = by_group(gaps.compute_gaps(frame, "complement", True, COMPLEMENTS))
    assert math.isnan(out.loc["econ_disadvantaged", "gap"])
    assert bool(out.loc["econ_disadvantaged", "reference_suppressed"])
    best = by_group(gaps.compute_gaps(frame, "best", True, COMPLEMENTS))
    assert set(best["reference_group"]) == {"white"}


def test_a_complement_the_data_does_not_report_falls_back_to_all_students():
    """EDFacts reports economically disadvantaged but not its complement: the default view
    compares it with all students (named as the reference) rather than showing no gap. A
    suppressed complement is reported, so it stays the reference and there is no gap."""
    frame = rates([("all", 87.0, 87.0, 1000), ("econ_disadvantaged", 78.0, 78.0, 450), ("english_learner", 70.0, 70.0, 90),
                   ("not_english_learner", np.nan, np.nan, np.nan)])
    frame.loc[frame["student_group"] == "not_english_learner", "suppressed"] = True
    out = by_group(gaps.compute_gaps(frame, "complement", True, COMPLEMENTS))
    assert out.loc["econ_disadvantaged", "reference_group"] == "all"
    assert out.loc["econ_disadvantaged", "gap"] == pytest.approx(-9.0)
    assert out.loc["english_learner", "reference_group"] == "not_english_learner"
    assert math.isnan(out.loc["english_learner", "gap"])


def test_a_trend_compares_gaps_to_one_reference_only():
    """A complement reported in the later years only: the earlier gaps (to all students) are
    not compared with the later ones (to the complement)."""
    frames = []
    for year, complement in (("2021-22", None), ("2022-23", None), ("2023-24", 92.0), ("2024-25", 91.0)):
        rows = [("all", 88.0, 88.0, 20_000, False), ("econ_disadvantaged", 70.0, 70.0, 9_000, False)]
        if complement is not None:
            rows.append(("not_econ_disadvantaged", complement, complement, 11_000, False))
        frames.append(rates(rows, year))
    frame = pd.concat(frames, ignore_index=True)
    # Year by year, each year falls back on its own ...
    by_year = gaps.compute_gaps(frame, "complement", True, COMPLEMENTS)
    assert by_year.loc[by_year["school_year"] == "2021-22", "reference_group"].tolist() == ["all"] * 2
    # ... and the trend still compares only the gaps to the latest reference.
    econ = gaps.trend_summary(by_year).set_index("student_group").loc["econ_disadvantaged"]
    assert econ["reference_group"] == "not_econ_disadvantaged"
    assert econ["first_year"] == "2023-24" and econ["first_gap"] == pytest.approx(-22.0)
    assert econ["latest_gap"] == pytest.approx(-21.0)
    # Reported within the indicator (as gap_trends asks), the complement holds in every year.
    series = gaps.compute_gaps(frame, "complement", True, COMPLEMENTS, reported_within=("indicator_id",))
    early = series[(series["school_year"] == "2021-22") & (series["student_group"] == "econ_disadvantaged")].iloc[0]
    assert early["reference_group"] == "not_econ_disadvantaged" and math.isnan(early["gap"])


def test_a_trend_names_the_reference_its_gaps_are_to():
    """The latest year has no gap (the group is suppressed) but reports the complement: the
    trend's gaps are to all students, and it says so."""
    frames = [rates([("all", 88.0, 88.0, 20_000, False), ("econ_disadvantaged", 70.0, 70.0, 9_000, False)], year)
              for year in ("2021-22", "2022-23")]
    frames.append(rates([("all", 88.0, 88.0, 20_000, False), ("econ_disadvantaged", np.nan, np.nan, np.nan, True),
                         ("not_econ_disadvantaged", 92.0, 92.0, 11_000, False)], "2023-24"))
    by_year = gaps.compute_gaps(pd.concat(frames, ignore_index=True), "complement", True, COMPLEMENTS)
    econ = gaps.trend_summary(by_year).set_index("student_group").loc["econ_disadvantaged"]
    assert econ["reference_group"] == "all" and econ["latest_gap"] == pytest.approx(-18.0)


def test_a_gap_from_range_coded_rates_is_a_range_marked_approximate():
    frame = rates([("all", 90.0, 94.0, 300), ("black", 80.0, 80.0, 50)])
    out = by_group(gaps.compute_gaps(frame, "all", True, COMPLEMENTS))
    assert out.loc["black", "gap_low"] == pytest.approx(-14.0)
    assert out.loc["black", "gap_high"] == pytest.approx(-10.0)
    assert bool(out.loc["black", "approximate"])


# --- trends ------------------------------------------------------------------------------

def margin(p, n, q, m):
    return gaps.Z95 * math.sqrt(gaps.standard_error(p, n) ** 2 + gaps.standard_error(q, m) ** 2)


def test_a_small_wobble_is_no_clear_change_even_with_large_groups():
    m = margin(80, 50_000, 89, 60_000)
    verdict, _, _ = gaps.classify_change(-9.0, -9.0, -8.7, -8.7, m, m)
    assert verdict == gaps.NO_CLEAR_CHANGE


def test_a_clear_narrowing_is_closing_and_a_clear_growth_is_widening():
    m = margin(80, 5_000, 89, 6_000)
    assert gaps.classify_change(-9.0, -9.0, -5.0, -5.0, m, m)[0] == gaps.CLOSING
    assert gaps.classify_change(-5.0, -5.0, -9.0, -9.0, m, m)[0] == gaps.WIDENING
    assert gaps.classify_change(4.0, 4.0, 1.0, 1.0, m, m)[0] == gaps.CLOSING  # a positive gap shrinking


def test_the_same_change_in_small_groups_is_not_clear():
    m = margin(80, 40, 89, 60)
    assert gaps.classify_change(-9.0, -9.0, -5.0, -5.0, m, m)[0] == gaps.NO_CLEAR_CHANGE


def test_a_change_under_one_point_is_never_a_trend():
    tiny = 0.01
    assert gaps.classify_change(-9.0, -9.0, -8.2, -8.2, tiny, tiny)[0] == gaps.NO_CLEAR_CHANGE


def test_overtaking_the_reference_by_more_than_the_old_gap_is_widening():
    m = margin(80, 50_000, 89, 60_000)
    assert gaps.classify_change(-2.0, -2.0, 8.0, 8.0, m, m)[0] == gaps.WIDENING


def test_ranges_make_the_verdict_cautious():
    m = margin(80, 50_000, 89, 60_000)
    # exactly this change is closing, but the ranges overlap enough to leave it unclear
    assert gaps.classify_change(-9.0, -9.0, -7.0, -7.0, m, m)[0] == gaps.CLOSING
    assert gaps.classify_change(-11.0, -7.0, -9.0, -5.0, m, m)[0] == gaps.NO_CLEAR_CHANGE


def test_trend_summary_compares_first_and_latest_year_with_a_gap():
    frames = []
    for year, econ in (("2021-22", 76.0), ("2022-23", 77.0), ("2023-24", np.nan), ("2024-25", 82.0)):
        rows = [("all", 88.0, 88.0, 20_000, False), ("not_econ_disadvantaged", 90.0, 90.0, 11_000, False),
                ("econ_disadvantaged", econ, econ, 9_000 if econ == econ else np.nan, econ != econ)]
        frames.append(rates(rows, year))
    by_year = gaps.compute_gaps(pd.concat(frames, ignore_index=True), "complement", True, COMPLEMENTS)
    summary = gaps.trend_summary(by_year).set_index("student_group")
    econ = summary.loc["econ_disadvantaged"]
    assert econ["first_year"] == "2021-22" and econ["latest_year"] == "2024-25"
    assert econ["first_gap"] == pytest.approx(-14.0) and econ["latest_gap"] == pytest.approx(-8.0)
    assert econ["verdict"] == gaps.CLOSING
    assert summary.loc["all", "verdict"] == gaps.NOT_ENOUGH


# --- the queries, on a store -------------------------------------------------------------

OUTCOMES = (
    "indicator_id,region_id,school_year,student_group,numerator,denominator,rate\n"
    # Davidson (city): big groups
    "grad4,47037,2023-24,all,5100,6000,\n"
    "grad4,47037,2023-24,econ_disadvantaged,2600,3400,\n"
    "grad4,47037,2023-24,not_econ_disadvantaged,2500,2600,\n"
    "grad4,47037,2023-24,english_learner,300,400,\n"
    "grad4,47037,2023-24,not_english_learner,4800,5600,\n"
    # Cannon (rural): range-coded all, a small English-learner group
    "grad4,47015,2023-24,all,,150,90-94\n"
    "grad4,47015,2023-24,econ_disadvantaged,60,70,\n"
    "grad4,47015,2023-24,not_econ_disadvantaged,,80,GE95\n"
    "grad4,47015,2023-24,english_learner,4,6,\n"
    "grad4,47015,2023-24,not_english_learner,,144,90-94\n"
    # Rutherford (suburb): suppressed at source
    "grad4,47149,2023-24,all,3500,3900,\n"
    "grad4,47149,2023-24,english_learner,*,*,\n"
    "grad4,47149,2022-23,all,3400,3800,\n"
)


@pytest.fixture
def gap_store(store, package_dir):
    from data.importer import import_package

    (package_dir / "outcomes.csv").write_text(OUTCOMES, encoding="utf-8")
    result = import_package(package_dir, store)
    assert result.ok, result.problems[:5]
    return store


def test_pooled_alliance_rates_from_the_rollup_match_the_rows(gap_store, monkeypatch):
    from queries.gaps import group_rates

    # Threshold 1: nothing is small, so the sums can be checked (complementary suppression of
    # this three-region store would otherwise hide some of them; tested below).
    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "1")
    out = group_rates(gap_store, ("grad4",), Scope.from_param("all"), ("2023-24",)).set_index("student_group")
    econ = out.loc["econ_disadvantaged"]
    assert econ["denominator"] == 3470
    assert econ["rate_low"] == pytest.approx(round((2600 + 60) / 3470 * 100, 1))  # published at one decimal
    assert bool(econ["exact"])
    total = out.loc["all"]  # 5100 + 90..94% of 150 + 3500 over 10050, its ends rounded outwards
    assert total["rate_low"] == pytest.approx(math.floor((5100 + 135 + 3500) / 10050 * 1000) / 10)
    assert total["rate_high"] == pytest.approx(math.ceil((5100 + 141 + 3500) / 10050 * 1000) / 10)
    assert not bool(total["exact"])
    assert int(total["ranged_rows"]) == 1


def test_small_and_source_suppressed_values_never_leave_the_query_layer(gap_store):
    from queries.gaps import gap_table, group_rates

    cannon = group_rates(gap_store, ("grad4",), Scope.from_param("47015"), ("2023-24",)).set_index("student_group")
    assert bool(cannon.loc["english_learner", "suppressed"])
    assert cannon.loc["english_learner", ["denominator", "numerator_low", "rate_low"]].isna().all()
    # its complement is hidden too, or 150 - 144 would give the 6 back
    assert bool(cannon.loc["not_english_learner", "suppressed"])
    rutherford = group_rates(gap_store, ("grad4",), Scope.from_param("47149"), ("2023-24",)).set_index("student_group")
    assert bool(rutherford.loc["english_learner", "suppressed"])
    rural = gap_table(gap_store, "grad4", Scope.from_param("locale:rural"), "2023-24")
    hidden = rural[rural["suppressed"]]
    assert hidden[["denominator", "rate_low", "rate_high", "gap"]].isna().all().all()
    shown = rural.loc[~rural["suppressed"], "denominator"].dropna()
    assert not ((shown > 0) & (shown < 10)).any()


def test_gap_queries_name_the_reference_and_mark_ranges(gap_store, monkeypatch):
    from queries.gaps import gap_heatmap, gap_table, gap_trends, locale_gaps

    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "1")
    table = gap_table(gap_store, "grad4", Scope.from_param("all"), "2023-24", "all").set_index("student_group")
    assert table.loc["econ_disadvantaged", "reference_label"] == "All students"
    assert bool(table.loc["econ_disadvantaged", "approximate"])  # all students is a range here
    by_year, summary = gap_trends(gap_store, "grad4", Scope.from_param("all"), "complement")
    assert set(by_year["school_year"]) == {"2022-23", "2023-24"}
    assert "verdict" in summary
    heat = gap_heatmap(gap_store, Scope.from_param("all"), "2023-24")
    assert set(heat["indicator_id"]) == {"grad4"}
    locale = locale_gaps(gap_store, "grad4", "2023-24")
    assert set(locale["area"]) == {"Rural regions", "Non-rural regions"}


def test_rural_and_nonrural_gaps_are_to_one_reference(store, package_dir, monkeypatch):
    """The complement is reported in rural regions only: it stays the reference in both areas
    (no gap where it is missing) rather than rural gaps to it beside non-rural gaps to all
    students on one chart row."""
    from data.importer import import_package
    from queries.gaps import locale_gaps

    (package_dir / "outcomes.csv").write_text(
        "indicator_id,region_id,school_year,student_group,numerator,denominator,rate\n"
        "grad4,47037,2023-24,all,5100,6000,\n"
        "grad4,47037,2023-24,econ_disadvantaged,2600,3400,\n"
        "grad4,47015,2023-24,all,130,150,\n"
        "grad4,47015,2023-24,econ_disadvantaged,60,70,\n"
        "grad4,47015,2023-24,not_econ_disadvantaged,70,80,\n", encoding="utf-8")
    result = import_package(package_dir, store)
    assert result.ok, result.problems[:5]
    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "1")
    locale = locale_gaps(store, "grad4", "2023-24").set_index(["area", "student_group"])
    rural, nonrural = locale.loc[("Rural regions", "econ_disadvantaged")], locale.loc[("Non-rural regions", "econ_disadvantaged")]
    assert rural["reference_group"] == nonrural["reference_group"] == "not_econ_disadvantaged"
    assert rural["gap"] == pytest.approx(round(60 / 70 * 100, 1) - round(70 / 80 * 100, 1))  # rates at one decimal
    assert math.isnan(nonrural["gap"])


def test_a_different_threshold_is_applied_without_a_new_import(gap_store, monkeypatch):
    from queries.gaps import group_rates

    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "100")
    out = group_rates(gap_store, ("grad4",), Scope.from_param("47015"), ("2023-24",)).set_index("student_group")
    assert bool(out.loc["econ_disadvantaged", "suppressed"])  # 70 students, under 100
    assert out.loc["econ_disadvantaged", "denominator"] != out.loc["econ_disadvantaged", "denominator"]


def test_bench_queries_run(gap_store):
    from bench.pages import gaps

    entries = gaps()
    assert len(entries) >= 5
    for name, query in entries:
        query(gap_store)


def test_a_rate_that_says_nothing_is_hidden_in_every_gap_view_and_never_the_best_group():
    frame = rates([("all", 87.0, 87.0, 1000), ("asian", 0.0, 100.0, 60), ("white", 89.0, 89.0, 700)])
    frame["exact"] = frame["rate_low"] == frame["rate_high"]
    out = gaps.compute_gaps(frame, "best", True, COMPLEMENTS).set_index("student_group")
    assert out.loc["asian", "suppressed"] and math.isnan(out.loc["asian", "rate_high"])
    assert out.loc["asian", "exact"] and out.loc["white", "exact"]  # hidden counts as exact, as in protect_rates
    assert out.loc["all", "reference_group"] == "white"  # not asian's 0-100% (midpoint 50, or 100 at its end)
    assert bool(out["not_comparable"].dtype == bool) and not out["not_comparable"].any()
