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
        "shortfall_low": [np.nan] * n, "sites": [1] * n, "seats_per_1000": [10.0] * n, "nearest_site_km": [0.0] * n,
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


# --- need and the ranking ------------------------------------------------------------------

def test_need_points_and_missing_data():
    frame = regions(low_income_pct=[70.0, 30.0, np.nan], locale=["rural", "city", "rural"],
                    shortfall_low=[2.0, -1.0, np.nan])
    out = cov.need_points(frame, alliance_low_income=50.0)
    assert list(out["low_income_point"]) == [1, 0, 0]
    assert list(out["rural_point"]) == [1, 0, 1]
    assert list(out["outcome_point"]) == [1, 0, 0]
    assert list(out["need_points"]) == [3, 0, 1]
    assert out["need_missing"].iloc[0] == ""
    assert out["need_missing"].iloc[2] == "low-income share, outcome rate"  # named, and no point given


def test_outcome_point_needs_a_certain_shortfall():
    # A range-coded rate that may or may not be worse (shortfall_low <= 0) earns no point.
    out = cov.need_points(regions(shortfall_low=[-0.5, 0.0, 0.1]), alliance_low_income=50.0)
    assert list(out["outcome_point"]) == [0, 0, 1]


def test_outcome_shortfall_direction_and_ranges():
    low, high = cov.outcome_shortfall([80.0, 90.0], [80.0, 94.0], 85.0, 85.0, higher_is_better=True)
    assert list(low) == [5.0, -9.0] and list(high) == [5.0, -5.0]
    low, high = cov.outcome_shortfall([20.0], [20.0], 15.0, 15.0, higher_is_better=False)  # e.g. chronic absence
    assert list(low) == [5.0]
    low, _ = cov.outcome_shortfall([np.nan], [np.nan], 15.0, 15.0, higher_is_better=True)
    assert np.isnan(low[0])


def test_no_sites_ranks_ahead_of_equally_needy_region_with_sites():
    frame = regions(locale=["rural", "rural"], sites=[3, 0], seats_per_1000=[0.5, 0.0], nearest_site_km=[1.0, 12.0])
    ranked = cov.rank_underserved(frame, alliance_low_income=40.0)
    assert list(ranked["region_id"]) == ["R1", "R0"]
    # ... even when the region with sites has zero seats on record and is farther from a site
    frame = regions(sites=[2, 0], seats_per_1000=[0.0, 0.0], nearest_site_km=[50.0, 1.0])
    assert list(cov.rank_underserved(frame, 40.0)["region_id"]) == ["R1", "R0"]


def test_need_comes_before_coverage():
    frame = regions(low_income_pct=[90.0, 10.0], locale=["rural", "city"], sites=[5, 0], seats_per_1000=[80.0, 0.0])
    ranked = cov.rank_underserved(frame, alliance_low_income=50.0)
    assert list(ranked["region_id"]) == ["R0", "R1"]  # 2 need points with sites beat 0 without


def test_fewer_seats_then_farther_then_name():
    frame = regions(seats_per_1000=[5.0, 2.0, 2.0, 2.0], nearest_site_km=[0.0, 3.0, 9.0, 3.0],
                    name=["Delta", "Charlie", "Bravo", "Alpha"])
    ranked = cov.rank_underserved(frame, 50.0)
    assert list(ranked["name"]) == ["Bravo", "Alpha", "Charlie", "Delta"]
    # Alpha and Charlie are equal on every component: they share a rank, listed by name
    assert list(ranked["rank"]) == [1, 2, 2, 4]


def test_zero_enrolment_ranks_last():
    frame = regions(k12_enrollment=[0, 1000], seats_per_1000=[np.nan, 50.0], sites=[0, 4], locale=["rural", "city"],
                    low_income_pct=[95.0, 10.0])
    ranked = cov.rank_underserved(frame, 50.0)
    assert list(ranked["region_id"]) == ["R1", "R0"]
    assert bool(ranked["no_students"].iloc[-1])


def test_missing_need_data_gives_no_point_but_still_ranks():
    frame = regions(low_income_pct=[np.nan, 60.0], shortfall_low=[np.nan, np.nan], sites=[0, 0], seats_per_1000=[0.0, 0.0])
    ranked = cov.rank_underserved(frame, alliance_low_income=50.0)
    assert list(ranked["region_id"]) == ["R1", "R0"]
    assert ranked.set_index("region_id").loc["R0", "need_missing"] == "low-income share, outcome rate"


def test_no_alliance_low_income_share():
    ranked = cov.rank_underserved(regions(low_income_pct=[np.nan, np.nan]), alliance_low_income=float("nan"))
    assert (ranked["low_income_point"] == 0).all()
    assert list(ranked["rank"]) == [1, 1]


def test_rank_of_an_empty_frame():
    assert cov.rank_underserved(regions(region_id=[]), 50.0).empty


def test_rule_is_one_plain_sentence():
    assert cov.RANKING_RULE.count(". ") == 0 and cov.RANKING_RULE.endswith(".")
    assert "no program sites" in cov.RANKING_RULE


def test_locale_summary_pools_per_thousand():
    frame = regions(locale=["rural", "rural", "city"], k12_enrollment=[1000, 3000, 6000], seats=[10, 30, 600],
                    sites=[1, 0, 5], nearest_site_km=[1.0, 20.0, 0.5])
    summary = cov.locale_summary(frame).set_index("area")
    assert summary.loc["locale:rural", "seats_per_1000"] == pytest.approx(10.0)  # 40 / 4000, not a mean of rates
    assert summary.loc["locale:rural", "regions_without_sites"] == 1
    assert summary.loc["locale:nonrural", "seats_per_1000"] == pytest.approx(100.0)
    assert summary.loc["__alliance__", "seats"] == 640
    assert summary.loc["locale:town", "regions"] == 0 and np.isnan(summary.loc["locale:town", "seats_per_1000"])
