"""K-16 pathway funnels: stage counts, share of the cohort and conversion from the stage before,
per student group, in an area (alliance-wide, rural or non-rural regions, or one region), for one
cohort or across cohorts. Suppression is applied before anything is returned.

How suppression works here
--------------------------
Every region's cells (cohort x stage x region x student group) go through the one engine,
`domain.suppression.suppress_counts`: counts suppressed at source (`*` in pathway.csv) stay
suppressed, counts from 1 to threshold-1 are suppressed, and complementary suppression runs
over the student-group partitions of each region and stage (a group and its complement add up
to all students; so do the race groups), with every group of the region present.

An area's figures (alliance-wide, rural, non-rural) are sums of the region cells that are
*shown*, and say how many regions' counts were left out because they are suppressed. Since a
total is made only of values anyone can already see region by region, no subtraction of one
view from another can reveal a hidden count, so no further suppression across regions is
needed; and nothing is silently under-counted, because every figure carries the number of
regions left out.

Shares and conversions are pooled (sums divided, never averaged) over the regions that show
*both* counts involved: conversion into a stage uses the regions that show this stage and the
stage before; share of the cohort uses the regions that show this stage and the first stage. A
region whose later stage is suppressed therefore cannot drag a conversion down.

Speed
-----
Conversion needs each region's count at the stage before, so an area's figures cannot be a
plain GROUP BY: at benchmark scale (2,000 regions x 10 cohorts x 7 stages x 4 groups) a
windowed SQL aggregate costs about a second per view on SQLite. Instead the store's pathway
table is read once per data version into a dense, already-suppressed array (cohort x group x
region x stage), and every view is a few vectorised sums over it. The array is rebuilt when
an import lands (`queries.meta.data_version`) or the threshold changes. Building it is the cold
cost (about 4 s of CPU at benchmark scale, 560,000 pathway rows; well under a second for a real
alliance); every view after that is warm (20-50 ms of CPU at benchmark scale).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from data.db import driver_rows
from domain.suppression import GROUP_PARTITIONS, primary_mask, suppress_counts, suppress_rates, threshold
from domain.scope import ALLIANCE, Scope
from queries.meta import data_version

MISSING, SHOWN, SUPPRESSED = 0, 1, 2

FUNNEL_COLUMNS = [
    "cohort", "student_group", "stage_order", "stage", "stage_names", "previous_stage_order", "previous_stage",
    "students", "students_suppressed", "regions_in_scope", "regions_reporting", "regions_suppressed",
    "regions_missing", "share_numerator", "share_denominator", "share_regions", "conversion_numerator",
    "conversion_denominator", "conversion_regions", "rising_regions", "rates_suppressed",
]


@dataclass(frozen=True)
class PathwayCube:
    """Every region cell of the pathway table, suppressed, as dense arrays."""

    cohorts: np.ndarray  # (C,) int
    stage_orders: np.ndarray  # (S,) int, sorted
    groups: tuple[str, ...]  # (G,)
    region_ids: np.ndarray  # (R,) str
    locales: np.ndarray  # (R,) str ("" when the region is unknown)
    value: np.ndarray  # (G, C, R, S) float: the shown count, NaN when suppressed or missing
    state: np.ndarray  # (G, C, R, S) int8: MISSING, SHOWN or SUPPRESSED
    present: np.ndarray  # (C, S) bool: the cohort has this stage at all
    previous: np.ndarray  # (C, S) int: index of the stage before in the cohort, -1 for none
    first: np.ndarray  # (C,) int: index of the cohort's first stage, -1 for an empty cohort
    stages: pd.DataFrame  # cohort, stage_order, stage, regions: every stage name as reported
    stage_name: np.ndarray  # (C, S) object: the name most regions use for the stage
    stage_variants: np.ndarray  # (C, S) int: how many different names regions use
    threshold: int
    derived: dict  # per-cell arrays every view sums over regions, see _derive()

    @property
    def empty(self) -> bool:
        return len(self.cohorts) == 0


_CUBES: dict[tuple, PathwayCube] = {}
_LOCK = threading.Lock()
_MAX_CUBES = 4


def cube(engine: Engine) -> PathwayCube:
    """The suppressed pathway cube for the store's current data version and threshold."""
    limit = threshold()
    # Per engine (the app has one per database URL; a benchmark's "cold" run on a new engine pays
    # for the build, as it should), per data version and per threshold.
    key = (id(engine), engine.url.render_as_string(hide_password=False), data_version(engine), limit)
    found = _CUBES.get(key)
    if found is not None:
        return found
    with _LOCK:
        found = _CUBES.get(key)
        if found is None:
            found = _build_cube(engine, limit)
            while len(_CUBES) >= _MAX_CUBES:
                _CUBES.pop(next(iter(_CUBES)))
            _CUBES[key] = found
    return found


def clear_cache() -> None:
    with _LOCK:
        _CUBES.clear()


# A suppressed count reads -1 (one column instead of two: this read is the cube's main cost).
_CELLS_SQL = text(
    "SELECT cohort, stage_order, region_id, student_group, stage, "
    "CASE WHEN students_suppressed THEN -1 ELSE students END FROM pathway"
)
_REGIONS_SQL = text("SELECT region_id, locale FROM regions ORDER BY region_id")


def _codes(values) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _build_cube(engine: Engine, limit: int) -> PathwayCube:
    with engine.connect() as conn:
        rows = driver_rows(conn, str(_CELLS_SQL))
        region_rows = conn.execute(_REGIONS_SQL).fetchall()
    columns = list(zip(*rows)) if rows else [()] * 6
    del rows
    cohort_values = np.array(columns[0], dtype=np.int64)
    order_values = np.array(columns[1], dtype=np.int64)
    region_codes, region_seen = _codes(columns[2])
    group_codes, group_seen = _codes(columns[3])
    stage_codes, stage_seen = _codes(columns[4])
    students = np.array(columns[5], dtype=np.float64)  # None (missing) becomes NaN
    flagged = students == -1
    students[flagged] = np.nan
    del columns

    cohorts, cohort_idx = np.unique(cohort_values, return_inverse=True)
    stage_orders, stage_idx = np.unique(order_values, return_inverse=True)
    group_rank = np.argsort(group_seen.astype(str)) if len(group_seen) else np.array([], dtype=np.int64)
    groups = group_seen[group_rank]
    group_idx = np.argsort(group_rank)[group_codes] if len(group_codes) else group_codes
    known = {region_id: locale for region_id, locale in region_rows}
    region_ids = np.array(list(known) + sorted(set(region_seen) - set(known)), dtype=object)
    locales = np.array([known.get(r, "") for r in region_ids], dtype=object)
    position = {region_id: i for i, region_id in enumerate(region_ids)}
    region_idx = np.array([position[r] for r in region_seen], dtype=np.int64)[region_codes] if len(region_codes) else region_codes

    hidden = _suppressed_cells(cohort_idx, stage_idx, region_idx, pd.Categorical.from_codes(group_idx, categories=groups),
                               students, flagged, limit)

    shape = (len(groups), len(cohorts), len(region_ids), len(stage_orders))
    value = np.full(shape, np.nan)
    state = np.zeros(shape, dtype=np.int8)
    cell_state = np.where(hidden, SUPPRESSED, np.where(np.isnan(students), MISSING, SHOWN)).astype(np.int8)
    index = (group_idx, cohort_idx, region_idx, stage_idx)
    state[index] = cell_state
    value[index] = np.where(cell_state == SHOWN, students, np.nan)

    present = np.zeros((len(cohorts), len(stage_orders)), dtype=bool)
    present[cohort_idx, stage_idx] = True
    previous = np.full(present.shape, -1, dtype=np.int64)
    first = np.full(len(cohorts), -1, dtype=np.int64)
    for c in range(len(cohorts)):
        positions = np.flatnonzero(present[c])
        if len(positions):
            first[c] = positions[0]
            previous[c, positions[1:]] = positions[:-1]

    # Stage names as reported, with how many regions use each name for each stage.
    n_stages, n_names, n_regions = len(stage_orders), max(len(stage_seen), 1), max(len(region_ids), 1)
    uses = np.unique(((cohort_idx * n_stages + stage_idx) * n_names + stage_codes) * n_regions + region_idx)
    named, regions_using = np.unique(uses // n_regions, return_counts=True)
    name_code, cohort_stage = named % n_names, named // n_names
    stages = pd.DataFrame({
        "cohort": cohorts[cohort_stage // n_stages].astype("int64"),
        "stage_order": stage_orders[cohort_stage % n_stages].astype("int64"),
        "stage": stage_seen[name_code] if len(name_code) else np.array([], dtype=object),
        "regions": regions_using.astype("int64"),
    }).sort_values(["cohort", "stage_order", "regions", "stage"], ascending=[True, True, False, True], ignore_index=True)
    stage_name = np.full(present.shape, None, dtype=object)
    stage_variants = np.zeros(present.shape, dtype=np.int64)
    if len(stages):
        c_at = np.searchsorted(cohorts, stages["cohort"].to_numpy())
        s_at = np.searchsorted(stage_orders, stages["stage_order"].to_numpy())
        np.add.at(stage_variants, (c_at, s_at), 1)
        top = ~stages.duplicated(["cohort", "stage_order"]).to_numpy()
        stage_name[c_at[top], s_at[top]] = stages["stage"].to_numpy()[top]
    return PathwayCube(cohorts, stage_orders, tuple(str(g) for g in groups), region_ids, locales, value, state,
                       present, previous, first, stages, stage_name, stage_variants, limit,
                       _derive(value, state, previous, first))


def _derive(value: np.ndarray, state: np.ndarray, previous: np.ndarray, first: np.ndarray) -> dict:
    """Each region cell's part in every figure, decided once per cube: shown or not, paired with
    the stage before (both shown, not rising) or with the first stage, and the counts involved."""
    shown = state == SHOWN
    counted = np.where(shown, value, 0.0)
    has_previous = previous >= 0  # (C, S)
    prev_index = np.broadcast_to(np.where(has_previous, previous, 0)[None, :, None, :], state.shape)
    prev_counted = np.take_along_axis(counted, prev_index, axis=3)
    both_shown = shown & np.take_along_axis(shown, prev_index, axis=3) & has_previous[None, :, None, :]
    # A region whose count rises from the stage before is a data problem: it is counted in
    # rising_regions and left out of the conversion, so one bad region cannot spoil a step.
    rising = both_shown & (counted > prev_counted)
    first_index = np.broadcast_to(np.maximum(first, 0)[None, :, None, None], state.shape)
    in_scope = (state > MISSING).any(axis=3)  # (G, C, R): the region has this group and cohort
    return {
        "shown": shown, "counted": counted, "prev_counted": prev_counted, "rising": rising,
        "pair": both_shown & ~rising, "suppressed": state == SUPPRESSED,
        "missing": in_scope[..., None] & (state == MISSING), "in_scope": in_scope,
        "first_pair": shown & np.take_along_axis(shown, first_index, axis=3),
        "first_counted": np.take_along_axis(counted, first_index, axis=3),
    }


def _suppressed_cells(cohort_idx, stage_idx, region_idx, student_group, students, flagged, limit: int) -> np.ndarray:
    """Which region cells are hidden: the engine's primary and complementary suppression over
    the student-group partitions of every region and stage, with every group present. The
    engine only ever acts inside a region and stage that has a hidden cell, so it is run on
    those alone (same result, a fraction of the work)."""
    primary = flagged | primary_mask(pd.Series(students), limit).to_numpy()
    if not primary.any():
        return primary
    relation = (cohort_idx * (stage_idx.max() + 1) + stage_idx) * (region_idx.max() + 1) + region_idx
    rows = np.isin(relation, np.unique(relation[primary]))
    cells = pd.DataFrame({
        "relation": relation[rows], "student_group": student_group[rows],
        "students": students[rows], "students_suppressed": flagged[rows],
    })
    protected = suppress_counts(cells, "students", keys=["relation", "student_group"],
                                partitions=GROUP_PARTITIONS, limit=limit)
    hidden = primary.copy()
    hidden[rows] = protected["students_suppressed"].to_numpy(dtype=bool)
    return hidden


# --- what the store has ----------------------------------------------------------------------

def cohorts(engine: Engine) -> list[int]:
    """Cohorts (expected high-school graduation years) with pathway data, oldest first."""
    return [int(c) for c in cube(engine).cohorts]


def groups(engine: Engine) -> pd.DataFrame:
    """Student groups with pathway data: student_group, cohorts (how many cohorts have it) and
    shown_cells (how many of its region counts are shown, not suppressed)."""
    data = cube(engine)
    if data.empty:
        return pd.DataFrame({"student_group": [], "cohorts": [], "shown_cells": []})
    has = (data.state > MISSING).any(axis=(2, 3))  # (G, C)
    shown = (data.state == SHOWN).sum(axis=(1, 2, 3))
    return pd.DataFrame({"student_group": list(data.groups), "cohorts": has.sum(axis=1), "shown_cells": shown})


def stages(engine: Engine, cohort: int | None = None) -> pd.DataFrame:
    """Every stage name as reported: cohort, stage_order, stage, regions (how many regions use
    that name for that stage). Several names for one stage, one name at several stages or a gap
    in the numbering are data problems (see domain.funnel.data_problems)."""
    frame = cube(engine).stages
    if cohort is not None:
        frame = frame[frame["cohort"] == int(cohort)]
    return frame.reset_index(drop=True)


def region_mask(data: PathwayCube, scope: Scope) -> np.ndarray:
    """Regions of an area: alliance-wide, a locale scope or one region_id."""
    if scope.is_alliance:
        return np.ones(len(data.region_ids), dtype=bool)
    if scope.is_locale:
        return np.isin(data.locales, scope.locales)
    return data.region_ids == scope.region_id


# --- the funnel --------------------------------------------------------------------------------

def funnel(engine: Engine, cohort: int, scope: Scope = ALLIANCE, groups: tuple[str, ...] = ("all",)) -> pd.DataFrame:
    """One cohort's funnel for each of `groups` in an area: a row per group and stage.

    Columns: cohort, student_group, stage_order, stage (the name most regions use), stage_names
    (how many different names regions use), previous_stage_order/previous_stage, students (sum
    of the shown region counts; NaN when no region shows one), students_suppressed (no region
    shows a count because they are suppressed), regions_in_scope (regions with any count for the
    group and cohort), regions_reporting / regions_suppressed / regions_missing (regions whose
    count for the stage is shown / suppressed and so left out / absent), share_numerator,
    share_denominator and share_regions (this stage and the first stage, pooled over the
    regions showing both), conversion_numerator, conversion_denominator and conversion_regions
    (this stage and the stage before, same), rising_regions (regions showing more students at
    this stage than at the stage before: a data problem), rates_suppressed (a rate's pooled
    denominator is under the threshold).
    """
    return _summarise(cube(engine), scope, tuple(groups), cohort=int(cohort))


def conversion_trend(engine: Engine, scope: Scope = ALLIANCE, groups: tuple[str, ...] = ("all",)) -> pd.DataFrame:
    """Every cohort's funnel for each of `groups` in an area (same columns as `funnel`), for
    following each stage's conversion from cohort to cohort."""
    return _summarise(cube(engine), scope, tuple(groups), cohort=None)


def _summarise(data: PathwayCube, scope: Scope, wanted: tuple[str, ...], cohort: int | None) -> pd.DataFrame:
    if data.empty:
        return pd.DataFrame(columns=FUNNEL_COLUMNS)
    group_positions = [data.groups.index(g) for g in dict.fromkeys(wanted) if g in data.groups]
    if cohort is None:
        cohort_positions = list(range(len(data.cohorts)))
    else:
        cohort_positions = [int(i) for i in np.flatnonzero(data.cohorts == cohort)]
    regions = np.flatnonzero(region_mask(data, scope))
    if not group_positions or not cohort_positions or not len(regions):
        return pd.DataFrame(columns=FUNNEL_COLUMNS)

    g_idx, c_idx = np.array(group_positions), np.array(cohort_positions)
    every_region = len(regions) == len(data.region_ids)
    cohorts_at = slice(None) if cohort is None else slice(c_idx[0], c_idx[0] + 1)
    d = data.derived

    def totals(g: int) -> dict[str, np.ndarray]:
        """Sums over the area's regions for one group: (cohorts, stages) each. Views, not copies,
        for the whole alliance."""
        def pick(name):
            part = d[name][g, cohorts_at]
            return part if every_region else part[:, regions]
        counted, pair, first_pair = pick("counted"), pick("pair"), pick("first_pair")
        return {
            "students": counted.sum(axis=1), "reporting": pick("shown").sum(axis=1),
            "suppressed": pick("suppressed").sum(axis=1), "missing": pick("missing").sum(axis=1),
            "in_scope": np.broadcast_to(pick("in_scope").sum(axis=1)[:, None], counted.shape[::2]),
            "any_in_scope": np.broadcast_to(pick("in_scope").any(axis=1)[:, None], counted.shape[::2]),
            "share_num": np.sum(counted, axis=1, where=first_pair),
            "share_den": np.sum(pick("first_counted"), axis=1, where=first_pair),
            "share_regions": first_pair.sum(axis=1),
            "conv_num": np.sum(counted, axis=1, where=pair), "conv_den": np.sum(pick("prev_counted"), axis=1, where=pair),
            "conv_regions": pair.sum(axis=1), "rising": pick("rising").sum(axis=1),
        }

    per_group = [totals(int(g)) for g in g_idx]
    sums = {name: np.stack([t[name] for t in per_group]) for name in per_group[0]}  # (g, c, s)
    previous = data.previous[c_idx]  # (c, s)
    keep = data.present[c_idx][None, :, :] & sums.pop("any_in_scope")
    g_at, c_at, s_at = np.nonzero(keep)
    prev_at = previous[c_at, s_at]
    students, reporting, suppressed = (sums[k][keep] for k in ("students", "reporting", "suppressed"))
    share_num, share_den, share_regions = (sums[k][keep] for k in ("share_num", "share_den", "share_regions"))
    conv_num, conv_den, conv_regions = (sums[k][keep] for k in ("conv_num", "conv_den", "conv_regions"))
    # A rate over no region, or over no students at all (0 of 0), is not a rate and hides no one.
    share_known = (share_regions > 0) & (share_den > 0)
    conv_known = (conv_regions > 0) & (conv_den > 0) & (prev_at >= 0)
    nothing_shown = reporting == 0
    frame = pd.DataFrame({
        "cohort": data.cohorts[c_idx][c_at].astype("int64"),
        "student_group": np.array(data.groups, dtype=object)[g_idx][g_at],
        "stage_order": data.stage_orders[s_at].astype("int64"),
        "stage": data.stage_name[c_idx][c_at, s_at],
        "stage_names": data.stage_variants[c_idx][c_at, s_at].astype("int64"),
        "previous_stage_order": pd.Series(np.where(prev_at >= 0, data.stage_orders[np.maximum(prev_at, 0)], -1)).where(
            lambda orders: orders >= 0).astype("Int64"),
        "previous_stage": np.where(prev_at >= 0, data.stage_name[c_idx][c_at, np.maximum(prev_at, 0)], None),
        # Nothing shown: suppressed if any region's count is suppressed, otherwise missing.
        "students": np.where(nothing_shown, np.nan, students),
        "students_suppressed": nothing_shown & (suppressed > 0),
        "regions_in_scope": sums["in_scope"][keep].astype("int64"),
        "regions_reporting": reporting.astype("int64"),
        "regions_suppressed": suppressed.astype("int64"),
        "regions_missing": sums["missing"][keep].astype("int64"),
        "share_numerator": np.where(share_known, share_num, np.nan),
        "share_denominator": np.where(share_known, share_den, np.nan),
        "share_regions": share_regions.astype("int64"),
        "conversion_numerator": np.where(conv_known, conv_num, np.nan),
        "conversion_denominator": np.where(conv_known, conv_den, np.nan),
        "conversion_regions": conv_regions.astype("int64"),
        "rising_regions": sums["rising"][keep].astype("int64"),
    })
    # Area figures are sums of shown region counts; the engine's rules on the sums and on the
    # rates' pooled denominators are the last check before anything leaves.
    frame = suppress_counts(frame, "students", limit=data.threshold)
    frame["rates_suppressed"] = _rates_hidden(frame, data.threshold)
    order = {g: i for i, g in enumerate(dict.fromkeys(wanted))}
    frame["_order"] = frame["student_group"].map(order)
    frame = frame.sort_values(["cohort", "_order", "stage_order"], kind="stable")
    return frame[FUNNEL_COLUMNS].reset_index(drop=True)


def rising_counts(engine: Engine, cohort: int, scope: Scope = ALLIANCE, groups: tuple[str, ...] = ("all",)) -> pd.DataFrame:
    """The regions whose shown count rises from one stage to the next (a data problem the
    funnel leaves out of the conversion): region_id, student_group, stage_order, stage,
    students, previous_stage, previous_students. Both counts are shown values."""
    columns = ["region_id", "student_group", "stage_order", "stage", "students", "previous_stage", "previous_students"]
    data = cube(engine)
    if data.empty or int(cohort) not in set(data.cohorts.tolist()):
        return pd.DataFrame(columns=columns)
    c = int(np.flatnonzero(data.cohorts == int(cohort))[0])
    regions = np.flatnonzero(region_mask(data, scope))
    rows = []
    previous = data.previous[c]
    for group in dict.fromkeys(groups):
        if group not in data.groups:
            continue
        g = data.groups.index(group)
        value, state = data.value[g, c][regions], data.state[g, c][regions]  # (r, s)
        for s_at in np.flatnonzero(previous >= 0):
            p_at = previous[s_at]
            up = (state[:, s_at] == SHOWN) & (state[:, p_at] == SHOWN) & (value[:, s_at] > value[:, p_at])
            for r in np.flatnonzero(up):
                rows.append((data.region_ids[regions[r]], group, int(data.stage_orders[s_at]), data.stage_name[c, s_at],
                             value[r, s_at], data.stage_name[c, p_at], value[r, p_at]))
    return pd.DataFrame(rows, columns=columns)


def _rates_hidden(frame: pd.DataFrame, limit: int) -> np.ndarray:
    """Hide a pooled rate whose denominator is under the threshold (the engine's rule), for the
    share of the cohort and the conversion together; returns which rows lost a rate."""
    n = len(frame)
    rates = pd.DataFrame({
        "numerator": np.concatenate([frame["share_numerator"].to_numpy(), frame["conversion_numerator"].to_numpy()]),
        "denominator": np.concatenate([frame["share_denominator"].to_numpy(), frame["conversion_denominator"].to_numpy()]),
    })
    known = rates["denominator"].notna().to_numpy()
    out = suppress_rates(rates, rate_columns=(), limit=limit)
    for i, prefix in enumerate(("share", "conversion")):
        part = slice(i * n, (i + 1) * n)
        frame[f"{prefix}_numerator"] = out["numerator"].to_numpy()[part]
        frame[f"{prefix}_denominator"] = out["denominator"].to_numpy()[part]
    hidden = out["suppressed"].to_numpy(dtype=bool) & known
    return hidden[:n] | hidden[n:]
