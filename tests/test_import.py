"""The store and the import contract (docs/data-package.md): a valid package imports
exactly, re-importing is idempotent, real files' habits are read, every kind of broken package
is rejected with a message naming file, row, column and value while the store stays exactly
as it was, and the command line and the store status speak in sentences, never tracebacks.

Runs on SQLite and on PostgreSQL (`store`, `populated`); PostgreSQL runs are marked `postgres`.
"""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import shapely.geometry
from sqlalchemy import inspect, text

from data.db import get_engine, store_status, upgrade
from data.importer import MAX_PROBLEMS_PER_COLUMN, import_package, validate
from data.problems import Description, Problem
from tests.conftest import postgres_schema
from tests.packages import VALID_PACKAGE, write_package

REPO = Path(__file__).resolve().parent.parent

EXPECTED_COUNTS = {
    "regions": 4, "partners": 3, "programs": 3, "program_sites": 3, "participation": 5,
    "indicators": 2, "outcomes": 6, "pathway": 4, "targets": 3, "student_groups": 1,
}
LOG_TABLES = {"imports", "events", "import_files", "import_undo", "alembic_version"}  # grow with every import by design


# --- helpers ------------------------------------------------------------------------------

def dump(engine, exclude=()) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: two equal dumps mean two equal stores."""
    with engine.connect() as conn:
        names = sorted(set(inspect(conn).get_table_names()) - set(exclude))
        return {name: sorted((tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
                for name in names}


def snapshot(engine) -> tuple:
    """A full dump, and for SQLite the database file's bytes after every connection closed
    (closing the last connection checkpoints the WAL into the file and removes it)."""
    rows = dump(engine)
    if engine.dialect.name != "sqlite":
        return rows, None
    engine.dispose()
    path = Path(engine.url.database)
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "WAL not checkpointed: bytes would not show every write"
    return rows, path.read_bytes()


def rows_of(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def package_files(*changes: dict[str, str | bytes | None]) -> dict[str, str | bytes]:
    """The valid package with some files replaced (None: left out)."""
    files = dict(VALID_PACKAGE)
    for name, content in (item for change in changes for item in change.items()):
        if content is None:
            files.pop(name, None)
        else:
            files[name] = content
    return files


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (folder / name).write_bytes(data)
    return folder


def replaced(name: str, old: str, new: str) -> dict[str, str]:
    content = VALID_PACKAGE[name]
    assert content.count(old) == 1, f"{old!r} must occur once in {name}"
    return {name: content.replace(old, new)}


def appended(name: str, line: str) -> dict[str, str]:
    return {name: VALID_PACKAGE[name] + line + "\n"}


def frame_rows(frame) -> list[tuple]:
    """A validated frame as sorted plain rows (NA -> None), independent of index and dtype."""
    out = []
    for row in frame.astype(object).itertuples(index=False):
        out.append(tuple(None if pd.isna(v) else v.item() if hasattr(v, "item") else v for v in row))
    return sorted(out, key=repr)


# --- stores -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def valid_dir(tmp_path_factory) -> Path:
    return write_package(tmp_path_factory.mktemp("valid") / "package")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def populated(request, tmp_path_factory, valid_dir):
    """A store (SQLite, then PostgreSQL) holding the valid package, shared by the read-only
    tests of this module; each test that tries to break it compares before and after."""
    with ExitStack() as stack:
        url = (f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}" if request.param == "sqlite"
               else stack.enter_context(postgres_schema()))
        engine = get_engine(url)
        stack.callback(engine.dispose)
        result = import_package(valid_dir, engine)
        assert result.ok, [str(p) for p in result.problems]
        yield engine, result


# --- the valid package --------------------------------------------------------------------

def test_valid_package_imports_with_its_counts(populated):
    engine, result = populated
    assert result.ok and result.written and result.problems == []
    assert result.row_counts == {("groups" if t == "student_groups" else t): n for t, n in EXPECTED_COUNTS.items()}
    for table, expected in EXPECTED_COUNTS.items():
        assert rows_of(engine, f"SELECT COUNT(*) FROM {table}") == [(expected,)], table
    assert rows_of(engine, "SELECT outcome, source FROM imports") == [("imported", "package")]


def test_suppressed_values_are_null_with_a_flag_never_zero(populated):
    engine, _ = populated
    assert rows_of(engine, "SELECT participants, participants_suppressed FROM participation "
                           "WHERE program_id = 'G3' AND student_group = 'english_learner'") == [(None, True)]
    assert rows_of(engine, "SELECT numerator, numerator_suppressed, denominator, rate_low, rate_high FROM outcomes "
                           "WHERE region_id = '47015' AND student_group = 'english_learner'") == [(None, True, 6, None, None)]
    assert rows_of(engine, "SELECT students, students_suppressed FROM pathway "
                           "WHERE region_id = '47015' AND stage_order = 2") == [(None, True)]
    # exactly the three suppressed cells are flagged, and no flagged cell holds a number
    assert rows_of(engine, "SELECT COUNT(*) FROM participation WHERE participants_suppressed") == [(1,)]
    assert rows_of(engine, "SELECT COUNT(*) FROM participation WHERE participants_suppressed AND participants IS NOT NULL") == [(0,)]
    assert rows_of(engine, "SELECT COUNT(*) FROM participation WHERE participants IS NULL AND NOT participants_suppressed") == [(0,)]
    assert rows_of(engine, "SELECT COUNT(*) FROM outcomes WHERE numerator_suppressed") == [(1,)]
    assert rows_of(engine, "SELECT COUNT(*) FROM pathway WHERE students_suppressed") == [(1,)]
    assert rows_of(engine, "SELECT COUNT(*) FROM pathway WHERE students = 0") == [(0,)]


def test_rates_exact_and_range_coded(populated):
    engine, _ = populated
    outcome = "SELECT numerator, numerator_suppressed, denominator, rate_low, rate_high FROM outcomes WHERE region_id = '{}' AND student_group = 'all' AND indicator_id = 'grad4'"
    assert rows_of(engine, outcome.format("47037")) == [(5100, False, 6000, 85.0, 85.0)]
    # a range and a bound keep both limits and an unknown numerator, never a made-up exact value
    assert rows_of(engine, outcome.format("47015")) == [(None, False, 150, 90.0, 94.0)]
    assert rows_of(engine, outcome.format("47149")) == [(None, False, 3900, 95.0, 100.0)]
    [(low, high)] = rows_of(engine, "SELECT rate_low, rate_high FROM outcomes WHERE student_group = 'econ_disadvantaged'")
    assert low == high == pytest.approx(2600 / 3400 * 100)


def test_identifiers_locales_dates_and_periods(populated):
    engine, _ = populated
    ids = {r for (r,) in rows_of(engine, "SELECT region_id FROM regions")}
    assert ids == {"47037", "47149", "47015", "01001"}  # leading zero kept, not 1001
    assert rows_of(engine, "SELECT locale FROM regions WHERE region_id = '01001'") == [("rural",)]  # NCES 41
    assert dict(rows_of(engine, "SELECT region_id, locale FROM regions")) == {
        "47037": "city", "47149": "suburb", "47015": "rural", "01001": "rural"}
    assert rows_of(engine, "SELECT low_income_pct FROM regions WHERE region_id = '01001'") == [(None,)]
    [(joined, left)] = rows_of(engine, "SELECT joined_on, left_on FROM partners WHERE partner_id = 'P2'")
    assert (str(joined), left) == ("2020-01-15", None)  # a date (PostgreSQL) or its ISO text (SQLite)
    assert rows_of(engine, "SELECT site_name FROM program_sites WHERE program_id = 'G3'") == [("",)]
    assert sorted(rows_of(engine, "SELECT measure, period, region_id, target FROM targets")) == [
        ("grad4", "2023-24", "", 90.0), ("participants", "2025-Q2", "", 400.0), ("seats", "2025-Q2", "47037", 150.0)]
    assert rows_of(engine, "SELECT higher_is_better FROM indicators ORDER BY indicator_id") == [(False,), (True,)]


def test_every_region_gets_its_county_geometry(populated):
    engine, _ = populated
    regions = rows_of(engine, "SELECT region_id, geometry, geometry_source, centroid_lon, centroid_lat FROM regions")
    assert len(regions) == 4
    for region_id, geometry, source, lon, lat in regions:
        assert source == "county", region_id
        shape = shapely.geometry.shape(json.loads(geometry))
        assert shape.geom_type in ("Polygon", "MultiPolygon") and shape.area > 0
        assert shape.buffer(0.01).contains(shapely.geometry.Point(lon, lat)), region_id
    by_id = {r[0]: r for r in regions}
    assert by_id["47037"][3:] == pytest.approx((-86.78, 36.17), abs=0.1)  # Nashville, TN
    assert by_id["01001"][3:] == pytest.approx((-86.64, 32.53), abs=0.1)  # Autauga County, AL
    nashville_site = shapely.geometry.Point(-86.78, 36.16)
    assert shapely.geometry.shape(json.loads(by_id["47037"][1])).contains(nashville_site)
    assert not shapely.geometry.shape(json.loads(by_id["47015"][1])).contains(nashville_site)


# --- idempotency --------------------------------------------------------------------------

def test_import_is_idempotent_and_a_corrected_row_replaces_the_old_one(store, package_dir):
    first = import_package(package_dir, store)
    assert first.ok, [str(p) for p in first.problems]
    before = dump(store, exclude=LOG_TABLES)
    assert {t: len(rows) for t, rows in before.items() if t in EXPECTED_COUNTS} == EXPECTED_COUNTS

    second = import_package(package_dir, store)
    assert second.ok and second.written
    assert dump(store, exclude=LOG_TABLES) == before
    assert rows_of(store, "SELECT COUNT(*) FROM imports") == [(2,)]

    write_files(package_dir, {
        **replaced("program_sites.csv", "Museum,36.17,-86.77,60", "Museum,36.17,-86.77,75"),
        **replaced("participation.csv", "G3,47015,2025-Q1,english_learner,*", "G3,47015,2025-Q1,english_learner,11"),
        **replaced("outcomes.csv", "grad4,47015,2023-24,all,,150,90-94", "grad4,47015,2023-24,all,141,150,"),
        **replaced("regions.csv", "47015,Cannon County,rural,2100,44.2", "47015,Cannon County,rural,2150,44.2"),
    })
    corrected = import_package(package_dir, store)
    assert corrected.ok, [str(p) for p in corrected.problems]
    assert rows_of(store, "SELECT seats FROM program_sites WHERE program_id = 'G2'") == [(75,)]
    assert rows_of(store, "SELECT participants, participants_suppressed FROM participation "
                          "WHERE program_id = 'G3' AND student_group = 'english_learner'") == [(11, False)]
    assert rows_of(store, "SELECT numerator, rate_low, rate_high FROM outcomes WHERE region_id = '47015' AND student_group = 'all'") == [
        (141, pytest.approx(94.0), pytest.approx(94.0))]
    assert rows_of(store, "SELECT k12_enrollment, geometry_source FROM regions WHERE region_id = '47015'") == [(2150, "county")]
    after = dump(store, exclude=LOG_TABLES)
    assert {t: len(rows) for t, rows in after.items() if t in EXPECTED_COUNTS} == EXPECTED_COUNTS  # replaced, not added
    changed = {t for t in before if after[t] != before[t]}
    assert {"program_sites", "participation", "outcomes", "regions"} <= changed
    assert not changed & {"partners", "programs", "indicators", "pathway", "targets", "student_groups"}


# --- real files' habits -------------------------------------------------------------------

@pytest.fixture(scope="module")
def baseline(valid_dir):
    package, result = validate(valid_dir)
    assert result.ok
    return {name: frame_rows(frame) for name, frame in package.frames.items()}


def _each(transform):
    return {name: transform(content.encode("utf-8")) for name, content in VALID_PACKAGE.items()}


def _header(transform):
    def apply(data: bytes) -> bytes:
        header, rest = data.split(b"\n", 1)
        return transform(header) + b"\n" + rest
    return apply


def _reverse_columns(data: bytes) -> bytes:
    lines = data.decode().splitlines()
    return ("\n".join(",".join(reversed(line.split(","))) for line in lines) + "\n").encode()


def _pad_cells(data: bytes) -> bytes:
    return b"\n".join(b", ".join(b" " + cell + b"  " for cell in line.split(b",")) if line else line
                      for line in data.split(b"\n"))


HABITS = {
    "utf8_bom": lambda: _each(lambda b: b"\xef\xbb\xbf" + b),
    "crlf": lambda: _each(lambda b: b.replace(b"\n", b"\r\n")),
    "cr_only": lambda: _each(lambda b: b.replace(b"\n", b"\r")),
    "spaces_in_headers_and_cells": lambda: _each(_pad_cells),
    "upper_case_headers": lambda: _each(_header(bytes.upper)),
    "columns_shuffled": lambda: _each(_reverse_columns),
    "trailing_comma_on_every_line": lambda: _each(lambda b: b.replace(b"\n", b",\n")),
    "blank_lines": lambda: _each(lambda b: b"\n" + b.replace(b"\n", b"\n\n", 2)),
    "bom_crlf_upper_shuffled": lambda: _each(lambda b: b"\xef\xbb\xbf" + _header(bytes.upper)(_reverse_columns(b)).replace(b"\n", b"\r\n")),
}


@pytest.mark.parametrize("habit", list(HABITS))
def test_real_file_habits_give_the_same_rows(habit, tmp_path, baseline):
    folder = write_files(tmp_path / habit, HABITS[habit]())
    package, result = validate(folder)
    assert result.ok, [str(p) for p in result.problems]
    assert result.warnings == []
    assert {name: frame_rows(frame) for name, frame in package.frames.items()} == baseline


def test_unknown_column_is_a_warning_not_an_error(tmp_path, baseline):
    files = package_files({"regions.csv": VALID_PACKAGE["regions.csv"].replace("low_income_pct\n", "low_income_pct,Notes\n", 1)
                           .replace("58.5\n", "58.5,big district\n")})
    package, result = validate(write_files(tmp_path / "p", files))
    assert result.ok, [str(p) for p in result.problems]
    assert any("regions.csv" in w and "notes" in w for w in result.warnings), result.warnings
    assert not any("fewer cells" in w for w in result.warnings)  # only Notes has no cell in most rows
    assert {name: frame_rows(frame) for name, frame in package.frames.items()} == baseline


def test_blank_lines_keep_spreadsheet_row_numbers(tmp_path):
    content = "\n" + VALID_PACKAGE["participation.csv"].replace("\n", "\n\n", 2).replace("2025-Q2", "2025-Q5")
    # row 1 blank, header on row 2, blank rows 3 and 5: the bad quarter sits on row 7
    assert content.splitlines()[6].startswith("G1,47037,2025-Q5")
    _, result = validate(write_files(tmp_path / "p", package_files({"participation.csv": content})))
    assert [(p.file, p.row, p.column, p.value) for p in result.problems] == [("participation.csv", 7, "quarter", "2025-Q5")]


def _zip(files: dict[str, str], inner: str | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if inner:
            archive.writestr(f"{inner}/", "")
            archive.writestr(f"__MACOSX/{inner}/._regions.csv", b"\x00\x05\x16\x07junk")
        for name, content in files.items():
            archive.writestr(f"{inner}/{name}" if inner else name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("inner", [None, "alliance-package-2025"], ids=["flat", "inner_folder"])
def test_zipped_package(inner, tmp_path, baseline):
    path = tmp_path / "package.zip"
    path.write_bytes(_zip(VALID_PACKAGE, inner))
    package, result = validate(path)
    assert result.ok, [str(p) for p in result.problems]
    assert {name: frame_rows(frame) for name, frame in package.frames.items()} == baseline


def _cell(column: str, value: str):
    """What a coordinator's workbook holds: ids and codes as text, numbers and dates typed."""
    if value == "":
        return None
    if column in ("region_id", "partner_id", "program_id", "indicator_id", "group_id", "reference_group_id",
                  "measure", "student_group", "site_name", "name", "stage", "quarter", "school_year", "period",
                  "sector", "program_type", "grade_band", "category", "description", "locale", "rate", "label"):
        return value
    if column in ("joined_on", "left_on", "start_on", "end_on"):
        return date.fromisoformat(value)
    if column == "higher_is_better":
        return value == "true"
    if value == "*":
        return value
    number = float(value)
    return int(number) if number.is_integer() and "." not in value else number


def _workbook(path: Path, files: dict[str, str], blank_row_in: str | None = None) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, content in files.items():
        if not name.endswith(".csv"):
            continue
        sheet = workbook.create_sheet(name.removesuffix(".csv"))
        lines = [line.split(",") for line in content.splitlines()]
        sheet.append(lines[0])
        for i, cells in enumerate(lines[1:]):
            sheet.append([_cell(col, value) for col, value in zip(lines[0], cells)])
            if blank_row_in == sheet.title and i == 1:
                sheet.append([None] * len(cells))
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.number_format = "@"  # a text cell: 01001 stays 01001
    workbook.create_sheet("Notes").append(["Prepared by the coordinator"])
    workbook.save(path)
    return path


def test_xlsx_workbook_gives_the_same_rows(tmp_path, baseline):
    package, result = validate(_workbook(tmp_path / "alliance.xlsx", VALID_PACKAGE))
    assert result.ok, [str(p) for p in result.problems]
    assert result.warnings == ["sheet Notes: not part of the data package contract, ignored"]
    assert {name: frame_rows(frame) for name, frame in package.frames.items()} == baseline


def test_xlsx_percent_cell_reads_as_the_percentage_it_shows(tmp_path):
    path = _workbook(tmp_path / "alliance.xlsx", VALID_PACKAGE)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["outcomes"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("rate")].value == "GE95")
    row[header.index("rate")].value, row[header.index("rate")].number_format = 0.945, "0.0%"
    workbook.save(path)
    package, result = validate(path)
    assert result.ok, [str(p) for p in result.problems]
    outcomes = package.frames["outcomes"]
    shown = outcomes[(outcomes["region_id"] == "47149") & (outcomes["student_group"] == "all")]
    assert shown[["rate_low", "rate_high"]].iloc[0].tolist() == [94.5, 94.5]  # not 0.945 %


def test_short_rows_warn_where_a_contract_column_has_no_cell(tmp_path, baseline):
    # Row 3 lost a comma (its program type and grade band run together); row 4 stops before its
    # empty end dates: both miss cells of contract columns. A cell missing only under an
    # unknown column (Notes, filled in on one row) is no news.
    files = package_files({"programs.csv": VALID_PACKAGE["programs.csv"]
                           .replace("summer,elementary,,", "summer elementary,,")
                           .replace("afterschool,high,,", "afterschool,high")})
    _, result = validate(write_files(tmp_path / "p", files))
    assert ("programs.csv: row(s) 3, 4 have fewer cells than the header, so their last cells were read as blank "
            "(check for a missing comma)") in result.warnings
    assert any(p.file == "programs.csv" and p.row == 3 and p.column == "program_type" for p in result.problems)


def test_a_found_value_is_quoted_and_a_description_is_not():
    assert str(Problem("outcomes.csv", 4, "numerator", "a lot", "a whole number")) == (
        "outcomes.csv, row 4, column numerator: found 'a lot', expected a whole number")
    assert str(Problem("outcomes.csv", 4, None, Description("a NUL byte"), "CSV text")) == (
        "outcomes.csv, row 4: found a NUL byte, expected CSV text")


def test_xlsx_problems_name_sheet_and_spreadsheet_row(tmp_path):
    files = package_files(replaced("participation.csv", "G1,47037,2025-Q2", "G1,47037,2025-Q5"))
    workbook = _workbook(tmp_path / "alliance.xlsx", files, blank_row_in="participation")
    _, result = validate(workbook)
    # header row 1, data rows 2 and 3, a blank row 4, so the third data row is row 5
    assert [(p.file, p.row, p.column, p.value) for p in result.problems] == [
        ("alliance.xlsx, sheet participation", 5, "quarter", "2025-Q5")]


# --- broken packages ----------------------------------------------------------------------

GARBAGE_PARTNERS = VALID_PACKAGE["partners.csv"].encode().replace(b"Science Museum", b"Science Mus\xe9um")
XLSX_BYTES = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(64)

# kind: (changes to the valid package, (file, row, column, value) of the one problem expected)
BROKEN = {
    "unknown_program": (replaced("participation.csv", "G3,47015,2025-Q1,all", "G9,47015,2025-Q1,all"),
                        ("participation.csv", 5, "program_id", "G9")),
    "unknown_region": (replaced("participation.csv", "G3,47015,2025-Q1,all", "G3,47999,2025-Q1,all"),
                       ("participation.csv", 5, "region_id", "47999")),
    "numerator_over_denominator": (replaced("outcomes.csv", "5100,6000", "6100,6000"),
                                   ("outcomes.csv", 2, "numerator", "6100")),
    "bad_quarter": (replaced("participation.csv", "G1,47037,2025-Q2", "G1,47037,2025-Q5"),
                    ("participation.csv", 4, "quarter", "2025-Q5")),
    "bad_school_year": (replaced("outcomes.csv", "absent,47037,2024-25", "absent,47037,2024-26"),
                        ("outcomes.csv", 7, "school_year", "2024-26")),
    "missing_required_column": (
        {"programs.csv": "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 4)
                                   for line in VALID_PACKAGE["programs.csv"].splitlines()) + "\n"},
        ("programs.csv", 1, "grade_band", None)),
    "duplicate_key": (replaced("participation.csv", "G1,47037,2025-Q2,all,115", "G1,47037,2025-Q1,all,115"),
                      ("participation.csv", 4, "program_id+region_id+quarter+student_group", "G1, 47037, 2025-Q1, all")),
    "negative_count": (replaced("program_sites.csv", ",60", ",-60"), ("program_sites.csv", 3, "seats", "-60")),
    "count_too_large_for_the_store": (replaced("program_sites.csv", ",60", ",3000000000"),
                                      ("program_sites.csv", 3, "seats", "3000000000")),
    "unknown_student_group": (replaced("participation.csv", "econ_disadvantaged,61", "low_income,61"),
                              ("participation.csv", 3, "student_group", "low_income")),
    "non_utf8_bytes": ({"partners.csv": GARBAGE_PARTNERS}, ("partners.csv", 3, "name", "Science Mus\ufffdum")),
    "binary_file_as_csv": ({"programs.csv": XLSX_BYTES}, ("programs.csv", 1, None, "a NUL byte")),
    "unreadable_geojson": ({"regions.geojson": "{\"type\": \"FeatureCollection\", \"features\": [\n"},
                           ("regions.geojson", None, None, "not JSON (JSONDecodeError)")),
    "site_far_outside_its_region": (replaced("program_sites.csv", "36.17,-86.77", "40.71,-74.00"),
                                    ("program_sites.csv", 3, "latitude", "40.71, -74.0")),
    "region_without_geometry": (appended("regions.csv", "hub-east,East Hub,town,1200,"),
                                ("regions.csv", 6, "region_id", "hub-east")),
    "bad_locale": (replaced("regions.csv", "suburb", "suburbia"), ("regions.csv", 3, "locale", "suburbia")),
    "bad_nces_locale_code": (replaced("regions.csv", "01001,Autauga County,41", "01001,Autauga County,44"),
                             ("regions.csv", 5, "locale", "44")),
    "bad_date": (replaced("partners.csv", "2020-01-15", "2020-02-30"), ("partners.csv", 3, "joined_on", "2020-02-30")),
    "rate_out_of_range": (replaced("outcomes.csv", "90-94", "90-104"), ("outcomes.csv", 4, "rate", "90-104")),
    "unknown_sector": (replaced("partners.csv", "informal_education", "museum"), ("partners.csv", 3, "sector", "museum")),
    "ragged_row": (replaced("programs.csv", "summer,elementary,,", "summer,elementary,,,2021-06-30"),
                   ("programs.csv", 3, None, "a row of 8 cells (extra: '2021-06-30')")),
    "semicolon_separated": ({"partners.csv": VALID_PACKAGE["partners.csv"].replace(",", ";")},
                            ("partners.csv", 1, None, "a header whose columns are separated by semicolons")),
    "unclosed_quote": (replaced("programs.csv", "G2,P2,Summer", 'G2,P2,"Summer'),
                       ("programs.csv", 3, None, 'a quote (") that is never closed')),
    "empty_regions_csv": ({"regions.csv": ""}, ("regions.csv", 1, None, "an empty file")),
    "header_only_regions_csv": ({"regions.csv": "region_id,name,locale,k12_enrollment\n"},
                                ("regions.csv", 2, None, "a header and no rows")),
    "missing_regions_csv": ({"regions.csv": None}, ("regions.csv", None, None, None)),
    "id_too_long_for_the_store": (appended("partners.csv", f"{'P' * 65},Long id,other,,,"),
                                  ("partners.csv", 5, "partner_id", "P" * 65)),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_package_is_rejected_and_the_store_is_unchanged(kind, populated, tmp_path):
    engine, _ = populated
    changes, (file, row, column, value) = BROKEN[kind]
    # regions.csv and the broken file(s) only: the store already holds the rest of the package,
    # so every other reference resolves against it (a partial package, as the contract allows).
    files = {name: content for name, content in {"regions.csv": VALID_PACKAGE["regions.csv"], **changes}.items()
             if content is not None}
    if "regions.csv" not in files:
        files["participation.csv"] = VALID_PACKAGE["participation.csv"]
    folder = write_files(tmp_path / kind, files)
    before = snapshot(engine)

    result = import_package(folder, engine)

    assert not result.ok and not result.written
    found = [(p.file, p.row, p.column, p.value) for p in result.problems]
    assert found == [(file, row, column, value)], [str(p) for p in result.problems]
    message = str(result.problems[0])
    assert message.startswith(file + (f", row {row}" if row else "") + (f", column {column}" if column else "") + ":")
    if value is not None:
        assert value in message
    assert ", expected " in message and "Traceback" not in message
    assert snapshot(engine) == before


def test_many_problems_are_all_reported_at_once(tmp_path):
    files = package_files(
        {"regions.csv": VALID_PACKAGE["regions.csv"].replace("suburb", "suburbia").replace("2100", "-5")},
        {"partners.csv": VALID_PACKAGE["partners.csv"].replace("2020-01-15", "2020-13-01")},
        {"participation.csv": VALID_PACKAGE["participation.csv"].replace("2025-Q2", "2025-Q5")
         .replace("G3,47015,2025-Q1,all", "G7,47015,2025-Q1,all")},
        replaced("outcomes.csv", "5100,6000", "6100,6000"),
        replaced("pathway.csv", "2025,2,Algebra I by grade 9,47037,all", "2025,2,Algebra I by grade 9,47037,girls"),
        replaced("program_sites.csv", ",15\n", ",fifteen\n"),
    )
    _, result = validate(write_files(tmp_path / "p", files))
    found = {(p.file, p.row, p.column, p.value) for p in result.problems}
    assert found == {
        ("regions.csv", 3, "locale", "suburbia"),
        ("regions.csv", 4, "k12_enrollment", "-5"),
        ("partners.csv", 3, "joined_on", "2020-13-01"),
        ("participation.csv", 4, "quarter", "2025-Q5"),
        ("participation.csv", 5, "program_id", "G7"),
        ("outcomes.csv", 2, "numerator", "6100"),
        ("pathway.csv", 3, "student_group", "girls"),
        ("program_sites.csv", 4, "seats", "fifteen"),
    }, [str(p) for p in result.problems]


@pytest.mark.parametrize("changes, expected", [
    ({"partners.csv": GARBAGE_PARTNERS}, ("partners.csv", 3, "name", "Science Mus\ufffdum")),
    (BROKEN["missing_required_column"][0], ("programs.csv", 1, "grade_band", None)),
    ({"regions.csv": None}, ("regions.csv", None, None, None)),
    (BROKEN["region_without_geometry"][0], ("regions.csv", 6, "region_id", "hub-east")),
], ids=["unreadable_partners", "programs_without_a_column", "no_regions", "region_without_geometry_next_to_sites"])
def test_an_unreadable_table_causes_no_knock_on_problems(changes, expected, tmp_path):
    """Rows referring to a table that could not be read are not all reported as unknown ids, and
    a region without a boundary does not break the check of the sites' points."""
    _, result = validate(write_files(tmp_path / "p", package_files(changes)))
    assert [(p.file, p.row, p.column, p.value) for p in result.problems] == [expected], [str(p) for p in result.problems]


def test_problems_per_column_are_capped_with_a_count(tmp_path):
    rows = "".join(f"G1,47037,{2030 + n}-Q1,all,-1\n" for n in range(MAX_PROBLEMS_PER_COLUMN + 10))
    _, result = validate(write_files(tmp_path / "p", package_files({"participation.csv": VALID_PACKAGE["participation.csv"] + rows})))
    assert len(result.problems) == MAX_PROBLEMS_PER_COLUMN + 1
    assert [(p.row, p.column, p.value) for p in result.problems[:-1]] == [
        (row, "participants", "-1") for row in range(7, 7 + MAX_PROBLEMS_PER_COLUMN)]
    assert (result.problems[-1].file, result.problems[-1].column, result.problems[-1].value) == (
        "participation.csv", "participants", "10 more rows like the ones above")


# --- the command line ---------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "cli.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


PROBLEM_LINE = re.compile(r"^  [\w.]+, row \d+, column [\w+]+: found .+, expected .+$")


def test_cli_validate_reports_problems_on_stderr(tmp_path):
    files = package_files(replaced("participation.csv", "G1,47037,2025-Q2", "G1,47037,2025-Q5"),
                          replaced("outcomes.csv", "5100,6000", "6100,6000"))
    run = _cli("validate", str(write_files(tmp_path / "p", files)))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr + run.stdout
    lines = [line for line in run.stderr.splitlines() if line.startswith("  ")]
    assert sorted(lines) == sorted([
        "  participation.csv, row 4, column quarter: found '2025-Q5', expected a quarter written YYYY-Qn, e.g. 2025-Q3",
        "  outcomes.csv, row 2, column numerator: found '6100', expected a numerator no larger than the denominator",
    ])
    assert all(PROBLEM_LINE.match(line) for line in lines)
    assert "2 problem(s)" in run.stderr


def test_cli_validate_accepts_the_valid_package(valid_dir):
    run = _cli("validate", str(valid_dir))
    assert run.returncode == 0, run.stderr
    assert run.stderr == "" and "valid:" in run.stdout


def test_cli_import_into_an_unreachable_database_is_one_readable_line(valid_dir):
    run = _cli("import", str(valid_dir), "--database", "postgresql+psycopg://postgres@127.0.0.1:1/test")
    assert run.returncode != 0
    assert "Traceback" not in run.stderr + run.stdout
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error:") and "127.0.0.1" in lines[0]


# --- schema status ------------------------------------------------------------------------

def test_store_status_through_its_life(store_url, valid_dir):
    assert store_status(store_url).state == "uninitialised"
    engine = get_engine(store_url)
    upgrade(engine)
    assert store_status(store_url).state == "empty"
    assert import_package(valid_dir, engine).ok
    status = store_status(store_url)
    assert status.state == "ready" and status.usable
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000_older'"))
    status = store_status(store_url)
    assert status.state == "outdated" and not status.usable and "0000_older" in status.detail


@pytest.mark.parametrize("url", [
    pytest.param("postgresql+psycopg://postgres@127.0.0.1:1/test", id="postgresql_port_1"),
    pytest.param("sqlite:////proc/no-such-dir/store.db", id="sqlite_unwritable_path"),
])
def test_store_status_unreachable(url):
    status = store_status(url)
    assert status.state == "unreachable" and not status.usable
    assert status.detail and "\n" not in status.detail
