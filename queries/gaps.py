"""Equity gaps by student group: pooled rates, gaps to a reference group, trends, the
all-indicator heat map and rural vs non-rural, with suppression applied before anything is
returned.

Alliance-wide, rural and non-rural figures read `outcome_rollup` (a few dozen rows per
indicator and year); one region reads `outcomes` by its primary-key prefix (indicator, region).
Suppression (domain.suppression.protect_rates, with the disclosure policy in force): a group
whose pooled denominator is under the threshold, or that was suppressed at source, is hidden;
so is every cell `outcome_complements` lists (complementary suppression decided at import over
all regions and totals together, see data/rollup.py); a small numerator or remainder makes the
rate a band, and so does a cell `outcome_band_complements` lists (under the `bands` policy). If the threshold in force differs from the one the import used, the decision is
made again for the slices asked for (data.rollup.complements_in_force: slower, still correct).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, select

from data.rollup import CELL_KEYS, STORED_COLUMNS, complements_in_force, pooling_terms
from data.schema import indicators, outcome_rollup, outcomes, student_groups, targets
from domain import gaps as domain
from domain.suppression import protect_rates, threshold
from domain.scope import ALLIANCE, LOCALE_SCOPES, Scope
from domain.vocabulary import BUILT_IN_GROUPS

RATE_COLUMNS = ["denominator", "numerator_low", "numerator_high", "rate_low", "rate_high"]
COUNT_COLUMNS = ["source_rows", "pooled_rows", "suppressed_rows", "ranged_rows"]


# --- rates, suppressed ---------------------------------------------------------------------

def group_rates(engine: Engine, indicator_ids: tuple[str, ...], scope: Scope = ALLIANCE,
                school_years: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Pooled rate of every student group, per indicator and school year, in an area.

    Columns: indicator_id, school_year, student_group, denominator, numerator_low/high,
    rate_low/high (percent, one decimal; equal when exact), exact, suppressed, banded, and how
    many source rows were pooled, suppressed at source or range-coded. Suppressed rows carry
    no numbers; banded ones no numerators (domain.suppression.protect_rates).
    """
    limit = threshold()
    indicator_ids = tuple(indicator_ids)
    with engine.connect() as conn:
        if scope.is_region:
            sums = _region_sums(conn, indicator_ids, scope.region_id, school_years)
        else:
            sums = _aggregate_sums(conn, indicator_ids, scope, school_years)
        hidden_keys, band_keys = ({tuple(k) for k in frame[["indicator_id", "school_year", "student_group"]].itertuples(index=False)}
                                  for frame in complements_in_force(conn, indicator_ids, school_years, limit, region_id=scope.cell))
    keys = sorted(sums)
    columns = ["denominator", "numerator_low", "numerator_high", *COUNT_COLUMNS]
    frame = pd.DataFrame([(*key, *sums[key][:7]) for key in keys],
                         columns=["indicator_id", "school_year", "student_group", *columns])
    pooled = frame["pooled_rows"].to_numpy(dtype="int64") > 0
    for column in ("denominator", "numerator_low", "numerator_high"):
        frame[column] = frame[column].astype("float64").where(pooled)
    hidden = np.array([bool(sums[key][7]) or key in hidden_keys for key in keys], dtype=bool)
    out = protect_rates(frame, hidden, limit, band_complements=[key in band_keys for key in keys])
    return out[["indicator_id", "school_year", "student_group", *columns, "rate_low", "rate_high", "exact",
                "suppressed", "banded"]]


def _tuples(conn, query) -> list[tuple]:
    return [tuple(row) for row in conn.execute(query).fetchall()]


def _aggregate_sums(conn, indicator_ids, scope, school_years) -> dict[tuple, list]:
    """(indicator, year, group) -> [den, num_low, num_high, source, pooled, suppressed, ranged,
    suppressed at source]: the rollup's locale rows of the area added up."""
    r = outcome_rollup.c
    query = select(r.indicator_id, r.school_year, r.student_group, r.denominator, r.numerator_low, r.numerator_high,
                   *[r[c] for c in COUNT_COLUMNS]).where(r.indicator_id.in_(indicator_ids))
    if school_years is not None:
        query = query.where(r.school_year.in_(tuple(school_years)))
    if scope.is_locale:
        query = query.where(r.locale.in_(scope.locales))
    sums: dict[tuple, list] = {}
    for ind, year, group, den, low, high, source, pooled, suppressed, ranged in conn.execute(query).fetchall():
        acc = sums.get((ind, year, group))
        if acc is None:
            sums[(ind, year, group)] = [den, low, high, source, pooled, suppressed, ranged, False]
        else:
            for i, value in enumerate((den, low, high, source, pooled, suppressed, ranged)):
                acc[i] += value
    for acc in sums.values():
        acc[7] = acc[4] == 0 and acc[5] > 0  # nothing pooled because the source suppressed every row
    return sums


def _region_sums(conn, indicator_ids, region_id, school_years) -> dict[tuple, list]:
    """As `_aggregate_sums`, for one region: its own outcome rows (a primary-key range), with
    the pooling rule of the rollup (data.rollup.pooling_terms)."""
    o = outcomes.c
    query = select(o.indicator_id, *[o[c] for c in STORED_COLUMNS]).where(
        and_(o.indicator_id.in_(indicator_ids), o.region_id == region_id))
    if school_years is not None:
        query = query.where(o.school_year.in_(tuple(school_years)))
    rows = conn.execute(query).fetchall()
    if not rows:
        return {}
    stored = pd.DataFrame([tuple(r) for r in rows], columns=["indicator_id", *STORED_COLUMNS])
    terms = pooling_terms(stored)
    sums: dict[tuple, list] = {}
    for key, den, low, high, at_source, ranged in zip(
            zip(stored["indicator_id"], stored["school_year"], stored["student_group"]), terms["denominator"],
            terms["numerator_low"], terms["numerator_high"], terms["source_suppressed"], terms["ranged"]):
        pooled = den == den  # not NaN
        sums[key] = [den if pooled else None, low if pooled else None, high if pooled else None, 1, int(pooled),
                     int(at_source), int(ranged), bool(at_source)]
    return sums


# --- what the page shows -------------------------------------------------------------------

def latest_year(engine: Engine, indicator_ids: tuple[str, ...]) -> str | None:
    """The latest school year with outcomes for these indicators (from the rollup's key)."""
    r = outcome_rollup.c
    with engine.connect() as conn:
        years = [conn.execute(select(r.school_year).where(r.indicator_id == i).order_by(r.school_year.desc()).limit(1)).scalar()
                 for i in indicator_ids]
        years = [y for y in years if y]
        if years:
            return max(years)
        return conn.execute(select(outcomes.c.school_year).order_by(outcomes.c.school_year.desc()).limit(1)).scalar()


def _indicator(engine: Engine, indicator_id: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(select(indicators).where(indicators.c.indicator_id == indicator_id)).mappings().first()
    return dict(row) if row else {"indicator_id": indicator_id, "name": indicator_id, "higher_is_better": True}


def _groups(engine: Engine) -> tuple[dict[str, str], dict[str, str | None]]:
    """Labels and complementary groups: the built-in ones, then those a package declared."""
    labels = {g.group_id: g.label for g in BUILT_IN_GROUPS}
    complements = {g.group_id: g.reference_group_id for g in BUILT_IN_GROUPS}
    g = student_groups.c
    with engine.connect() as conn:
        for group_id, label, reference in conn.execute(select(g.group_id, g.label, g.reference_group_id)).fetchall():
            labels[group_id], complements[group_id] = label, reference or None
    return labels, complements


def _label(frame: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    frame["group_label"] = frame["student_group"].map(lambda g: labels.get(g, g))
    if "reference_group" in frame:
        frame["reference_label"] = frame["reference_group"].map(lambda g: labels.get(g, g) if isinstance(g, str) else None)
    return frame


def gap_table(engine: Engine, indicator: str, scope: Scope = ALLIANCE, year: str | None = None,
              reference: str = "complement") -> pd.DataFrame:
    """Every group's rate and gap to its reference for one indicator and school year (the latest
    with data when `year` is None)."""
    year = year or latest_year(engine, (indicator,))
    rates = group_rates(engine, (indicator,), scope, (year,))
    if rates.empty:
        return _empty_gaps()
    meta = _indicator(engine, indicator)
    labels, complements = _groups(engine)
    out = domain.compute_gaps(rates, reference, bool(meta["higher_is_better"]), complements)
    return _label(out, labels)


def gap_trends(engine: Engine, indicator: str, scope: Scope = ALLIANCE, reference: str = "complement") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each group's gap in every school year, and per group whether it is closing."""
    rates = group_rates(engine, (indicator,), scope)
    if rates.empty:
        return _empty_gaps(), _label(domain.trend_summary(_empty_gaps()), {})
    meta = _indicator(engine, indicator)
    higher = bool(meta["higher_is_better"])
    labels, complements = _groups(engine)
    if reference == "best":  # the best group of the latest year stays the reference throughout
        latest = rates[rates["school_year"] == rates["school_year"].max()]
        reference = domain.best_group(latest, higher) or domain.ALL
    by_year = domain.compute_gaps(rates, reference, higher, complements, reported_within=("indicator_id",)).sort_values(
        ["school_year", "student_group"]).reset_index(drop=True)
    summary = domain.trend_summary(by_year)
    return _label(by_year, labels), _label(summary, labels)


def gap_heatmap(engine: Engine, scope: Scope = ALLIANCE, year: str | None = None,
                reference: str = "complement") -> pd.DataFrame:
    """Gaps of every group for every indicator in one school year (the latest when None)."""
    with engine.connect() as conn:
        meta = pd.DataFrame(_tuples(conn, select(indicators.c.indicator_id, indicators.c.name, indicators.c.stage,
                                                 indicators.c.higher_is_better)),
                            columns=["indicator_id", "name", "stage", "higher_is_better"])
    if meta.empty:
        return _empty_gaps()
    year = year or latest_year(engine, tuple(meta["indicator_id"]))
    rates = group_rates(engine, tuple(meta["indicator_id"]), scope, (year,))
    if rates.empty:
        return _empty_gaps().assign(indicator_name=pd.Series(dtype=object), stage=pd.Series(dtype=object))
    labels, complements = _groups(engine)
    higher = dict(zip(meta["indicator_id"], meta["higher_is_better"].astype(bool)))
    gaps = domain.compute_gaps(rates, reference, higher, complements)
    gaps = gaps.merge(meta[["indicator_id", "name", "stage"]].rename(columns={"name": "indicator_name"}), on="indicator_id")
    return _label(gaps, labels)


def locale_gaps(engine: Engine, indicator: str, year: str | None = None, reference: str = "complement") -> pd.DataFrame:
    """The same gaps in rural regions and in non-rural regions, side by side (`area`), to one
    reference in both: a complement reported in either area stays the reference in both, and
    the highest-performing group is the best across both, so the two areas' gaps compare."""
    year = year or latest_year(engine, (indicator,))
    frames = [group_rates(engine, (indicator,), scope, (year,)).assign(area=scope.label, scope=scope.param)
              for scope in LOCALE_SCOPES]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return _empty_gaps().assign(area=pd.Series(dtype=object), scope=pd.Series(dtype=object))
    rates = pd.concat(frames, ignore_index=True)
    higher = bool(_indicator(engine, indicator)["higher_is_better"])
    labels, complements = _groups(engine)
    if reference == "best":
        reference = domain.best_group(rates, higher) or domain.ALL
    out = domain.compute_gaps(rates, reference, higher, complements, slice_keys=("indicator_id", "school_year", "area"),
                              reported_within=("indicator_id", "school_year"))
    return _label(out, labels)


def indicator_targets(engine: Engine, indicator: str, scope: Scope = ALLIANCE) -> pd.DataFrame:
    """The board's targets for an indicator in an area: alliance-wide targets for the alliance,
    a region's own targets for a region (rural and non-rural have none)."""
    if scope.is_locale:
        return pd.DataFrame(columns=["student_group", "school_year", "target"])
    region = scope.region_id or ""  # alliance-wide targets have no region
    t = targets.c
    query = select(t.student_group, t.period.label("school_year"), t.target).where(
        and_(t.measure == indicator, t.region_id == region)).order_by(t.period, t.student_group)
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def _empty_gaps() -> pd.DataFrame:
    """No rows, with the columns and types of a gap table (so that boolean masks stay masks)."""
    text = ["indicator_id", "school_year", "student_group", "group_label", "reference_group", "reference_label"]
    flags = ["exact", "suppressed", "approximate", "behind", "ahead", "mirrors", "is_reference", "reference_suppressed",
             "not_comparable", "higher_is_better"]
    numbers = [*RATE_COLUMNS, "reference_rate_low", "reference_rate_high", "reference_denominator", "gap", "gap_low",
               "gap_high", "margin", "standing", "standing_low", "standing_high"]
    return pd.DataFrame({**{c: pd.Series(dtype=object) for c in text}, **{c: pd.Series(dtype="float64") for c in numbers},
                         **{c: pd.Series(dtype=bool) for c in flags}})


__all__ = ["CELL_KEYS", "gap_heatmap", "gap_table", "gap_trends", "group_rates", "indicator_targets", "locale_gaps"]
