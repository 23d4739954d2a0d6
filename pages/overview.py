"""/ — the overview. Until the board view lands, an honest summary of what is loaded."""
import streamlit as st

from components.filters import period_span, quarter_label, school_year_label
from components.store import run
from queries import meta

st.title("Alliance overview")
counts = dict(run(meta.table_counts).itertuples(index=False))
years, quarters = run(meta.school_years), run(meta.quarters)

st.markdown(
    f"The store holds **{counts['regions']:,} regions**, **{counts['partners']:,} partners** and "
    f"**{counts['programs']:,} programs** at **{counts['program_sites']:,} sites**; participation for "
    f"quarters {period_span(quarters, quarter_label)} and outcomes for school years "
    f"{period_span(years, school_year_label)}."
)
st.page_link("pages/data.py", label="What is loaded, and how to import your own data", icon=":material/database:")
