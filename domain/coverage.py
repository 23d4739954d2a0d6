"""Coverage against need: the metrics, the access distance and the underserved ranking.

Pure functions (numpy and pandas), no SQL and no Streamlit, so that every number on the
coverage page is defined in one place and can be tested on its own.

- Coverage metrics per region: seats and participations per 1,000 K-12 students, programs and
  partners. Per-1,000 figures are undefined (NaN, never infinite) for a region with no
  enrolment. Participations are enrolments in programs, not unique students.
- Access distance: great-circle (haversine) distance from each region's centre to the nearest
  program site, vectorised with numpy (a latitude band narrows down the candidates).
- Need: low-income share above the alliance's, a rural locale, an outcome rate worse than the
  alliance's. Each is one need point; missing data gives no point and is named.
- The ranking rule is `RANKING_RULE`, a plain sentence that says exactly what `rank_underserved`
  does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


# --- metrics --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Metric:
    metric_id: str
    label: str  # legend and axis title
    short: str  # table column and hover label
    column: str  # column of the region frame
    per_thousand: bool
    student_count: bool  # derived from counts of students: suppression applies
    sentence: str  # what one unit means, for captions


METRICS: dict[str, Metric] = {m.metric_id: m for m in (
    Metric("seats_per_1000", "Seats per 1,000 K-12 students", "Seats per 1,000 students", "seats_per_1000",
           True, False, "program places offered per quarter for every 1,000 K-12 students enrolled"),
    Metric("participations_per_1000", "Participations per 1,000 K-12 students", "Participations per 1,000 students",
           "participations_per_1000", True, True,
           "program enrolments in the quarter for every 1,000 K-12 students (participations, not unique students: "
           "one child in two programs counts twice)"),
    Metric("programs", "Programs running", "Programs", "programs", False, False,
           "programs running at a site in the region"),
    Metric("partners", "Partners offering programs", "Partners", "partners", False, False,
           "partners running at least one program at a site in the region"),
)}
DEFAULT_METRIC = "seats_per_1000"


def per_thousand(count, enrollment) -> np.ndarray:
    """count / enrollment * 1,000; NaN where the enrolment is zero, negative or unknown, or the
    count is unknown (suppressed)."""
    count = np.asarray(pd.to_numeric(pd.Series(count), errors="coerce"), dtype="float64")
    enrollment = np.asarray(pd.to_numeric(pd.Series(enrollment), errors="coerce"), dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = count / enrollment * 1000.0
    out[~(enrollment > 0)] = np.nan
    return out


def pooled_share(percent, weights) -> float:
    """Alliance-wide share from regional percentages: sum of (percent x enrolment) over the sum
    of enrolment, counting only regions that report both. NaN when none does."""
    percent = np.asarray(pd.to_numeric(pd.Series(percent), errors="coerce"), dtype="float64")
    weights = np.asarray(pd.to_numeric(pd.Series(weights), errors="coerce"), dtype="float64")
    known = np.isfinite(percent) & np.isfinite(weights) & (weights > 0)
    if not known.any():
        return float("nan")
    return float((percent[known] * weights[known]).sum() / weights[known].sum())


# --- distance -------------------------------------------------------------------------------

def haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (arrays broadcast)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype="float64")) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


BRUTE_FORCE_PAIRS = 100_000  # below this many origin x target pairs, compare them all (past it the band is faster)


def nearest_km(from_lon, from_lat, to_lon, to_lat) -> tuple[np.ndarray, np.ndarray]:
    """For every origin, the haversine distance (km) to the nearest target and that target's
    index. Origins without coordinates, or no targets at all, give NaN and -1.

    Small inputs compare every pair. Large ones (thousands of regions, tens of thousands of
    sites) first bound each origin's distance by a target nearby (one from the same small grid
    cell, else the nearest of a sample); a target that close differs in latitude by at most
    that distance, so only the targets in that latitude band (found by binary search in the
    targets sorted by latitude) and within the longitudes that distance allows are compared.
    The answer is the same as comparing every pair.
    """
    from_lon, from_lat = np.asarray(from_lon, dtype="float64"), np.asarray(from_lat, dtype="float64")
    to_lon, to_lat = np.asarray(to_lon, dtype="float64"), np.asarray(to_lat, dtype="float64")
    distance = np.full(len(from_lon), np.nan)
    index = np.full(len(from_lon), -1, dtype=np.int64)
    origins = np.flatnonzero(np.isfinite(from_lon) & np.isfinite(from_lat))
    targets = np.flatnonzero(np.isfinite(to_lon) & np.isfinite(to_lat))
    if not len(origins) or not len(targets):
        return distance, index
    olon, olat = from_lon[origins], from_lat[origins]
    tlon, tlat = to_lon[targets], to_lat[targets]
    if len(origins) * len(targets) <= BRUTE_FORCE_PAIRS:
        d = haversine_km(olon[:, None], olat[:, None], tlon[None, :], tlat[None, :])
        best = d.argmin(axis=1)
        distance[origins] = d[np.arange(len(origins)), best]
        index[origins] = targets[best]
        return distance, index
    best_d, best_i = _nearest_banded(olon, olat, tlon, tlat)
    distance[origins] = best_d
    index[origins] = targets[best_i]
    return distance, index


PAIRS_PER_CHUNK = 2_000_000  # memory bound of the banded search


def _cell_keys(lon: np.ndarray, lat: np.ndarray, size: float) -> np.ndarray:
    return np.floor(lat / size).astype(np.int64) * 1_000_000 + np.floor(lon / size).astype(np.int64)


def _upper_bound(olon, olat, tlon, tlat) -> np.ndarray:
    """A distance each origin's nearest target is certainly within: the distance to a target
    in the same cell (cells of 0.05, 0.25 and 1.5 degrees, finest first), else to the nearest
    of an even sample of targets. The tighter the bound, the fewer targets are compared."""
    bound = np.full(len(olon), np.inf)
    todo = np.arange(len(olon))
    for size in (0.05, 0.25, 1.5):
        if not len(todo):
            break
        keys, first = np.unique(_cell_keys(tlon, tlat, size), return_index=True)
        okeys = _cell_keys(olon[todo], olat[todo], size)
        pos = np.clip(np.searchsorted(keys, okeys), 0, len(keys) - 1)
        hit = keys[pos] == okeys
        found, rep = todo[hit], first[pos[hit]]
        bound[found] = haversine_km(olon[found], olat[found], tlon[rep], tlat[rep])
        todo = todo[~hit]
    if len(todo):
        sample = np.unique(np.linspace(0, len(tlon) - 1, min(len(tlon), 256)).astype(np.int64))
        for start in range(0, len(todo), 2000):
            part = todo[start:start + 2000]
            d = haversine_km(olon[part, None], olat[part, None], tlon[None, sample], tlat[None, sample])
            bound[part] = d.min(axis=1)
    return bound


def _nearest_banded(olon, olat, tlon, tlat) -> tuple[np.ndarray, np.ndarray]:
    bound = _upper_bound(olon, olat, tlon, tlat)
    order = np.argsort(tlat, kind="stable")
    sorted_lat = tlat[order]
    # |latitude difference| <= angular distance: the band is exact, at any longitude or latitude.
    dlat = np.degrees(bound / EARTH_RADIUS_KM) * (1 + 1e-9) + 1e-9
    low = np.searchsorted(sorted_lat, olat - dlat, side="left")
    high = np.searchsorted(sorted_lat, olat + dlat, side="right")
    counts = high - low
    # Within the band, only the longitudes the cap of that radius spans: asin(sin r / cos lat)
    # either side; every longitude where the cap reaches (or nears: asin loses precision) a pole.
    radius = bound / EARTH_RADIUS_KM
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.sin(radius) / np.cos(np.radians(olat))
        span = np.where((radius < np.pi / 2) & (ratio < 0.99),
                        np.degrees(np.arcsin(np.clip(ratio, 0.0, 1.0))) * (1 + 1e-9) + 1e-9, 180.0)
    best_d = np.full(len(olon), np.nan)
    best_i = np.full(len(olon), -1, dtype=np.int64)
    start = 0
    while start < len(olon):
        # as many origins as fit in one chunk of pairs (at least one)
        cumulative = np.cumsum(counts[start:])
        stop = start + max(1, int(np.searchsorted(cumulative, PAIRS_PER_CHUNK, side="right")))
        n = counts[start:stop]
        offsets = np.cumsum(n) - n
        origin = np.repeat(np.arange(start, stop), n)
        position = np.arange(int(n.sum())) - np.repeat(offsets, n) + np.repeat(low[start:stop], n)
        target = order[position]
        dlon = np.abs(tlon[target] - olon[origin]) % 360
        near = np.minimum(dlon, 360 - dlon) <= span[origin]
        origin, target = origin[near], target[near]
        n = np.bincount(origin - start, minlength=stop - start)
        offsets = np.cumsum(n) - n
        d = haversine_km(olon[origin], olat[origin], tlon[target], tlat[target])
        # Each origin's pairs are contiguous: the smallest distance of each run, and the first
        # pair that reaches it. (Every origin keeps at least its bounding target.)
        smallest = np.minimum.reduceat(d, offsets)
        hits = np.flatnonzero(d <= np.repeat(smallest, n))
        chosen = hits[np.searchsorted(hits, offsets)]
        best_d[start:stop] = smallest
        best_i[start:stop] = target[chosen]
        start = stop
    return best_d, best_i


# --- need and the ranking -------------------------------------------------------------------

RANKING_RULE = (
    "Regions are ranked by need points (one each for a low-income share above the alliance's, "
    "a rural locale, and an outcome rate worse than the alliance's), then regions with no program "
    "sites at all come first, then fewest seats per 1,000 students, then farthest from a site; "
    "regions with no K-12 students come last."
)
NEED_COMPONENTS = ("low_income_point", "rural_point", "outcome_point")


def outcome_shortfall(rate_low, rate_high, alliance_low, alliance_high, higher_is_better: bool) -> tuple[np.ndarray, np.ndarray]:
    """How far a region's rate is worse than the alliance's, in percentage points (positive =
    worse), as a (low, high) range: equal when both rates are exact, wider when either comes
    from range-coded source data. NaN where the region's rate is unknown or suppressed."""
    rl, rh = (np.asarray(pd.to_numeric(pd.Series(v), errors="coerce"), dtype="float64") for v in (rate_low, rate_high))
    al, ah = float(alliance_low), float(alliance_high)
    if higher_is_better:
        return al - rh, ah - rl
    return rl - ah, rh - al


def need_points(regions: pd.DataFrame, alliance_low_income: float) -> pd.DataFrame:
    """Add the three need points and `need_missing` (names of the measures with no data).

    Expects columns locale, low_income_pct and shortfall_low (the smallest shortfall consistent
    with the data: a region counts as worse than the alliance only when it certainly is)."""
    out = regions.copy()
    low_income = pd.to_numeric(out["low_income_pct"], errors="coerce")
    shortfall = pd.to_numeric(out["shortfall_low"], errors="coerce") if "shortfall_low" in out else pd.Series(np.nan, index=out.index)
    has_alliance = np.isfinite(alliance_low_income)
    out["low_income_point"] = ((low_income > alliance_low_income) if has_alliance else pd.Series(False, index=out.index)).fillna(False).astype(int)
    out["rural_point"] = (out["locale"] == "rural").astype(int)
    out["outcome_point"] = (shortfall > 0).fillna(False).astype(int)
    out["need_points"] = out[list(NEED_COMPONENTS)].sum(axis=1).astype(int)
    no_share, no_rate = low_income.isna().to_numpy(), shortfall.isna().to_numpy()
    out["need_missing"] = np.select(
        [no_share & no_rate, no_share, no_rate], ["low-income share, outcome rate", "low-income share", "outcome rate"],
        default="")
    return out


def rank_underserved(regions: pd.DataFrame, alliance_low_income: float) -> pd.DataFrame:
    """Regions ordered by `RANKING_RULE`, with `rank` (regions equal on every component share
    a rank; they are then listed by name) and the components it used.

    Expects: region_id, name, locale, k12_enrollment, low_income_pct, shortfall_low, sites,
    seats_per_1000 and nearest_site_km (NaN when unknown)."""
    out = need_points(regions, alliance_low_income)
    enrollment = pd.to_numeric(out["k12_enrollment"], errors="coerce").fillna(0)
    sites = pd.to_numeric(out["sites"], errors="coerce").fillna(0)
    out["no_students"] = ~(enrollment > 0)
    out["no_sites"] = sites <= 0
    seats = pd.to_numeric(out["seats_per_1000"], errors="coerce")
    distance = pd.to_numeric(out["nearest_site_km"], errors="coerce")
    # Sort keys, smallest first. Unknown distances sort as farthest (no site to measure to).
    keys = np.column_stack([
        out["no_students"].to_numpy(dtype="float64"),
        -out["need_points"].to_numpy(dtype="float64"),
        (~out["no_sites"]).to_numpy(dtype="float64"),
        seats.fillna(0.0).to_numpy(dtype="float64"),
        -distance.fillna(np.inf).to_numpy(dtype="float64"),
    ])
    names, ids = (out[c].astype(str).to_numpy(dtype=object) for c in ("name", "region_id"))
    # np.lexsort sorts by its last key first (stable, like the mergesort of pandas it replaces).
    order = np.lexsort([ids, names, *keys.T[::-1]])
    out, keys = out.take(order).reset_index(drop=True), keys[order]
    # Competition ranking: equal keys share the rank of the first of them (1, 2, 2, 4).
    same = np.zeros(len(out), dtype=bool)
    same[1:] = (keys[1:] == keys[:-1]).all(axis=1)
    out["rank"] = np.maximum.accumulate(np.where(same, 0, np.arange(1, len(out) + 1)))
    return out


# --- locale comparison ------------------------------------------------------------------------

LOCALE_ORDER = ("city", "suburb", "town", "rural")


def locale_summary(regions: pd.DataFrame) -> pd.DataFrame:
    """Seats, programs and access by locale (city, suburb, town, rural), then non-rural and
    the alliance: per-1,000 figures pooled (sums over sums), distances as medians."""
    locale = regions["locale"].to_numpy(dtype=object)
    enrollment, seats, sites, distance = (
        pd.to_numeric(regions[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        for c in ("k12_enrollment", "seats", "sites", "nearest_site_km"))
    groups = {f"locale:{loc}": locale == loc for loc in LOCALE_ORDER}
    groups["locale:nonrural"] = groups["locale:city"] | groups["locale:suburb"] | groups["locale:town"]
    groups["__alliance__"] = np.ones(len(regions), dtype=bool)
    rows = []
    for area, mask in groups.items():
        area_enrollment, area_seats = float(np.nansum(enrollment[mask])), float(np.nansum(seats[mask]))
        known = distance[mask][~np.isnan(distance[mask])]
        rows.append({
            "area": area,
            "regions": int(mask.sum()),
            "k12_enrollment": area_enrollment,
            "seats": area_seats,
            "seats_per_1000": per_thousand([area_seats], [area_enrollment])[0],
            "regions_without_sites": int((np.nan_to_num(sites[mask]) <= 0).sum()),
            "median_distance_km": float(np.median(known)) if len(known) else np.nan,
        })
    return pd.DataFrame(rows)
