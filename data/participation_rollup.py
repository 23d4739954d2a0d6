"""Participation rollup with store-wide complementary suppression, rebuilt inside every import.

`participation_cells` holds every participation count a page can show, summed once at import:

* per quarter, for student group `all`: all programs (program type, grade band and partner
  sector all ANY, meaning "every value"; see SPLITS);
* per quarter, every student group with all three filters ANY: a region's participation by
  group (for regions only: no page shows an area's participation by group);

each for every region, every locale (`locale:city`, `locale:suburb`, `locale:town`,
`locale:rural`), non-rural regions (`locale:nonrural`) and the alliance (`__alliance__`).

Complementary suppression is decided once over all of these cells together (column
`complement`), because a value hidden in one view could otherwise be recovered from others:
a region's afterschool count from its total and its other program types, a region from its
locale total and the other regions, a group from all students and its complementary group. A
value that is small in its own right is not stored as hidden: queries hide counts from 1 to
threshold-1 with the threshold in force, and recompute the whole decision (slow path) when
that threshold differs from the one stored here.

Counts a provider suppressed at source (`*`) are never added to anything: a cell's
`participants` is the sum of the known counts (NULL when it has none) and `source_rows` says
how many suppressed rows were left out. A cell with only suppressed rows is shown as
suppressed, and so is a student group's count that leaves one out (the group's relation to all
students would otherwise give the left-out count away); an all-students count that leaves one
out is shown as the sum of what is known, and says so.
"""
from __future__ import annotations

import dataclasses
import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, select

from data.db import driver_rows
from data.rollup import NONRURAL_CELL
from data.schema import participation, participation_cells, partners, programs, regions
from data.writer import write_rows
from domain.scope import LOCALE_GROUPS, locale_cell
from domain.suppression import ALLIANCE_TOTAL, GROUP_PARTITIONS, Partition, primary_mask, suppress_counts, threshold
from domain.vocabulary import LOCALES

ANY = "__any__"  # how a row stores domain.scope.ANY, a filter left open: every program type (grade band, sector)
FILTERS = ("program_type", "grade_band", "sector")
CELL_KEYS = ["quarter", "region_id", "student_group", *FILTERS]
LOCALE_CELLS = {locale: locale_cell(locale) for locale in LOCALES}
ALLIANCE_CELL = ALLIANCE_TOTAL
AGGREGATE_CELLS = (*LOCALE_CELLS.values(), NONRURAL_CELL, ALLIANCE_CELL)
SPLITS: tuple[tuple[str, ...], ...] = ((),)  # filter combinations kept for group `all`: none

BASE_COLUMNS = ["quarter", "region_id", "locale", "student_group", *FILTERS, "participants", "known_rows", "source_rows"]


def read_base(conn: Connection, stored: pd.DataFrame | None = None) -> pd.DataFrame:
    """Participation summed per quarter, region, group, program type, grade band and sector.

    `stored`: the participation rows as the store now holds them, when the caller has them (an
    import into a store that held none); otherwise they are read. Participation is read as it
    is stored (its key already has one row per program, region, quarter and group) and summed
    here: a GROUP BY over joins of millions of rows is several times slower in SQLite than
    reading them."""
    programs_frame = pd.DataFrame(
        [tuple(r) for r in conn.execute(
            select(programs.c.program_id, programs.c.program_type, programs.c.grade_band, partners.c.sector)
            .select_from(programs.join(partners, partners.c.partner_id == programs.c.partner_id, isouter=True)))],
        columns=["program_id", *FILTERS]).drop_duplicates("program_id").set_index("program_id")
    locales = dict(tuple(r) for r in conn.execute(select(regions.c.region_id, regions.c.locale)))
    raw = stored[list(STORED_COLUMNS)].copy() if stored is not None else _read_stored(conn)
    if raw.empty:
        return pd.DataFrame(columns=BASE_COLUMNS)
    for column in ("quarter", "region_id", "student_group", "program_id"):
        raw[column] = raw[column].astype("category")
    programs_at = programs_frame.reindex(raw["program_id"].cat.categories)
    for column in FILTERS:
        values = programs_at[column].fillna("other").to_numpy()
        raw[column] = pd.Series(values[raw["program_id"].cat.codes.to_numpy()], index=raw.index).astype("category")
    region_locale = np.array([locales.get(r, "city") for r in raw["region_id"].cat.categories], dtype=object)
    raw["locale"] = pd.Series(region_locale[raw["region_id"].cat.codes.to_numpy()], index=raw.index).astype("category")
    raw["participants"] = pd.to_numeric(raw["participants"], errors="coerce").astype("float64")
    raw["known_rows"] = raw["participants"].notna().astype("int64")
    raw["participants"] = raw["participants"].fillna(0.0)
    raw["source_rows"] = raw.pop("participants_suppressed").fillna(False).astype("int64")
    base = raw.groupby(["quarter", "region_id", "locale", "student_group", *FILTERS], observed=True, sort=False,
                       as_index=False)[["participants", "known_rows", "source_rows"]].sum()
    base.loc[base["known_rows"] == 0, "participants"] = np.nan
    return base[BASE_COLUMNS]


STORED_COLUMNS = ("quarter", "region_id", "student_group", "program_id", "participants", "participants_suppressed")


def _read_stored(conn: Connection) -> pd.DataFrame:
    rows = driver_rows(conn, f"SELECT {', '.join(STORED_COLUMNS)} FROM participation")
    raw = pd.DataFrame.from_records(rows, columns=list(STORED_COLUMNS))
    raw["participants_suppressed"] = raw["participants_suppressed"].astype(bool)
    return raw


def _sum(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.groupby(by, observed=True, sort=False, as_index=False).agg(
        participants=("participants", "sum"),
        known_rows=("known_rows", "sum"), source_rows=("source_rows", "sum"))


def build_cells(base: pd.DataFrame) -> pd.DataFrame:
    """Every cell (see the module docstring) with its known sum, known and suppressed row counts
    and `locale` (of a region; NaN for the aggregate cells)."""
    columns = [*CELL_KEYS, "locale", "participants", "known_rows", "source_rows"]
    if base.empty:
        return pd.DataFrame(columns=columns)
    base = base.copy()
    base["participants"] = base["participants"].fillna(0.0)  # known sum; rows with none are marked by known_rows
    region_keys = ["quarter", "region_id", "locale"]
    everyone = base[base["student_group"] == "all"]
    pieces = []
    # Group `all`, all programs. (Splits by program type, grade band or sector are not kept:
    # at a state network's scale nearly every such count is small, and protecting them hid
    # most regions' totals too. The filter columns stay, always ANY, for a future split.)
    for kept in SPLITS:
        piece = _sum(everyone, [*region_keys, *kept])
        for f in FILTERS:
            if f not in kept:
                piece[f] = ANY
        piece["student_group"] = "all"
        pieces.append(piece)
    # Other groups: all programs.
    others = _sum(base[base["student_group"] != "all"], [*region_keys, "student_group"])
    for f in FILTERS:
        others[f] = ANY
    pieces.append(others)
    regional = pd.concat(pieces, ignore_index=True)
    # Aggregates of all students: each locale, non-rural, the alliance. (Not by student group:
    # no page shows an area's participation by group, and such totals would make every region
    # whose group equals its whole count, e.g. no English learners, hide its total as well.)
    value_keys = ["quarter", "student_group", *FILTERS]
    by_locale = _sum(regional[regional["student_group"] == "all"], [*value_keys, "locale"])
    by_locale["region_id"] = by_locale["locale"].map(LOCALE_CELLS)
    nonrural = _sum(by_locale[by_locale["locale"] != "rural"], value_keys)
    nonrural["region_id"] = NONRURAL_CELL
    alliance = _sum(by_locale, value_keys)
    alliance["region_id"] = ALLIANCE_CELL
    by_locale = by_locale.assign(locale=np.nan)
    cells = pd.concat([regional, by_locale, nonrural, alliance], ignore_index=True)
    cells.loc[cells["known_rows"] == 0, "participants"] = np.nan
    return cells[columns].reset_index(drop=True)


def partitions_for(cells: pd.DataFrame) -> list[Partition]:
    """Every relation between the cells: groups add up to all students, each filter's values to
    ANY, regions to their locale, city + suburb + town to non-rural, rural + non-rural to the
    alliance. Sums of known counts add up exactly, so only cells with a known count are parts
    of those (`related`); student groups add up to all students counting what was suppressed
    at source too (`group_related`)."""
    pooled = "related"
    partitions = [dataclasses.replace(p, only_if="group_related") for p in GROUP_PARTITIONS]
    partitions += [Partition(f, ANY, only_if=pooled) for f in FILTERS]
    regions = cells.loc[cells["locale"].notna(), ["region_id", "locale"]].drop_duplicates()
    for locale, cell in LOCALE_CELLS.items():
        members = tuple(regions.loc[regions["locale"] == locale, "region_id"])
        if members:
            partitions.append(Partition("region_id", cell, members, only_if=pooled))
    partitions.append(Partition("region_id", NONRURAL_CELL, tuple(LOCALE_CELLS[x] for x in LOCALE_GROUPS["nonrural"]), only_if=pooled))
    partitions.append(Partition("region_id", ALLIANCE_CELL, (LOCALE_CELLS["rural"], NONRURAL_CELL), only_if=pooled))
    return partitions


def protect(cells: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The cells with `suppressed` (hidden for any reason) and `complement` (hidden only so that
    another value cannot be recovered), decided over every relation at once. No relation spans
    two quarters, so each quarter is decided on its own (same answer, less work)."""
    cells = cells.reset_index(drop=True)
    if cells.empty or cells["quarter"].nunique() <= 1:
        return _protect_one(cells, limit)
    parts = [_protect_one(part, limit) for _, part in cells.groupby("quarter", sort=True, observed=True)]
    return pd.concat(parts).sort_index()


def _protect_one(cells: pd.DataFrame, limit: int) -> pd.DataFrame:
    out = cells.copy()
    if out.empty:
        out["suppressed"] = pd.Series(dtype=bool)
        out["complement"] = pd.Series(dtype=bool)
        return out
    pooled = out["known_rows"] > 0
    at_source = out["source_rows"] > 0
    # Hidden whatever else happens: a cell with no known count, a student group's count that
    # leaves out a count suppressed at source (with all students and the other groups shown,
    # the difference would be that count), and every count from 1 to limit-1.
    own = ((~pooled & at_source) | (at_source & (out["student_group"] != "all"))
           | primary_mask(out["participants"], limit))
    work = out[CELL_KEYS].reset_index(drop=True)
    work["participants"] = out["participants"].to_numpy()
    work["participants_suppressed"] = own.to_numpy()
    work["related"] = pooled.to_numpy()
    # Student groups add up to all students in truth, counts suppressed at source included;
    # but only where the area reports every group of the partition (see `_complete_partitions`).
    work["group_related"] = ((pooled | at_source) & _complete_partitions(out)).to_numpy()
    for key in CELL_KEYS:
        work[key] = work[key].astype("category")
    # Ties between equally small candidates are broken by row order: make it not depend on
    # how the frame happened to be built.
    order = np.lexsort([work[k].astype(str).to_numpy() for k in reversed(CELL_KEYS)])
    work = work.iloc[order]
    protected = suppress_counts(work, "participants", keys=CELL_KEYS, partitions=partitions_for(out), limit=limit)
    hidden = protected["participants_suppressed"].sort_index().to_numpy(dtype=bool)
    out["suppressed"] = hidden
    out["complement"] = hidden & ~own.to_numpy()
    return out


def _complete_partitions(cells: pd.DataFrame) -> pd.Series:
    """Whether each student-group cell's partition is reported in full in its area (e.g.
    `econ_disadvantaged` and `not_econ_disadvantaged` both present). Providers often report
    only some groups; a group whose complement nobody reports cannot be worked out from all
    students (the reader sees "no data" for the other, neither zero nor a number), so it is
    not a part of that relation. Without this, a small disadvantaged count beside an
    unreported complement would hide the area's all-students total."""
    groups, group_names = pd.factorize(cells["student_group"].astype(str))
    area = pd.MultiIndex.from_frame(cells[["quarter", "region_id"]].astype(str)).factorize()[0]
    present = np.zeros((area.max() + 1, len(group_names)), dtype=bool)
    present[area, groups] = True
    column = {name: i for i, name in enumerate(group_names)}
    complete = np.ones(len(cells), dtype=bool)
    for partition in GROUP_PARTITIONS:
        members = [column.get(m) for m in partition.parts or ()]
        in_partition = np.isin(groups, [m for m in members if m is not None])
        if not in_partition.any():
            continue
        full = np.all([present[:, m] if m is not None else np.zeros(len(present), dtype=bool) for m in members], axis=0)
        complete[in_partition] = full[area[in_partition]]
    return pd.Series(complete, index=cells.index)


def rebuild_participation_cells(conn: Connection, limit: int | None = None, stored: pd.DataFrame | None = None) -> None:
    """Recompute the rollup and its suppression from the whole store (inside the import
    transaction, after the writes). `stored`: see `read_base`."""
    limit = limit or threshold()
    conn.execute(delete(participation_cells))
    cells = protect(build_cells(read_base(conn, stored)), limit)
    if cells.empty:
        return
    write_rows(conn, participation_cells, pd.DataFrame({
        **{k: cells[k].astype(str) for k in CELL_KEYS},
        "participants": cells["participants"].round().astype("Int64"),
        "source_rows": cells["source_rows"].astype("int64"),
        "complement": cells["complement"].astype(bool),
        "threshold": limit,
    }))


def stored_threshold(conn: Connection) -> int | None:
    """The threshold the stored decision used; None when the rollup is empty."""
    return conn.execute(select(participation_cells.c.threshold).limit(1)).scalar()


def has_participation(conn: Connection) -> bool:
    return conn.execute(select(participation.c.quarter).limit(1)).first() is not None
