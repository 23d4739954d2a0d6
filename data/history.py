"""The record of changes, the files each import came in, and undoing imports.

Every import, undo, freeze, deleted snapshot version, user change and demo load adds an event:
who (`data.auth.Actor.name`), when, what, and row counts. An import also keeps the files it was
given (in the store, so a shared PostgreSQL deployment can hand them out again) and what undoing
it needs: per contract table, the rows it replaced as they were, and the keys it added.

Undo is strictly last in, first out: the latest import not yet undone is the one undone, so the
store it works on is exactly the one that import left. Undoing deletes the added keys, writes
the replaced rows back, and rebuilds the derived tables (outcome rollup and complements,
participation cells, coverage sites) from the contract tables — which gives the store exactly as
it was before the import, every table's rows equal, as long as the suppression threshold is the
one in force then (the derived tables are decided with the threshold in force now).
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import (
    Boolean, Connection, Date, Engine, Float, Integer, and_, bindparam, delete, func, insert, select, update,
)

from data.auth import Actor, require
from data.schema import TABLE_FOR_FILE, events, import_files, import_undo, imports

# Above this many distinct first-key values, the rows an import may replace are read whole
# rather than with an IN list.
IN_LIST_MAX = 500


def _now() -> datetime:
    return datetime.now(timezone.utc)


def record(conn: Connection, actor: Actor, action: str, summary: str, details: dict | None = None,
           import_id: int | None = None) -> int:
    """Add an event to the record, in the caller's transaction; returns its id."""
    return conn.execute(insert(events).values(
        at=_now(), actor=actor.name[:200], action=action, summary=summary,
        details=json.dumps(details or {}, sort_keys=True, default=str), import_id=import_id,
    )).inserted_primary_key[0]


def history(engine: Engine, limit: int | None = 200) -> pd.DataFrame:
    """The record, newest first: event_id, at, actor, action, summary, details (dict), import_id."""
    query = select(events).order_by(events.c.event_id.desc())
    if limit:
        query = query.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame([r._asdict() for r in rows], columns=[c.name for c in events.columns])
    frame["details"] = frame["details"].map(json.loads)
    return frame


# --- the files an import came in --------------------------------------------------------------

def files_of(path: str | Path) -> list[tuple[str, bytes]]:
    """The files of a package as given: a folder's files, or the one file."""
    path = Path(path)
    if path.is_dir():
        return [(p.name, p.read_bytes()) for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith(".")]
    return [(path.name, path.read_bytes())] if path.is_file() else []


def keep_files(conn: Connection, import_id: int, files: list[tuple[str, bytes]]) -> None:
    if files:
        conn.execute(insert(import_files), [dict(import_id=import_id, position=i, file_name=name, size=len(data),
                                                 content=data) for i, (name, data) in enumerate(files, start=1)])


def kept_files(engine: Engine, import_id: int) -> list[tuple[str, bytes]]:
    with engine.connect() as conn:
        rows = conn.execute(select(import_files.c.file_name, import_files.c.content)
                            .where(import_files.c.import_id == import_id).order_by(import_files.c.position)).all()
    return [(r.file_name, bytes(r.content)) for r in rows]


def download_name(engine: Engine, import_id: int) -> tuple[str, str] | None:
    """(file name, MIME type) under which an import's files are handed out again — the file
    itself when it came as one file, else a .zip of them — read without their contents; None
    when nothing was kept."""
    with engine.connect() as conn:
        names = conn.execute(select(import_files.c.file_name).where(import_files.c.import_id == import_id)).scalars().all()
    if not names:
        return None
    if len(names) == 1:
        mime = {".zip": "application/zip", ".csv": "text/csv",
                ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}.get(
            Path(names[0]).suffix.lower(), "application/octet-stream")
        return names[0], mime
    return f"import-{import_id}-files.zip", "application/zip"


def download_of(engine: Engine, import_id: int) -> tuple[str, bytes, str] | None:
    """(file name, bytes, MIME type) of an import's files as `download_name` names them."""
    named = download_name(engine, import_id)
    if named is None:
        return None
    files = kept_files(engine, import_id)
    if len(files) == 1:
        return named[0], files[0][1], named[1]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return named[0], buffer.getvalue(), named[1]


# --- what an import changes ---------------------------------------------------------------------

@dataclass
class TableChange:
    table: str
    added: int
    replaced: int
    unchanged: int
    replaced_rows: pd.DataFrame  # the stored rows the package replaces, as they are now
    added_keys: pd.DataFrame | None  # None: the table is empty now, so every row is added


def _canonical(table, frame: pd.DataFrame) -> pd.DataFrame:
    """Values comparable across the package's typed frame and rows read from either database:
    numbers (and booleans) as floats, dates as ISO text, text as str, missing as NaN/None."""
    out = {}
    for column in table.columns:
        values = frame[column.name]
        if isinstance(column.type, (Integer, Float, Boolean)):
            out[column.name] = pd.to_numeric(values.astype(object).where(values.notna(), None).map(
                lambda v: float(v) if v is not None else np.nan), errors="coerce").astype("float64")
        elif isinstance(column.type, Date):
            out[column.name] = values.map(lambda v: None if v is None or v is pd.NA or v != v
                                          else v.isoformat() if hasattr(v, "isoformat") else str(v)).astype(object)
        else:
            out[column.name] = values.map(lambda v: None if v is None or v is pd.NA or v != v else str(v)).astype(object)
    return pd.DataFrame(out, index=frame.index)


def _stored(conn: Connection, table, frame: pd.DataFrame) -> pd.DataFrame:
    """The stored rows that may share a key with `frame` (by the key's first column)."""
    first = table.primary_key.columns.values()[0].name
    distinct = pd.unique(frame[first].dropna())
    query = select(*table.columns)
    if len(distinct) <= IN_LIST_MAX:
        query = query.where(table.c[first].in_([v.item() if hasattr(v, "item") else v for v in distinct]))
    rows = conn.execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in table.columns], dtype=object)


def compare(conn: Connection, name: str, frame: pd.DataFrame) -> TableChange:
    """How the package's rows of one contract table (as the importer writes them) meet the
    store's: added, replaced (same key, other values) and unchanged."""
    table = TABLE_FOR_FILE[name]
    keys = [c.name for c in table.primary_key.columns]
    empty = conn.execute(select(func.count()).select_from(select(table.c[keys[0]]).limit(1).subquery())).scalar_one() == 0
    if empty:
        return TableChange(name, len(frame), 0, 0, pd.DataFrame(columns=[c.name for c in table.columns]), None)
    stored = _stored(conn, table, frame)
    new, old = _canonical(table, frame.reset_index(drop=True)), _canonical(table, stored)
    merged = new.merge(old, on=keys, how="left", suffixes=("", "__old"), indicator=True)
    matched = (merged["_merge"] == "both").to_numpy()
    differs = np.zeros(len(merged), dtype=bool)
    for column in (c.name for c in table.columns if c.name not in keys):
        a, b = merged[column], merged[f"{column}__old"]
        same = (a == b).fillna(False).to_numpy(dtype=bool) | (a.isna() & b.isna()).to_numpy()
        differs |= ~same
    replaced_mask = matched & differs
    replaced_keys = merged.loc[replaced_mask, keys]
    old_keyed = old[keys].assign(_row=np.arange(len(old)))
    rows = replaced_keys.merge(old_keyed, on=keys, how="inner")["_row"].to_numpy()
    return TableChange(
        name, added=int((~matched).sum()), replaced=int(replaced_mask.sum()), unchanged=int((matched & ~differs).sum()),
        replaced_rows=stored.iloc[rows].reset_index(drop=True),
        added_keys=frame.reset_index(drop=True).loc[~matched, keys].reset_index(drop=True),
    )


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer, compression="zstd")
    return buffer.getvalue()


def _unparquet(data: bytes) -> pd.DataFrame:
    return pq.read_table(io.BytesIO(data)).to_pandas()


def keep_undo(conn: Connection, import_id: int, changes: list[TableChange]) -> None:
    """Store, in the import's transaction, what undoing it needs."""
    rows = []
    for change in changes:
        frame = change.replaced_rows.astype(object).where(change.replaced_rows.notna(), None)
        rows.append(dict(import_id=import_id, table_name=change.table, replaced_rows=change.replaced,
                         added_rows=change.added, replaced=_parquet(_plain_columns(frame)),
                         added=b"" if change.added_keys is None else _parquet(change.added_keys)))
    if rows:
        conn.execute(insert(import_undo), rows)


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns Arrow can type (one Python type per column besides None)."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        kinds = {type(v) for v in values if v is not None}
        if kinds <= {int, bool} and kinds:
            out[column] = pd.array([None if v is None else int(v) for v in values], dtype="Int64")
        elif kinds <= {int, float} and kinds:
            out[column] = pd.array([None if v is None else float(v) for v in values], dtype="Float64")
        else:
            out[column] = values
    return pd.DataFrame(out, columns=frame.columns)


# --- undo ------------------------------------------------------------------------------------------

class UndoError(ValueError):
    """There is nothing to undo, or the latest import cannot be undone; meant for the user."""


def latest_undoable(engine: Engine) -> dict | None:
    """The latest import not yet undone, with whether undoing it is possible."""
    with engine.connect() as conn:
        row = conn.execute(select(imports).where(imports.c.outcome == "imported")
                           .order_by(imports.c.import_id.desc()).limit(1)).first()
        if row is None:
            return None
        kept = conn.execute(select(func.count()).select_from(import_undo)
                            .where(import_undo.c.import_id == row.import_id)).scalar_one()
    return dict(import_id=row.import_id, source=row.source, finished_at=row.finished_at, undoable=kept > 0)


def undo_latest(engine: Engine, actor: Actor | None = None) -> dict:
    """Undo the latest import not yet undone, in one transaction; returns what was undone
    (import_id, source, per table rows removed and restored)."""
    from data.coverage_rollup import rebuild_coverage_sites
    from data.participation_rollup import rebuild_participation_cells
    from data.rollup import rebuild_outcome_rollup
    from data.writer import write_rows

    actor = require(actor, "undo")
    latest = latest_undoable(engine)
    if latest is None:
        raise UndoError("There is no import to undo.")
    if not latest["undoable"]:
        raise UndoError(f"Import {latest['import_id']} ({latest['source']}) was made before imports could be undone, "
                        "so it cannot be undone.")
    import_id = latest["import_id"]
    counts = {}
    with engine.begin() as conn:
        kept = {r.table_name: r for r in conn.execute(select(import_undo).where(import_undo.c.import_id == import_id))}
        # Children first, so that nothing points at a row already gone.
        for name in reversed(list(TABLE_FOR_FILE)):
            if name not in kept:
                continue
            table, entry = TABLE_FOR_FILE[name], kept[name]
            keys = [c.name for c in table.primary_key.columns]
            if not entry.added:
                removed = conn.execute(delete(table)).rowcount  # the table was empty before this import
            else:
                removed = _delete_keys(conn, table, keys, _unparquet(bytes(entry.added)))
            restored = _unparquet(bytes(entry.replaced))
            if len(restored):
                write_rows(conn, table, _for_writing(table, restored))
            counts[name] = {"removed": int(removed), "restored": int(len(restored))}
        rebuild_outcome_rollup(conn)
        rebuild_participation_cells(conn)
        rebuild_coverage_sites(conn)
        conn.execute(update(imports).where(imports.c.import_id == import_id).values(outcome="undone"))
        record(conn, actor, "undo", f"undid import {import_id} ({latest['source']})",
               {"row_counts": counts}, import_id=import_id)
    return dict(import_id=import_id, source=latest["source"], row_counts=counts)


def _for_writing(table, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows read back from Parquet as the writer takes them: missing as None, booleans as bool."""
    out = {}
    for column in table.columns:
        values = frame[column.name]
        if isinstance(column.type, Boolean):
            out[column.name] = values.astype(object).map(lambda v: None if v is None or pd.isna(v) else bool(v))
            if out[column.name].notna().all():
                out[column.name] = out[column.name].astype(bool)
        else:
            out[column.name] = values
    return pd.DataFrame(out)


def _delete_keys(conn: Connection, table, keys: list[str], frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    records = frame[keys].astype(object).where(frame[keys].notna(), None).to_dict("records")
    # One statement per key, batched by the driver: keys added by one import are typically few
    # where the table was not empty (a table that was empty is cleared at once above).
    statement = delete(table).where(and_(*(table.c[k] == _bind(k) for k in keys)))
    result = conn.execute(statement, [{f"k_{k}": _native(r[k]) for k in keys} for r in records])
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(records)


def _bind(name: str):
    return bindparam(f"k_{name}")


def _native(value):
    return value.item() if isinstance(value, np.generic) else value

