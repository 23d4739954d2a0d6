"""Limits that protect the server, and the problem rows of hostile or odd files: an archive is
refused from its directory before it is unpacked (a real zip bomb), every cap is a setting, and
a long cell, a formula, UTF-16 text, a bad school year and a rate contradicting its counts each
give one clear problem row (file, row, column, value, expected), never a traceback; a package
refused by a limit leaves the store (SQLite and PostgreSQL) and its record as they were."""
from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

from data.auth import Actor
from data.db import upgrade
from data.importer import import_package, validate
from data.package import MAX_CELL_CHARS, Limits, unpack_zip
from data.uploads import check_sizes
from tests.packages import VALID_PACKAGE, write_package
from tests.test_undo import rows

MB = 1024 * 1024
OUTCOME_ROW = b"grad4,47037,2023-24,all,5100,6000,\n"


def problems_of(path) -> list:
    package, result = validate(path)
    assert package is None and result.problems, "the package was expected to be refused"
    return result.problems


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory) -> Path:
    """A real zip bomb: a package under 1 MB whose outcomes.csv unpacks to 250 MB."""
    path = tmp_path_factory.mktemp("bomb") / "package.zip"
    lines = OUTCOME_ROW * (MB // len(OUTCOME_ROW))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("regions.csv", VALID_PACKAGE["regions.csv"])
        with archive.open("outcomes.csv", "w") as member:
            member.write(VALID_PACKAGE["outcomes.csv"].splitlines(keepends=True)[0].encode())
            for _ in range(250):
                member.write(lines)
    return path


def test_a_zip_bomb_is_refused_from_its_directory_without_unpacking_it(zip_bomb):
    assert zip_bomb.stat().st_size < MB
    with zipfile.ZipFile(zip_bomb) as archive:
        assert archive.getinfo("outcomes.csv").file_size > 249.9 * MB
    tracemalloc.start()
    try:
        problems = problems_of(zip_bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * MB  # the 250 MB were never unpacked
    assert len(problems) == 1
    text = str(problems[0])
    assert text.startswith("package.zip: found outcomes.csv, 250.0 MB once unpacked")
    assert "ALLIANCE_MAX_FILE_MB" in text


def test_the_limits_are_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("ALLIANCE_MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("ALLIANCE_MAX_UNPACKED_MB", "2")
    monkeypatch.setenv("ALLIANCE_MAX_FILE_MB", "1.5")
    assert Limits.from_settings() == Limits(3 * MB, 2 * MB, int(1.5 * MB))
    monkeypatch.setenv("ALLIANCE_MAX_FILE_MB", "lots")  # an unreadable setting keeps the default
    assert Limits.from_settings().file == 200 * MB


def test_an_archive_larger_in_all_than_the_unpacked_limit_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("ALLIANCE_MAX_UNPACKED_MB", "1")
    path = tmp_path / "package.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("regions.csv", VALID_PACKAGE["regions.csv"])
        archive.writestr("outcomes.csv", OUTCOME_ROW * (MB // 2 // len(OUTCOME_ROW)))
        archive.writestr("participation.csv", OUTCOME_ROW * (MB // 2 // len(OUTCOME_ROW) + 10))
    [problem] = problems_of(path)
    assert problem.file == "package.zip" and "once unpacked" in problem.value
    assert "ALLIANCE_MAX_UNPACKED_MB" in problem.expected


def test_a_workbook_is_an_archive_and_every_part_of_it_counts(monkeypatch, tmp_path):
    """openpyxl unpacks shared strings and styles too, not only the sheets."""
    book = openpyxl.Workbook()
    book.active.title = "regions"
    for line in VALID_PACKAGE["regions.csv"].splitlines():
        book.active.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "package.xlsx"
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/styles.xml":
                content = content.replace(b"</styleSheet>", b"<!--" + b" " * (3 * MB) + b"--></styleSheet>")
            out.writestr(info, content)
    assert validate(path)[0] is not None  # within the default limits it reads
    monkeypatch.setenv("ALLIANCE_MAX_FILE_MB", "2")
    [problem] = problems_of(path)
    assert problem.file == "package.xlsx" and problem.value.startswith("styles.xml, 3.0 MB once unpacked")


def test_a_zipped_shapefile_inside_a_package_is_held_to_the_limits(monkeypatch, tmp_path):
    folder = write_package(tmp_path / "package", {"regions.csv": VALID_PACKAGE["regions.csv"]})
    with zipfile.ZipFile(folder / "regions.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("layer.shp", b"\0" * (2 * MB))
    monkeypatch.setenv("ALLIANCE_MAX_FILE_MB", "1")
    problems = problems_of(folder)
    assert any(p.file == "regions.zip" and "layer.shp, 2.0 MB once unpacked" in str(p.value) for p in problems), problems


def test_upload_sizes_are_checked_before_reading():
    limits = Limits(upload=3 * MB, unpacked=10 * MB, file=2 * MB)
    assert check_sizes({"regions.csv": MB, "outcomes.csv": MB}, limits) == []
    problems = check_sizes({"regions.csv": MB, "outcomes.csv": int(2.5 * MB)}, limits)
    assert [(p.file, p.value) for p in problems] == [("(upload)", "2 file(s), 3.5 MB in all"),
                                                     ("outcomes.csv", "a file of 2.5 MB")]
    assert "ALLIANCE_MAX_UPLOAD_MB" in problems[0].expected and "ALLIANCE_MAX_FILE_MB" in problems[1].expected


def test_unpacking_stops_at_the_limit_even_for_wanted_members_only():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/regions.csv", b"x" * 10)
        archive.writestr("b/huge.bin", b"\0" * (2 * MB))
        archive.writestr("__MACOSX/a/._regions.csv", b"junk")
    assert unpack_zip(buffer.getvalue(), "p.zip", Limits(10 * MB, 10 * MB, 10 * MB),
                      wanted=lambda n: n.endswith(".csv")) == {"a/regions.csv": b"x" * 10}


# --- odd cells and files: one clear problem row each ------------------------------------------------

def package_with(tmp_path, **changes) -> Path:
    files = dict(VALID_PACKAGE)
    files.update(changes)
    return write_package(tmp_path / "package", files)


@pytest.mark.parametrize("quoted", [False, True])
def test_a_cell_longer_than_the_csv_field_limit(tmp_path, quoted):
    long = "M" * (MAX_CELL_CHARS + 5)
    cell = f'"{long}"' if quoted else long
    path = package_with(tmp_path, **{"partners.csv": VALID_PACKAGE["partners.csv"].replace("Metro Schools", cell)})
    [problem] = problems_of(path)
    assert (problem.file, problem.row, problem.column) == ("partners.csv", 2, "name")
    assert problem.value == f"a cell of {MAX_CELL_CHARS + 5:,} characters"
    assert problem.expected == f"cells of at most {MAX_CELL_CHARS:,} characters"


def test_a_formula_cell_whose_result_was_never_saved_is_named_as_a_formula(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "regions"
    for line in VALID_PACKAGE["regions.csv"].splitlines():
        sheet.append(line.split(","))
    sheet["D3"] = "=SUM(1,2)"  # openpyxl saves no cached result, as a script-made workbook has none
    path = tmp_path / "package.xlsx"
    book.save(path)
    [problem] = problems_of(path)
    assert (problem.file, problem.row, problem.column) == ("package.xlsx, sheet regions", 3, "k12_enrollment")
    assert problem.value == "a formula (=SUM(1,2)) whose result was never saved"
    assert "paste the cells as values" in problem.expected


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_named_as_such(tmp_path, encoding):
    path = package_with(tmp_path)
    (path / "regions.csv").write_bytes(VALID_PACKAGE["regions.csv"].encode(encoding))
    problems = problems_of(path)
    assert [(p.file, p.value) for p in problems][:1] == [("regions.csv", "UTF-16 text (Excel's 'Unicode Text')")]
    assert "UTF-8" in problems[0].expected


def test_a_bad_school_year_is_one_problem_not_false_key_repeats(tmp_path):
    outcomes = VALID_PACKAGE["outcomes.csv"].replace("grad4,47037,2023-24,all", "grad4,47037,2023,all")
    problems = problems_of(package_with(tmp_path, **{"outcomes.csv": outcomes}))
    assert [(p.file, p.row, p.column, p.value) for p in problems] == [("outcomes.csv", 2, "school_year", "2023")]
    assert problems[0].expected.startswith("a school year written YYYY-YY")


def test_two_bad_school_years_in_rows_that_differ_are_two_problems_and_no_repeat(tmp_path):
    outcomes = VALID_PACKAGE["outcomes.csv"] + "grad4,47037,2024/26,all,5100,6000,\ngrad4,47037,24-25,all,5100,6000,\n"
    problems = problems_of(package_with(tmp_path, **{"outcomes.csv": outcomes}))
    assert [(p.row, p.column, p.value) for p in problems] == [(8, "school_year", "2024/26"), (9, "school_year", "24-25")]


def test_a_count_pair_contradicting_its_rate(tmp_path):
    outcomes = VALID_PACKAGE["outcomes.csv"].replace("grad4,47037,2023-24,all,5100,6000,", "grad4,47037,2023-24,all,5100,6000,40")
    [problem] = problems_of(package_with(tmp_path, **{"outcomes.csv": outcomes}))
    assert (problem.file, problem.row, problem.column, problem.value) == ("outcomes.csv", 2, "rate", "40")
    assert "5100 of 6000 is 85.0%" in problem.expected


@pytest.mark.parametrize("rate", ["85", "85.0", "84.6", "80-89", "GE80"])
def test_a_rate_agreeing_with_its_counts_within_rounding_is_fine(tmp_path, rate):
    outcomes = VALID_PACKAGE["outcomes.csv"].replace("grad4,47037,2023-24,all,5100,6000,", f"grad4,47037,2023-24,all,5100,6000,{rate}")
    package, result = validate(package_with(tmp_path, **{"outcomes.csv": outcomes}))
    assert package is not None, result.problems


@pytest.mark.parametrize("hostile", ["zip bomb", "long cell"])
def test_a_package_over_the_limits_writes_nothing_to_the_store(store, tmp_path, zip_bomb, hostile):
    editor = Actor("eli", "editor")
    upgrade(store)
    assert import_package(write_package(tmp_path / "first"), store, actor=editor).ok
    before = rows(store)
    with store.connect() as conn:
        events = conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one()
    if hostile == "zip bomb":
        path, expected = zip_bomb, "package.zip: found outcomes.csv, 250.0 MB once unpacked"
    else:
        long = VALID_PACKAGE["partners.csv"].replace("Metro Schools", "M" * (MAX_CELL_CHARS + 1))
        path, expected = package_with(tmp_path, **{"partners.csv": long}), "partners.csv, row 2, column name"
    result = import_package(path, store, actor=editor)
    assert not result.ok and str(result.problems[0]).startswith(expected)
    assert rows(store) == before
    with store.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one() == events
