"""/data — what the store holds, and the data steward's work: import a package in the browser,
the record of changes with undo, board snapshots and users. Opens on an empty store too."""

from components.entry import through_app

through_app()  # a deep link as a server's first request must still run app.py

from pathlib import Path

import streamlit as st

from components import present, steward
from components.filters import period_span, quarter_label, school_year_label
from components.layout import presented_text
from components.store import engine, run
from data.db import database_url, display_url
from data.demo import holds_data
from data.templates import template_workbook, template_zip
from domain.suppression import POLICIES, disclosure_policy, threshold
from queries import meta
from reports.publish import public_zip

CONTRACT = Path(__file__).resolve().parent.parent / "docs" / "data-package.md"

st.title("Data")
st.caption("What is loaded, where it came from, and how to import your alliance's own data package.")
steward.show_message()

quarters = []
if not holds_data(engine()):
    st.info("**The data store is empty.** Download the blank templates below, fill them in, and import them here "
            "(editors) or with `python cli.py import PATH`.", icon=":material/inbox:")
else:
    counts = run(meta.table_counts)
    labels = {"student_groups": "declared groups", "program_sites": "program sites"}
    columns = st.columns(5)
    for index, row in enumerate(counts.itertuples(index=False)):
        columns[index % 5].metric(labels.get(row.table, row.table.replace("_", " ")).capitalize(), f"{row.rows:,}")

    years, quarters, cohorts = run(meta.school_years), run(meta.quarters), run(meta.cohorts)
    st.header("Periods covered")
    presented_text("periods").markdown(
        f"- **School years** (outcomes): {period_span(years, school_year_label)}\n"
        f"- **Quarters** (participation): {period_span(quarters, quarter_label)}\n"
        f"- **Pathway cohorts** (class of): {', '.join(str(c) for c in cohorts) or 'none'}"
    )

    st.header("Privacy")
    policy = disclosure_policy()
    presented_text("privacy").markdown(
        f"Counts below **{threshold()}**, and rates whose denominator is below {threshold()}, are suppressed "
        "everywhere: charts, tooltips, tables, maps, downloads and reports. Where a suppressed value could be "
        "worked out by subtraction, a second value is suppressed too. Rates are published at one decimal.\n\n"
        f"Disclosure policy in force: **`{policy}`** — {POLICIES[policy]}. Change them with the "
        "`SUPPRESSION_THRESHOLD` and `ALLIANCE_DISCLOSURE_POLICY` settings (see `docs/privacy.md`)."
    )
    # Built only when clicked (a rate query per region), then cached per data version.
    st.download_button("Public data file (.zip)", lambda: run(public_zip), "alliance-public-data.zip",
                       mime="application/zip", key="public_zip",
                       help="Outcomes, participation and pathways exactly as the dashboard shows them, suppressed "
                            "cells marked (docs/public-file.md); the same as `python cli.py publish`.")

# The room sees what is loaded and how it is protected; the steward's work is not for a projector.
if not present.is_presenting():
    steward.import_section()
    left, right = st.columns(2)
    left.download_button("Blank templates (.zip of CSV files)", template_zip(), "alliance-package-templates.zip",
                         mime="application/zip", key="templates_zip")
    right.download_button("Blank template workbook (.xlsx)", template_workbook(), "alliance-package-template.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="templates_xlsx")
    with st.expander("The data package contract (version 1)"):
        st.markdown(CONTRACT.read_text(encoding="utf-8"))

    steward.history_section()
    st.caption(f"Store: `{display_url(database_url())}`")
    steward.snapshots_section(quarters)
    steward.users_section()
