"""Reading a data package from disk: a folder, a .zip of one, or an .xlsx workbook.

Turns every table into a DataFrame of raw text with its spreadsheet row numbers, and collects
reading problems (bad encoding, ragged rows, missing header, a formula without a value, a cell
longer than a CSV field may be) instead of raising.

Archives (.zip, and .xlsx, which is one) are checked against the size limits below from their
directory before anything is unpacked, and unpacked in pieces that stop at the limit, so that a
small file that unpacks to gigabytes is refused instead of filling the memory.
"""
from __future__ import annotations

import csv
import datetime
import io
import math
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data.problems import Description, Problem

TABLE_NAMES = (
    "regions", "partners", "programs", "program_sites", "participation",
    "indicators", "outcomes", "pathway", "targets", "groups",
)
GEOMETRY_NAMES = ("regions.geojson", "regions.zip", "regions.shp.zip")
# The csv module's cell limit: a longer cell is refused (the careful readers below would fail on it).
MAX_CELL_CHARS = csv.field_size_limit()
_MB = 1024 * 1024
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


@dataclass(frozen=True)
class Limits:
    """Size limits, in bytes (settings in MB, see the README)."""
    upload: int  # everything uploaded at once (ALLIANCE_MAX_UPLOAD_MB)
    unpacked: int  # all files of one archive once unpacked (ALLIANCE_MAX_UNPACKED_MB)
    file: int  # any one file, uploaded or once unpacked (ALLIANCE_MAX_FILE_MB)

    @classmethod
    def from_settings(cls) -> "Limits":
        def setting(name: str, default: float) -> int:
            try:
                value = float(os.environ.get(name, default))
            except ValueError:
                value = default
            return int(max(value, 0.001) * _MB)

        return cls(setting("ALLIANCE_MAX_UPLOAD_MB", 200), setting("ALLIANCE_MAX_UNPACKED_MB", 500),
                   setting("ALLIANCE_MAX_FILE_MB", 200))


def size_text(size: int) -> str:
    return f"{size / _MB:,.1f} MB" if size >= _MB / 10 else f"{size / 1024:,.0f} KB"


class TooBig(Exception):
    """An archive, or a file in one, is larger than its limit; the problem says which."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def unpack_zip(data: bytes, archive_name: str, limits: Limits | None = None,
               wanted=lambda name: True) -> dict[str, bytes]:
    """The members of a zip archive (folders and macOS leftovers left out) whose names `wanted`
    accepts, refusing with TooBig — before unpacking anything — an archive whose directory
    declares more than the limits (for every member, wanted or not: a reader of the archive, such
    as openpyxl, may unpack the others), and stopping any member that unpacks to more than it declared."""
    limits = limits or Limits.from_settings()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [i for i in archive.infolist() if not i.is_dir() and "__MACOSX" not in i.filename]
        for info in members:
            if info.file_size > limits.file:
                raise TooBig(Problem(archive_name, None, None, Description(
                    f"{Path(info.filename).name}, {size_text(info.file_size)} once unpacked"),
                    f"each file at most {size_text(limits.file)} (the ALLIANCE_MAX_FILE_MB setting)"))
        total = sum(i.file_size for i in members)
        if total > limits.unpacked:
            raise TooBig(Problem(archive_name, None, None, Description(f"an archive of {size_text(total)} once unpacked"),
                                 f"at most {size_text(limits.unpacked)} unpacked (the ALLIANCE_MAX_UNPACKED_MB setting)"))
        files = {}
        for info in (i for i in members if wanted(i.filename)):
            chunks, read = [], 0
            with archive.open(info) as member:
                while chunk := member.read(_MB):
                    read += len(chunk)
                    if read > min(info.file_size, limits.file):  # never more than its directory said
                        raise TooBig(Problem(archive_name, None, None, Description(
                            f"{Path(info.filename).name}, larger once unpacked than the archive says"),
                            "an archive whose sizes are true"))
                    chunks.append(chunk)
            files[info.filename] = b"".join(chunks)
        return files


@dataclass
class RawTable:
    name: str
    file: str  # as shown in messages, e.g. "outcomes.csv" or "workbook.xlsx, sheet outcomes"
    frame: pd.DataFrame  # all cells as stripped-later text; columns lower-cased and stripped
    unknown_columns: list[str] = field(default_factory=list)
    # Spreadsheet row -> the header's columns that row has no cell for (read as blank).
    short_rows: dict[int, list[str]] = field(default_factory=dict)

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
    unreadable: set[str] = field(default_factory=set)  # tables present but not readable


def read_package(path: str | Path, limits: Limits | None = None) -> RawPackage:
    path = Path(path)
    limits = limits or Limits.from_settings()
    if not path.exists():
        return RawPackage(str(path), {}, None, [Problem(str(path), None, None, None, "a package folder, .zip or .xlsx file that exists")], [])
    if path.is_dir():
        files = {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
        return _from_files(str(path), files)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            files = _zip_members(path.read_bytes(), path.name, limits)
        except TooBig as exc:
            return RawPackage(str(path), {}, None, [exc.problem], [])
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
            return RawPackage(str(path), {}, None, [Problem(path.name, None, None, None, "a readable .zip file")], [])
        return _from_files(str(path), files)
    if suffix in (".xlsx", ".xlsm"):
        return _from_workbook(path, limits)
    if suffix == ".csv" and path.stem.lower() in TABLE_NAMES:
        return _from_files(str(path), {path.name: path.read_bytes()})
    return RawPackage(str(path), {}, None, [Problem(path.name, None, None, None, "a package folder, a .zip of one, or an .xlsx workbook")], [])


def _zip_members(data: bytes, archive_name: str, limits: Limits) -> dict[str, bytes]:
    """Files of a zipped package, wherever the folder sits inside the archive."""
    return {Path(name).name: content for name, content in unpack_zip(data, archive_name, limits).items()}


def _from_files(source: str, files: dict[str, bytes]) -> RawPackage:
    tables, problems, unknown, unreadable = {}, [], [], set()
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
        else:
            unreadable.add(name)
    for candidate in GEOMETRY_NAMES:
        if candidate in lowered:
            geometry = (lowered[candidate], files[lowered[candidate]])
            break
    known = {f"{n}.csv" for n in TABLE_NAMES} | set(GEOMETRY_NAMES)
    unknown = [files_name for low, files_name in lowered.items() if low not in known and not low.startswith(".")]
    if "regions" not in tables and not any(p.file.lower() == "regions.csv" for p in problems):
        problems.append(Problem("regions.csv", None, None, None, "a regions.csv file: it is the one required table"))
    return RawPackage(source, tables, geometry, problems, unknown, unreadable)


def _read_csv(name: str, file: str, data: bytes) -> tuple[RawTable | None, list[Problem]]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if _is_utf16(data):
        return None, [Problem(file, None, None, Description("UTF-16 text (Excel's 'Unicode Text')"),
                              "UTF-8 text (in Excel: Save As, 'CSV UTF-8 (Comma delimited)')")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [_encoding_problem(file, data, exc)]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [Problem(file, line, None, Description("a NUL byte"), "CSV text, not a binary file")]
    if "\r" in text:
        # Old Mac exports end lines with CR alone; Windows with CRLF.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None, [Problem(file, 1, None, Description("an empty file"), "a header row naming the columns")]
    # Blank lines above the header: the header is the first line with something on it.
    body = text.lstrip("\n")
    header_row = len(text) - len(body) + 1
    first_line = body.split("\n", 1)[0]
    for separator, name_of in ((";", "semicolons"), ("\t", "tabs")):
        if "," not in first_line and separator in first_line:
            return None, [Problem(file, header_row, None, Description(f"a header whose columns are separated by {name_of}"),
                                  "columns separated by commas (in Excel: Save As, 'CSV UTF-8 (Comma delimited)')")]
    grid = _plain_grid(body)
    if grid is not None:
        header = [str(c) for c in grid.iloc[0]]
        frame = grid.iloc[1:]
        frame.columns = header
        frame.index = frame.index + header_row - 2
        return _table(name, file, frame)
    # The header is read as a row like the others (header=None), so that pandas neither takes a
    # first column for the index when rows end with a trailing comma, nor pads or cuts rows
    # silently: a row longer than the header comes back as a warning naming its record number.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            grid = pd.read_csv(
                io.StringIO(body), header=None, dtype=str, keep_default_na=False, na_filter=False,
                skipinitialspace=False, skip_blank_lines=False, index_col=False, on_bad_lines="warn",
                quoting=csv.QUOTE_MINIMAL,
            )
        except pd.errors.ParserError as exc:
            message = str(exc)
            quote = re.search(r"EOF inside string starting at row (\d+)", message)
            if quote:
                return None, [Problem(file, int(quote.group(1)) + header_row, None, Description("a quote (\") that is never closed"),
                                      "each quoted cell to end with a closing quote")]
            return None, [Problem(file, None, None, message.splitlines()[0], "well-formed CSV")]
    if any("Skipping line" in str(w.message) for w in caught):
        return _read_ragged_csv(name, file, body, header_row)
    header = [str(c) for c in grid.iloc[0]]
    frame = grid.iloc[1:]
    frame.columns = header
    frame.index = frame.index + header_row - 2  # grid row i is spreadsheet row i + header_row
    # pandas pads a row shorter than the header with blanks, silently: note such rows.
    long = _long_cells(file, frame, header)
    if long:
        return None, long
    return _table(name, file, frame, _short_rows(csv.reader(io.StringIO(body)), len(header), header_row))


PLAIN_GRID_MIN_CHARS = 1_000_000


def _plain_grid(body: str) -> pd.DataFrame | None:
    """The grid of a big file with no quote character and every row as wide as the header, read
    by pyarrow's multi-threaded reader: without quotes a CSV line is split on commas alone, so
    the grid is the one pandas reads below, several times faster. Anything else (quotes, short,
    long or blank rows) returns None and takes pandas' careful path."""
    if len(body) < PLAIN_GRID_MIN_CHARS or '"' in body:
        return None
    import pyarrow as pa
    import pyarrow.csv as pacsv

    width = body[: body.find("\n") if "\n" in body else len(body)].count(",") + 1
    irregular = []

    def invalid_row(row):
        irregular.append(row.number)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(quote_char=False, ignore_empty_lines=False, invalid_row_handler=invalid_row),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if irregular or table.num_columns != width:
        return None
    grid = table.to_pandas()
    grid.columns = range(width)
    return grid


def _read_ragged_csv(name: str, file: str, text: str, header_row: int) -> tuple[RawTable | None, list[Problem]]:
    """The slow, exact reading of a file with rows longer than its header.

    Extra cells that are all blank (trailing commas) are dropped; a row with anything in its
    extra cells is reported, every one of them, with its row number.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        records = list(reader)
    except csv.Error as exc:  # e.g. a cell longer than the csv module's limit
        if "field limit" in str(exc):
            return None, [Problem(file, reader.line_num + header_row - 1, None,
                                  Description(f"a cell longer than {MAX_CELL_CHARS:,} characters"),
                                  f"cells of at most {MAX_CELL_CHARS:,} characters")]
        return None, [Problem(file, reader.line_num + header_row - 1, None, str(exc), "well-formed CSV")]
    header, width = records[0], len(records[0])
    rows, index, problems = [], [], []
    for number, record in enumerate(records[1:], start=header_row + 1):
        if len(record) > width:
            if any(cell.strip() for cell in record[width:]):
                extra = ", ".join(repr(c) for c in record[width:] if c.strip())
                problems.append(Problem(file, number, None, Description(f"a row of {len(record)} cells (extra: {extra})"[:200]),
                                        f"{width} cells, like the header"))
                continue
            record = record[:width]
        rows.append(record + [""] * (width - len(record)))
        index.append(number - 2)
    if problems:
        return None, problems
    frame = pd.DataFrame(rows, columns=header, index=index, dtype=str)
    return _table(name, file, frame, _short_rows(records, width, header_row))


def _is_utf16(data: bytes) -> bool:
    """A UTF-16 file: its byte-order mark, or (without one) a NUL byte in every other place of
    text that is otherwise ASCII."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = data[:2000]
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even)) or \
        (even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd))


def _long_cells(file: str, frame: pd.DataFrame, header: list[str], shown: int = 5) -> list[Problem]:
    """Cells longer than a CSV cell may be (MAX_CELL_CHARS), each with its row and column."""
    problems = []
    for position in range(frame.shape[1]):
        lengths = frame.iloc[:, position].str.len()  # by position: a header may repeat a name
        for index in lengths.index[(lengths > MAX_CELL_CHARS).to_numpy()][:shown]:
            problems.append(Problem(file, int(index) + 2, str(header[position]).strip().lower() or None,
                                    Description(f"a cell of {int(lengths[index]):,} characters"),
                                    f"cells of at most {MAX_CELL_CHARS:,} characters"))
    return problems


def _short_rows(records, width: int, header_row: int) -> dict[int, int]:
    """Spreadsheet row -> cell count of each row with fewer cells than the header (a blank line
    is not a row). Read with blanks for the missing cells; the importer warns where a missing
    cell is a contract column's, since a separator left out moves later values along."""
    return {number: len(record) for number, record in enumerate(records, start=header_row)
            if 0 < len(record) < width and any(cell.strip() for cell in record)}


def _encoding_problem(file: str, data: bytes, exc: UnicodeDecodeError) -> Problem:
    """Where the first byte that is not UTF-8 sits: row, column (when the header says) and cell."""
    before = data[: exc.start]
    line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    row = before.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
    line_end = len(data)
    for newline in (b"\n", b"\r"):
        found = data.find(newline, exc.start)
        if found != -1:
            line_end = min(line_end, found)
    line = data[line_start:line_end].decode("utf-8", errors="replace")
    column, value = None, line
    try:
        cells = next(csv.reader([line]))
        header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip("\r\ufeff")]))
        for position, cell in enumerate(cells):
            if "\ufffd" in cell:
                value = cell
                if row > 1 and position < len(header):
                    column = header[position].strip().lower()
                break
    except (csv.Error, StopIteration):
        pass
    byte = data[exc.start]
    return Problem(file, row, column, value[:80],
                   f"UTF-8 text, and byte 0x{byte:02X} is not UTF-8 here (save the file as 'CSV UTF-8')")


def _from_workbook(path: Path, limits: Limits) -> RawPackage:
    import openpyxl

    def damaged(exc: Exception) -> RawPackage:
        return RawPackage(str(path), {}, None, [Problem(path.name, None, None, Description(
            f"a damaged workbook ({type(exc).__name__})"), "a readable .xlsx workbook")], [])

    data = path.read_bytes()
    try:
        # A workbook is a zip archive: its size limits hold before openpyxl unpacks any of it.
        parts = unpack_zip(data, path.name, limits, wanted=lambda name: name.startswith("xl/worksheets/"))
    except TooBig as exc:
        return RawPackage(str(path), {}, None, [exc.problem], [])
    except Exception as exc:  # not a zip archive at all
        return damaged(exc)
    with_formulas = any(_FORMULA.search(content) for content in parts.values())
    del parts
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False) if with_formulas else None
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        return damaged(exc)
    tables, problems, unknown, unreadable = {}, [], [], set()
    try:
        for sheet in book.worksheets:
            name = sheet.title.strip().lower().removesuffix(".csv")
            if name not in TABLE_NAMES:
                unknown.append(f"sheet {sheet.title}")
                continue
            file = f"{path.name}, sheet {sheet.title}"
            frame, unsaved = _sheet_frame(sheet, formulas[sheet.title] if formulas is not None else None)
            if unsaved:
                problems += [Problem(file, row, column, Description(f"a formula ({formula[:80]}) whose result was never saved"),
                                     "a value: open the workbook in a spreadsheet and save it, or paste the cells as values")
                             for row, column, formula in unsaved[:50]]
                unreadable.add(name)
                continue
            table, table_problems = _table(name, file, frame)
            problems += table_problems
            if table is not None:
                tables[name] = table
            else:
                unreadable.add(name)
    except Exception as exc:  # a part of the file that only fails once read
        return damaged(exc)
    finally:
        book.close()
        if formulas is not None:
            formulas.close()
    if "regions" not in tables and "regions" not in unreadable:
        problems.append(Problem(path.name, None, None, None, "a sheet named regions: it is the one required table"))
    return RawPackage(str(path), tables, None, problems, unknown, unreadable)


def _sheet_frame(sheet, formulas=None) -> tuple[pd.DataFrame, list[tuple[int, str | None, str]]]:
    """A sheet's cells as text, first row the header; frame row i is spreadsheet row i + 2. With
    `formulas` (the same sheet read for its formulas), also the cells holding a formula with no
    saved result: (row, column name, formula)."""
    rows = [[_cell_text(cell.value, getattr(cell, "number_format", None)) for cell in row] for row in sheet.iter_rows()]
    unsaved = []
    if formulas is not None:
        header = rows[0] if rows else []
        for r, row in enumerate(formulas.iter_rows(values_only=True)):
            for c, value in enumerate(row):
                if isinstance(value, str) and value.startswith("=") and (r >= len(rows) or c >= len(rows[r]) or rows[r][c] == ""):
                    unsaved.append((r + 1, str(header[c]).strip().lower() if c < len(header) and r > 0 else None, value))
    while rows and not any(rows[-1]):
        rows.pop()  # formatting left below the data
    if not rows:
        return pd.DataFrame(), unsaved
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype=str) if len(rows) > 1 else pd.DataFrame(columns=rows[0])
    return frame, unsaved


def _cell_text(value, number_format: str | None = None) -> str:
    """A workbook cell as the text a CSV export would hold.

    Date cells become `YYYY-MM-DD` (not `2019-08-01 00:00:00`), whole-number cells lose
    Excel's `.0`, TRUE/FALSE cells become `true`/`false`, and a percent-formatted cell reads as
    it shows (94%, stored as 0.94, becomes `94`: rates in the contract are percentages).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and number_format and "%" in number_format:
        value = round(value * 100, 9)  # 0.945 * 100 is 94.49999999999999
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(name: str, file: str, frame: pd.DataFrame, short_rows: dict[int, int] | None = None) -> tuple[RawTable | None, list[Problem]]:
    columns = [str(c).strip().lower() for c in frame.columns]
    header = list(columns)
    frame = frame.astype(str)
    frame.columns = range(len(columns))
    # A column without a name and without any value is a spreadsheet leftover (a trailing comma
    # on every line); one without a name but with values is kept as an unknown column.
    unnamed = [i for i, c in enumerate(columns) if c == "" or c.startswith("unnamed: ")]
    for i in unnamed:
        if (frame[i].str.strip() == "").all():
            columns[i] = None
        else:
            columns[i] = f"(column {i + 1}, no name)"
    keep = [i for i, c in enumerate(columns) if c is not None]
    if len(keep) < len(columns):
        frame = frame[keep]
        columns = [columns[i] for i in keep]
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        return None, [Problem(file, 1, c, c, "each column named once") for c in duplicates]
    frame.columns = columns
    # Drop rows that are entirely blank (spreadsheet leftovers), keeping row numbers.
    if len(columns):
        candidates = frame.iloc[:, 0].str.strip() == ""
        if candidates.any():
            blank = candidates.copy()
            blank[candidates] = (frame[candidates].apply(lambda c: c.str.strip()) == "").all(axis=1)
            frame = frame[~blank]
    return RawTable(name, file, frame, short_rows={row: header[n:] for row, n in (short_rows or {}).items()}), []
