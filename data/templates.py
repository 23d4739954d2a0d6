"""Blank templates of the data package: one header-only CSV per table, as a .zip or as an
.xlsx workbook with one sheet per table (both forms the importer accepts)."""
from __future__ import annotations

import functools
import io
import zipfile

from data.importer import SPECS
from data.package import TABLE_NAMES


def template_headers() -> dict[str, list[str]]:
    return {name: [c.name for c in SPECS[name].columns] for name in TABLE_NAMES}


@functools.cache  # offered on every /data rerun; the same bytes every time
def template_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, columns in template_headers().items():
            archive.writestr(f"alliance-package/{name}.csv", ",".join(columns) + "\n")
    return buffer.getvalue()


@functools.cache  # 0.5 s of openpyxl on every /data rerun otherwise
def template_workbook() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, columns in template_headers().items():
        sheet = workbook.create_sheet(name)
        sheet.append(columns)
        # Identifiers are text: format whole columns as text so leading zeros survive typing.
        for index, column in enumerate(columns, start=1):
            if column.endswith("_id") or column in ("measure", "period", "quarter", "school_year"):
                for cell in sheet.iter_rows(min_row=1, max_row=500, min_col=index, max_col=index):
                    cell[0].number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
