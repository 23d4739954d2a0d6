"""Page furniture every page shares: the demo label, and charts that always come with a
caption sentence and their numbers as a table and a CSV download."""
from __future__ import annotations

import threading
import weakref

import pandas as pd
import streamlit as st

from components import audience, present, theme
from components.markup import inert, plain
from reports.files import csv_bytes

# No toolbar: its eight buttons were eight Tab stops per chart before any content; the PNG is
# offered under "Numbers behind this chart" instead.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}
PNG_WIDTH_PX = 1200
_made: dict[tuple[str, int], tuple[object, object]] = {}  # (kind, id(figure)) -> (figure, made from it)
_lock = threading.Lock()


def _once(kind: str, figure, make):
    """make(figure), remembered while the figure lives (figures are unhashable: keyed by id,
    the entry dropped when the figure goes)."""
    key = (kind, id(figure))
    with _lock:
        entry = _made.get(key)
    if entry is not None and entry[0]() is figure:
        return entry[1]
    made = make(figure)
    with _lock:
        _made[key] = (weakref.ref(figure), made)
    weakref.finalize(figure, _made.pop, key, None)
    return made


def _stand_in(figure):
    import plotly.graph_objects as go

    spec = inert(figure.to_dict())
    ready = go.Figure(layout=dict(height=figure.layout.height))  # st.plotly_chart's height="content" reads it
    object.__setattr__(ready, "to_dict", lambda: spec)
    return ready


def prepared(figure):
    """The figure as st.plotly_chart sends it, converted once: st.plotly_chart deep-copies a
    figure into a dict on every call (to_dict, typed arrays to base64), about half of a warm
    rerun's CPU. The figures come shared and read-only from the builders (domain/memo.py), so
    the dict is made once per figure and handed over by a stand-in whose to_dict returns it."""
    return _once("prepared", figure, _stand_in)


def projected(figure):
    """theme.projector(figure), made once per figure (it copies and re-validates)."""
    return _once("projected", figure, theme.projector)


def for_phone(figure):
    """theme.phone(figure), made once per figure."""
    return _once("phone", figure, theme.phone)


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
                filters: dict[str, str] | None = None, config: dict | None = None, on_select="ignore",
                png: bool = True, headline: str | None = None) -> None:
    """A chart, its one-sentence caption (also the chart's accessible name), and its numbers
    (table, CSV and, with `png`, the chart as a PNG) behind it; `filters`, if given, are written
    in the CSV (components/exports.py). When presenting: the caption (or `headline`, when the
    caption explains how to read the chart and another sentence carries its message) as a large headline over a
    chart that fills the rest of the screen in the projector theme, and no table or download.
    The chart's widget key is `chart_{key}` (a selection is read from it); `?chart=KEY` shows
    only this chart when presenting."""
    present.note_chart(key, caption)
    phone = on_phone()
    if phone:
        figure = for_phone(figure)
    options = dict(width="stretch", theme=None, config={**PLOTLY_CONFIG, **(config or {})}, key=f"chart_{key}",
                   alt=caption)
    if on_select != "ignore":
        options.update(on_select=on_select, selection_mode="points")
    if present.is_presenting():
        if present.shows_chart(key):
            with st.container(key=f"present_chart_{key}"):
                present.headline(headline or caption)
                audience.note(key, caption, figure)
                # A phone in the room (a shared link) scrolls its one-panel charts at their own height.
                st.plotly_chart(prepared(figure if phone else projected(figure)), height="content" if phone else "stretch",
                                **options)
        return
    audience.note(key, caption, figure)
    st.plotly_chart(prepared(figure), **options)
    st.caption(plain(caption))
    with st.expander("Numbers behind this chart"):
        st.dataframe(table, hide_index=True, width="stretch")
        if filters:
            from components.exports import with_filters

            table = with_filters(table, filters)
        download_csv(table, filename or f"{key}.csv", key=f"csv_{key}")
        if png:
            st.download_button("Download the chart (PNG)", lambda: png_bytes(figure), mime="image/png", on_click="ignore",
                               file_name=(filename or key).removesuffix(".csv") + ".png", key=f"png_{key}")


def png_bytes(figure) -> bytes:
    """The chart as a PNG, drawn when the button is clicked (kaleido in the local chromium)."""
    from reports.packet import render_images

    height = int(figure.layout.height or 450)
    return render_images([figure], ["chart"], [height], width=PNG_WIDTH_PX, scale=1.5)[0]


def on_phone() -> bool:
    """Whether the browser says it is a phone: the server has no other hint of the screen's width
    (Streamlit does not pass it), and a phone's charts are laid out one panel under the other."""
    return "Mobi" in (st.context.headers.get("User-Agent") or "")


def presented_text(key: str):
    """A container whose sentences stay when presenting (running text is hidden there otherwise),
    set large: use for the sentences that carry a page's message."""
    return st.container(key=f"present_text_{key}")


def download_csv(table: pd.DataFrame, filename: str, key: str, label: str = "Download CSV") -> None:
    """The table as a spreadsheet-safe CSV (reports/files.py: no formulas, numbers as numbers)."""
    st.download_button(label, csv_bytes(table), file_name=filename, mime="text/csv", key=key)
