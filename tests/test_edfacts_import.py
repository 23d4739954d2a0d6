"""The real EDFacts Tennessee package imports and round-trips: ranges stay ranges, PS stays
suppressed, `.` stays missing (no row), and nothing is invented."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from data.db import get_engine
from data.importer import import_package

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "data" / "examples" / "edfacts_tn" / "build_package.py"


@pytest.fixture(scope="module")
def edfacts_package(tmp_path_factory) -> Path:
    # The builder's defaults are the extracts of the real files kept beside it.
    out = tmp_path_factory.mktemp("edfacts") / "tn"
    run = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return out


def test_real_package_imports_and_round_trips(edfacts_package, store):
    result = import_package(edfacts_package, store)
    assert result.ok, [str(p) for p in result.problems[:10]]

    with open(edfacts_package / "outcomes.csv", newline="", encoding="utf-8") as handle:
        source = pd.DataFrame(list(csv.DictReader(handle)))
    with store.connect() as conn:
        stored = pd.read_sql(text("SELECT * FROM outcomes"), conn)
        regions = pd.read_sql(text("SELECT region_id, geometry_source, geometry FROM regions"), conn)

    # Every row arrives, nothing more.
    assert len(stored) == len(source)
    # Region ids keep their seven digits, and every district has its package geometry.
    assert regions["region_id"].str.fullmatch(r"\d{7}").all()
    assert (regions["geometry_source"] == "package").all() and regions["geometry"].notna().all()

    merged = source.merge(stored, on=["indicator_id", "region_id", "school_year", "student_group"],
                          suffixes=("_csv", ""))
    assert len(merged) == len(source)
    ranges = merged[merged["rate"].str.contains("-", regex=False)]
    exact = merged[merged["rate"].str.fullmatch(r"\d+(\.\d+)?")]
    suppressed = merged[merged["rate"] == "PS"]
    assert len(ranges) > 1000 and len(exact) > 50 and len(suppressed) > 500

    # Range rates stay ranges, with exactly the published limits; no numerator is made up.
    low = ranges["rate"].str.split("-").str[0].astype(float)
    high = ranges["rate"].str.split("-").str[1].astype(float)
    assert (ranges["rate_low"].round(6) == low.round(6)).all()
    assert (ranges["rate_high"].round(6) == high.round(6)).all()
    assert (ranges["rate_low"] < ranges["rate_high"]).all()
    assert merged["numerator"].isna().all()
    # Exact rates are kept exactly.
    assert (exact["rate_low"].round(6) == exact["rate"].astype(float).round(6)).all()
    assert (exact["rate_low"] == exact["rate_high"]).all()
    # PS stays suppressed: no rate, flagged, never zero.
    assert suppressed["rate_low"].isna().all() and suppressed["rate_high"].isna().all()
    assert suppressed["numerator_suppressed"].astype(bool).all()
    # Cohort counts round-trip exactly where given.
    given = merged[merged["denominator_csv"].str.fullmatch(r"\d+")]
    assert len(given) > 0
    assert (given["denominator"].astype(int) == given["denominator_csv"].astype(int)).all()
    starred = merged[merged["denominator_csv"] == "*"]
    assert starred["denominator"].isna().all() and starred["denominator_suppressed"].astype(bool).all()


def test_reimporting_the_real_package_changes_nothing(edfacts_package, sqlite_url):
    engine = get_engine(sqlite_url)
    assert import_package(edfacts_package, engine).ok
    with engine.connect() as conn:
        before = pd.read_sql(text("SELECT * FROM outcomes ORDER BY 1, 2, 3, 4"), conn)
    assert import_package(edfacts_package, engine).ok
    with engine.connect() as conn:
        after = pd.read_sql(text("SELECT * FROM outcomes ORDER BY 1, 2, 3, 4"), conn)
    pd.testing.assert_frame_equal(before, after)
