"""reports/files.py: every CSV and XLSX the dashboard writes is safe to open in a spreadsheet
(no formula runs), and its numbers are numbers a spreadsheet can add up."""
from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from reports.files import FORMULA_START, csv_bytes, file_table, parse_cell, safe_text, xlsx_bytes

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "@SUM(A1:A9)", "+1+1", "-2+3", "\t=1", "\r=1", "=1+1"]


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("name", HOSTILE)
def test_text_a_spreadsheet_would_evaluate_is_neutralised_in_csv(name):
    rows = _csv_rows(csv_bytes(pd.DataFrame({"Region": [name], "Programs": [3]})))
    assert rows[1][0] == "'" + name
    assert not rows[1][0].startswith(FORMULA_START)
    assert rows[1][1] == "3"


@pytest.mark.parametrize("name", HOSTILE)
def test_text_a_spreadsheet_would_evaluate_is_a_string_cell_in_xlsx(name):
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"ranking": pd.DataFrame({"Region": [name]})})))
    cell = book["ranking"]["A2"]
    # (XML reads a carriage return back as a line feed; the cell is text either way.)
    assert cell.data_type == "s" and cell.value == name.replace("\r", "\n") and cell.quotePrefix


def test_headers_are_neutralised_too():
    rows = _csv_rows(csv_bytes(pd.DataFrame({"=cmd": [1]})))
    assert rows[0] == ["'=cmd"]


def test_display_numbers_become_numbers():
    table = pd.DataFrame({
        "Students measured": ["1,234", "suppressed", "12"],
        "Gap (points)": ["−9.3", "+1.5", ""],
        "Rate": ["87.5%", "40%", "no data"],
    })
    rows = _csv_rows(csv_bytes(table))
    assert rows[0] == ["Students measured", "Gap (points)", "Rate (%)"]
    assert rows[1] == ["1234", "-9.3", "87.5"]
    assert rows[2] == ["suppressed", "1.5", "40"]
    assert rows[3] == ["12", "", "no data"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(table))).active
    assert [c.value for c in sheet[2]] == [1234, -9.3, 87.5]
    assert sheet["A3"].value == "suppressed" and sheet["A3"].data_type == "s"


def test_a_range_gets_numeric_low_and_high_columns_beside_its_text():
    table = pd.DataFrame({"Group": ["All", "Female", "Male", "EL"],
                          "Rate": ["90–94%", "87.5%", "under 50%", "▨ suppressed"]})
    frame = file_table(table)
    assert list(frame.columns) == ["Group", "Rate (%)", "Rate (%) low", "Rate (%) high"]
    assert frame["Rate (%)"].tolist() == ["90–94", 87.5, "under 50", "▨ suppressed"]
    assert frame["Rate (%) low"].tolist()[:3] == [90, 87.5, 0]
    assert frame["Rate (%) high"].tolist()[:3] == [94, 87.5, 50]
    assert pd.isna(frame["Rate (%) low"].iloc[3])
    rows = _csv_rows(csv_bytes(table))
    assert rows[1] == ["All", "90–94", "90", "94"]


def test_approximate_gaps_with_signs_split_into_numbers():
    assert parse_cell("≈ −4 to +1 pts")[:3] == ("range", -4.0, 1.0)
    assert parse_cell("≈94%")[:3] == ("range", 94.0, 94.0)
    assert parse_cell("over 80%")[:3] == ("range", 80.0, 100.0)


@pytest.mark.parametrize("value", ["2024–25", "2025 Q3", "01001", "2026-11-24"])
def test_identifiers_stay_text(value):
    frame = file_table(pd.DataFrame({"x": [value, "12"]}))
    assert frame["x"].tolist() == [value, "12"]


def test_whole_numbers_are_written_without_a_decimal_and_missing_as_blank():
    rows = _csv_rows(csv_bytes(pd.DataFrame({"n": [1.0, None, 3.0], "r": [1.5, 2.25, None]})))
    assert rows[1:] == [["1", "1.5"], ["", "2.25"], ["3", ""]]


def test_public_files_can_be_written_without_a_byte_order_mark():
    assert csv_bytes(pd.DataFrame({"a": [1]}), bom=False) == b"a\r\n1\r\n"
    assert csv_bytes(pd.DataFrame({"a": [1]})).startswith("\ufeff".encode())


def test_safe_text_leaves_ordinary_text_alone():
    assert safe_text("Knox County") == "Knox County"
    assert safe_text("") == ""


def test_sheet_names_are_legal_and_unique():
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"a/b": pd.DataFrame({"x": [1]}), "a b": pd.DataFrame({"x": [2]}),
                                                         "x" * 40: pd.DataFrame({"x": [3]})})))
    assert len(book.sheetnames) == 3 and all(len(n) <= 31 for n in book.sheetnames)


def test_page_downloads_go_through_the_safe_writer(monkeypatch):
    from components import layout

    handed = {}
    monkeypatch.setattr(layout.st, "download_button", lambda label, data, **kw: handed.update(data=data, **kw))
    layout.download_csv(pd.DataFrame({"Region": ["=EVIL()"], "Seats": ["1,200"]}), "x.csv", key="k")
    rows = _csv_rows(handed["data"])
    assert rows[1] == ["'=EVIL()", "1200"] and handed["mime"] == "text/csv"
