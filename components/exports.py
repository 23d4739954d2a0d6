"""Lists a coordinator can take away: a table as CSV and XLSX through the one safe writer
(reports/files.py: no formulas, numbers as numbers), with the filters that produced it written
in the file — as leading `Filter: …` columns in a CSV (so it stays one table a spreadsheet or a
script reads as is), and as a `Filters` sheet in a workbook."""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from reports.files import csv_bytes, xlsx_bytes

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def with_filters(table: pd.DataFrame, filters: dict[str, str]) -> pd.DataFrame:
    """The table with one `Filter: <name>` column per filter in front, the same on every row."""
    columns = {f"Filter: {name}": [value] * len(table) for name, value in filters.items()}
    return pd.concat([pd.DataFrame(columns, index=table.index), table], axis=1)


def filters_sheet(filters: dict[str, str], notes: dict[str, str] | None = None) -> pd.DataFrame:
    rows = [{"Setting": k, "Value": v} for k, v in {**filters, **(notes or {})}.items()]
    return pd.DataFrame(rows, columns=["Setting", "Value"])


def file_stem(*parts: str) -> str:
    """A file name from its parts: letters, digits, `-` and `_` only."""
    return "_".join(re.sub(r"[^A-Za-z0-9-]+", "-", str(p)).strip("-") for p in parts if p)


def export_buttons(sheets: dict[str, pd.DataFrame], filters: dict[str, str], stem: str, key: str,
                   notes: dict[str, str] | None = None, csv_sheet: str | None = None) -> None:
    """A CSV of one table (`csv_sheet`, else the first) and an XLSX of all of them, each with
    the filters in the file; `notes` (e.g. the ranking's rule) go on the workbook's Filters sheet."""
    name = csv_sheet or next(iter(sheets))
    left, right = st.columns(2)
    left.download_button(f"{name} (CSV)", csv_bytes(with_filters(sheets[name], filters)), file_name=f"{stem}.csv",
                         mime="text/csv", key=f"{key}_csv")
    workbook = {**sheets, "Filters": filters_sheet(filters, notes)}
    right.download_button(f"{'All ' + str(len(sheets)) + ' tables' if len(sheets) > 1 else name} (XLSX)",
                          xlsx_bytes(workbook), file_name=f"{stem}.xlsx", mime=XLSX_MIME, key=f"{key}_xlsx")
