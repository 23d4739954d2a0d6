"""Participation counts as every page may show them: read from `participation_cells` (summed
at import, with complementary suppression decided once over the whole store; see
data/participation_rollup.py), so that no two pages hide different cells of the same counts
and a value hidden on one cannot be worked out from another.

Counts from 1 to threshold-1 are hidden with the threshold in force; if that differs from the
threshold the import used, the whole decision is made again (slow path, cached per store
version)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from data import participation_rollup as rollup
from data.schema import imports, participation_cells
from domain.suppression import primary_mask, threshold
from queries.common import fast_tuples

CELL_COLUMNS = ["quarter", "region_id", "student_group", *rollup.FILTERS]


def protected_cells(engine: Engine, conn, **equal) -> pd.DataFrame:
    """Participation cells matching `equal` (column = value; a list or tuple matches any of its
    values), with `participations` hidden (NaN, `participations_suppressed`) where they must be,
    and `source_rows`, the rows suppressed at source and left out of the sum."""
    limit = threshold()
    # Columns are built as numpy arrays and the frame once: pandas costs about 0.3 ms an
    # operation, more than reading the few dozen cells of a region.
    if rollup.stored_threshold(conn) == limit:
        c = participation_cells.c
        where = [c[k].in_(v) if isinstance(v, (list, tuple)) else c[k] == v for k, v in equal.items()]
        fixed = {k: v for k, v in equal.items() if k in CELL_COLUMNS and not isinstance(v, (list, tuple))}
        read = [k for k in CELL_COLUMNS if k not in fixed]  # the others are the values asked for
        rows = fast_tuples(conn, select(*[c[k] for k in read], c.participants, c.source_rows, c.complement).where(*where))
        values = list(zip(*rows)) if rows else [()] * (len(read) + 3)
        frame = pd.DataFrame({**dict(zip(read, values)), **fixed}, columns=CELL_COLUMNS)
        participations = np.array(values[-3], dtype="float64")  # NULL (suppressed at source) becomes NaN
        source_rows = np.array(values[-2], dtype="int64")
        hidden = ((np.isnan(participations) & (source_rows > 0)) | primary_mask(pd.Series(participations), limit).to_numpy()
                  | np.array(values[-1], dtype=bool))
    else:  # another threshold in force (or a store not rebuilt yet): decide again, whole store
        cells = _recomputed_cells(str(engine.url), _store_version(conn), limit)
        mask = np.ones(len(cells), dtype=bool)
        for key, value in equal.items():
            mask &= (cells[key].isin(value) if isinstance(value, (list, tuple)) else cells[key] == value).to_numpy()
        frame = cells.loc[mask, CELL_COLUMNS].reset_index(drop=True)
        participations = cells.loc[mask, "participants"].to_numpy(dtype="float64", na_value=np.nan)
        source_rows = cells.loc[mask, "source_rows"].to_numpy(dtype="int64")
        hidden = cells.loc[mask, "suppressed"].to_numpy(dtype=bool)
    frame["participations"] = np.where(hidden, np.nan, participations)
    frame["source_rows"] = source_rows
    frame["participations_suppressed"] = hidden
    return frame


def all_programs(**equal) -> dict:
    """`equal` for cells of every program (participations are not split by program filters)."""
    return {**equal, **{f: rollup.ANY for f in rollup.FILTERS}}


def _store_version(conn) -> int:
    return conn.execute(select(func.coalesce(func.max(imports.c.import_id), 0))).scalar_one()


@lru_cache(maxsize=2)
def _recomputed_cells(url: str, version: int, limit: int) -> pd.DataFrame:
    from data.db import get_engine

    with get_engine(url).connect() as conn:
        return rollup.protect(rollup.build_cells(rollup.read_base(conn)), limit)
