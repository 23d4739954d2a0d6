"""Lists a coordinator takes away (components/exports.py over reports/files.py): the filters
that produced a table are written in its CSV and XLSX, text is never a formula, numbers are
numbers."""
from __future__ import annotations

import io

import pandas as pd
from openpyxl import load_workbook

from components import coverage_charts as charts
from components.exports import file_stem, filters_sheet, with_filters
from reports.files import csv_text, xlsx_bytes

FILTERS = {"Quarter": "2025 Q4", "Program type": "Afterschool", "Ranking order": "Shortfall: need against coverage"}


def _ranking() -> pd.DataFrame:
    from domain import coverage as cov

    frame = pd.DataFrame({
        "region_id": ["R1", "R2"], "name": ["=HYPERLINK(\"http://x\")", "Plain County"], "locale": ["rural", "city"],
        "k12_enrollment": [1000, 2000], "low_income_pct": [70.0, 30.0], "sites": [0, 3], "seats_per_1000": [0.0, 25.0],
        "nearest_site_km": [12.5, 1.0], "distance_basis": [cov.MEASURED, cov.MEASURED],
        "participations_per_1000": [1.0, 2.0], "participations_suppressed": [False, False],
    })
    ranked = cov.rank_regions(frame, cov.Alliance(low_income_pct=50.0, seats_per_1000=20.0), "shortfall")
    return charts.ranking_view(ranked, {}, 10)


def test_csv_carries_the_filters_and_no_formula():
    text = csv_text(with_filters(_ranking(), FILTERS))
    header, first = text.splitlines()[:2]
    assert header.startswith("Filter: Quarter,Filter: Program type,Filter: Ranking order,Rank,Region")
    assert first.startswith("2025 Q4,Afterschool,Shortfall: need against coverage,1,")
    assert "'=HYPERLINK" in first  # neutralised: a spreadsheet shows the text


def test_xlsx_has_a_filters_sheet_numbers_as_numbers_and_text_as_text():
    view = _ranking()
    book = load_workbook(io.BytesIO(xlsx_bytes({"Underserved regions": view,
                                                "Filters": filters_sheet(FILTERS, {"Rule": "Shortfall, …"})})))
    assert book.sheetnames == ["Underserved regions", "Filters"]
    sheet = book["Underserved regions"]
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2])}
    assert row["Rank"].value == 1 and row["Rank"].data_type == "n"
    assert row["Shortfall (need points × coverage gap)"].value == 2 and row["Coverage gap (% short of the alliance's seats per 1,000)"].value == 100
    assert row["Nearest site (km)"].data_type == "n"
    assert row["Region"].value == "=HYPERLINK(\"http://x\")" and row["Region"].data_type == "s"
    settings = {r[0].value: r[1].value for r in book["Filters"].iter_rows(min_row=2)}
    assert settings["Quarter"] == "2025 Q4" and settings["Ranking order"].startswith("Shortfall")
    assert settings["Rule"] == "Shortfall, …"


def test_file_names_are_plain():
    assert file_stem("underserved", "shortfall", "2025-Q4") == "underserved_shortfall_2025-Q4"
    assert file_stem("reach", "locale:rural", None) == "reach_locale-rural"
