"""Pooled outcome rollup and store-wide complementary suppression, rebuilt inside every import.

`outcome_rollup` holds, per indicator, school year, student group and region locale, the sums
needed for a pooled rate (numerator bounds and denominator) over the rows that can be pooled,
and how many rows were suppressed at source or range-coded. Alliance-wide, rural and non-rural
figures are a handful of rollup rows instead of a scan of millions of outcomes.

`outcome_complements` lists the cells that complementary suppression hides. It is decided once,
over every region *and* the alliance, rural and non-rural totals together, because a value
hidden in one view could otherwise be recovered by subtracting views from each other (a rural
total minus the other rural regions, the alliance minus rural, all students minus one group,
or pooled all students minus the pooled groups when one region's group was suppressed at source).
Cells hidden for their own small size are not stored: the query layer recomputes those with
the threshold in force.
"""
from __future__ import annotations

import dataclasses

import multiprocessing
import os
import sys
import types
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, delete, func, inspect, select, text
from threadpoolctl import threadpool_limits

from data.db import driver_rows
from data.schema import outcome_band_complements, outcome_complements, outcome_rollup, outcomes, regions
from data.writer import write_rows
from domain.scope import ALLIANCE, NONRURAL, RURAL
from domain.suppression import GROUP_PARTITIONS, Partition, complementary, numerator_band, threshold

ALLIANCE_CELL, RURAL_CELL, NONRURAL_CELL = ALLIANCE.cell, RURAL.cell, NONRURAL.cell
AGGREGATE_CELLS = (ALLIANCE_CELL, RURAL_CELL, NONRURAL_CELL)
CELL_KEYS = ["indicator_id", "school_year", "region_id", "student_group"]

STORED_COLUMNS = ("school_year", "region_id", "student_group", "numerator", "numerator_suppressed", "denominator",
                  "denominator_suppressed", "rate_low", "rate_high")


def pooling_terms(stored: pd.DataFrame) -> pd.DataFrame:
    """What pooling needs from outcome rows as stored (STORED_COLUMNS): the denominator and
    numerator bounds of the rows that can be pooled (NaN otherwise), whether a row was
    suppressed at source, and whether it is range-coded.

    A row can be pooled when it is not suppressed at source and its denominator and rate are
    known; a range-coded rate contributes numerator bounds rate_low*den/100 .. rate_high*den/100."""
    numerator = pd.to_numeric(stored["numerator"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    denominator = pd.to_numeric(stored["denominator"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    low = pd.to_numeric(stored["rate_low"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    high = pd.to_numeric(stored["rate_high"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    at_source = (stored["numerator_suppressed"].fillna(False).to_numpy(dtype=bool)
                 | stored["denominator_suppressed"].fillna(False).to_numpy(dtype=bool))
    has_numerator = ~np.isnan(numerator)
    pooled = ~at_source & ~np.isnan(denominator) & (has_numerator | (~np.isnan(low) & ~np.isnan(high)))
    exact_or = lambda rate: np.where(has_numerator, numerator, rate * denominator / 100.0)  # noqa: E731
    return pd.DataFrame({
        "denominator": np.where(pooled, denominator, np.nan),
        "numerator_low": np.where(pooled, exact_or(low), np.nan),
        "numerator_high": np.where(pooled, exact_or(high), np.nan),
        "source_suppressed": at_source,
        "ranged": pooled & ~has_numerator & (low < high),
    }, index=stored.index)


def _categories(values) -> pd.Categorical:
    """Text values as a categorical, with plain str categories (building Arrow strings for
    millions of values costs seconds)."""
    if isinstance(values, pd.Series) and values.dtype != object:
        codes, uniques = pd.factorize(values, sort=True)  # Arrow strings: encoded natively
    else:
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), sort=True)
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))


def _read_stored(conn: Connection, sql: str, params: tuple, columns: list[str]) -> pd.DataFrame:
    rows = driver_rows(conn, sql, params)
    # Plain object columns: pandas' inference would build Arrow strings, seconds for millions.
    grid = np.array(rows, dtype=object).reshape(len(rows), len(columns))
    return pd.DataFrame({name: pd.Series(grid[:, i], dtype=object) for i, name in enumerate(columns)})


# Above this many outcome rows, the per-indicator decisions run in worker processes, one per
# core: each is pure CPU work on its own cells (about 1.5 s for 320,000 cells).
PARALLEL_MIN_ROWS = 1_000_000


def rebuild_outcome_rollup(conn: Connection, frames: dict | None = None, limit: int | None = None,
                           fresh: frozenset[str] = frozenset()) -> None:
    """Recompute the rollup and the complementary suppression (inside the import transaction,
    after the writes). See `OutcomeRebuild`; an import starts one before its writes instead."""
    with outcome_rebuild(conn, frames, limit, fresh) as rebuild:
        rebuild.finish(conn)


@contextmanager
def outcome_rebuild(conn: Connection, frames: dict | None = None, limit: int | None = None,
                    fresh: frozenset[str] = frozenset()):
    """An `OutcomeRebuild` whose worker processes (if any) end with the block."""
    rows = len(frames["outcomes"]) if frames is not None and "outcomes" in frames else \
        conn.execute(select(func.count()).select_from(outcomes)).scalar_one()
    workers = min(os.cpu_count() or 1, 8)
    if rows < PARALLEL_MIN_ROWS or workers < 2:
        yield OutcomeRebuild(conn, frames, limit, fresh, pool=None)
        return
    # spawn, not fork: the caller may be a threaded server (Streamlit), which must not be forked.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_one_blas_thread) as pool:
        rebuild = OutcomeRebuild(conn, frames, limit, fresh, pool)
        try:
            yield rebuild
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def _one_blas_thread() -> None:
    """Workers already use every core: a BLAS thread pool in each (the audit's least squares)
    only adds threads that spin and compete with the import's writes."""
    threadpool_limits(1)


@contextmanager
def _neutral_main():
    """A worker process spawned meanwhile imports no main script. multiprocessing re-runs the
    parent's `__main__` file in every worker, and under Streamlit that is the page script."""
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")  # no __file__, no __spec__: nothing to run
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


class OutcomeRebuild:
    """The rollup and complementary suppression of the indicators an import touches.

    Given the imported package's frames, only the indicators it touched are recomputed, unless
    it changed regions (their locales move rows between rural and non-rural); without frames,
    everything is. `fresh`: indicators the store held no rows of before this import: their
    stored rows will be the package's own, so they are summed and their suppression decided
    (in worker processes when `pool` is given) as soon as this is made, while the import
    writes; the others are read from the store in `finish`, one indicator at a time (by the
    primary-key prefix)."""

    def __init__(self, conn: Connection, frames: dict | None, limit: int | None, fresh: frozenset[str], pool=None):
        self.limit, self.pool = limit or threshold(), pool
        if frames is not None and stored_threshold(conn) not in (None, self.limit):
            frames = None  # the threshold changed since the last import: decide everything again
        self.everything = frames is None or "regions" in frames
        self.package_ids = [] if self.everything or "outcomes" not in frames or frames["outcomes"].empty else \
            sorted(frames["outcomes"]["indicator_id"].unique())  # not set(): 5 M Python strings
        # Locales as they will be stored: the store's, with the package's regions over them.
        self.locale_of = dict(conn.execute(select(regions.c.region_id, regions.c.locale)).all())
        if frames is not None and "regions" in frames:
            self.locale_of.update(zip(frames["regions"]["region_id"], frames["regions"]["locale"]))
        package_rows = frames.get("outcomes") if frames is not None and fresh else None
        self.early = {}
        if package_rows is not None:
            for indicator_id, stored in package_rows.groupby("indicator_id", sort=False, observed=True):
                if indicator_id in fresh:
                    self.early[indicator_id] = self._decide(indicator_id, stored)

    def finish(self, conn: Connection) -> None:
        """Write the rollup and the complements (after the import's writes)."""
        # Migrations before 0007 rebuild the rollup with this code, before the table exists.
        with_bands = inspect(conn).has_table(outcome_band_complements.name)
        tables = (outcome_rollup, outcome_complements, *((outcome_band_complements,) if with_bands else ()))
        if self.everything:
            indicator_ids = list(conn.execute(select(outcomes.c.indicator_id).distinct()).scalars())
            for table in tables:
                conn.execute(delete(table))
        else:
            indicator_ids = self.package_ids
        placeholder = "%s" if conn.dialect.name == "postgresql" else "?"
        sql = f"SELECT {', '.join(STORED_COLUMNS)} FROM outcomes WHERE indicator_id = {placeholder}"
        decided = []
        for indicator_id in indicator_ids:
            if not self.everything:
                for table in tables:
                    conn.execute(delete(table).where(table.c.indicator_id == indicator_id))
            if indicator_id in self.early:
                sums, complements = self.early[indicator_id]
            else:
                stored = _read_stored(conn, sql, (indicator_id,), list(STORED_COLUMNS))
                if stored.empty:
                    continue
                sums, complements = self._decide(indicator_id, stored)
            conn.execute(outcome_rollup.insert(), sums)
            decided.append(complements)
        for decision in decided:
            complements, bands = decision.result() if self.pool else decision
            for table, rows in ((outcome_complements, complements), (outcome_band_complements, bands)):
                if not rows.empty and table in tables:
                    write_rows(conn, table, rows[CELL_KEYS].astype(str).assign(threshold=self.limit))

    def _decide(self, indicator_id: str, stored: pd.DataFrame):
        """The indicator's rollup rows, and its complements and band complements (decide_cells;
        a future when in a pool)."""
        frame = pooling_terms(stored).reset_index(drop=True)
        for column in ("school_year", "region_id", "student_group"):
            frame[column] = _categories(stored[column])
        # In key order whatever order the rows came in: ties between equally small complement
        # candidates go by row order, and the package's order is not the store's.
        order = np.lexsort([frame[c].cat.codes.to_numpy() for c in ("student_group", "region_id", "school_year")])
        frame = frame.iloc[order].reset_index(drop=True)
        frame["indicator_id"] = indicator_id
        locale = frame["region_id"].map(self.locale_of)
        frame["locale"] = locale.astype("category")
        frame["rural"] = (locale == "rural").to_numpy(dtype=bool)
        cells = frame[[*CELL_KEYS, "denominator", "numerator_low", "numerator_high", "source_suppressed", "rural"]]
        if self.pool:
            with _neutral_main():
                decision = self.pool.submit(decide_cells, cells, self.limit)
        else:
            decision = decide_cells(cells, self.limit)
        return _rollup_rows(indicator_id, frame, self.limit), decision


def _rollup_rows(indicator_id: str, frame: pd.DataFrame, limit: int) -> list[dict]:
    pooled = frame["denominator"].notna()
    summed = frame.assign(
        source_rows=1, pooled_rows=pooled.astype(int), suppressed_rows=frame["source_suppressed"].astype(int),
        ranged_rows=frame["ranged"].astype(int),
    ).groupby(["school_year", "student_group", "locale"], observed=True, sort=False)[
        ["source_rows", "pooled_rows", "suppressed_rows", "ranged_rows", "denominator", "numerator_low", "numerator_high"]
    ].sum().reset_index()
    return [{
        "indicator_id": indicator_id, "school_year": str(row.school_year), "student_group": str(row.student_group),
        "locale": str(row.locale), "source_rows": int(row.source_rows), "pooled_rows": int(row.pooled_rows),
        "suppressed_rows": int(row.suppressed_rows), "ranged_rows": int(row.ranged_rows),
        "denominator": int(round(row.denominator)), "numerator_low": float(row.numerator_low),
        "numerator_high": float(row.numerator_high), "threshold": limit,
    } for row in summed.itertuples(index=False)]


def read_cells(conn: Connection, indicator_ids=None, school_years=None) -> pd.DataFrame:
    """Every region cell (of these indicators and years, when given) with what suppression
    needs: its poolable denominator and numerator bounds, whether it was suppressed at source,
    and whether its region is rural."""
    conditions, params = [], {}
    if indicator_ids is not None:
        conditions.append("o.indicator_id IN :indicator_ids")
        params["indicator_ids"] = list(indicator_ids)
    if school_years is not None:
        conditions.append("o.school_year IN :school_years")
        params["school_years"] = list(school_years)
    columns = ["indicator_id", *STORED_COLUMNS, "rural"]
    sql = f"""
        SELECT o.indicator_id, {", ".join(f"o.{c}" for c in STORED_COLUMNS)},
               CASE WHEN r.locale = 'rural' THEN 1 ELSE 0 END AS rural
        FROM outcomes o JOIN regions r ON r.region_id = o.region_id
        {"WHERE " + " AND ".join(conditions) if conditions else ""}
    """
    if params:
        statement = text(sql).bindparams(*[bindparam(name, expanding=True) for name in params])
        stored = pd.DataFrame(conn.execute(statement, params).fetchall(), columns=columns)
    else:  # the whole table
        stored = _read_stored(conn, sql, (), columns)
    terms = pooling_terms(stored)
    frame = stored[CELL_KEYS].copy()
    frame["denominator"] = terms["denominator"].astype("float64")
    frame["numerator_low"] = terms["numerator_low"].astype("float64")
    frame["numerator_high"] = terms["numerator_high"].astype("float64")
    frame["source_suppressed"] = terms["source_suppressed"].astype(bool)
    frame["rural"] = stored["rural"].astype(bool)
    return frame


# Synthetic student groups for what pooled totals miss (protected_cube); never shown, they
# never leave protected_cube.
UNPOOLED = tuple(f"__unpooled{k}__" for k in range(len(GROUP_PARTITIONS)))
UNPOOLED_ALL, TRUE_ALL = "__unpooled_all__", "__true_all__"
NOTHING = "__nothing__"  # a shown 0 standing for a region's all students where none is reported
SYNTHETIC_GROUPS = (*UNPOOLED, UNPOOLED_ALL, TRUE_ALL, NOTHING)


def protected_cube(cells: pd.DataFrame, limit: int, source_protected: bool = True) -> pd.DataFrame:
    """Region cells plus alliance, rural and non-rural totals, with the engine's decision
    (`suppressed`) over every relation between them.

    Relations: within every region, the student-group partitions (a group and its complement
    add up to all students; so do the race groups); for every group, the pooled rural regions
    add up to the rural total, the non-rural ones to the non-rural total, and those two to the
    alliance. A cell suppressed at source is not in any pooled total, so it is not a part of the
    region relations (it still is of its region's group relations). So pooled totals of a
    partition's groups need not add up to pooled all students: what they miss is modelled with
    cells that are never shown (`_synthetic_cells`), decided with the rest and then dropped.

    `source_protected` False: only the small values are protected; cells suppressed at source
    are hidden without being protected here (for a count other than the students, whose own
    decision protects them: `decide_cells`).
    """
    cells = cells.copy()
    cells["pooled"] = cells["denominator"].notna() & ~cells["source_suppressed"]
    pooled = cells[cells["pooled"]]
    keys = ["indicator_id", "school_year", "student_group"]
    by_locale = pooled.groupby([*keys, "rural"], observed=True, sort=False)["denominator"].sum().reset_index()
    by_locale["region_id"] = np.where(by_locale["rural"], RURAL_CELL, NONRURAL_CELL)
    alliance = pooled.groupby(keys, observed=True, sort=False)["denominator"].sum().reset_index()
    alliance["region_id"] = ALLIANCE_CELL
    totals = pd.concat([by_locale.drop(columns="rural"), alliance], ignore_index=True)
    totals["source_suppressed"], totals["pooled"] = False, True
    synthetic_cells = _synthetic_cells(cells)
    cube = pd.concat([cells.drop(columns="rural"), totals, synthetic_cells], ignore_index=True)
    for key in CELL_KEYS:
        cube[key] = cube[key].astype("category")
    groups = cube["student_group"]
    synthetic = groups.isin(SYNTHETIC_GROUPS).to_numpy(dtype=bool)
    unknown = cube["unknown"].fillna(False).to_numpy(dtype=bool) if "unknown" in cube else np.zeros(len(cube), dtype=bool)
    present = {group: bool((groups == group).any()) for group in (NOTHING, UNPOOLED_ALL, TRUE_ALL)}
    region = ~cube["region_id"].isin(AGGREGATE_CELLS).to_numpy(dtype=bool)
    # Per region or total: whether it has a TRUE_ALL (a pooled total whose all students misses
    # some region's: what its partitions add up to), and whether a cell is there but not pooled.
    secret = cube["secret"].fillna(False).to_numpy(dtype=bool) if "secret" in cube else np.zeros(len(cube), dtype=bool)
    flags = pd.DataFrame({"true_all": (groups == TRUE_ALL).to_numpy(dtype=bool),
                          "unpooled": ~synthetic & ~cube["pooled"].astype(bool).to_numpy(dtype=bool),
                          **{f"secret{k}": ((groups == unpooled) & secret).to_numpy(dtype=bool)
                             for k, unpooled in enumerate(UNPOOLED)}})
    flags = flags.groupby([cube["indicator_id"], cube["school_year"], cube["region_id"]], observed=True,
                          sort=False).transform("any")
    cube["_region"] = region
    cube["_aggregate_true_all"] = ~region & flags["true_all"].to_numpy(dtype=bool)
    cube["_all_adds_up"] = ~cube["_aggregate_true_all"]
    # The full relation (all students = every part) is needed in regions with a cell there but
    # not pooled (elsewhere the pooled relation below is the same one). Pooled totals missing a
    # part suppressed at source keep it as if it held, so that the remainder never counts as the
    # second hidden part: it and one hidden group can both come from a single region (other
    # regions' shown zeros tie them to it).
    for k in range(len(UNPOOLED)):
        cube[f"_full{k}"] = np.where(region, flags["unpooled"].to_numpy(dtype=bool),
                                     flags[f"secret{k}"].to_numpy(dtype=bool))
    rural_ids = tuple(cells.loc[cells["rural"], "region_id"].unique())
    nonrural_ids = tuple(cells.loc[~cells["rural"], "region_id"].unique())
    partitions = []
    for k, (partition, unpooled) in enumerate(zip(GROUP_PARTITIONS, UNPOOLED)):
        pooled_parts = (*partition.parts, unpooled)
        # Every part (suppressed at source or not) adds up to all students (see _full{k});
        # and all students = the pooled parts + what the pooled parts miss, in regions and totals.
        partitions += [dataclasses.replace(partition, scope=f"_full{k}"),
                       Partition("student_group", "all", pooled_parts, only_if="pooled", scope="_all_adds_up")]
        if present[NOTHING]:
            partitions.append(Partition("student_group", NOTHING, pooled_parts, only_if="pooled", scope="_region"))
        if present[TRUE_ALL]:
            partitions.append(Partition("student_group", TRUE_ALL, pooled_parts, only_if="pooled", scope="_aggregate_true_all"))
    if present[TRUE_ALL]:
        partitions.append(Partition("student_group", TRUE_ALL, ("all", UNPOOLED_ALL), scope="_aggregate_true_all"))
    if present[UNPOOLED_ALL]:
        partitions.append(Partition("student_group", "all", (UNPOOLED_ALL,), scope="_region"))
    partitions += [
        Partition("region_id", RURAL_CELL, rural_ids, only_if="pooled"),
        Partition("region_id", NONRURAL_CELL, nonrural_ids, only_if="pooled"),
        Partition("region_id", ALLIANCE_CELL, (RURAL_CELL, NONRURAL_CELL)),
    ]
    den = pd.to_numeric(cube["denominator"], errors="coerce").astype("float64")
    real = ~synthetic
    at_source = cube["source_suppressed"].fillna(False).to_numpy(dtype=bool)
    primary = (at_source if source_protected else False) | ((den > 0) & (den < limit)).to_numpy(dtype=bool)
    # A synthetic cell is never shown, so has no size to protect: it is hidden from the start
    # where its value is secret or unknown (then no least value can be counted on either).
    primary = np.where(synthetic, unknown, primary)
    start = primary | (at_source & real)
    values = cube["denominator"].where(~(synthetic & unknown), -np.inf)
    # Only real cells need a range at least the protection width wide: a synthetic one is a sum
    # nobody is counted in by name.
    hidden = complementary(cube.assign(denominator=values), "denominator", pd.Series(start, index=cube.index),
                           CELL_KEYS, partitions, limit, protect=pd.Series(primary & real, index=cube.index)
                           ).to_numpy(dtype=bool)
    out = cube.loc[real, [c for c in cube.columns if c not in _HELPER_COLUMNS]].copy()
    out["denominator"] = den[real].where(~hidden[real])
    out["suppressed"] = hidden[real]
    out["primary"] = primary[real]
    for key in CELL_KEYS:
        out[key] = out[key].astype(str)
    return out.reset_index(drop=True)


_HELPER_COLUMNS = ("unknown", "secret", "_region", "_aggregate_true_all", "_all_adds_up",
                   *(f"_full{k}" for k in range(len(UNPOOLED))))


def _synthetic_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells for what pooled group totals miss, per group partition (k):

    - UNPOOLED[k], per region: all students minus the pooled parts, i.e. the parts suppressed
      at source or not reported; where the region's all students is not reported, minus the
      pooled parts (with a NOTHING cell, a shown 0, standing for its all students). Per pooled
      total: the sum over its regions.
    - UNPOOLED_ALL, per region: its all students where not pooled; per pooled total, the sum.
    - TRUE_ALL, per pooled total with an UNPOOLED_ALL: the sum of its regions' all students.

    A row only where not 0 by identity. `unknown`: hidden from the start, a region's value
    being secret (it sums parts suppressed at source) or not known (-inf), or a total's value
    not known."""
    columns = [*CELL_KEYS, "denominator", "source_suppressed", "pooled", "unknown", "secret"]
    if cells.empty:
        return pd.DataFrame(columns=columns)
    part_of = {group: k for k, partition in enumerate(GROUP_PARTITIONS) for group in partition.parts}
    groups = pd.Categorical(cells["student_group"])
    k_of = pd.Series(np.asarray(groups.categories, dtype=object)).map(part_of).fillna(-1).to_numpy(dtype=np.int64)
    part_k = np.where(groups.codes >= 0, k_of[groups.codes], -1)
    is_all = (cells["student_group"] == "all").to_numpy(dtype=bool)
    pooled = cells["pooled"].to_numpy(dtype=bool)
    value = np.where(pooled, cells["denominator"].fillna(0).to_numpy(dtype="float64"), 0.0)
    n_k = len(GROUP_PARTITIONS)
    parts, alls = np.flatnonzero(part_k >= 0), np.flatnonzero(is_all)
    take = np.concatenate([parts, np.tile(alls, n_k)])
    is_part = np.concatenate([np.ones(len(parts), dtype=bool), np.zeros(len(alls) * n_k, dtype=bool)])
    rows = cells[["indicator_id", "school_year", "region_id", "rural"]].iloc[take].reset_index(drop=True)
    rows["k"] = np.concatenate([part_k[parts], np.repeat(np.arange(n_k), len(alls))])
    rows["value"] = np.where(is_part, -value[take], value[take])
    rows["part_pooled"] = is_part & pooled[take]
    rows["part_unpooled"] = is_part & ~pooled[take]
    rows["all_pooled"] = ~is_part & pooled[take]
    rows["all_unpooled"] = ~is_part & ~pooled[take]
    counted = ["value", "part_pooled", "part_unpooled", "all_pooled", "all_unpooled", "rural"]
    per_region = rows.groupby(["indicator_id", "school_year", "region_id", "k"], observed=True, sort=False)[
        counted].sum().reset_index()  # one summing pass; the flags are counts > 0
    for flag in ("all_pooled", "all_unpooled", "rural"):
        per_region[flag] = per_region[flag] > 0
    n_parts = np.array([len(set(p.parts)) for p in GROUP_PARTITIONS])[per_region["k"].to_numpy()]
    reported = per_region.groupby(["indicator_id", "school_year", "k"], observed=True, sort=False)[
        "part_pooled"].transform("sum").to_numpy() + per_region.groupby(
        ["indicator_id", "school_year", "k"], observed=True, sort=False)["part_unpooled"].transform("sum").to_numpy() > 0
    all_pooled, all_unpooled = per_region["all_pooled"].to_numpy(dtype=bool), per_region["all_unpooled"].to_numpy(dtype=bool)
    part_pooled = per_region["part_pooled"].to_numpy()
    missing = part_pooled < n_parts  # a part suppressed at source or not reported
    keep = reported & np.where(all_pooled, missing | (np.abs(per_region["value"].to_numpy()) > 1e-9),
                               np.where(all_unpooled, missing, part_pooled > 0))
    # Secret where it sums parts suppressed at source; unknown where all students is.
    per_region["unknown"] = (all_pooled & (per_region["part_unpooled"].to_numpy() > 0)) | all_unpooled
    per_region["value"] = np.where(all_unpooled, -np.inf, per_region["value"])
    unpooled = per_region[keep].copy()
    unpooled["student_group"] = np.asarray(UNPOOLED, dtype=object)[unpooled["k"].to_numpy(dtype=np.int64)]
    nothing = unpooled.loc[~unpooled["all_pooled"] & ~unpooled["all_unpooled"],
                           ["indicator_id", "school_year", "region_id"]].drop_duplicates()
    nothing = nothing.assign(student_group=NOTHING, value=0.0, unknown=False, pooled=False)
    unpooled_all = cells.loc[is_all & ~pooled, ["indicator_id", "school_year", "region_id", "rural"]].assign(
        student_group=UNPOOLED_ALL, value=-np.inf, unknown=True)
    regions = pd.concat([unpooled.drop(columns=["k"]), unpooled_all], ignore_index=True)
    regions = regions[["indicator_id", "school_year", "region_id", "student_group", "value", "unknown", "rural"]]
    keys = ["indicator_id", "school_year", "student_group"]
    by_locale = regions.groupby([*keys, "rural"], observed=True, sort=False).agg(
        value=("value", "sum"), secret=("unknown", "any")).reset_index()
    by_locale["region_id"] = np.where(by_locale["rural"], RURAL_CELL, NONRURAL_CELL)
    alliance = regions.groupby(keys, observed=True, sort=False).agg(value=("value", "sum"), secret=("unknown", "any")).reset_index()
    alliance["region_id"] = ALLIANCE_CELL
    aggregates = pd.concat([by_locale.drop(columns="rural"), alliance], ignore_index=True)
    # A sum of secret values is left to the relations (a sum of several can be shown).
    aggregates["unknown"] = np.isneginf(aggregates["value"].to_numpy(dtype="float64"))
    true_all = aggregates.loc[aggregates["student_group"] == UNPOOLED_ALL, ["indicator_id", "school_year", "region_id"]]
    true_all = true_all.assign(student_group=TRUE_ALL, value=-np.inf, unknown=True)
    out = pd.concat([regions.drop(columns="rural").assign(pooled=True), aggregates.assign(pooled=True),
                     true_all.assign(pooled=True), nothing], ignore_index=True)
    out["denominator"] = out["value"].astype("float64")
    out["source_suppressed"] = False
    out["unknown"] = out["unknown"].astype(bool)
    out["secret"] = out["secret"].fillna(False).astype(bool)
    for key in CELL_KEYS:
        out[key] = out[key].astype(object)
    return out[columns]


def complement_cells(cells: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The cells hidden only because a value elsewhere could otherwise be recovered."""
    cube = protected_cube(cells, limit)
    return cube.loc[cube["suppressed"] & ~cube["primary"], CELL_KEYS].reset_index(drop=True)


def decide_cells(cells: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The complements (CELL_KEYS; see `complement_cells`), and the band complements: cells whose
    rate must not be shown although their students are, because a small number meeting the
    measure (1 to limit-1), or not meeting it, elsewhere could be worked out from it.

    The numbers meeting a measure add up over regions and groups as the students do, and so do
    the numbers not meeting it: each is decided as one more count over the same relations,
    apart (a cell hidden in one has its rate hidden, so hides both). The rates of cells with a
    small number are banded by domain.suppression.protect_rates; a band complement's rate shows
    as the whole 0-100%. Decided whatever the disclosure policy, so that changing the policy
    needs no new import; only `bands` uses them."""
    cube = protected_cube(cells, limit)
    complements = cube.loc[cube["suppressed"] & ~cube["primary"], CELL_KEYS].reset_index(drop=True)
    if "numerator_low" not in cells or cube.empty:
        return complements, complements.iloc[:0]
    den_hidden = cube.loc[cube["suppressed"], CELL_KEYS]
    # A range-coded numerator counts as known at its end, and every other count as shown (an
    # attacker who knows more is no weaker): a cell hidden for another count hides nothing here,
    # so the local rules never close a relation around a value nobody needs protected.
    meeting = protected_cube(cells.assign(denominator=cells["numerator_low"]), limit, source_protected=False)
    missing = protected_cube(cells.assign(denominator=cells["denominator"] - cells["numerator_high"]), limit,
                             source_protected=False)
    bands = pd.concat([meeting.loc[meeting["suppressed"], CELL_KEYS], missing.loc[missing["suppressed"], CELL_KEYS]],
                      ignore_index=True).drop_duplicates()
    # Cells hidden already, and small numbers banded where they are, are not stored.
    shown_anyway = pd.concat([den_hidden, _banded_cells(cells, limit)], ignore_index=True).drop_duplicates()
    bands = bands.merge(shown_anyway, how="left", indicator=True)
    return complements, bands.loc[bands["_merge"] == "left_only", CELL_KEYS].reset_index(drop=True)


def _banded_cells(cells: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The cells (regions and the rural, non-rural and alliance totals) whose rate
    domain.suppression.protect_rates bands for a small number, as the query layer pools them."""
    pooled = cells[cells["denominator"].notna() & ~cells["source_suppressed"].astype(bool)]
    sums = ["denominator", "numerator_low", "numerator_high"]
    keys = ["indicator_id", "school_year", "student_group"]
    by_locale = pooled.groupby([*keys, "rural"], observed=True, sort=False)[sums].sum().reset_index()
    by_locale["region_id"] = np.where(by_locale["rural"], RURAL_CELL, NONRURAL_CELL)
    alliance = pooled.groupby(keys, observed=True, sort=False)[sums].sum().reset_index().assign(region_id=ALLIANCE_CELL)
    every = pd.concat([pooled[[*CELL_KEYS, *sums]], by_locale[[*CELL_KEYS, *sums]], alliance[[*CELL_KEYS, *sums]]],
                      ignore_index=True)
    banded = numerator_band(every["numerator_low"], every["numerator_high"], every["denominator"], limit)[2]
    out = every.loc[banded, CELL_KEYS]
    return out.astype({k: str for k in CELL_KEYS}) if len(out) else out


def stored_threshold(conn: Connection) -> int | None:
    return conn.execute(select(outcome_rollup.c.threshold).limit(1)).scalar()


def complements_in_force(conn: Connection, indicator_ids, school_years, limit: int, *, region_id: str | None = None,
                         student_group: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The complements and band complements (CELL_KEYS frames) of these indicators and school
    years (None: every year), of one region cell or group when given, under the threshold in
    force: read from the store when its rollup was built with `limit`, else decided again for
    these slices (slow, still correct: a threshold setting changed since the import)."""
    indicator_ids = tuple(indicator_ids)
    if stored_threshold(conn) == limit:
        frames = []
        for table in (outcome_complements, outcome_band_complements):
            c = table.c
            query = select(*[c[k] for k in CELL_KEYS]).where(c.indicator_id.in_(indicator_ids))
            if school_years is not None:
                query = query.where(c.school_year.in_(tuple(school_years)))
            if region_id is not None:
                query = query.where(c.region_id == region_id)
            if student_group is not None:
                query = query.where(c.student_group == student_group)
            frames.append(pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=CELL_KEYS))
        return frames[0], frames[1]
    cells = read_cells(conn, indicator_ids, None if school_years is None else tuple(school_years))
    if cells.empty:
        return pd.DataFrame(columns=CELL_KEYS), pd.DataFrame(columns=CELL_KEYS)
    out = []
    for frame in decide_cells(cells, limit):
        keep = np.ones(len(frame), dtype=bool)
        if region_id is not None:
            keep &= (frame["region_id"] == region_id).to_numpy()
        if student_group is not None:
            keep &= (frame["student_group"] == student_group).to_numpy()
        out.append(frame.loc[keep, CELL_KEYS].reset_index(drop=True))
    return out[0], out[1]


def indicators_not_stored(conn: Connection, frames: dict) -> frozenset[str]:
    """The package's indicators of which the store holds no outcome row yet (ask before writing)."""
    if "outcomes" not in frames:
        return frozenset()
    probe = select(outcomes.c.indicator_id).where(outcomes.c.indicator_id == bindparam("i")).limit(1)
    return frozenset(i for i in frames["outcomes"]["indicator_id"].unique() if conn.execute(probe, {"i": i}).first() is None)
