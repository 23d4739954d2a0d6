"""The one writer of every CSV and XLSX file the dashboard hands out (page downloads, exports,
the public data file). Use it for any file a person may open in a spreadsheet:

    from reports.files import csv_bytes, xlsx_bytes, write_csv
    csv_bytes(table)                       # bytes for st.download_button (UTF-8 with BOM)
    xlsx_bytes({"Ranking": table, ...})    # one sheet per table
    write_csv(table, path, bom=False)      # a file on disk (the public data file has no BOM)

What it guarantees, whatever the table holds:
- **No formulas.** A text cell a spreadsheet would evaluate (beginning with `=`, `+`, `-`,
  `@`, a tab or a carriage return: a region named `=HYPERLINK(...)`) is written with a leading
  apostrophe in CSV, and as a quote-prefixed string cell in XLSX, so it reads as the text it is.
- **Numbers as numbers.** Display text such as `1,234`, `−9.3` (Unicode minus), `+1.5`,
  `87.5%` or `12 pts` becomes the number (ASCII minus, no thousands separator). A column whose
  values carried `%` is written without it and its header gains ` (%)`. Status words beside
  numbers (`suppressed`, `no data`) stay as they are.
- **Ranges as two numbers.** A column holding ranges (`90–94%`, `≈94%`, `≈ −4 to +1`,
  `under 50%`, `over 80%`) keeps its text and gains two numeric columns beside it,
  `<column> low` and `<column> high` (an exact value has low = high).
- Identifiers stay text: values with a leading zero (`01001`), school years (`2024–25`),
  quarters (`2025 Q3`) are never turned into numbers.

`file_table(table)` is the normalised frame both writers use, for tests and previews.
"""
from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from domain.memo import memo

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_MINUSES = str.maketrans({"−": "-", "‒": "-", "–": "-", "—": "-"})
_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_UNIT = r"\s*(?P<unit>%|pts|points|pp)?"
_NUMBER_RE = re.compile(rf"^(?P<n>{_NUMBER}){_UNIT}$")
# `90–94%`, `90-94`, `−4 to +1 pts`; the dash form is read before minus signs are normalised.
_RANGE_RE = re.compile(rf"^≈?\s*(?P<a>[+−-]?[\d.,]+)\s*(?:–|—|to)\s*(?P<b>[+−-]?[\d.,]+){_UNIT}$")
_ABOUT_RE = re.compile(rf"^≈\s*(?P<n>[+−-]?[\d.,]+){_UNIT}$")
_BAND_RE = re.compile(rf"^(?P<side>under|below|fewer than|over|above|at least|at most)\s+(?P<n>[\d.,]+){_UNIT}$")
_IDENTIFIER_RE = re.compile(r"^(0\d+|\d{4}[–-]\d{2}|\d{4}\s*Q[1-4]|\d{4}-\d{2}-\d{2}.*)$")


def _number(text: str) -> tuple[float, str | None] | None:
    """`text` as a number and its unit, or None when it is not one number."""
    match = _NUMBER_RE.match(text.translate(_MINUSES).strip())
    if not match or _IDENTIFIER_RE.match(text.strip()):
        return None
    return float(match["n"].replace(",", "")), match["unit"]


def _plain(text: str) -> float | None:
    parsed = _number(text)
    return None if parsed is None else parsed[0]


def parse_cell(value) -> tuple[str, float | None, float | None, str | None]:
    """Classify one display value: (kind, low, high, unit) with kind one of `blank`, `number`,
    `range` or `text`. A number has low == high."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return "blank", None, None, None
    if isinstance(value, (bool, np.bool_)):
        return "text", None, None, None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number", float(value), float(value), None
    text = str(value).strip()
    if not text:
        return "blank", None, None, None
    parsed = _number(text)
    if parsed is not None:
        return "number", parsed[0], parsed[0], parsed[1]
    match = _RANGE_RE.match(text)
    if match and not _IDENTIFIER_RE.match(text):
        low, high = _plain(match["a"]), _plain(match["b"])
        if low is not None and high is not None and low <= high:
            return "range", low, high, match["unit"]
    match = _ABOUT_RE.match(text)
    if match and _plain(match["n"]) is not None:
        return "range", _plain(match["n"]), _plain(match["n"]), match["unit"]
    match = _BAND_RE.match(text)
    if match and _plain(match["n"]) is not None:
        bound, unit = _plain(match["n"]), match["unit"]
        if match["side"] in ("under", "below", "fewer than", "at most"):
            return "range", 0.0, bound, unit
        return "range", bound, 100.0 if unit == "%" else math.inf, unit
    return "text", None, None, None


def safe_text(value) -> str:
    """Text a spreadsheet shows as written: a leading apostrophe before anything it would
    evaluate as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _whole(values: pd.Series) -> pd.Series:
    """Whole numbers as integers (`12`, not `12.0`), others as floats."""
    numbers = pd.to_numeric(values, errors="coerce")
    finite = numbers.dropna()
    if len(finite) and np.isfinite(finite).all() and (finite == finite.round()).all() and finite.abs().max() < 2 ** 53:
        return numbers.astype("Int64")
    return numbers.astype("Float64")


def file_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as it goes into a file: numbers numeric, ranges split into low/high columns,
    text safe from formula evaluation (see the module docstring)."""
    out: dict[str, pd.Series] = {}
    for column in table.columns:
        values = table[column].reset_index(drop=True)
        name = str(column)
        if pd.api.types.is_bool_dtype(values.dtype):
            out[name] = values.map(lambda v: "" if pd.isna(v) else ("yes" if v else "no"))
            continue
        if pd.api.types.is_numeric_dtype(values.dtype):
            out[name] = _whole(values)
            continue
        cells = [parse_cell(v) for v in values]
        kinds = {c[0] for c in cells}
        identifiers = any(isinstance(v, str) and _IDENTIFIER_RE.match(v.strip()) for v in values)
        if identifiers or not kinds & {"number", "range"}:
            out[name] = values.map(lambda v: "" if parse_cell(v)[0] == "blank" else safe_text(v)).astype(object)
            continue
        percent = any(c[3] == "%" for c in cells)
        header = name if (not percent or "%" in name or f"{name} (%)" in table.columns) else f"{name} (%)"
        if "range" in kinds:
            text = [("" if kind == "blank" else safe_text(_unitless(v)) if kind == "range" else
                     _integral(low) if kind == "number" else safe_text(v))
                    for v, (kind, low, _, _) in zip(values, cells)]
            out[header] = pd.Series(text, dtype=object)
            out[f"{header} low"] = _whole(pd.Series([c[1] for c in cells], dtype="float64"))
            out[f"{header} high"] = _whole(pd.Series([c[2] if c[2] is None or math.isfinite(c[2]) else None
                                                      for c in cells], dtype="float64"))
        elif kinds <= {"number", "blank"}:
            out[header] = _whole(pd.Series([c[1] for c in cells], dtype="float64"))
        else:
            # Numbers beside status words: each cell as what it is.
            out[header] = pd.Series([_integral(low) if kind == "number" else "" if kind == "blank" else safe_text(v)
                                     for v, (kind, low, _, _) in zip(values, cells)], dtype=object)
    return pd.DataFrame(out)


def _integral(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


def _unitless(value) -> str:
    """A range's text with ASCII minus signs and without its unit (the header names it)."""
    text = str(value).strip().translate(str.maketrans({"−": "-"}))
    return re.sub(r"\s*(%|pts|points|pp)$", "", text)


def _csv_value(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(_integral(float(value))) if math.isfinite(value) else ""
    return safe_text(value)


def csv_text(table: pd.DataFrame) -> str:
    frame = file_table(table)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(c) for c in frame.columns])
    columns = [frame[c].tolist() for c in frame.columns]
    for row in zip(*columns):
        # Text was made safe in file_table; numbers and blanks need no more.
        writer.writerow(["" if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else
                         _csv_value(v) if not isinstance(v, str) else v for v in row])
    return buffer.getvalue()


@memo  # every chart's download is made on every rerun: once per distinct table
def csv_bytes(table: pd.DataFrame, bom: bool = True) -> bytes:
    """The table as CSV bytes. With a byte-order mark by default, so that a spreadsheet reads
    `–` and `≈` as written rather than guessing a legacy encoding."""
    return csv_text(table).encode("utf-8-sig" if bom else "utf-8")


def write_csv(table: pd.DataFrame, path: str | Path, bom: bool = True) -> Path:
    path = Path(path)
    path.write_bytes(csv_bytes(table, bom=bom))
    return path


@memo  # the export buttons are drawn on every rerun: each workbook is written once
def xlsx_bytes(sheets: pd.DataFrame | dict[str, pd.DataFrame]) -> bytes:
    """One workbook, a sheet per table (a single table goes on a sheet named `data`). Numbers
    are number cells; text is a quote-prefixed string cell, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    if isinstance(sheets, pd.DataFrame):
        sheets = {"data": sheets}
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for title, table in sheets.items():
        sheet = workbook.create_sheet(_sheet_title(title, used))
        frame = file_table(table)

        def cell(value):
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                return None
            if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                number = _integral(float(value)) if isinstance(value, (float, np.floating)) else int(value)
                return number if not isinstance(number, float) or math.isfinite(number) else None
            text = str(value)
            if text.startswith("'") and text[1:].startswith(FORMULA_START):
                text = text[1:]
            written = WriteOnlyCell(sheet, value=text)
            written.data_type = "s"  # never a formula, whatever the text begins with
            written.quotePrefix = True
            return written

        sheet.append([cell(str(c)) for c in frame.columns])
        columns = [frame[c].tolist() for c in frame.columns]
        for row in zip(*columns):
            sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str, used: set[str]) -> str:
    """A legal, unique sheet name (at most 31 characters, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", " ", str(title)).strip()[:31] or "sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name
