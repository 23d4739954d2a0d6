"""Regional coverage and underserved areas (/coverage): what each region has (sites, seats,
programs, partners, participations), what it needs (low-income share, locale, an outcome rate
against the alliance's), how far its students are from a program, and one region's profile.

Everything is aggregated in SQL and suppressed before it is returned:
- participations come from `participation_cells` (summed at import, with complementary
  suppression decided once over every region, locale, the alliance, student group and program
  filter: data/participation_rollup.py); counts from 1 to threshold-1 are hidden here with the
  threshold in force, and if that differs from the one the import used, the whole decision is
  recomputed (slow path, still correct);
- outcome rates are protected by domain.suppression.protect_rates, as on every page: hidden
  when suppressed at source, when their denominator is under the threshold (a zero one shows,
  with no rate), or when `outcome_complements` lists them (data/rollup.py), banded under the
  default disclosure policy; alliance rates come from queries.gaps.group_rates;
- seats, programs and partners are not counts of students and are shown as they are.

Reach definitions match the overview: a program runs in a quarter when it started on or before
the quarter's last day and had not ended before its first; a partner counts when it had joined
by the last day and not left before the first day. A region's programs, partners and seats are
those of running programs at sites in the region, read from `coverage_sites` (one flattened row
per site, rebuilt at import: data/coverage_rollup.py). Program filters take the value `any` for
"every value".

Speed at benchmark scale (2,000 regions, 2 M participation rows, 36,000 sites): rows are
fetched with the driver's own cursor, the access distance searches a latitude band
(domain/coverage.py), and the page asks for region_coverage and need_measures separately (each
cached) and ranks and groups them itself with `rank` and `by_locale`, which run no SQL. Region
shapes stay GeoJSON text (parsing 2,000 geometries would cost more than every other query);
latest years come from `outcome_rollup` or a primary-key range, never a scan of `outcomes`.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyarrow import csv
from sqlalchemy import Engine, and_, case, func, select, true

from data import participation_rollup as rollup
from data.rollup import complements_in_force, pooling_terms
from data.schema import (
    coverage_sites, indicators, outcome_rollup, outcomes, participation_cells, partners, programs, regions,
)
from domain import coverage as domain
from domain.periods import quarter_bounds
from domain.memo import memo
from domain.suppression import protect_rates, threshold
from domain.scope import ALLIANCE, ANY, NONRURAL, Scope, locale_cell
from domain.vocabulary import LOCALES
from domain.scope import region as region_scope
from domain.periods import previous_quarter
from queries.common import fast_tuples, scope_condition
from queries.participation import all_programs, protected_cells

AREA_LABELS = {**{locale_cell(locale): locale.capitalize() for locale in LOCALES},
               NONRURAL.cell: f"Non-rural ({', '.join(NONRURAL.locales)})", ALLIANCE.cell: "Alliance"}
REGION_COLUMNS = ["region_id", "name", "locale", "k12_enrollment", "low_income_pct", "centroid_lon", "centroid_lat"]


def _filters(program_type: str, grade_band: str, sector: str) -> dict[str, str]:
    """The program filters that are set, by column."""
    chosen = {"program_type": program_type, "grade_band": grade_band, "sector": sector}
    return {k: v for k, v in chosen.items() if v not in (None, ANY, "")}


# --- what can be chosen ------------------------------------------------------------------

def has_programs(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(programs.c.program_id).limit(1)).first() is not None


def filter_options(engine: Engine) -> dict[str, list[str]]:
    """Program types, grade bands and partner sectors present in the store."""
    with engine.connect() as conn:
        types = sorted(conn.execute(select(programs.c.program_type).distinct()).scalars())
        bands = sorted(conn.execute(select(programs.c.grade_band).distinct()).scalars())
        sectors = sorted(conn.execute(select(partners.c.sector).distinct()).scalars())
    return {"program_type": types, "grade_band": bands, "sector": sectors}


STAGE_ORDER = {s: i for i, s in enumerate(("elementary", "middle", "high", "postsecondary", "workforce", "educator"))}


def outcome_choices(engine: Engine) -> pd.DataFrame:
    """Indicators with all-students data, with their latest school year and how many regions
    report it that year, the most widely reported first (read from `outcome_rollup`)."""
    i, r = indicators.c, outcome_rollup.c
    latest = (select(r.indicator_id, func.max(r.school_year).label("school_year")).where(r.student_group == "all")
              .group_by(r.indicator_id).subquery())
    query = (select(i.indicator_id, i.name, i.stage, i.higher_is_better, r.school_year, func.sum(r.source_rows))
             .join_from(indicators, latest, latest.c.indicator_id == i.indicator_id)
             .join(outcome_rollup, and_(r.indicator_id == latest.c.indicator_id, r.school_year == latest.c.school_year))
             .where(r.student_group == "all")
             .group_by(i.indicator_id, i.name, i.stage, i.higher_is_better, r.school_year))
    with engine.connect() as conn:
        rows = [(*row[:5], int(row[5] or 0)) for row in fast_tuples(conn, query)]
    rows.sort(key=lambda row: (-row[5], STAGE_ORDER.get(row[2], 99), row[1]))
    out = pd.DataFrame(rows, columns=["indicator_id", "name", "stage", "higher_is_better", "school_year", "regions_reported"])
    out["higher_is_better"] = out["higher_is_better"].astype(bool)
    out["regions_reported"] = out["regions_reported"].astype(int)
    return out


# --- regions and their shapes ------------------------------------------------------------

def region_shapes(engine: Engine) -> dict:
    """Every region's simplified geometry as GeoJSON text by region_id (`geometries`; left as
    text because parsing 2,000 of them costs more than the rest of the page's queries: the map
    parses the ones it draws), and the alliance's bounding box [west, south, east, north]
    (`bounds`)."""
    with engine.connect() as conn:
        geometries = {r: g for r, g in fast_tuples(conn, select(regions.c.region_id, regions.c.geometry)) if g}
    return {"geometries": geometries, "bounds": _bounds(list(geometries.values()))}


def label_anchors(engine: Engine) -> pd.DataFrame:
    """Where each region's name would go on the map (data.geography.label_anchors): the centre
    of the largest circle inside it and its radius. Parses every geometry, so cached per data
    version like every query; the map names the regions whose name fits at its zoom."""
    from data.geography import label_anchors as anchors

    with engine.connect() as conn:
        rows = fast_tuples(conn, select(regions.c.region_id, regions.c.name, regions.c.geometry).where(regions.c.geometry.is_not(None)))
    shapes = shapely.from_geojson([g for _, _, g in rows]) if rows else []
    return anchors([r for r, _, _ in rows], [n for _, n, _ in rows], shapes)


# Brackets, braces and spaces go; every comma ends a number's line.
_ONE_NUMBER_A_LINE = str.maketrans({"[": None, "]": None, "}": None, " ": None, ",": "\n"})


def _bounds(geometries: list[str]) -> list[float] | None:
    """[west, south, east, north] of GeoJSON Polygon/MultiPolygon texts, read straight from
    the numbers (every coordinate pair is lon, lat; "coordinates" is the last member) by
    Arrow's CSV reader, one number a line: no geometries and no Python float per number."""
    numbers = "\n".join(g[g.index("[", g.index('"coordinates"')):] for g in geometries if '"coordinates"' in g)
    numbers = numbers.translate(_ONE_NUMBER_A_LINE).encode()
    if not numbers.strip():
        return None
    values = csv.read_csv(io.BytesIO(numbers), read_options=csv.ReadOptions(column_names=["v"], use_threads=False),
                          convert_options=csv.ConvertOptions(column_types={"v": pa.float64()})).column("v").to_numpy()
    if len(values) < 2:
        return None
    lon, lat = values[0::2], values[1::2]
    return [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]


# --- sites, seats, programs, partners ----------------------------------------------------

def _site_where(quarter: str | None, filters: dict[str, str]):
    """Sites whose program runs in the quarter while its partner is a member, matching the
    program filters (see data/coverage_rollup.py)."""
    c = coverage_sites.c
    conditions = []
    if quarter:
        first, last = quarter_bounds(quarter)
        conditions += [c.active_from <= last, c.active_to >= first]
    conditions += [c[column] == value for column, value in filters.items()]
    return and_(true(), *conditions)


REACH_COLUMNS = ["sites", "seats", "programs", "partners", "sites_located"]


def _reach_by_region(conn, quarter, filters) -> pd.DataFrame:
    """REACH_COLUMNS of the regions with a running site, indexed by region_id."""
    c = coverage_sites.c
    query = (select(c.region_id, func.count(), func.sum(c.seats), func.count(func.distinct(c.program_id)),
                    func.count(func.distinct(c.partner_id)), func.sum(case((c.located, 1), else_=0)))
             .where(_site_where(quarter, filters)).group_by(c.region_id))
    rows = fast_tuples(conn, query)
    counts = np.array([row[1:] for row in rows], dtype="int64").reshape(len(rows), len(REACH_COLUMNS))
    return pd.DataFrame(counts, columns=REACH_COLUMNS, index=pd.Index([row[0] for row in rows], name="region_id"))


def _site_points(conn, quarter, filters) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Region, longitude, latitude and `located` of the running sites (a site without
    coordinates is stored at its region's centre with `located` false)."""
    c = coverage_sites.c
    rows = fast_tuples(conn, select(c.region_id, c.lon, c.lat, c.located).where(_site_where(quarter, filters)))
    if not rows:
        return np.empty(0, dtype=object), np.empty(0), np.empty(0), np.empty(0, dtype=bool)
    region, lon, lat, located = zip(*rows)
    return (np.array(region, dtype=object), np.array(lon, dtype="float64"), np.array(lat, dtype="float64"),  # NULL: NaN
            np.array(located, dtype=bool))


def site_points(engine: Engine, quarter: str | None = None, program_type: str = ANY, grade_band: str = ANY,
                sector: str = ANY, limit: int = 5000) -> pd.DataFrame:
    """Running sites with coordinates, for the map (at most `limit`, the largest first);
    `attrs["total"]` counts them all."""
    c = coverage_sites.c
    where = and_(_site_where(quarter, _filters(program_type, grade_band, sector)), c.located)
    query = (select(c.region_id, c.site_name, c.program_name, c.program_type, c.seats, c.lon, c.lat).where(where)
             .order_by(c.seats.desc(), c.region_id, c.program_id, c.site_name).limit(limit))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(coverage_sites).where(where)).scalar_one()
        frame = pd.DataFrame(fast_tuples(conn, query),
                             columns=["region_id", "site_name", "program", "program_type", "seats", "lon", "lat"])
    frame.attrs["total"] = int(total)
    return frame


# --- the map and the ranking ---------------------------------------------------------------

def region_coverage(engine: Engine, quarter: str | None = None, program_type: str = ANY, grade_band: str = ANY,
                    sector: str = ANY) -> pd.DataFrame:
    """One row per region: enrolment, low-income share, locale, running sites (with and without
    coordinates), seats, programs, partners, participations (suppressed), the per-1,000 figures
    and the distance from the region's centre to the nearest running site with how it was found
    (`distance_basis`: domain.coverage.access_distance).

    Participations always count every program (`attrs["participations_filtered"]` says whether
    program filters were set, which they then ignore); they are unavailable without a quarter.
    `attrs` carries the alliance-wide figures."""
    filters = _filters(program_type, grade_band, sector)
    with engine.connect() as conn:
        rows = fast_tuples(conn, select(*[regions.c[c] for c in REGION_COLUMNS]).order_by(regions.c.name))
        reach = _reach_by_region(conn, quarter, filters)
        site_region, site_lon, site_lat, located = _site_points(conn, quarter, filters)
        # Participations are not split by program filters (data/participation_rollup.py).
        cells = protected_cells(engine, conn, **all_programs(quarter=quarter, student_group="all")) if quarter else None
    # Columns as arrays, the frame built once: for 2,000 regions, pandas operations column by
    # column cost about as much as the SQL.
    ids, names, locales, *numbers = (list(c) for c in zip(*rows)) if rows else [[]] * len(REGION_COLUMNS)
    enrollment, low_income, lon, lat = (np.array(v, dtype="float64") for v in numbers)  # NULL becomes NaN
    reach = reach.reindex(ids, fill_value=0)
    if cells is not None:
        # No cell: no participation reported in the region (a true zero for this quarter).
        by_region = cells.set_index("region_id").reindex(ids)
        no_cell = by_region["source_rows"].isna().to_numpy()
        participations = np.where(no_cell, 0.0, by_region["participations"].to_numpy(dtype="float64"))
        suppressed = by_region["participations_suppressed"].fillna(False).to_numpy(dtype=bool)
        source_rows = by_region["source_rows"].fillna(0).to_numpy(dtype="int64")
    else:
        participations, suppressed, source_rows = np.full(len(ids), np.nan), np.zeros(len(ids), bool), np.zeros(len(ids), "int64")
    distance, basis = domain.access_distance(ids, lon, lat, site_region, site_lon, site_lat, located)
    frame = pd.DataFrame({
        "region_id": ids, "name": names, "locale": locales, "k12_enrollment": enrollment, "low_income_pct": low_income,
        "centroid_lon": lon, "centroid_lat": lat, **{c: reach[c].to_numpy() for c in REACH_COLUMNS},
        "seats_per_1000": domain.per_thousand(reach["seats"].to_numpy(), enrollment),
        "nearest_site_km": distance, "distance_basis": basis,
        "participations_available": np.full(len(ids), cells is not None),
        "participations": participations, "participations_suppressed": suppressed,
        "participations_source_rows": source_rows, "participations_per_1000": domain.per_thousand(participations, enrollment),
    })
    total = float(np.nansum(enrollment))
    areas = cells[cells["region_id"].isin(rollup.AGGREGATE_CELLS)] if cells is not None else None
    alliance = cells[cells["region_id"] == rollup.ALLIANCE_CELL] if cells is not None else pd.DataFrame()
    frame.attrs = {
        "k12_enrollment": total,
        "seats": int(frame["seats"].sum()),
        "seats_per_1000": float(domain.per_thousand([frame["seats"].sum()], [total])[0]),
        "low_income_pct": domain.pooled_share(low_income, enrollment),
        "participations": float(alliance["participations"].iloc[0]) if len(alliance) else np.nan,
        "participations_per_1000": (float(domain.per_thousand(alliance["participations"], [total])[0])
                                    if len(alliance) else np.nan),
        "participations_available": cells is not None,
        "participations_filtered": bool(filters),
        # participations of each locale, non-rural and the alliance: {area: (count or None, suppressed)}
        "areas": ({r: (None if pd.isna(v) else float(v), bool(h)) for r, v, h in
                   zip(areas["region_id"], areas["participations"], areas["participations_suppressed"])}
                  if areas is not None else {}),
        "sites_without_coordinates": int((frame["sites"] - frame["sites_located"]).sum()),
    }
    return frame


def need_measures(engine: Engine, indicator: str | None = None, school_year: str | None = None) -> pd.DataFrame:
    """Every region's all-students rate for one indicator and year against the alliance's
    pooled rate: rate_low/high (equal when exact), suppressed, and how far it is behind the
    alliance's in percentage points (`outcome_behind_low/high`: positive = worse than the
    alliance; a range when either rate is range-coded).
    `attrs` holds the alliance rate and the indicator."""
    columns = ["region_id", "denominator", "rate_low", "rate_high", "exact", "suppressed", "outcome_behind_low",
               "outcome_behind_high"]
    if not indicator:
        return pd.DataFrame(columns=columns)
    limit = threshold()
    o = outcomes.c
    with engine.connect() as conn:
        meta = conn.execute(select(indicators).where(indicators.c.indicator_id == indicator)).mappings().first()
        if school_year is None:  # from the rollup: a scan of the indicator's outcomes costs 20 ms
            r = outcome_rollup.c
            school_year = conn.execute(select(func.max(r.school_year)).where(and_(
                r.indicator_id == indicator, r.student_group == "all", r.source_rows > 0))).scalar()
        rows = pd.DataFrame(fast_tuples(conn, select(
            o.region_id, o.numerator, o.numerator_suppressed, o.denominator, o.denominator_suppressed, o.rate_low, o.rate_high)
            .where(and_(o.school_year == school_year, o.indicator_id == indicator, o.student_group == "all"))),
            columns=["region_id", "numerator", "numerator_suppressed", "denominator", "denominator_suppressed",
                     "rate_low", "rate_high"])
        complements, bands = (set(frame["region_id"]) for frame in complements_in_force(
            conn, (indicator,), (school_year,), limit, student_group="all"))
    terms = pooling_terms(rows)  # as the rollup pools them: rows suppressed at source add nothing
    source = terms.pop("source_suppressed")
    out = protect_rates(terms[["denominator", "numerator_low", "numerator_high"]].assign(region_id=rows["region_id"]),
                        (source | rows["region_id"].isin(complements)).to_numpy(dtype=bool), limit,
                        band_complements=rows["region_id"].isin(bands).to_numpy(dtype=bool))
    from queries.gaps import group_rates

    alliance = group_rates(engine, (indicator,), ALLIANCE, (school_year,)) if school_year else pd.DataFrame()
    alliance = alliance[alliance["student_group"] == "all"] if len(alliance) else alliance
    a_low = float(alliance["rate_low"].iloc[0]) if len(alliance) else np.nan
    a_high = float(alliance["rate_high"].iloc[0]) if len(alliance) else np.nan
    higher = bool(meta["higher_is_better"]) if meta else True
    out["outcome_behind_low"], out["outcome_behind_high"] = domain.outcome_behind(out["rate_low"], out["rate_high"], a_low, a_high, higher)
    out = out[columns].reset_index(drop=True)
    out.attrs = {"indicator_id": indicator, "indicator_name": meta["name"] if meta else indicator,
                 "higher_is_better": higher, "school_year": school_year, "alliance_rate_low": a_low,
                 "alliance_rate_high": a_high}
    return out


def underserved(engine: Engine, quarter: str | None = None, program_type: str = ANY, grade_band: str = ANY,
                sector: str = ANY, indicator: str | None = None, school_year: str | None = None,
                order: str = domain.DEFAULT_ORDER) -> pd.DataFrame:
    """Regions ranked by domain.coverage.ranking_rule(order), with every component of the rule,
    the coverage figures and the need measures (the page gets the two halves from the cache
    and calls `rank` itself)."""
    return rank(region_coverage(engine, quarter, program_type, grade_band, sector),
                need_measures(engine, indicator, school_year), order)


def alliance_for(coverage: pd.DataFrame, need: pd.DataFrame) -> domain.Alliance:
    """What the ranking compares every region with (from the two frames' attrs)."""
    return domain.Alliance(
        low_income_pct=float(coverage.attrs.get("low_income_pct", np.nan)),
        seats_per_1000=float(coverage.attrs.get("seats_per_1000", np.nan)),
        outcome=need.attrs.get("indicator_name"), outcome_year=need.attrs.get("school_year"))


@memo  # runs on every /coverage rerun (no SQL, but ~0.2 s at 2,000 regions): once per distinct input
def rank(coverage: pd.DataFrame, need: pd.DataFrame, order: str = domain.DEFAULT_ORDER) -> pd.DataFrame:
    """region_coverage and need_measures joined and ranked by `order` (no SQL: both are
    already suppressed). `attrs` adds the order and the rule in words."""
    frame = coverage.merge(need, on="region_id", how="left")
    for column in ("outcome_behind_low", "outcome_behind_high", "rate_low", "rate_high"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["suppressed"] = frame["suppressed"].astype("boolean").fillna(False).astype(bool)
    alliance = alliance_for(coverage, need)
    ranked = domain.rank_regions(frame, alliance, order)
    ranked.attrs = {**coverage.attrs, **need.attrs, "order": order, "rule": domain.ranking_rule(order, alliance)}
    return ranked


def locale_coverage(engine: Engine, quarter: str | None = None, program_type: str = ANY, grade_band: str = ANY,
                    sector: str = ANY) -> pd.DataFrame:
    """Coverage by locale: see `by_locale`."""
    return by_locale(region_coverage(engine, quarter, program_type, grade_band, sector))


def by_locale(coverage: pd.DataFrame) -> pd.DataFrame:
    """Coverage by locale (city, suburb, town, rural), non-rural regions and the alliance:
    seats and participations per 1,000 students (pooled), regions without a site, median
    distance to the nearest site. Participations are the store-wide suppressed area cells that
    region_coverage carries (no SQL)."""
    summary = domain.locale_summary(coverage)
    areas = coverage.attrs.get("areas", {})
    available = bool(coverage.attrs.get("participations_available"))
    summary["participations"] = [(areas[a][0] if a in areas else 0.0) if available else np.nan for a in summary["area"]]
    summary["participations"] = summary["participations"].astype("float64")
    summary["participations_suppressed"] = [bool(areas[a][1]) if a in areas else False for a in summary["area"]]
    summary["participations_per_1000"] = domain.per_thousand(summary["participations"], summary["k12_enrollment"])
    summary["label"] = summary["area"].map(AREA_LABELS)
    summary.attrs = {"participations_available": available,
                     "participations_filtered": bool(coverage.attrs.get("participations_filtered"))}
    return summary


# --- the alliance at a glance ------------------------------------------------------------

def _count_by(conn, where, keys: list, measures: dict) -> pd.DataFrame:
    """GROUP BY `keys` of the running sites matching `where`: one column per measure."""
    rows = fast_tuples(conn, select(*keys, *measures.values()).where(where).group_by(*keys))
    names = [k.name for k in keys] + list(measures)
    frame = pd.DataFrame(rows, columns=names)
    for column in measures:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
    return frame


def alliance_glance(engine: Engine, quarter: str | None = None, program_type: str = ANY, grade_band: str = ANY,
                    sector: str = ANY, area: Scope = ALLIANCE) -> dict[str, pd.DataFrame]:
    """The alliance (or one area: a locale scope or a region) at a glance, for the program
    filters, in `quarter` and the quarter before, all aggregated in SQL:

    - `sectors`: partners running a program at a site in the area, by sector (`partners`,
      `partners_before`);
    - `programs`: programs, sites and seats by program type and grade band (each with
      `_before`);
    - `by_quarter`: every quarter's sites, programs, partners and seats, and the area's
      participations (all programs: they are not split by program filters), suppressed with
      the store-wide decision; per 1,000 K-12 students of the area.

    A partner or program is counted once however many sites it has. `attrs`: quarter,
    previous, enrolment, whether program filters were set."""
    filters = _filters(program_type, grade_band, sector)
    c = coverage_sites.c
    previous = previous_quarter(quarter) if quarter else None
    in_area = scope_condition(c.region_id, area)
    partners_of = {"partners": func.count(func.distinct(c.partner_id))}
    programs_of = {"programs": func.count(func.distinct(c.program_id)), "sites": func.count(), "seats": func.sum(c.seats)}
    with engine.connect() as conn:
        def both(keys, measures):
            now = _count_by(conn, and_(_site_where(quarter, filters), in_area), keys, measures)
            if previous is None:
                return now.assign(**{f"{m}_before": np.nan for m in measures})
            before = _count_by(conn, and_(_site_where(previous, filters), in_area), keys, measures)
            names = [k.name for k in keys]
            out = now.merge(before, on=names, how="outer", suffixes=("", "_before"))
            for m in measures:  # absent in one quarter: none then
                out[m] = out[m].fillna(0).astype("int64")
                out[f"{m}_before"] = out[f"{m}_before"].fillna(0).astype("int64")
            return out

        sectors = both([c.sector], partners_of)
        by_type = both([c.program_type, c.grade_band], programs_of)
        quarters = list(conn.execute(select(participation_cells.c.quarter).distinct()
                                     .order_by(participation_cells.c.quarter)).scalars())
        rows = []
        for q in quarters:  # one grouped count per quarter: a site runs in a span of quarters
            counts = conn.execute(select(func.count(), func.coalesce(func.sum(c.seats), 0), func.count(func.distinct(c.program_id)),
                                         func.count(func.distinct(c.partner_id)))
                                  .where(and_(_site_where(q, filters), in_area))).one()
            rows.append((q, *[int(v) for v in counts]))
        enrollment = conn.execute(select(func.coalesce(func.sum(regions.c.k12_enrollment), 0))
                                  .where(scope_condition(regions.c.region_id, area))).scalar_one()
        cells = protected_cells(engine, conn, **all_programs(region_id=area.cell, student_group="all")) if quarters else None
    by_quarter = pd.DataFrame(rows, columns=["quarter", "sites", "seats", "programs", "partners"])
    if cells is not None and len(by_quarter):
        cells = cells.set_index("quarter").reindex(by_quarter["quarter"])
        # No cell: nothing reported in the area that quarter (a true zero).
        by_quarter["participations"] = np.where(cells["source_rows"].isna().to_numpy(), 0.0,
                                                cells["participations"].to_numpy(dtype="float64"))
        by_quarter["participations_suppressed"] = cells["participations_suppressed"].fillna(False).to_numpy(dtype=bool)
    else:
        by_quarter["participations"] = np.nan
        by_quarter["participations_suppressed"] = False
    by_quarter["seats_per_1000"] = domain.per_thousand(by_quarter["seats"], [enrollment] * len(by_quarter))
    by_quarter["participations_per_1000"] = domain.per_thousand(by_quarter["participations"], [enrollment] * len(by_quarter))
    out = {
        "sectors": sectors.sort_values(["partners", "sector"], ascending=[False, True]).reset_index(drop=True),
        "programs": by_type.sort_values(["program_type", "grade_band"]).reset_index(drop=True),
        "by_quarter": by_quarter,
    }
    for frame in out.values():
        frame.attrs = {"quarter": quarter, "previous": previous, "area": area, "k12_enrollment": float(enrollment),
                       "participations_filtered": bool(filters), "participations_available": cells is not None}
    return out


# --- one region ----------------------------------------------------------------------------

def region_programs(engine: Engine, region_id: str, quarter: str | None = None) -> dict[str, pd.DataFrame]:
    """What runs in one region in the quarter (all program filters open): partners by sector,
    programs and seats by program type and grade band."""
    c = coverage_sites.c
    where = and_(_site_where(quarter, {}), c.region_id == region_id)
    with engine.connect() as conn:
        by_sector = pd.DataFrame(fast_tuples(conn, select(c.sector, func.count(func.distinct(c.partner_id)))
                                         .where(where).group_by(c.sector)), columns=["sector", "partners"])
        by_type = pd.DataFrame(fast_tuples(conn, select(c.program_type, c.grade_band, func.count(func.distinct(c.program_id)),
                                                    func.count(), func.sum(c.seats))
                                       .where(where).group_by(c.program_type, c.grade_band)),
                               columns=["program_type", "grade_band", "programs", "sites", "seats"])
    for frame, columns in ((by_sector, ["partners"]), (by_type, ["programs", "sites", "seats"])):
        for column in columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
    return {"partners_by_sector": by_sector.sort_values(["partners", "sector"], ascending=[False, True]).reset_index(drop=True),
            "programs": by_type.sort_values(["program_type", "grade_band"]).reset_index(drop=True)}


def region_participation(engine: Engine, region_id: str, quarter: str | None = None) -> dict[str, pd.DataFrame]:
    """One region's participations (all programs) by quarter, and by student group in the
    quarter, beside the alliance's; suppressed with the store-wide decision."""
    with engine.connect() as conn:
        # Every group and quarter of the region in one read by the region's index (asked for
        # one quarter, SQLite would rather scan that quarter's cells of every region).
        cells = protected_cells(engine, conn, **all_programs(region_id=region_id))
        enrollment = conn.execute(select(regions.c.k12_enrollment).where(regions.c.region_id == region_id)).scalar()
    keep = ["quarter", "student_group", "participations", "participations_suppressed", "source_rows"]
    by_quarter = cells.loc[cells["student_group"] == "all", keep].sort_values("quarter").reset_index(drop=True)
    by_group = cells.loc[cells["quarter"] == quarter] if quarter else cells.iloc[:0]
    by_quarter["participations_per_1000"] = domain.per_thousand(by_quarter["participations"], [enrollment] * len(by_quarter)) if len(by_quarter) else []
    return {"by_quarter": by_quarter, "by_group": by_group[keep].reset_index(drop=True)}


def region_outcomes(engine: Engine, region_id: str) -> pd.DataFrame:
    """Each indicator's all-students rate in the region against the alliance's, in the latest
    school year the region reports it (pooled and suppressed by queries.gaps.group_rates)."""
    from queries.gaps import group_rates

    i, o = indicators.c, outcomes.c
    with engine.connect() as conn:
        meta = {row[0]: row[1:] for row in fast_tuples(conn, select(i.indicator_id, i.name, i.higher_is_better))}
        # Each indicator's latest year first (a primary-key range): then only those years are
        # pooled, not every year and group the region reports.
        years = dict(conn.execute(select(o.indicator_id, func.max(o.school_year)).where(
            o.indicator_id.in_(tuple(meta)), o.region_id == region_id, o.student_group == "all")
            .group_by(o.indicator_id)).all())
    columns = ["indicator_id", "name", "higher_is_better", "school_year", "rate_low", "rate_high", "denominator",
               "suppressed", "alliance_low", "alliance_high", "alliance_suppressed"]
    if not years:
        return pd.DataFrame(columns=columns)
    ids, school_years = tuple(sorted(years, key=lambda k: meta[k][0])), tuple(sorted(set(years.values())))
    wanted = pd.MultiIndex.from_tuples([(k, years[k], "all") for k in ids])
    keys = ["indicator_id", "school_year", "student_group"]
    region = group_rates(engine, tuple(meta), region_scope(region_id), school_years).set_index(keys).reindex(wanted)
    alliance = group_rates(engine, tuple(meta), ALLIANCE, school_years).set_index(keys).reindex(wanted)
    return pd.DataFrame({
        "indicator_id": list(ids), "name": [meta[k][0] for k in ids], "higher_is_better": [bool(meta[k][1]) for k in ids],
        "school_year": [years[k] for k in ids],
        **{c: region[c].to_numpy() for c in ("rate_low", "rate_high", "denominator", "suppressed")},
        "alliance_low": alliance["rate_low"].to_numpy(), "alliance_high": alliance["rate_high"].to_numpy(),
        "alliance_suppressed": alliance["suppressed"].to_numpy(),
    }, columns=columns)
