"""Bulk upsert of validated rows, the fast way for each database.

Both paths replace a row whose key already exists, so re-importing a package is idempotent.
SQLite: one prepared `INSERT … ON CONFLICT DO UPDATE` run with executemany.
PostgreSQL: COPY into a temporary table, then one `INSERT … SELECT … ON CONFLICT DO UPDATE`.
"""
from __future__ import annotations

import io

import pandas as pd
from sqlalchemy import Connection, Table

BATCH_ROWS = 200_000


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


def _python_rows(frame: pd.DataFrame):
    """Rows as tuples of plain Python values (None for missing), which every driver binds."""
    columns = [series.astype(object).where(series.notna(), None).tolist() for _, series in frame.items()]
    return zip(*columns)


def _executemany_upsert(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    names = [c.name for c in table.columns]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
        + _update_clause(table, "excluded")
    )
    cursor = conn.connection.cursor()
    try:
        for start in range(0, len(frame), BATCH_ROWS):
            cursor.executemany(sql, _python_rows(frame.iloc[start:start + BATCH_ROWS]))
    finally:
        cursor.close()


def _copy_upsert(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    names = [c.name for c in table.columns]
    staging = f"import_{table.name}"
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"CREATE TEMP TABLE {staging} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP")
        for start in range(0, len(frame), BATCH_ROWS):
            buffer = io.StringIO()
            frame.iloc[start:start + BATCH_ROWS].to_csv(buffer, header=False, index=False, na_rep="\\N")
            with cursor.copy(f"COPY {staging} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
                copy.write(buffer.getvalue())
        cursor.execute(
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(names)} FROM {staging} "
            + _update_clause(table, "EXCLUDED")
        )
        cursor.execute(f"DROP TABLE {staging}")
    finally:
        cursor.close()
