"""Reading a data package from disk: a folder, a .zip of one, or an .xlsx workbook.

Turns every table into a DataFrame of raw text with its spreadsheet row numbers, and collects
reading problems (bad encoding, ragged rows, missing header) instead of raising.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data.problems import Problem

TABLE_NAMES = (
    "regions", "partners", "programs", "program_sites", "participation",
    "indicators", "outcomes", "pathway", "targets", "groups",
)
GEOMETRY_NAMES = ("regions.geojson", "regions.zip", "regions.shp.zip")


@dataclass
class RawTable:
    name: str
    file: str  # as shown in messages, e.g. "outcomes.csv" or "workbook.xlsx, sheet outcomes"
    frame: pd.DataFrame  # all cells as stripped-later text; columns lower-cased and stripped
    unknown_columns: list[str] = field(default_factory=list)

    def row_number(self, index) -> int:
        """Row as a spreadsheet numbers it: the header is row 1."""
        return int(index) + 2


@dataclass
class RawPackage:
    source: str
    tables: dict[str, RawTable]
    geometry_file: tuple[str, bytes] | None
    problems: list[Problem]
    unknown_files: list[str]


def read_package(path: str | Path) -> RawPackage:
    path = Path(path)
    if not path.exists():
        return RawPackage(str(path), {}, None, [Problem(str(path), None, None, None, "a package folder, .zip or .xlsx file that exists")], [])
    if path.is_dir():
        files = {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
        return _from_files(str(path), files)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            files = _zip_members(path.read_bytes())
        except zipfile.BadZipFile:
            return RawPackage(str(path), {}, None, [Problem(path.name, None, None, None, "a readable .zip file")], [])
        return _from_files(str(path), files)
    if suffix in (".xlsx", ".xlsm"):
        return _from_workbook(path)
    if suffix == ".csv" and path.stem.lower() in TABLE_NAMES:
        return _from_files(str(path), {path.name: path.read_bytes()})
    return RawPackage(str(path), {}, None, [Problem(path.name, None, None, None, "a package folder, a .zip of one, or an .xlsx workbook")], [])


def _zip_members(data: bytes) -> dict[str, bytes]:
    """Files of a zipped package, wherever the folder sits inside the archive."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/") and "__MACOSX" not in n]
        return {Path(n).name: archive.read(n) for n in names}


def _from_files(source: str, files: dict[str, bytes]) -> RawPackage:
    tables, problems, unknown = {}, [], []
    geometry = None
    lowered = {name.lower(): name for name in files}
    for name in TABLE_NAMES:
        original = lowered.get(f"{name}.csv")
        if original is None:
            continue
        table, table_problems = _read_csv(name, original, files[original])
        problems += table_problems
        if table is not None:
            tables[name] = table
    for candidate in GEOMETRY_NAMES:
        if candidate in lowered:
            geometry = (lowered[candidate], files[lowered[candidate]])
            break
    known = {f"{n}.csv" for n in TABLE_NAMES} | set(GEOMETRY_NAMES)
    unknown = [files_name for low, files_name in lowered.items() if low not in known and not low.startswith(".")]
    if "regions" not in tables and not any(p.file.lower() == "regions.csv" for p in problems):
        problems.append(Problem("regions.csv", None, None, None, "a regions.csv file: it is the one required table"))
    return RawPackage(source, tables, geometry, problems, unknown)


def _read_csv(name: str, file: str, data: bytes) -> tuple[RawTable | None, list[Problem]]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        found = data[exc.start: exc.start + 8]
        return None, [Problem(file, line, None, repr(found), "UTF-8 text (save the file as 'CSV UTF-8')")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [Problem(file, line, None, "a NUL byte", "CSV text, not a binary file")]
    if "\r" in text:
        # Old Mac exports end lines with CR alone; Windows with CRLF.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None, [Problem(file, 1, None, "an empty file", "a header row naming the columns")]
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
            skipinitialspace=False, skip_blank_lines=True, quoting=csv.QUOTE_MINIMAL,
        )
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+), saw (\d+)", str(exc))
        expected = re.search(r"Expected (\d+) fields", str(exc))
        if match and expected:
            return None, [Problem(file, int(match.group(1)), None, f"{match.group(2)} fields", f"{expected.group(1)} fields, like the header")]
        return None, [Problem(file, None, None, str(exc).splitlines()[0], "well-formed CSV")]
    return _table(name, file, frame)


def _from_workbook(path: Path) -> RawPackage:
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, na_filter=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        return RawPackage(str(path), {}, None, [Problem(path.name, None, None, type(exc).__name__, "a readable .xlsx workbook")], [])
    tables, problems, unknown = {}, [], []
    for sheet, frame in sheets.items():
        name = sheet.strip().lower().removesuffix(".csv")
        if name not in TABLE_NAMES:
            unknown.append(f"sheet {sheet}")
            continue
        table, table_problems = _table(name, f"{path.name}, sheet {sheet}", frame)
        problems += table_problems
        if table is not None:
            tables[name] = table
    if "regions" not in tables:
        problems.append(Problem(path.name, None, None, None, "a sheet named regions: it is the one required table"))
    return RawPackage(str(path), tables, None, problems, unknown)


def _table(name: str, file: str, frame: pd.DataFrame) -> tuple[RawTable | None, list[Problem]]:
    columns = [str(c).strip().lower() for c in frame.columns]
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        return None, [Problem(file, 1, c, c, "each column named once") for c in duplicates]
    frame.columns = columns
    frame = frame.astype(str)
    # Drop rows that are entirely blank (spreadsheet leftovers), keeping row numbers.
    blank = (frame == "").all(axis=1)
    if blank.any():
        frame = frame[~blank]
    return RawTable(name, file, frame), []
