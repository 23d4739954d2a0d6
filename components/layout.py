"""Page furniture every page shares: the demo label, and charts that always come with a
caption sentence and their numbers as a table and a CSV download."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components import audience, present
from reports.files import csv_bytes

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>~$:"})


def plain(text: str) -> str:
    """Text from the data (a region's name, a sentence built from it) for st.markdown: every
    character markdown would read as formatting is escaped, so it shows as typed."""
    return str(text).translate(_MARKDOWN_SPECIAL)


def demo_banner(is_demo: bool) -> None:
    if is_demo and present.is_presenting():
        with st.container(key="present_demo"):
            st.caption("**Demo data**: a synthetic alliance, not real students.")
    elif is_demo:
        st.info(
            "**Demo data.** You are looking at the *Ridge & Valley STEM Alliance*, a synthetic "
            "alliance on real county geography. None of these numbers describe real students. "
            "Import your own data package on the **Data** page.",
            icon=":material/science:",
        )


def chart_block(figure, caption: str, table: pd.DataFrame, key: str, filename: str | None = None,
                filters: dict[str, str] | None = None) -> None:
    """A chart, its one-sentence caption, and its numbers (table + CSV) behind it; `filters`, if
    given, are written in the CSV (components/exports.py). When presenting: the caption as a
    large headline over a screen-tall chart, and no table or download."""
    present.note_chart(key, caption)
    if present.is_presenting():
        if present.shows_chart(key):
            with st.container(key=f"present_chart_{key}"):
                present.headline(caption)
                audience.note(key, caption, figure)
                st.plotly_chart(present.projector_figure(figure), width="stretch", config=PLOTLY_CONFIG, key=f"chart_{key}")
        return
    audience.note(key, caption, figure)
    st.plotly_chart(figure, width="stretch", config=PLOTLY_CONFIG, key=f"chart_{key}")
    st.caption(caption)
    with st.expander("Numbers behind this chart"):
        st.dataframe(table, hide_index=True, width="stretch")
        if filters:
            from components.exports import with_filters

            table = with_filters(table, filters)
        download_csv(table, filename or f"{key}.csv", key=f"csv_{key}")


def download_csv(table: pd.DataFrame, filename: str, key: str, label: str = "Download CSV") -> None:
    """The table as a spreadsheet-safe CSV (reports/files.py: no formulas, numbers as numbers)."""
    st.download_button(label, csv_bytes(table), file_name=filename, mime="text/csv", key=key)
