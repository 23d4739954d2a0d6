"""The import's fast paths give exactly what the plain code gives.

- every column parser runs once per distinct text (`data.parsers._per_distinct_text`): compared
  with the undecorated parser on mixed, messy columns;
- a big CSV without quotes is read by pyarrow (`data.package._plain_grid`): compared with
  pandas' reader on regular and irregular files;
- the SQLite writer (multi-row statements, key order, indexes dropped and rebuilt): stored rows
  compared with the frame, re-imports and corrections, indexes intact.
"""
from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from data import package, parsers
from data.schema import metadata, outcomes, participation, regions
from data.writer import write_rows

CELLS = [
    "1", "02", " 3 ", "+4", "12.0", "-4", "1.5", "abc", "٣", "99999999999999999999", "2147483648",
    "*", "<10", "n<5", "N < 10", "PS", "ps", "--", "", "  ",
    "2024-25", "2024-2025", "2024–25", "2024/25", "2024-26", "2025-Q3", "2025 q3", "2025Q4", "2025-Q5",
    "2024-02-29", "2023-02-29", "2025-1-01",
    "true", "No", "Y", "0", "city", "Rural", "42", "11", "44",
    "GE95", "ge 95", "90-94", "90 – 94", "<50", "LT5", "91.5%", "101", "50-40", ">=99.5",
    "nan", "inf", "1e3", "0x10", None,
]
PARSERS = [parsers.parse_count, parsers.parse_rate, parsers.parse_number, parsers.parse_quarter,
           parsers.parse_school_year, parsers.parse_date, parsers.parse_bool, parsers.parse_locale]


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.sampled_from(CELLS), min_size=2, max_size=120), dtype=st.sampled_from(["object", "str"]),
       shuffle=st.randoms(use_true_random=False))
def test_per_distinct_parsing_equals_parsing_every_cell(cells, dtype, shuffle):
    index = list(range(1000, 1000 + len(cells)))
    shuffle.shuffle(index)
    raw = pd.Series(cells, dtype=dtype, index=index, name="column")
    for parser in PARSERS:
        fast, plain = parser(raw), parser.__wrapped__(raw)
        for part in ("values", "bad", "suppressed", "upper"):
            a, b = getattr(fast, part), getattr(plain, part)
            if a is None or b is None:
                assert a is None and b is None
            else:
                pd.testing.assert_series_equal(a, b, check_dtype=True)


def test_mixed_python_objects_take_the_plain_path():
    raw = pd.Series([5, 5.0, "5", None, 5], dtype="object")
    for parser in PARSERS:
        fast, plain = parser(raw), parser.__wrapped__(raw)
        pd.testing.assert_series_equal(fast.bad, plain.bad)


CSV_BODIES = [
    "a,b\n1,2\n\n3,4\n", "a,b\n1,2\n   \n3,4\n", "a,b\n1\n3,4\n", "a\n1\n\n2\n", "a,b\n1,2", "a,b\n1,2\n\n\n",
    "a,b\n 1 , 2 \n", "\n\na,b\n1,2\n", "A , B\n1,2\n3,4\n", "a,b,\n1,2,\n3,4,\n", "a,b\n1,2,3\n", "a,,b\n1,,2\n",
    "a,a\n1,2\n", ",\n,\n", "a,b\n,\n1,2\n", "a;b\n1;2\n", "a,b\n1,2\n3,4\n5,6\n\n", "a,b\nx\x1ay,2\n",
    "a,b\n\u00e9,\u2028\n", "a,b\r\n1,2\r\n", "a,b\r1,2\r3,4", "\ufeffa,b\n1,2\n", "a,b\n1,2\n,\n",
]


@pytest.mark.parametrize("body", CSV_BODIES)
def test_plain_grid_reads_what_pandas_reads(body, monkeypatch):
    data = body.encode("utf-8")
    monkeypatch.setattr(package, "PLAIN_GRID_MIN_CHARS", 10**12)
    slow = package._read_csv("t", "t.csv", data)
    monkeypatch.setattr(package, "PLAIN_GRID_MIN_CHARS", 0)
    fast = package._read_csv("t", "t.csv", data)
    assert slow[1] == fast[1]
    assert (slow[0] is None) == (fast[0] is None)
    if slow[0] is not None:
        pd.testing.assert_frame_equal(slow[0].frame, fast[0].frame)


def test_plain_grid_declines_quotes_and_ragged_rows():
    big = "a,b\n" + "1,2\n" * 300_000
    assert package._plain_grid(big) is not None
    assert package._plain_grid(big + "1,2,3\n") is None
    assert package._plain_grid(big + "1\n") is None
    assert package._plain_grid(big.replace("1,2", '"1",2', 1)) is None
    blank = package._plain_grid(big + "\n3,4\n")  # a blank line is a row of blanks, as for pandas
    assert blank.iloc[-2].tolist() == ["", ""] and blank.iloc[-1].tolist() == ["3", "4"]


# --- SQLite writer ------------------------------------------------------------------------------

@pytest.fixture
def sqlite_engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    metadata.create_all(engine)
    return engine


def _outcome_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    numerator = pd.array(rng.integers(0, 50, n), dtype="Int64")
    numerator[rng.random(n) < 0.2] = pd.NA
    rate = rng.random(n) * 100
    rate[rng.random(n) < 0.1] = np.nan
    frame = pd.DataFrame({
        "indicator_id": pd.array(rng.choice(["grad", "sci'5", "é"], n), dtype="string"),
        "region_id": pd.array([f"{i:05d}" for i in rng.permutation(n)], dtype="string"),
        "school_year": pd.array(rng.choice(["2023-24", "2024-25"], n), dtype="string"),
        "student_group": pd.array(["all"] * n, dtype="string"),
        "numerator": numerator,
        "numerator_suppressed": rng.random(n) < 0.1,
        "denominator": pd.array(rng.integers(50, 100, n), dtype="Int64"),
        "denominator_suppressed": np.zeros(n, dtype=bool),
        "rate_low": rate,
        "rate_high": rate,
    })
    return frame


def _stored(engine, table) -> pd.DataFrame:
    keys = [c.name for c in table.primary_key.columns]
    with engine.connect() as conn:  # rows as the driver returns them: no float for an int column with NULLs
        result = conn.execute(text(f"SELECT * FROM {table.name} ORDER BY {', '.join(keys)}"))
        columns = list(result.keys())
        rows = result.all()
    frame = pd.DataFrame({c: pd.Series([r[i] for r in rows], dtype=object) for i, c in enumerate(columns)})
    return frame


def _indexes(engine, name):
    with engine.connect() as conn:
        return sorted(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=:t"),
                                   {"t": name}).all())


def test_sqlite_writer_stores_every_value(sqlite_engine):
    frame = _outcome_frame(1234)  # not a multiple of the rows per statement, not in key order
    before = _indexes(sqlite_engine, "outcomes")
    with sqlite_engine.begin() as conn:
        write_rows(conn, outcomes, frame)
    stored = _stored(sqlite_engine, outcomes)
    expected = frame.sort_values(["indicator_id", "region_id", "school_year", "student_group"], ignore_index=True)
    assert len(stored) == len(frame)
    for column in frame.columns:
        got, want = stored[column].tolist(), expected[column].tolist()
        for a, b in zip(got, want):
            if pd.isna(b):
                assert a is None or pd.isna(a), column
            elif isinstance(b, (bool, np.bool_)):
                assert a == int(b), column
            else:
                assert a == b and type(a) is type(b.item() if hasattr(b, "item") else b), column
    assert _indexes(sqlite_engine, "outcomes") == before


def test_sqlite_writer_upserts_and_keeps_indexes_when_the_table_is_bigger(sqlite_engine):
    frame = _outcome_frame(500)
    with sqlite_engine.begin() as conn:
        write_rows(conn, outcomes, frame)
    corrected = frame.iloc[:10].copy()
    corrected["denominator"] = pd.array([999] * 10, dtype="Int64")
    with sqlite_engine.begin() as conn:
        write_rows(conn, outcomes, corrected)  # fewer rows than the table holds: indexes stay
        write_rows(conn, outcomes, frame.iloc[10:])  # the same rows again: nothing changes
    stored = _stored(sqlite_engine, outcomes)
    assert len(stored) == 500
    key = corrected.iloc[0]
    row = stored[(stored.indicator_id == key.indicator_id) & (stored.region_id == key.region_id)
                 & (stored.school_year == key.school_year)]
    assert row.denominator.tolist() == [999]
    assert (stored.denominator == 999).sum() == 10


def test_sqlite_writer_rolls_back_with_the_transaction(sqlite_engine):
    frame = _outcome_frame(300)
    before = _indexes(sqlite_engine, "outcomes")
    with pytest.raises(RuntimeError):
        with sqlite_engine.begin() as conn:
            write_rows(conn, outcomes, frame)
            raise RuntimeError("a later table failed")
    assert _stored(sqlite_engine, outcomes).empty
    assert _indexes(sqlite_engine, "outcomes") == before


def test_sqlite_writer_plain_tables(sqlite_engine):
    frame = pd.DataFrame({
        "region_id": pd.array(["47037", "01001"], dtype="string"), "name": ["Davidson", "Autauga, AL"],
        "locale": pd.array(["city", "rural"], dtype="string"), "k12_enrollment": pd.array([86000, 9800], dtype="Int64"),
        "low_income_pct": [58.5, np.nan], "geometry": ['{"type":"Point"}', None], "geometry_source": ["county", None],
        "centroid_lon": [-86.7, None], "centroid_lat": [36.1, None],
    })
    frame = frame[[c.name for c in regions.columns]]
    with sqlite_engine.begin() as conn:
        write_rows(conn, regions, frame)
    stored = _stored(sqlite_engine, regions)
    assert stored.region_id.tolist() == ["01001", "47037"]
    assert [v is None for v in stored.low_income_pct] == [True, False]
    assert stored.geometry.tolist() == [None, '{"type":"Point"}']


def test_sqlite_writer_participation_big_batch(sqlite_engine, monkeypatch):
    import data.writer as writer

    monkeypatch.setattr(writer, "BATCH_ROWS", 7)  # several batches, each with a remainder
    n = 103
    frame = pd.DataFrame({
        "program_id": pd.array([f"G{i % 5}" for i in range(n)], dtype="string"),
        "region_id": pd.array([f"{i // 5:05d}" for i in range(n)], dtype="string"),
        "quarter": pd.array(["2025-Q1"] * n, dtype="string"),
        "student_group": pd.array(["all"] * n, dtype="string"),
        "participants": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
        "participants_suppressed": [i % 7 == 0 for i in range(n)],
    })
    frame = frame[[c.name for c in participation.columns]]
    with sqlite_engine.begin() as conn:
        write_rows(conn, participation, frame)
    stored = _stored(sqlite_engine, participation)
    assert len(stored) == n
    assert stored.participants.isna().sum() == (frame.participants.isna()).sum()
    assert stored.participants_suppressed.sum() == frame.participants_suppressed.sum()


@pytest.mark.slow
def test_rollups_from_the_package_equal_rollups_read_back_from_the_store(store):
    """Into an empty store the rollups take the package's rows from memory (data.importer);
    rebuilt from what the store holds, they must come out the same."""
    from data.demo import load_demo
    from data.participation_rollup import rebuild_participation_cells
    from data.rollup import rebuild_outcome_rollup
    from data.schema import outcome_complements, outcome_rollup, participation_cells

    assert load_demo(store).ok
    tables = (outcome_rollup, outcome_complements, participation_cells)
    from_package = {t.name: _stored(store, t) for t in tables}
    assert all(len(frame) for frame in from_package.values())
    with store.begin() as conn:
        rebuild_outcome_rollup(conn)  # no frames: every indicator read from the store
        rebuild_participation_cells(conn)
    for table in tables:
        pd.testing.assert_frame_equal(_stored(store, table), from_package[table.name], check_exact=False, rtol=1e-12)


@pytest.mark.slow
def test_outcome_decisions_in_worker_processes_equal_decisions_in_process(tmp_path, monkeypatch):
    """Big imports decide each indicator's complements in a process pool (data.rollup)."""
    from data import rollup
    from data.db import get_engine
    from data.demo import load_demo
    from data.schema import outcome_complements

    # Under Streamlit, __main__ is the page script, which a spawned worker must not run.
    page_script = tmp_path / "page.py"
    page_script.write_text("raise SystemExit('a worker ran the main script')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(page_script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    stores = {}
    for name, min_rows in (("serial", 10**12), ("parallel", 0)):
        monkeypatch.setattr(rollup, "PARALLEL_MIN_ROWS", min_rows)
        monkeypatch.setattr(rollup.os, "cpu_count", lambda: 2)
        engine = get_engine(f"sqlite:///{tmp_path / name}.db")
        assert load_demo(engine).ok
        stores[name] = _stored(engine, outcome_complements)
    assert len(stores["serial"]) > 0
    pd.testing.assert_frame_equal(stores["parallel"], stores["serial"])
