"""Coverage metrics, access distance and the underserved ranking (domain/coverage.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domain import coverage as cov


def regions(**columns) -> pd.DataFrame:
    """A region frame as queries.coverage.underserved hands it to the ranking."""
    n = len(next(iter(columns.values())))
    base = {
        "region_id": [f"R{i}" for i in range(n)], "name": [f"Region {chr(65 + i)}" for i in range(n)],
        "locale": ["city"] * n, "k12_enrollment": [1000] * n, "low_income_pct": [50.0] * n,
        "outcome_behind_low": [np.nan] * n, "outcome_behind_high": [np.nan] * n, "sites": [1] * n, "seats_per_1000": [10.0] * n, "nearest_site_km": [0.0] * n,
    }
    base.update(columns)
    return pd.DataFrame(base)


# --- metrics -------------------------------------------------------------------------------

def test_per_thousand():
    out = cov.per_thousand([50, 0, 7, np.nan], [1000, 400, 0, 200])
    assert out[0] == 50.0
    assert out[1] == 0.0  # zero seats is a real zero
    assert np.isnan(out[2])  # zero enrolment: undefined, never infinite
    assert np.isnan(out[3])  # suppressed count stays unknown


def test_per_thousand_negative_or_missing_enrolment():
    out = cov.per_thousand([5, 5], [-3, None])
    assert np.isnan(out).all()


def test_pooled_share_weights_by_enrolment_and_skips_missing():
    # (80 * 1000 + 20 * 3000) / 4000 = 35, the region without a share is left out
    assert cov.pooled_share([80, 20, np.nan], [1000, 3000, 5000]) == pytest.approx(35.0)
    assert np.isnan(cov.pooled_share([np.nan], [100]))
    assert np.isnan(cov.pooled_share([50], [0]))


def test_metrics_say_participations_are_not_unique_students():
    metric = cov.METRICS["participations_per_1000"]
    assert metric.student_count and "not unique students" in metric.sentence
    assert not cov.METRICS["seats_per_1000"].student_count
    assert cov.DEFAULT_METRIC in cov.METRICS


# --- distance ------------------------------------------------------------------------------

def test_haversine_known_distance():
    # Nashville to Chattanooga, about 180 km
    assert cov.haversine_km(-86.7816, 36.1627, -85.3097, 35.0456) == pytest.approx(182, abs=3)
    assert cov.haversine_km(10, 20, 10, 20) == 0


def test_nearest_without_targets_or_coordinates():
    d, i = cov.nearest_km([1.0, np.nan], [2.0, 3.0], [], [])
    assert np.isnan(d).all() and (i == -1).all()
    d, i = cov.nearest_km([1.0, np.nan], [2.0, 3.0], [1.0, np.nan], [2.5, 9.0])
    assert d[0] == pytest.approx(cov.haversine_km(1, 2, 1, 2.5)) and i[0] == 0
    assert np.isnan(d[1]) and i[1] == -1


@pytest.mark.parametrize("n_from,n_to", [(40, 300), (900, 3000)])
def test_nearest_matches_brute_force(n_from, n_to, monkeypatch):
    """The banded search (used past BRUTE_FORCE_PAIRS) gives exactly the brute-force answer,
    also when it has to work in several chunks."""
    rng = np.random.default_rng(n_from)
    flon, flat = rng.uniform(-125, -67, n_from), rng.uniform(25, 49, n_from)
    tlon, tlat = rng.uniform(-125, -67, n_to), rng.uniform(25, 49, n_to)
    full = cov.haversine_km(flon[:, None], flat[:, None], tlon[None, :], tlat[None, :])
    monkeypatch.setattr(cov, "BRUTE_FORCE_PAIRS", 0)
    monkeypatch.setattr(cov, "PAIRS_PER_CHUNK", 5000)
    d, i = cov.nearest_km(flon, flat, tlon, tlat)
    np.testing.assert_allclose(d, full.min(axis=1), rtol=1e-12)
    np.testing.assert_allclose(full[np.arange(n_from), i], full.min(axis=1), rtol=1e-12)


def test_nearest_with_clustered_targets_and_far_origins(monkeypatch):
    """Targets in one small cluster, origins everywhere: the sample bound is used."""
    monkeypatch.setattr(cov, "BRUTE_FORCE_PAIRS", 0)
    rng = np.random.default_rng(3)
    tlon, tlat = rng.normal(-85, 0.2, 500), rng.normal(35, 0.2, 500)
    flon, flat = rng.uniform(-120, -70, 300), rng.uniform(25, 49, 300)
    full = cov.haversine_km(flon[:, None], flat[:, None], tlon[None, :], tlat[None, :])
    d, _ = cov.nearest_km(flon, flat, tlon, tlat)
    np.testing.assert_allclose(d, full.min(axis=1), rtol=1e-12)


def test_nearest_matches_brute_force_over_the_whole_globe(monkeypatch):
    """Origins and targets anywhere, poles and the antimeridian included: the longitude window
    of the banded search never drops the nearest target."""
    monkeypatch.setattr(cov, "BRUTE_FORCE_PAIRS", 0)
    rng = np.random.default_rng(11)
    flon, flat = rng.uniform(-180, 180, 700), np.degrees(np.arcsin(rng.uniform(-1, 1, 700)))
    tlon, tlat = rng.uniform(-180, 180, 900), np.degrees(np.arcsin(rng.uniform(-1, 1, 900)))
    full = cov.haversine_km(flon[:, None], flat[:, None], tlon[None, :], tlat[None, :])
    d, i = cov.nearest_km(flon, flat, tlon, tlat)
    np.testing.assert_allclose(d, full.min(axis=1), rtol=1e-12)
    np.testing.assert_allclose(full[np.arange(len(flon)), i], full.min(axis=1), rtol=1e-12)


def test_nearest_indexed_across_the_antimeridian(monkeypatch):
    monkeypatch.setattr(cov, "BRUTE_FORCE_PAIRS", 0)
    d, i = cov.nearest_km([179.9], [52.0], [-179.9, 170.0], [52.0, 52.0])
    assert i[0] == 0 and d[0] == pytest.approx(cov.haversine_km(179.9, 52, -179.9, 52))


def test_nearest_at_high_latitude(monkeypatch):
    """Near the pole a planar neighbour can be far from the great-circle one."""
    monkeypatch.setattr(cov, "BRUTE_FORCE_PAIRS", 0)
    d, i = cov.nearest_km([0.0], [89.0], [179.0, 0.0], [89.0, 86.5])
    assert i[0] == 0  # ~222 km over the pole, against ~278 km along the meridian


# --- which distance is shown --------------------------------------------------------------

def test_distance_is_measured_where_both_ends_have_coordinates():
    # Two regions 1 degree of latitude apart; the site stands 0.1 degree north of region A's centre.
    km, basis = cov.access_distance(["A", "B"], [-85.0, -85.0], [35.0, 36.0], ["A"], [-85.0], [35.1], [True])
    assert list(basis) == [cov.MEASURED, cov.MEASURED]
    assert km[0] == pytest.approx(cov.haversine_km(-85, 35, -85, 35.1)) and km[0] > 0
    assert km[1] == pytest.approx(cov.haversine_km(-85, 36, -85, 35.1))


def test_a_site_without_coordinates_is_never_zero_km_away():
    # The only site has no coordinates (stored at its region's centre): its own region is "in
    # the region", not 0 km; the other region is centre to centre, labelled as such.
    km, basis = cov.access_distance(["A", "B", "C"], [-85.0, -85.0, np.nan], [35.0, 36.0, np.nan],
                                    ["A"], [-85.0], [35.0], [False])
    assert list(basis) == [cov.IN_REGION, cov.CENTRES, cov.UNKNOWN]
    assert np.isnan(km[0]) and np.isnan(km[2])
    assert km[1] == pytest.approx(cov.haversine_km(-85, 36, -85, 35))
    assert cov.distance_text(km[0], basis[0]) == "a site in the region (no coordinates)"
    assert cov.distance_text(km[1], basis[1]).startswith("about 111 km (between region centres")


def test_a_measured_site_nearer_than_a_centre_wins():
    # B's nearest: a located site 0.2 degree away, rather than the centre of A (1 degree away),
    # whose only site has no coordinates; a far located site does not beat a near centre.
    km, basis = cov.access_distance(["A", "B"], [-85.0, -85.0], [35.0, 36.0], ["A", "B"], [-85.0, -85.0], [35.0, 36.2],
                                    [False, True])
    assert list(basis) == [cov.IN_REGION, cov.MEASURED]
    assert km[1] == pytest.approx(cov.haversine_km(-85, 36, -85, 36.2))
    km, basis = cov.access_distance(["A", "B"], [-85.0, -85.0], [35.0, 36.0], ["A", "A"], [-85.0, -80.0], [35.0, 40.0],
                                    [False, True])
    assert basis[1] == cov.CENTRES and km[1] == pytest.approx(cov.haversine_km(-85, 36, -85, 35))


def test_no_running_site_is_unknown():
    km, basis = cov.access_distance(["A"], [-85.0], [35.0], [], [], [], [])
    assert np.isnan(km[0]) and basis[0] == cov.UNKNOWN
    assert cov.distance_text(km[0], basis[0]).startswith("unknown")


# --- need points -----------------------------------------------------------------------------

ALLIANCE = cov.Alliance(low_income_pct=50.0, seats_per_1000=20.0, outcome="Reading", outcome_year="2024-25")
NO_OUTCOME = cov.Alliance(low_income_pct=50.0, seats_per_1000=20.0)


def test_need_points_and_unknown_components():
    frame = regions(low_income_pct=[70.0, 30.0, np.nan], locale=["rural", "city", "rural"],
                    outcome_behind_low=[2.0, -1.0, np.nan], outcome_behind_high=[2.0, -1.0, np.nan])
    out = cov.need_points(frame, ALLIANCE)
    assert list(out["low_income_point"].astype(object).fillna("?")) == [1, 0, "?"]
    assert list(out["rural_point"]) == [1, 0, 1]
    assert list(out["outcome_point"].astype(object).fillna("?")) == [1, 0, "?"]
    assert list(out["need_points"]) == [3, 0, 1] and list(out["need_unknown"]) == [0, 0, 2]
    assert (out["need_max"] == 3).all()
    assert out["need_missing"].iloc[0] == "" and out["need_missing"].iloc[2] == "low-income share, outcome rate"


def test_outcome_point_needs_a_certain_answer():
    # A range-coded rate entirely worse earns the point, entirely not worse earns none, and one
    # either side of the alliance's is unknown, named as such.
    frame = regions(outcome_behind_low=[0.1, -3.0, -0.5, 0.0], outcome_behind_high=[4.0, 0.0, 2.0, 0.0])
    out = cov.need_points(frame, ALLIANCE)
    assert list(out["outcome_point"].astype(object).fillna("?")) == [1, 0, "?", 0]
    assert "range either side" in out["need_missing"].iloc[2]


def test_components_left_out_when_the_alliance_has_no_figure():
    assert cov.Alliance(seats_per_1000=10.0).components == ("rural_point",)
    out = cov.need_points(regions(low_income_pct=[np.nan, np.nan], locale=["rural", "city"]), cov.Alliance())
    assert list(out["need_points"]) == [1, 0] and (out["need_unknown"] == 0).all() and (out["need_max"] == 1).all()
    rule = cov.ranking_rule("shortfall", cov.Alliance(seats_per_1000=10.0))
    assert "no region reports a low-income share and no outcome is loaded" in rule


def test_outcome_behind_direction_and_ranges():
    low, high = cov.outcome_behind([80.0, 90.0], [80.0, 94.0], 85.0, 85.0, higher_is_better=True)
    assert list(low) == [5.0, -9.0] and list(high) == [5.0, -5.0]
    low, _ = cov.outcome_behind([20.0], [20.0], 15.0, 15.0, higher_is_better=False)  # e.g. chronic absence
    assert list(low) == [5.0]
    low, _ = cov.outcome_behind([np.nan], [np.nan], 15.0, 15.0, higher_is_better=True)
    assert np.isnan(low[0])


# --- the three orders ------------------------------------------------------------------------

def test_coverage_gap():
    gap = cov.coverage_gap([0.0, 10.0, 20.0, 35.0, np.nan], 20.0)
    assert list(gap[:4]) == [1.0, 0.5, 0.0, 0.0] and np.isnan(gap[4])
    assert list(cov.coverage_gap([0.0, 3.0], 0.0)) == [1.0, 0.0]  # no seat anywhere: none is 1 short


def test_shortfall_puts_the_well_covered_needy_region_last():
    """The issue's complaint: need first put the best-covered region (84 seats per 1,000) 6th."""
    frame = regions(name=["Needy, covered", "Needy, short", "Not needy, short", "Middling"],
                    low_income_pct=[80.0, 40.0, 20.0, 60.0], locale=["rural", "rural", "city", "town"],
                    seats_per_1000=[84.0, 5.0, 4.0, 15.0], outcome_behind_low=[3.0, 3.0, -1.0, -1.0],
                    outcome_behind_high=[3.0, 3.0, -1.0, -1.0])
    ranked = cov.rank_regions(frame, ALLIANCE, "shortfall")
    # scores: 3 x 0 = 0; 2 x 0.75 = 1.5; 0 x 0.8 = 0; 1 x 0.25 = 0.25
    assert list(ranked["name"]) == ["Needy, short", "Middling", "Not needy, short", "Needy, covered"]
    assert list(ranked["shortfall_score"]) == pytest.approx([1.5, 0.25, 0.0, 0.0])
    assert list(ranked["rank"]) == [1, 2, 3, 4]
    # need first keeps the old order: the covered needy region leads
    assert cov.rank_regions(frame, ALLIANCE, "need")["name"].iloc[0] == "Needy, covered"
    # coverage only: fewest seats first, need ignored
    assert list(cov.rank_regions(frame, ALLIANCE, "coverage")["name"]) == [
        "Not needy, short", "Needy, short", "Middling", "Needy, covered"]


def test_reasons_say_why_in_words():
    frame = regions(name=["Short", "Covered"], low_income_pct=[72.0, 30.0], locale=["rural", "city"],
                    seats_per_1000=[3.0, 40.0], sites=[1, 6], nearest_site_km=[41.2, 2.0],
                    distance_basis=[cov.MEASURED, cov.MEASURED], outcome_behind_low=[-2.0, -2.0],
                    outcome_behind_high=[-2.0, -2.0])
    alliance = cov.Alliance(low_income_pct=48.0, seats_per_1000=18.0, outcome="Reading")
    ranked = cov.rank_regions(frame, alliance, "shortfall").set_index("name")
    assert ranked.loc["Short", "reason"] == (
        "Need 2 of 3 (72% low-income against 48% alliance-wide, rural), with 3.0 seats per 1,000 against 18.0 "
        "alliance-wide (83% short); nearest site 41 km.")
    assert ranked.loc["Covered", "reason"] == (
        "No shortfall: 40.0 seats per 1,000, at or above the alliance's 18.0; need 0 of 3; nearest site 2 km.")
    coverage = cov.rank_regions(frame, alliance, "coverage").set_index("name")
    assert coverage.loc["Short", "reason"].startswith("3.0 seats per 1,000 against 18.0 alliance-wide")
    assert "not used in this order" in coverage.loc["Short", "reason"]


def test_no_site_reads_as_no_site_and_distance_by_its_basis():
    frame = regions(name=["None", "Unlocated"], sites=[0, 2], seats_per_1000=[0.0, 10.0],
                    nearest_site_km=[np.nan, np.nan], distance_basis=[cov.UNKNOWN, cov.IN_REGION])
    reasons = cov.rank_regions(frame, ALLIANCE, "need").set_index("name")["reason"]
    assert "no program site (0 seats per 1,000 against 20.0 alliance-wide)" in reasons["None"]
    assert "nearest site unknown (no running site)" in reasons["None"]
    assert "nearest site a site in the region (no coordinates)" in reasons["Unlocated"]
    assert "0 km" not in reasons["Unlocated"]


def test_ties_share_a_rank_are_listed_by_name_and_named():
    frame = regions(name=["Delta", "Charlie", "Bravo", "Alpha"], seats_per_1000=[5.0, 2.0, 2.0, 2.0],
                    nearest_site_km=[0.0, 3.0, 9.0, 3.0], outcome_behind_low=[-1.0] * 4, outcome_behind_high=[-1.0] * 4)
    ranked = cov.rank_regions(frame, ALLIANCE, "shortfall")
    # all: need 0 => shortfall 0; then fewer seats, then (need equal) farther from a site
    assert list(ranked["name"]) == ["Bravo", "Alpha", "Charlie", "Delta"]
    assert list(ranked["rank"]) == [1, 2, 2, 4]
    assert list(ranked["tied_with"]) == ["", "Charlie", "Alpha", ""]
    assert ranked["reason"].iloc[1].endswith("Tied with Charlie on every part of the rule.")


def test_tie_figures_that_differ_only_by_rounding_are_equal():
    # 1/3 of the alliance's seats, reached by two different divisions
    frame = regions(seats_per_1000=[20.0 / 3.0, (1 / 3) * 20.0], locale=["rural", "rural"],
                    outcome_behind_low=[-1.0, -1.0], outcome_behind_high=[-1.0, -1.0])
    assert list(cov.rank_regions(frame, ALLIANCE, "shortfall")["rank"]) == [1, 1]


def test_missing_inputs_are_not_ranked_as_if_complete():
    # R0's outcome is unknown: with it worse (best case) its shortfall would be 3 x 1 = 3, first;
    # with it not worse, 2 x 1 = 2, level with R1 (2 x 1), which is ahead of it by name then.
    frame = regions(name=["Zed", "Yan", "Xi"], low_income_pct=[80.0, 80.0, 20.0], locale=["rural", "rural", "city"],
                    sites=[0, 0, 3], seats_per_1000=[0.0, 0.0, 10.0],
                    outcome_behind_low=[np.nan, -1.0, -1.0], outcome_behind_high=[np.nan, -1.0, -1.0])
    ranked = cov.rank_regions(frame, ALLIANCE, "shortfall")
    assert list(ranked["name"]) == ["Yan", "Xi", "Zed"]  # the unranked region comes after the ranked ones
    zed = ranked.iloc[-1]
    assert not zed["ranked"] and pd.isna(zed["rank"]) and np.isnan(zed["shortfall_score"])
    assert (zed["rank_best"], zed["rank_worst"]) == (1, 1)  # 3 beats Yan's 2; 2 = Yan's 2, and equal keys share rank 1
    assert zed["reason"].startswith("Not ranked: outcome rate unknown; it would rank 1st once known.")
    assert zed["missing_inputs"] == "outcome rate"
    # the coverage-only order does not use need: every region with students is ranked
    assert cov.rank_regions(frame, ALLIANCE, "coverage")["ranked"].all()


def test_a_missing_input_can_leave_a_range_of_ranks():
    frame = regions(name=["A", "B", "C"], low_income_pct=[np.nan, 60.0, 40.0], locale=["rural", "rural", "city"],
                    seats_per_1000=[0.0, 10.0, 0.0], outcome_behind_low=[5.0, 5.0, -5.0], outcome_behind_high=[5.0, 5.0, -5.0])
    ranked = cov.rank_regions(frame, ALLIANCE, "need").set_index("name")
    # A has 2 known points (rural, outcome) and an unknown low-income point: 3 => 1st, 2 => after B's 3
    assert (ranked.loc["A", "rank_best"], ranked.loc["A", "rank_worst"]) == (1, 2)
    assert "it would rank between 1st and 2nd once known" in ranked.loc["A", "reason"]


def test_zero_enrolment_is_not_ranked():
    frame = regions(k12_enrollment=[0, 1000], seats_per_1000=[np.nan, 50.0], sites=[0, 4], locale=["rural", "city"],
                    low_income_pct=[95.0, 10.0])
    for order in cov.ORDERS:
        ranked = cov.rank_regions(frame, NO_OUTCOME, order)
        assert list(ranked["region_id"]) == ["R1", "R0"] and list(ranked["ranked"]) == [True, False]
        assert ranked["reason"].iloc[-1] == "Not ranked: no K-12 students, so no seats per 1,000 to compare."
        assert pd.isna(ranked["rank_best"].iloc[-1])


def test_no_sites_ranks_ahead_of_equally_needy_region_with_sites_in_need_order():
    frame = regions(locale=["rural", "rural"], sites=[3, 0], seats_per_1000=[0.5, 0.0], nearest_site_km=[1.0, 12.0])
    assert list(cov.rank_regions(frame, NO_OUTCOME, "need")["region_id"]) == ["R1", "R0"]
    frame = regions(sites=[2, 0], seats_per_1000=[0.0, 0.0], nearest_site_km=[50.0, 1.0])
    assert list(cov.rank_regions(frame, NO_OUTCOME, "need")["region_id"]) == ["R1", "R0"]
    assert list(cov.rank_regions(frame, NO_OUTCOME, "coverage")["region_id"]) == ["R1", "R0"]


def test_rank_of_an_empty_frame_and_an_unknown_order():
    assert cov.rank_regions(regions(region_id=[]), ALLIANCE).empty
    with pytest.raises(ValueError, match="unknown order"):
        cov.rank_regions(regions(region_id=["R0"]), ALLIANCE, "alphabetical")


def test_every_rule_names_its_components_and_what_is_not_ranked():
    for order in cov.ORDERS:
        rule = cov.ranking_rule(order, ALLIANCE)
        assert rule.endswith(".") and "no K-12 students" in rule
        if order != "coverage":
            assert "low-income share above the alliance's (50%)" in rule and "Reading in 2024–25" in rule
            assert "not ranked as if it were complete" in rule
    assert "20.0" in cov.ranking_rule("shortfall", ALLIANCE)


def test_locale_summary_pools_per_thousand():
    frame = regions(locale=["rural", "rural", "city"], k12_enrollment=[1000, 3000, 6000], seats=[10, 30, 600],
                    sites=[1, 0, 5], nearest_site_km=[1.0, 20.0, 0.5])
    summary = cov.locale_summary(frame).set_index("area")
    assert summary.loc["locale:rural", "seats_per_1000"] == pytest.approx(10.0)  # 40 / 4000, not a mean of rates
    assert summary.loc["locale:rural", "regions_without_sites"] == 1
    assert summary.loc["locale:nonrural", "seats_per_1000"] == pytest.approx(100.0)
    assert summary.loc["__alliance__", "seats"] == 640
    assert summary.loc["locale:town", "regions"] == 0 and np.isnan(summary.loc["locale:town", "seats_per_1000"])
