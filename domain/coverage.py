"""Coverage against need: the metrics, the access distance and the underserved ranking.

Pure functions (numpy and pandas), no SQL and no Streamlit, so that every number on the
coverage page is defined in one place and can be tested on its own.

- Coverage metrics per region: seats and participations per 1,000 K-12 students, programs and
  partners. Per-1,000 figures are undefined (NaN, never infinite) for a region with no
  enrolment. Participations are enrolments in programs, not unique students.
- Access distance: great-circle (haversine) distance from each region's centre to the nearest
  program site, vectorised with numpy (a latitude band narrows down the candidates), measured
  only where both ends have coordinates (`access_distance` says how each was found; never 0
  for a distance that was not measured).
- Need: low-income share above the alliance's, a rural locale, an outcome rate worse than the
  alliance's. Each is one need point, or unknown (and named) when its data is missing.
- The ranking: three orders (`ORDERS`) — shortfall (need points x how far seats per 1,000
  fall short of the alliance's, the default), need first, coverage only. `ranking_rule` says
  in words exactly what `rank_regions` does, and `reason_text` why each region ranks where it
  does. Ties share a rank and are named; a region missing an input is not ranked as if it were
  complete but listed with the ranks it could take.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.scope import ALLIANCE, NONRURAL, locale_cell
from domain.vocabulary import LOCALES

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
    digits: int = 0  # decimals shown
    ranking: bool = False  # a measure of the ranking (not coverage): missing means "not ranked"
    higher_is_more: str = "more"  # what a darker colour means, for captions: "more", "more shortfall"


METRICS: dict[str, Metric] = {m.metric_id: m for m in (
    Metric("seats_per_1000", "Seats per 1,000 K-12 students", "Seats per 1,000 students", "seats_per_1000",
           True, False, "program places offered per quarter for every 1,000 K-12 students enrolled", 1),
    Metric("participations_per_1000", "Participations per 1,000 K-12 students", "Participations per 1,000 students",
           "participations_per_1000", True, True,
           "program enrolments in the quarter for every 1,000 K-12 students (participations, not unique students: "
           "one child in two programs counts twice)", 1),
    Metric("programs", "Programs running", "Programs", "programs", False, False,
           "programs running at a site in the region"),
    Metric("partners", "Partners offering programs", "Partners", "partners", False, False,
           "partners running at least one program at a site in the region"),
    Metric("shortfall", "Shortfall: need points × how far seats fall short", "Shortfall", "shortfall_score", False, False,
           "need points times the share by which seats per 1,000 fall short of the alliance's (0: no shortfall)", 2,
           ranking=True, higher_is_more="more shortfall"),
    Metric("need_points", "Need points", "Need points", "need_points_known", False, False,
           "need points: a low-income share above the alliance's, a rural locale, an outcome worse than the alliance's",
           ranking=True, higher_is_more="more need"),
)}
DEFAULT_METRIC = "seats_per_1000"
# The map's colour that agrees with each order of the ranking.
ORDER_METRIC = {"shortfall": "shortfall", "need": "need_points", "coverage": "seats_per_1000"}


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


# --- which distance is shown ------------------------------------------------------------------

# How a region's distance to the nearest running site was found (the `distance_basis` column).
MEASURED = "measured"  # great-circle from the region's centre to the coordinates of a site
CENTRES = "centres"  # to the centre of another region whose sites have no coordinates: approximate
IN_REGION = "in_region"  # a site without coordinates in the region itself: closer than its edge, distance unknown
UNKNOWN = "unknown"  # no running site at all, or the region has no centre
DISTANCE_BASIS_TEXT = {
    MEASURED: "site coordinates",
    CENTRES: "between region centres (approximate)",
    IN_REGION: "a site in the region without coordinates",
    UNKNOWN: "no site to measure to",
}


def access_distance(region_ids, region_lon, region_lat, site_region, site_lon, site_lat,
                    site_located) -> tuple[np.ndarray, np.ndarray]:
    """Each region's distance (km) to the nearest running site and how it was found.

    Distances are measured only where both ends have coordinates: from the region's centre to
    a site's own coordinates (great-circle, `MEASURED`). A site without coordinates is only
    known to be somewhere in its region, so: a region holding one is `IN_REGION` (NaN, never 0:
    the distance was not measured); from another region it counts at its region's centre
    (`CENTRES`, the centre-to-centre distance), used when that is nearer than every located
    site; with no site to measure to, `UNKNOWN` (NaN)."""
    ids = np.asarray(region_ids, dtype=object)
    lon, lat = np.asarray(region_lon, dtype="float64"), np.asarray(region_lat, dtype="float64")
    site_region = np.asarray(site_region, dtype=object)
    site_lon, site_lat = np.asarray(site_lon, dtype="float64"), np.asarray(site_lat, dtype="float64")
    located = np.asarray(site_located, dtype=bool) & np.isfinite(site_lon) & np.isfinite(site_lat)
    measured, _ = nearest_km(lon, lat, site_lon[located], site_lat[located])
    holding = np.isin(ids, np.unique(site_region[~located]).astype(object)) if (~located).any() else np.zeros(len(ids), bool)
    centre = holding & np.isfinite(lon) & np.isfinite(lat)
    by_centre, _ = nearest_km(lon, lat, lon[centre], lat[centre])
    use_centre = np.isfinite(by_centre) & ~(measured <= by_centre)
    km = np.where(use_centre, by_centre, measured)
    basis = np.where(use_centre, CENTRES, np.where(np.isfinite(measured), MEASURED, UNKNOWN)).astype(object)
    km[holding] = np.nan
    basis[holding] = IN_REGION
    return km, basis


def distance_text(km, basis) -> str:
    """A region's nearest-site distance in words: `41 km`, `about 41 km (between region centres)`,
    `a site in the region (no coordinates)` or `unknown (no running site)`."""
    if basis == IN_REGION:
        return "a site in the region (no coordinates)"
    if basis == CENTRES and np.isfinite(km):
        return f"about {km:,.0f} km (between region centres)"
    if basis == MEASURED and np.isfinite(km):
        return f"{km:,.0f} km"
    return "unknown (no running site)"


# --- need and the ranking -------------------------------------------------------------------

NEED_COMPONENTS = ("low_income_point", "rural_point", "outcome_point")
ORDERS = {
    "shortfall": "Shortfall: need against coverage",
    "need": "Need first",
    "coverage": "Coverage only: fewest seats first",
}
DEFAULT_ORDER = "shortfall"


@dataclass(frozen=True)
class Alliance:
    """What every region is compared with. A need measure with no alliance figure is left out
    of the rule (and the rule says so): no low-income share anywhere, or no outcome chosen."""
    low_income_pct: float = float("nan")  # pooled over regions reporting one
    seats_per_1000: float = float("nan")  # pooled: all seats over all K-12 students
    outcome: str | None = None  # the outcome's name, e.g. "Grade 3 reading proficiency"
    outcome_year: str | None = None  # e.g. "2024-25"

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(c for c in NEED_COMPONENTS if (
            c == "rural_point" or (c == "low_income_point" and np.isfinite(self.low_income_pct))
            or (c == "outcome_point" and self.outcome)))


def _component_words(alliance: Alliance) -> str:
    words = {
        "low_income_point": (f"a low-income share above the alliance's ({alliance.low_income_pct:.0f}%)"
                             if np.isfinite(alliance.low_income_pct) else ""),
        "rural_point": "a rural locale",
        "outcome_point": (f"{alliance.outcome} "
                          f"{'in ' + alliance.outcome_year.replace('-', '–') + ' ' if alliance.outcome_year else ''}"
                          "certainly worse than the alliance's"),
    }
    parts = [words[c] for c in alliance.components]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def ranking_rule(order: str, alliance: Alliance) -> str:
    """The rule of `order`, in words, exactly as `rank_regions` applies it."""
    need = f"need points (one each for {_component_words(alliance)})"
    left_out = []
    if not np.isfinite(alliance.low_income_pct):
        left_out.append("no region reports a low-income share")
    if not alliance.outcome:
        left_out.append("no outcome is loaded")
    note = f" ({' and '.join(left_out)}, so {'they are' if len(left_out) > 1 else 'it is'} not part of the rule)" if left_out else ""
    seats = f"{alliance.seats_per_1000:,.1f}" if np.isfinite(alliance.seats_per_1000) else "no data"
    unranked = (" A region missing an input the rule needs is not ranked as if it were complete: it is listed after "
                "the others with the ranks it could take. Regions with no K-12 students are not ranked.")
    if order == "need":
        return (f"Need first: regions are ranked by {need}{note}, most first; then regions with no program site, then "
                "fewest seats per 1,000 K-12 students, then farthest from a site." + unranked)
    if order == "coverage":
        return ("Coverage only: regions are ranked by seats per 1,000 K-12 students, fewest first (a region with no "
                "program site before one whose sites offer no seats), then farthest from a site; need is not used. "
                "Regions with no K-12 students are not ranked.")
    return (f"Shortfall, need against coverage: each region's {need}{note} times how far its seats per 1,000 K-12 "
            f"students fall short of the alliance-wide {seats} (0% at or above it, 100% with no seat), largest "
            "first; equal shortfalls go to fewer seats per 1,000, then more need points, then farther from a site."
            + unranked)


def outcome_behind(rate_low, rate_high, alliance_low, alliance_high, higher_is_better: bool) -> tuple[np.ndarray, np.ndarray]:
    """How far a region's rate is worse than the alliance's, in percentage points (positive =
    worse), as a (low, high) range: equal when both rates are exact, wider when either comes
    from range-coded source data. NaN where the region's rate is unknown or suppressed."""
    rl, rh = (np.asarray(pd.to_numeric(pd.Series(v), errors="coerce"), dtype="float64") for v in (rate_low, rate_high))
    al, ah = float(alliance_low), float(alliance_high)
    if higher_is_better:
        return al - rh, ah - rl
    return rl - ah, rh - al


def need_points(regions: pd.DataFrame, alliance: Alliance) -> pd.DataFrame:
    """Add the need points and what is unknown about them.

    Each component in `alliance.components` is 1, 0 or unknown (<NA>): a low-income share above
    the alliance's; a rural locale; an outcome rate certainly worse than the alliance's
    (`outcome_behind_low` > 0: worse at either end of a range-coded rate), certainly not worse
    (`outcome_behind_high` <= 0), or unknown (no rate, suppressed, or a range either side of
    the alliance's). `need_points` counts the known points, `need_unknown` the unknown
    components, `need_max` the components in the rule and `need_missing` names the unknown."""
    out = regions.copy()
    n = len(out)
    components = alliance.components
    unknown_names = []
    low_income = pd.to_numeric(out["low_income_pct"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    values: dict[str, np.ndarray] = {}
    if "low_income_point" in components:
        values["low_income_point"] = np.where(np.isnan(low_income), np.nan, (low_income > alliance.low_income_pct) * 1.0)
        unknown_names.append((np.isnan(low_income), "low-income share"))
    locale = out["locale"].astype(object).where(out["locale"].notna(), None).to_numpy(dtype=object)
    no_locale = np.array([v is None or v == "" for v in locale], dtype=bool)
    values["rural_point"] = np.where(no_locale, np.nan, (locale == "rural") * 1.0)
    unknown_names.append((no_locale, "locale"))
    if "outcome_point" in components:
        low = _floats(out, "outcome_behind_low", n)
        high = _floats(out, "outcome_behind_high", n)
        high = np.where(np.isnan(high), low, high)
        point = np.where(low > 0, 1.0, np.where(high <= 0, 0.0, np.nan))
        point[np.isnan(low)] = np.nan
        values["outcome_point"] = point
        unknown_names.append((np.isnan(low), "outcome rate"))
        unknown_names.append((~np.isnan(low) & np.isnan(point), "whether the outcome is worse (a range either side of the alliance's)"))
    for column in NEED_COMPONENTS:
        out[column] = pd.array(values[column], dtype="Float64").astype("Int64") if column in values else pd.array([pd.NA] * n, dtype="Int64")
    known = np.column_stack([values[c] for c in components]) if components else np.zeros((n, 0))
    out["need_points"] = np.nansum(known, axis=1).astype(int)
    out["need_unknown"] = np.isnan(known).sum(axis=1).astype(int)
    out["need_max"] = len(components)
    names = [[] for _ in range(n)]
    for mask, name in unknown_names:
        for i in np.flatnonzero(mask):
            names[i].append(name)
    out["need_missing"] = [", ".join(v) for v in names]
    return out


def _floats(frame: pd.DataFrame, column: str, n: int) -> np.ndarray:
    if column not in frame:
        return np.full(n, np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def coverage_gap(seats_per_1000, alliance_seats_per_1000: float) -> np.ndarray:
    """How far seats per 1,000 fall short of the alliance-wide rate, as a share of it: 0 at or
    above it, 1 with no seat; NaN where the rate is undefined (no K-12 students). When the
    alliance has no seat at all, a region with none is 1 short."""
    seats = np.asarray(pd.to_numeric(pd.Series(seats_per_1000), errors="coerce"), dtype="float64")
    if not (np.isfinite(alliance_seats_per_1000) and alliance_seats_per_1000 > 0):
        return np.where(np.isnan(seats), np.nan, np.where(seats > 0, 0.0, 1.0))
    return np.clip(1.0 - seats / alliance_seats_per_1000, 0.0, 1.0)


def _sort_keys(order: str, score, seats, need, has_site, distance) -> list[np.ndarray]:
    """The rule's keys, smallest first, rounded so that equal figures compare equal."""
    keys = {
        "shortfall": [-score, seats, -need, -distance],
        "need": [-need, has_site, seats, -distance],
        "coverage": [seats, has_site, -distance],
    }[order]
    return [np.round(np.asarray(k, dtype="float64"), 9) for k in keys]


def rank_regions(regions: pd.DataFrame, alliance: Alliance, order: str = DEFAULT_ORDER) -> pd.DataFrame:
    """Regions ordered by `ranking_rule(order, alliance)`.

    Adds the need points (`need_points`), `coverage_gap`, `shortfall_score` (need points x
    coverage gap; NaN when unknown), `ranked` (every input of the order known), `rank`
    (competition ranking: regions equal on every key share a rank, listed by name; <NA> when
    not ranked), `tied_with`, `rank_best`/`rank_worst` (for a region not ranked, the ranks it
    could take with its unknown need points all 1 or all 0), `missing_inputs` and `reason`
    (why it ranks where it does, in words). Ranked regions come first, then the others by the
    best rank they could take.

    Expects: region_id, name, locale, k12_enrollment, low_income_pct, outcome_behind_low/high
    (optional), sites, seats_per_1000, nearest_site_km and distance_basis (optional)."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}: expected one of {', '.join(ORDERS)}")
    out = need_points(regions, alliance)
    n = len(out)
    enrollment = _floats(out, "k12_enrollment", n)
    sites = np.nan_to_num(_floats(out, "sites", n))
    seats = _floats(out, "seats_per_1000", n)
    distance = _floats(out, "nearest_site_km", n)
    basis = (out["distance_basis"].to_numpy(dtype=object) if "distance_basis" in out
             else np.where(np.isfinite(distance), MEASURED, UNKNOWN).astype(object))
    out["distance_basis"] = basis
    out["no_students"] = ~(enrollment > 0)
    out["no_sites"] = sites <= 0
    gap = coverage_gap(seats, alliance.seats_per_1000)
    need = out["need_points"].to_numpy(dtype="float64")
    unknown = out["need_unknown"].to_numpy()
    out["coverage_gap"] = gap
    out["shortfall_score"] = np.where(unknown > 0, np.nan, need * gap)
    out["need_points_known"] = np.where(unknown > 0, np.nan, need)
    uses_need = order != "coverage"
    missing = [("no K-12 students" if no_students else (need_missing if uses_need else ""))
               for no_students, need_missing in zip(out["no_students"], out["need_missing"])]
    out["missing_inputs"] = missing
    ranked = ~out["no_students"].to_numpy() & ((unknown == 0) | (not uses_need))
    # A site in the region without coordinates counts as nearest; no site at all, as farthest.
    distance_key = np.where(basis == IN_REGION, 0.0, np.where(np.isfinite(distance), distance, np.inf))
    has_site = (sites > 0).astype("float64")
    seats_key = np.nan_to_num(seats, nan=0.0)

    def keys(points):
        return _sort_keys(order, np.nan_to_num(points * gap), seats_key, points, has_site, distance_key)

    main = keys(need)
    names, ids = (out[c].astype(str).to_numpy(dtype=object) for c in ("name", "region_id"))
    order_ranked = np.flatnonzero(ranked)[np.lexsort([ids[ranked], names[ranked], *[k[ranked] for k in main][::-1]])]
    key_rows = [tuple(k[i] for k in main) for i in order_ranked]
    rank = np.zeros(n, dtype=np.int64)
    position = 0
    for j, i in enumerate(order_ranked):
        position = position if j and key_rows[j] == key_rows[j - 1] else j + 1
        rank[i] = position
    # The ranks a region not ranked could take, from its need points all 1 (best) or all 0.
    best, worst = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    could = ~ranked & ~out["no_students"].to_numpy()
    if could.any():
        import bisect

        high, low = keys(need + unknown), main
        for i in np.flatnonzero(could):
            best[i] = bisect.bisect_left(key_rows, tuple(k[i] for k in high)) + 1
            worst[i] = bisect.bisect_left(key_rows, tuple(k[i] for k in low)) + 1
    rest = np.flatnonzero(~ranked)
    rest = rest[np.lexsort([ids[rest], names[rest], np.where(best[rest] > 0, best[rest], n + 1)])]
    sequence = np.concatenate([order_ranked, rest]).astype(np.int64)
    out["ranked"] = ranked
    out["rank"] = _ints(rank, ranked)
    out["rank_best"] = _ints(best, best > 0)
    out["rank_worst"] = _ints(worst, worst > 0)
    tied = [""] * n
    by_rank: dict[int, list[int]] = {}
    for i in order_ranked:
        by_rank.setdefault(int(rank[i]), []).append(int(i))
    for members in by_rank.values():
        if len(members) > 1:
            for i in members:
                tied[i] = _name_list([names[k] for k in members if k != i])
    out["tied_with"] = tied
    out = out.take(sequence).reset_index(drop=True)
    out["reason"] = [reason_text(row, alliance, order) for row in out.to_dict("records")]
    return out


def _ints(values: np.ndarray, keep: np.ndarray) -> pd.arrays.IntegerArray:
    """Whole numbers where `keep`, <NA> elsewhere."""
    return pd.array([int(v) if k else pd.NA for v, k in zip(values, keep)], dtype="Int64")


def _name_list(names: list[str], n: int = 3) -> str:
    shown, more = names[:n], len(names) - n
    if more > 0:
        return ", ".join(shown) + f" and {more} more"
    return ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _need_words(row: dict, alliance: Alliance) -> str:
    scored = []
    if row.get("low_income_point") == 1:
        scored.append(f"{row['low_income_pct']:.0f}% low-income against {alliance.low_income_pct:.0f}% alliance-wide")
    if row.get("rural_point") == 1:
        scored.append("rural")
    if row.get("outcome_point") == 1:
        low, high = row.get("outcome_behind_low"), row.get("outcome_behind_high")
        points = f"{low:.1f}" if high is None or pd.isna(high) or abs(high - low) < 0.05 else f"{low:.1f} to {high:.1f}"
        scored.append(f"{alliance.outcome} {points} points worse than the alliance")
    words = f"need {int(row['need_points'])} of {int(row['need_max'])}"
    if scored:
        words += f" ({', '.join(scored)})"
    if row.get("need_missing"):
        words += f", {row['need_missing']} unknown"
    return words


def _coverage_words(row: dict, alliance: Alliance) -> str:
    if row.get("no_students"):
        return "no K-12 students"
    seats = row.get("seats_per_1000")
    reference = alliance.seats_per_1000
    against = f" against {reference:,.1f} alliance-wide" if np.isfinite(reference) else ""
    if row.get("no_sites"):
        return f"no program site (0 seats per 1,000{against})"
    gap = row.get("coverage_gap")
    if gap is not None and np.isfinite(gap) and gap > 0:
        return f"{seats:,.1f} seats per 1,000{against} ({gap * 100:.0f}% short)"
    if np.isfinite(reference):
        return f"{seats:,.1f} seats per 1,000, at or above the alliance's {reference:,.1f}"
    return f"{seats:,.1f} seats per 1,000"


def reason_text(row: dict, alliance: Alliance, order: str) -> str:
    """Why a region ranks where it does under `order`, in words: its need, its seats against
    the alliance's, its nearest site, a tie, or what keeps it from being ranked."""
    need, coverage = _need_words(row, alliance), _coverage_words(row, alliance)
    distance = "nearest site " + distance_text(row.get("nearest_site_km", np.nan), row.get("distance_basis", UNKNOWN))
    if row.get("no_students"):
        return "Not ranked: no K-12 students, so no seats per 1,000 to compare."
    if order == "coverage":
        text = f"{coverage}; {distance}; {need} (not used in this order)"
    elif order == "need":
        text = f"{need}; {coverage}; {distance}"
    else:
        score, gap = row.get("shortfall_score"), row.get("coverage_gap")
        if score is None or not np.isfinite(score) or score > 0:
            text = f"{need}, with {coverage}; {distance}"
        elif gap == 0:
            text = f"no shortfall: {coverage}; {need}; {distance}"
        else:
            text = f"no shortfall: no need point, though {coverage}; {distance}"
    text = text[0].upper() + text[1:] + "."
    if not row.get("ranked"):
        best, worst = row.get("rank_best"), row.get("rank_worst")
        where = ("" if best is None or pd.isna(best) else
                 f" it would rank {_ordinal(int(best))}" if best == worst else
                 f" it would rank between {_ordinal(int(best))} and {_ordinal(int(worst))}")
        return f"Not ranked: {row['missing_inputs']} unknown;{where or ' its place cannot be known'} once known. {text}"
    if row.get("tied_with"):
        text += f" Tied with {row['tied_with']} on every part of the rule."
    return text


# --- locale comparison ------------------------------------------------------------------------

def locale_summary(regions: pd.DataFrame) -> pd.DataFrame:
    """Seats, programs and access by locale (city, suburb, town, rural), then non-rural and
    the alliance: per-1,000 figures pooled (sums over sums), distances as medians."""
    locale = regions["locale"].to_numpy(dtype=object)
    enrollment, seats, sites, distance = (
        pd.to_numeric(regions[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        for c in ("k12_enrollment", "seats", "sites", "nearest_site_km"))
    groups = {locale_cell(loc): locale == loc for loc in LOCALES}
    groups[NONRURAL.cell] = np.isin(locale, NONRURAL.locales)
    groups[ALLIANCE.cell] = np.ones(len(regions), dtype=bool)
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
