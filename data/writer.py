"""Bulk upsert of validated rows, the fast way for each database.

Both paths replace a row whose key already exists, so re-importing a package is idempotent.

SQLite: a prepared `INSERT … VALUES (…), (…), … ON CONFLICT DO UPDATE` of many rows at a time,
run with executemany. Binding Python values is what costs most, so the rows are built once,
column by column: a text column repeats a few distinct strings (region, group, year), and every
row points at the same string object instead of a new one. Rows go in key order, so the
primary-key index grows at its end. When the table holds fewer rows than the package brings,
its secondary indexes are dropped first and rebuilt after the load (inside the same
transaction): one sort instead of millions of scattered index updates.

PostgreSQL: COPY (CSV written by pyarrow) into a temporary table, then one
`INSERT … SELECT … ON CONFLICT DO UPDATE`.
"""
from __future__ import annotations

import io
import os
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Table

BATCH_ROWS = 200_000
# Rows per SQLite INSERT statement: enough to spread the per-statement cost, few enough to stay
# far below SQLite's limit of 32,766 bound values per statement.
SQLITE_ROWS_PER_STATEMENT = 50
# Page cache while loading (KiB, SQLite's negative form); the connection's own is restored after.
SQLITE_LOAD_CACHE_KIB = 262_144


def write_rows(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    if conn.dialect.name == "postgresql":
        _copy_upsert(conn, table, frame)
    else:
        _executemany_upsert(conn, table, frame)


def _update_clause(table: Table, excluded: str) -> str:
    keys = [c.name for c in table.primary_key.columns]
    others = [c.name for c in table.columns if c.name not in keys]
    if not others:
        return f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
    assignments = ", ".join(f"{c} = {excluded}.{c}" for c in others)
    return f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}"


# --- SQLite ---------------------------------------------------------------------------------

def _python_values(series: pd.Series) -> np.ndarray:
    """A column as an object array of plain Python values (None for missing) that sqlite3 binds.

    Text is factorised so that equal cells share one str object; booleans become 0/1, which is
    what SQLite stores for them anyway."""
    if series.dtype == bool:
        return series.to_numpy().astype(np.int64).astype(object)
    if isinstance(series.dtype, pd.StringDtype) or (
            series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "string"):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        distinct = np.empty(len(uniques) + 1, dtype=object)
        distinct[:-1] = [str(u) for u in uniques]
        distinct[-1] = None  # code -1: missing
        return distinct[codes]
    values = series.to_numpy(dtype=object, na_value=None)
    if series.dtype == object:
        values = np.array([_plain(v) for v in values], dtype=object)
    return values


def _plain(value):
    if value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, np.generic):
        value = value.item()
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def _key_order(frame: pd.DataFrame, keys: list[str]) -> np.ndarray | None:
    """Row order that sorts the frame by its key (stable, so equal keys keep their order), or
    None when the rows are in that order already."""
    columns = [k for k in keys if k in frame]
    if not columns or len(frame) < 2:
        return None
    codes = []
    for key in reversed(columns):  # np.lexsort sorts by the last key first
        series = frame[key]
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            codes.append(series.to_numpy(dtype="float64", na_value=-np.inf))
        else:
            codes.append(pd.factorize(series, sort=True, use_na_sentinel=True)[0])
    order = np.lexsort(codes)
    if np.all(order[1:] > order[:-1]):
        return None
    return order


def _executemany_upsert(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    names = [c.name for c in table.columns]
    keys = [c.name for c in table.primary_key.columns]
    order = _key_order(frame, keys)
    columns = [_python_values(frame[name]) for name in names]
    if order is not None:
        columns = [column[order] for column in columns]
    width, rows = len(names), len(frame)

    def insert(rows_per_statement: int) -> str:
        row = f"({', '.join('?' for _ in names)})"
        return (f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {', '.join([row] * rows_per_statement)} "
                + _update_clause(table, "excluded"))

    step = SQLITE_ROWS_PER_STATEMENT
    many = insert(step)
    cursor = conn.connection.cursor()
    try:
        if not conn.connection.dbapi_connection.in_transaction:
            # pysqlite opens a transaction only before INSERT/UPDATE/DELETE; DROP INDEX first
            # would otherwise be committed on the spot.
            cursor.execute("BEGIN")
        with _sqlite_cache(cursor, SQLITE_LOAD_CACHE_KIB), _without_secondary_indexes(cursor, table, rows):
            for start in range(0, rows, BATCH_ROWS):
                stop = min(start + BATCH_ROWS, rows)
                flat = np.empty((stop - start) * width, dtype=object)
                for i, column in enumerate(columns):
                    flat[i::width] = column[start:stop]
                flat = flat.tolist()
                whole = (stop - start) // step * step * width
                size = step * width
                cursor.executemany(many, (flat[i:i + size] for i in range(0, whole, size)))
                if whole < len(flat):
                    cursor.executemany(insert(1), (flat[i:i + width] for i in range(whole, len(flat), width)))
    finally:
        cursor.close()


@contextmanager
def _sqlite_cache(cursor, kib: int):
    previous = cursor.execute("PRAGMA cache_size").fetchone()[0]
    if previous >= 0 or -previous < kib:
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(previous)}")


@contextmanager
def _without_secondary_indexes(cursor, table: Table, incoming_rows: int):
    """Drop the table's own indexes (not its primary key) while loading more rows than it holds,
    and build them again afterwards from their stored definitions."""
    indexes = cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table.name,),
    ).fetchall()
    if indexes:
        held = cursor.execute(f"SELECT COUNT(*) FROM {table.name}").fetchone()[0]
        if held > incoming_rows:
            indexes = []
    for name, _sql in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        if indexes:
            # CREATE INDEX sorts the whole table: let SQLite's sorter use helper threads.
            threads = cursor.execute("PRAGMA threads").fetchone()[0]
            cursor.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
            try:
                for _name, sql in indexes:
                    cursor.execute(sql)
            finally:
                cursor.execute(f"PRAGMA threads = {int(threads)}")


# --- PostgreSQL -----------------------------------------------------------------------------

def _csv_chunks(frame: pd.DataFrame):
    """The frame as CSV text for COPY, BATCH_ROWS rows at a time.

    pyarrow writes a missing value as an empty unquoted field and every text value quoted, which
    is what PostgreSQL's CSV format reads as NULL and as text (so an empty text stays empty)."""
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    for start in range(0, len(frame), BATCH_ROWS):
        part = frame.iloc[start:start + BATCH_ROWS]
        try:
            arrow = pa.Table.from_pandas(part, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrow = None
        if arrow is not None and all(_copyable(field.type) for field in arrow.schema):
            buffer = io.BytesIO()
            pacsv.write_csv(arrow, buffer, options)
            yield buffer.getvalue()
        else:  # unusual column types: pandas' writer, with an explicit NULL mark
            buffer = io.StringIO()
            part.to_csv(buffer, header=False, index=False, na_rep="\\N")
            yield buffer.getvalue().encode(), "\\N"


def _copyable(kind: pa.DataType) -> bool:
    return (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)
            or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_null(kind))


def _copy_upsert(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    names = [c.name for c in table.columns]
    staging = f"import_{table.name}"
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"CREATE TEMP TABLE {staging} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP")
        for chunk in _csv_chunks(frame[names]):  # COPY reads fields in the order named
            if isinstance(chunk, tuple):
                data, null = chunk
                sql = f"COPY {staging} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv, NULL '{null}')"
            else:
                data, sql = chunk, f"COPY {staging} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)"
            with cursor.copy(sql) as copy:
                copy.write(data)
        cursor.execute(
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(names)} FROM {staging} "
            + _update_clause(table, "EXCLUDED")
        )
        cursor.execute(f"DROP TABLE {staging}")
    finally:
        cursor.close()
