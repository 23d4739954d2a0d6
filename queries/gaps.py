"""Equity gaps by student group: pooled rates, gaps to a reference group, trends, the
all-indicator heat map and rural vs non-rural, with suppression applied before anything is
returned.

Alliance-wide, rural and non-rural figures read `outcome_rollup` (a few dozen rows per
indicator and year); one region reads `outcomes` by its primary-key prefix (indicator, region).
Suppression: a group whose pooled denominator is under the threshold, or that was suppressed
at source, is hidden; so is every cell `outcome_complements` lists (complementary suppression
decided at import over all regions and totals together, see data/rollup.py). If the threshold
in force differs from the one the import used, the decision is recomputed here for the slices
asked for (slower, still correct).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, select

from data.rollup import (
    ALLIANCE_CELL, CELL_KEYS, NONRURAL_CELL, RURAL_CELL, protected_cube, read_cells, stored_threshold,
)
from data.schema import indicators, outcome_complements, outcome_rollup, outcomes, regions, targets
from domain import gaps as domain
from domain.suppression import threshold
from queries.common import ALLIANCE, LOCALE_SCOPES
from queries.meta import group_list

SCOPE_CELLS = {None: ALLIANCE_CELL, ALLIANCE: ALLIANCE_CELL, "locale:rural": RURAL_CELL, "locale:nonrural": NONRURAL_CELL}
RATE_COLUMNS = ["denominator", "numerator_low", "numerator_high", "rate_low", "rate_high"]
COUNT_COLUMNS = ["source_rows", "pooled_rows", "suppressed_rows", "ranged_rows"]


# --- rates, suppressed ---------------------------------------------------------------------

def group_rates(engine: Engine, indicator_ids: tuple[str, ...], scope: str | None = ALLIANCE,
                school_years: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Pooled rate of every student group, per indicator and school year, in an area.

    Columns: indicator_id, school_year, student_group, denominator, numerator_low/high,
    rate_low/high (percent; equal when exact), exact, suppressed, and how many source rows
    were pooled, suppressed at source or range-coded. Suppressed rows carry no numbers.
    """
    limit = threshold()
    indicator_ids = tuple(indicator_ids)
    with engine.connect() as conn:
        built_with = stored_threshold(conn)
        if scope in SCOPE_CELLS:
            frame = _aggregate_sums(conn, indicator_ids, scope, school_years)
        else:
            frame = _region_sums(conn, indicator_ids, scope, school_years)
        cell = SCOPE_CELLS.get(scope, scope)
        if built_with == limit:
            hidden_keys = _stored_complements(conn, indicator_ids, cell, school_years)
        else:
            hidden_keys = _recomputed_complements(conn, indicator_ids, cell, school_years, limit)
    frame = domain.pooled_rates(frame)
    den = frame["denominator"]
    key = list(zip(frame["indicator_id"], frame["school_year"], frame["student_group"]))
    complement = pd.Series([k in hidden_keys for k in key], index=frame.index, dtype=bool)
    frame["suppressed"] = frame["source_suppressed"] | (den.notna() & (den < limit)) | complement
    frame[RATE_COLUMNS] = frame[RATE_COLUMNS].astype("float64")
    frame.loc[frame["suppressed"], RATE_COLUMNS] = np.nan
    frame.loc[frame["suppressed"], "exact"] = True
    return frame.drop(columns="source_suppressed").sort_values(
        ["indicator_id", "school_year", "student_group"]).reset_index(drop=True)


def _tuples(conn, query) -> list[tuple]:
    return [tuple(row) for row in conn.execute(query)]


def _aggregate_sums(conn, indicator_ids, scope, school_years) -> pd.DataFrame:
    r = outcome_rollup.c
    query = select(r.indicator_id, r.school_year, r.student_group, r.locale, r.denominator, r.numerator_low,
                   r.numerator_high, *[r[c] for c in COUNT_COLUMNS]).where(r.indicator_id.in_(indicator_ids))
    if school_years is not None:
        query = query.where(r.school_year.in_(tuple(school_years)))
    if scope in LOCALE_SCOPES:
        query = query.where(r.locale.in_(LOCALE_SCOPES[scope]))
    rows = pd.DataFrame(_tuples(conn, query), columns=[
        "indicator_id", "school_year", "student_group", "locale", "denominator", "numerator_low", "numerator_high",
        *COUNT_COLUMNS])
    keys = ["indicator_id", "school_year", "student_group"]
    summed = rows.groupby(keys, as_index=False, sort=False)[
        ["denominator", "numerator_low", "numerator_high", *COUNT_COLUMNS]].sum()
    # Nothing pooled: missing, or suppressed when the source suppressed every row.
    nothing = summed["pooled_rows"] == 0
    summed["source_suppressed"] = nothing & (summed["suppressed_rows"] > 0)
    summed[["denominator", "numerator_low", "numerator_high"]] = summed[
        ["denominator", "numerator_low", "numerator_high"]].astype("float64")
    summed.loc[nothing, ["denominator", "numerator_low", "numerator_high"]] = np.nan
    return summed


def _region_sums(conn, indicator_ids, region_id, school_years) -> pd.DataFrame:
    o = outcomes.c
    query = select(o.indicator_id, o.school_year, o.student_group, o.numerator, o.numerator_suppressed, o.denominator,
                   o.denominator_suppressed, o.rate_low, o.rate_high).where(
        and_(o.indicator_id.in_(indicator_ids), o.region_id == region_id))
    if school_years is not None:
        query = query.where(o.school_year.in_(tuple(school_years)))
    rows = pd.DataFrame(_tuples(conn, query), columns=[
        "indicator_id", "school_year", "student_group", "numerator", "numerator_suppressed", "denominator",
        "denominator_suppressed", "rate_low", "rate_high"])
    for column in ("numerator", "denominator", "rate_low", "rate_high"):
        rows[column] = pd.to_numeric(rows[column], errors="coerce").astype("float64")
    source_suppressed = rows["numerator_suppressed"].astype(bool) | rows["denominator_suppressed"].astype(bool)
    pooled = ~source_suppressed & rows["denominator"].notna() & (
        rows["numerator"].notna() | (rows["rate_low"].notna() & rows["rate_high"].notna()))
    out = rows[["indicator_id", "school_year", "student_group"]].copy()
    out["denominator"] = rows["denominator"].where(pooled)
    out["numerator_low"] = rows["numerator"].fillna(rows["rate_low"] * rows["denominator"] / 100).where(pooled)
    out["numerator_high"] = rows["numerator"].fillna(rows["rate_high"] * rows["denominator"] / 100).where(pooled)
    out["source_rows"] = 1
    out["pooled_rows"] = pooled.astype(int)
    out["suppressed_rows"] = source_suppressed.astype(int)
    out["ranged_rows"] = (pooled & rows["numerator"].isna() & (rows["rate_low"] < rows["rate_high"])).astype(int)
    out["source_suppressed"] = source_suppressed
    return out


def _stored_complements(conn, indicator_ids, cell, school_years) -> set[tuple[str, str, str]]:
    c = outcome_complements.c
    query = select(c.indicator_id, c.school_year, c.student_group).where(
        and_(c.indicator_id.in_(indicator_ids), c.region_id == cell))
    if school_years is not None:
        query = query.where(c.school_year.in_(tuple(school_years)))
    return set(_tuples(conn, query))


def _recomputed_complements(conn, indicator_ids, cell, school_years, limit) -> set[tuple[str, str, str]]:
    """Complementary suppression for these slices with the threshold in force (slow path)."""
    cells = read_cells(conn, indicator_ids, school_years)
    if cells.empty:
        return set()
    cube = protected_cube(cells, limit)
    hidden = cube[cube["suppressed"] & ~cube["primary"] & (cube["region_id"] == cell)]
    return set(zip(hidden["indicator_id"], hidden["school_year"], hidden["student_group"]))


# --- what the page shows -------------------------------------------------------------------

def _indicator(engine: Engine, indicator_id: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(select(indicators).where(indicators.c.indicator_id == indicator_id)).mappings().first()
    return dict(row) if row else {"indicator_id": indicator_id, "name": indicator_id, "higher_is_better": True}


def _groups(engine: Engine) -> tuple[dict[str, str], dict[str, str | None]]:
    groups = group_list(engine).drop_duplicates("group_id", keep="last")
    labels = dict(zip(groups["group_id"], groups["label"]))
    complements = {g: (r if isinstance(r, str) and r else None) for g, r in zip(groups["group_id"], groups["reference_group_id"])}
    return labels, complements


def _label(frame: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    frame["group_label"] = frame["student_group"].map(lambda g: labels.get(g, g))
    if "reference_group" in frame:
        frame["reference_label"] = frame["reference_group"].map(lambda g: labels.get(g, g) if isinstance(g, str) else None)
    return frame


def gap_table(engine: Engine, indicator: str, scope: str | None = ALLIANCE, year: str | None = None,
              reference: str = "complement") -> pd.DataFrame:
    """Every group's rate and gap to its reference for one indicator and school year (the latest
    with data when `year` is None)."""
    rates = group_rates(engine, (indicator,), scope, (year,) if year else None)
    if rates.empty:
        return _empty_gaps()
    if year is None:
        rates = rates[rates["school_year"] == rates["school_year"].max()]
    meta = _indicator(engine, indicator)
    labels, complements = _groups(engine)
    out = domain.compute_gaps(rates, reference, bool(meta["higher_is_better"]), complements)
    return _label(out, labels)


def gap_trends(engine: Engine, indicator: str, scope: str | None = ALLIANCE, reference: str = "complement") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each group's gap in every school year, and per group whether it is closing."""
    rates = group_rates(engine, (indicator,), scope)
    if rates.empty:
        return _empty_gaps(), pd.DataFrame(columns=["student_group", "verdict"])
    meta = _indicator(engine, indicator)
    higher = bool(meta["higher_is_better"])
    labels, complements = _groups(engine)
    if reference == "best":  # the best group of the latest year stays the reference throughout
        latest = rates[rates["school_year"] == rates["school_year"].max()]
        reference = domain.best_group(latest, higher) or domain.ALL
    by_year = domain.compute_gaps(rates, reference, higher, complements).sort_values(
        ["school_year", "student_group"]).reset_index(drop=True)
    summary = domain.trend_summary(by_year)
    return _label(by_year, labels), _label(summary, labels)


def gap_heatmap(engine: Engine, scope: str | None = ALLIANCE, year: str | None = None,
                reference: str = "complement") -> pd.DataFrame:
    """Gaps of every group for every indicator in one school year (the latest when None)."""
    with engine.connect() as conn:
        meta = pd.DataFrame(_tuples(conn, select(indicators.c.indicator_id, indicators.c.name, indicators.c.stage,
                                                 indicators.c.higher_is_better)),
                            columns=["indicator_id", "name", "stage", "higher_is_better"])
    if meta.empty:
        return _empty_gaps()
    rates = group_rates(engine, tuple(meta["indicator_id"]), scope, (year,) if year else None)
    if rates.empty:
        return _empty_gaps()
    if year is None:
        rates = rates[rates["school_year"] == rates["school_year"].max()]
    labels, complements = _groups(engine)
    higher = dict(zip(meta["indicator_id"], meta["higher_is_better"].astype(bool)))
    gaps = domain.compute_gaps(rates, reference, higher, complements)
    gaps = gaps.merge(meta[["indicator_id", "name", "stage"]].rename(columns={"name": "indicator_name"}), on="indicator_id")
    return _label(gaps, labels)


def locale_gaps(engine: Engine, indicator: str, year: str | None = None, reference: str = "complement") -> pd.DataFrame:
    """The same gaps in rural regions and in non-rural regions, side by side (`area`)."""
    parts = []
    for scope, area in (("locale:rural", "Rural regions"), ("locale:nonrural", "Non-rural regions")):
        gaps = gap_table(engine, indicator, scope, year, reference)
        parts.append(gaps.assign(area=area, scope=scope))
    return pd.concat(parts, ignore_index=True)


def indicator_targets(engine: Engine, indicator: str, scope: str | None = ALLIANCE) -> pd.DataFrame:
    """The board's targets for an indicator in an area: alliance-wide targets for the alliance,
    a region's own targets for a region (rural and non-rural have none)."""
    if scope in LOCALE_SCOPES:
        return pd.DataFrame(columns=["student_group", "school_year", "target"])
    region = "" if scope in (None, ALLIANCE) else scope
    t = targets.c
    query = select(t.student_group, t.period.label("school_year"), t.target).where(
        and_(t.measure == indicator, t.region_id == region)).order_by(t.period, t.student_group)
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def _empty_gaps() -> pd.DataFrame:
    return pd.DataFrame(columns=[
        "indicator_id", "school_year", "student_group", "group_label", "reference_group", "reference_label",
        *RATE_COLUMNS, "exact", "suppressed", "gap", "gap_low", "gap_high", "margin", "approximate", "standing",
        "behind", "is_reference"])


# --- benchmark -----------------------------------------------------------------------------

def _first(engine: Engine, column, where=None):
    query = select(column).order_by(column).limit(1)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def _page_queries(engine: Engine, scope_kind: str) -> None:
    indicator = _first(engine, indicators.c.indicator_id)
    scope = {"alliance": ALLIANCE, "rural": "locale:rural"}.get(scope_kind) or _first(engine, regions.c.region_id)
    gap_table(engine, indicator, scope)
    gap_trends(engine, indicator, scope)
    gap_heatmap(engine, scope)
    indicator_targets(engine, indicator, scope)
    if scope_kind == "alliance":
        locale_gaps(engine, indicator)


BENCH = [
    ("gaps: one indicator, alliance-wide", lambda engine: gap_table(engine, _first(engine, indicators.c.indicator_id))),
    ("gaps: trend of every group, alliance-wide", lambda engine: gap_trends(engine, _first(engine, indicators.c.indicator_id))),
    ("gaps: heat map of every indicator, alliance-wide", lambda engine: gap_heatmap(engine)),
    ("gaps: rural vs non-rural", lambda engine: locale_gaps(engine, _first(engine, indicators.c.indicator_id))),
    ("gaps: heat map of every indicator, one region", lambda engine: gap_heatmap(engine, _first(engine, regions.c.region_id))),
    ("gaps: whole page, alliance-wide", lambda engine: _page_queries(engine, "alliance")),
    ("gaps: whole page, one region", lambda engine: _page_queries(engine, "region")),
]

__all__ = ["BENCH", "CELL_KEYS", "gap_heatmap", "gap_table", "gap_trends", "group_rates", "indicator_targets", "locale_gaps"]
