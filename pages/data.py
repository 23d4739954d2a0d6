"""/data — what the store holds, and how to put an alliance's own data in it."""

from components.entry import through_app

through_app()  # a deep link as a server's first request must still run app.py

from pathlib import Path

import streamlit as st

from components.filters import period_span, quarter_label, school_year_label
from components.store import run
from data.db import database_url, display_url
from data.templates import template_workbook, template_zip
from domain.suppression import threshold
from queries import meta

CONTRACT = Path(__file__).resolve().parent.parent / "docs" / "data-package.md"

st.title("Data")
st.caption("What is loaded, where it came from, and how to import your alliance's own data package.")

counts = run(meta.table_counts)
labels = {"student_groups": "declared groups", "program_sites": "program sites"}
columns = st.columns(5)
for index, row in enumerate(counts.itertuples(index=False)):
    columns[index % 5].metric(labels.get(row.table, row.table.replace("_", " ")).capitalize(), f"{row.rows:,}")

years, quarters, cohorts = run(meta.school_years), run(meta.quarters), run(meta.cohorts)
st.subheader("Periods covered")
st.markdown(
    f"- **School years** (outcomes): {period_span(years, school_year_label)}\n"
    f"- **Quarters** (participation): {period_span(quarters, quarter_label)}\n"
    f"- **Pathway cohorts** (class of): {', '.join(str(c) for c in cohorts) or 'none'}"
)

st.subheader("Privacy")
st.markdown(
    f"Counts below **{threshold()}**, and rates whose denominator is below {threshold()}, are suppressed "
    "everywhere: charts, tooltips, tables, maps, downloads and reports. Where a suppressed value could be "
    "worked out by subtraction, a second value is suppressed too. Change the threshold with the "
    "`SUPPRESSION_THRESHOLD` setting."
)

st.subheader("Imports")
history = run(meta.import_history)
if history.empty:
    st.write("Nothing has been imported yet.")
else:
    latest = history.iloc[0]
    st.write(
        f"Last import: **{latest['source']}**, {latest['outcome']} on "
        f"{latest['finished_at']:%Y-%m-%d %H:%M} UTC, {latest['rows']:,} rows, {latest['warnings']} warning(s)."
    )
    st.dataframe(history, hide_index=True, width="stretch")
st.caption(f"Store: `{display_url(database_url())}`")

st.subheader("Board snapshots")
from components.store import engine as _store_engine  # noqa: E402
from queries import overview as _overview  # noqa: E402

st.markdown(
    "Freeze a quarter before the board meeting: the overview of a frozen quarter keeps showing exactly the "
    "numbers presented, even after newer or corrected data is imported (`python cli.py snapshot 2025-Q3`)."
)
frozen = _overview.frozen_quarters(_store_engine())
if quarters:
    left, right = st.columns([2, 3])
    to_freeze = left.selectbox("Quarter to freeze", list(reversed(quarters)), format_func=quarter_label, key="freeze_quarter")
    if left.button("Freeze this quarter", key="freeze_button", icon=":material/lock:"):
        done = _overview.freeze(_store_engine(), to_freeze)
        st.success(f"{quarter_label(to_freeze)} frozen on {done['frozen_at'][:10]}: {done['headline']['text']}.")
        frozen = _overview.frozen_quarters(_store_engine())
    right.write("Frozen quarters: " + (", ".join(
        f"{quarter_label(r.quarter)} (on {str(r.frozen_at)[:10]})" for r in frozen.itertuples()) or "none yet."))

st.subheader("Import your own data")
st.markdown(
    "Prepare a **data package**: a folder (or .zip) of CSV files, or one .xlsx workbook with a sheet per "
    "table. Only `regions.csv` is required. Then, from the dashboard's folder:"
)
st.code(
    "python cli.py validate my-package/      # check without writing anything\n"
    "python cli.py import my-package/        # import in one transaction\n"
    "python cli.py import my-package.xlsx --database postgresql://user@host/alliance",
    language="bash",
)
st.markdown(
    "A package with any problem writes nothing; every problem is listed with its file, row, column, the "
    "value found and what was expected. Importing the same package twice changes nothing, and a corrected "
    "row replaces the old one."
)
left, right = st.columns(2)
left.download_button("Blank templates (.zip of CSV files)", template_zip(), "alliance-package-templates.zip",
                     mime="application/zip", key="templates_zip")
right.download_button("Blank template workbook (.xlsx)", template_workbook(), "alliance-package-template.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="templates_xlsx")
with st.expander("The data package contract (version 1)"):
    st.markdown(CONTRACT.read_text(encoding="utf-8"))
