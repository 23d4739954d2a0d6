"""/ — the board overview: are we on track, what changed since last quarter, and a packet to take away."""

from components.entry import through_app

through_app()  # a deep link as a server's first request must still run app.py

import streamlit as st
from streamlit.errors import StreamlitAPIException

from components import auth
from components import overview_charts as charts
from components.filters import quarter_label, synced_select
from components.layout import chart_block, presented_text
from components.markup import plain
from components.store import engine, run
from domain import kpi, sentences
from queries import overview as q

st.title("Board overview")
st.caption("Are we on track, what changed since last quarter, and can I take it with me?")


def link(page: str, label: str, **params) -> None:
    """A link into another view, only if that page is part of the app right now."""
    try:
        st.page_link(page, label=label, query_params=params or None, icon=":material/arrow_forward:")
    except (StreamlitAPIException, KeyError):
        pass


def indicators_section(payload: dict, filename: str) -> None:
    """Every indicator against the board's targets, then each one's trend with links behind it."""
    st.markdown("### Indicators against the board's targets")
    chart_block(charts.indicator_figure(payload), sentences.indicator_caption(payload), charts.indicator_table(payload),
                key="overview_indicators", filename=filename)
    st.markdown("### Each indicator, and where to look behind it")
    grid = st.columns(3)
    for k, item in enumerate(payload["indicators"]):
        with grid[k % 3]:
            delta, steady = charts.indicator_delta(item)
            # No sparkline (chart_data): st.metric draws it as an SVG image with no text alternative.
            st.metric(plain(item["name"]), charts.fmt_rate(item), delta, border=True, delta_arrow="off" if steady else "auto",
                      delta_color="off" if steady else "normal" if item["higher_is_better"] else "inverse",
                      help=(item["status"].capitalize() + (f" (target {item['target']:.1f}%)" if item.get("target") is not None else "")
                            + ("; lower is better." if not item["higher_is_better"] else ".")))
            if item.get("pace"):
                st.caption(plain(sentences.pace_text(item).capitalize()))
            link("pages/gaps.py", "Gaps by student group", indicator=item["indicator_id"], year=payload["school_year"])
            if item["stage"] in ("postsecondary", "workforce", "high"):
                link("pages/pathways.py", "The pathway behind it")
    st.caption(f"Rates are pooled over regions (numerators and denominators summed). {payload['notes']['suppression']} "
               "Each chart's numbers, as a table, a CSV and the chart as a PNG, are under *Numbers behind this chart*.")


def changes_section(payload: dict, reach: bool) -> None:
    """What changed, in words: reach since the previous quarter, indicators and gaps since the
    previous school year (a quarter frozen before indicators and gaps were listed shows reach only)."""
    with presented_text("changes"):  # the biggest changes stay on the projector
        _changes(payload, reach)


def _changes(payload: dict, reach: bool) -> None:
    def lines(kind: str) -> list[str]:
        return [c["sentence"] for c in payload.get("changes", []) if c.get("kind", "reach") == kind]

    st.markdown("### What changed")
    since = kpi.school_year_label(payload["previous_school_year"]) if payload.get("previous_school_year") else None
    groups = [(f"Indicators since {since or 'the year before'} (all students)", lines("indicator"),
               f"No indicator's all-students rate moved since {since}." if since else
               "No indicator has a rate in two school years to compare."),
              (f"Gaps since {since or 'the year before'}", lines("gap"),
               f"No gap behind a reference group narrowed or widened beyond the uncertainty since {since}."
               if since else "There is no earlier school year to compare gaps with.")]
    if "locale" not in payload:
        groups = []  # frozen before indicators and gaps were part of "what changed"
    if reach:
        before = quarter_label(payload["previous_quarter"])
        groups.insert(0, (f"Reach since {before}", lines("reach"), f"Nothing can be compared with {before}: it has no data."))
    for title, found, empty in groups:
        st.markdown(f"**{title}**")
        st.markdown("\n".join(f"{k}. {plain(line)}" for k, line in enumerate(found, start=1)) if found else plain(empty))
    st.caption("Reach changes are ranked by their size relative to where they started; indicators by points moved; "
               "gaps by points moved, for groups behind their reference group, where the move is beyond the "
               "uncertainty that group sizes give.")


def rural_section(payload: dict) -> None:
    st.markdown("### Rural vs non-rural regions")
    if (payload.get("locale") or {}).get("indicators"):
        chart_block(charts.locale_figure(payload), sentences.rural_caption(payload["locale"]), charts.locale_table(payload),
                    key="overview_rural", filename=f"rural-{payload.get('quarter', 'latest')}.csv")
    else:
        st.write(sentences.rural_caption(payload.get("locale")))
    link("pages/gaps.py", "Gaps by student group in rural and non-rural regions", year=payload.get("school_year"))


quarters = run(q.quarters_with_data)
if not quarters:
    # No quarter to review, but outcomes may still say how the alliance is doing.
    outcomes_only = run(q.indicator_overview)
    st.info("No participation data is loaded yet, so reach (partners, programs, seats, participations) cannot be "
            "shown by quarter. Import a data package with `participation.csv` (see the **Data** page).")
    if not outcomes_only["indicators"]:
        st.stop()
    st.header(f"{kpi.school_year_label(outcomes_only['school_year'])}: {plain(outcomes_only['headline']['text'])}"
                 if outcomes_only["headline"]["m"] else "Indicators")
    changes_section(outcomes_only, reach=False)
    indicators_section(outcomes_only, "indicators.csv")
    rural_section(outcomes_only)
    st.stop()

quarter = synced_select("quarter", "Quarter", list(reversed(quarters)), quarters[-1], quarter_label)
versions = q.snapshot_versions(engine(), quarter)  # not cached: a freeze must show at once
view, chosen = "live", None
if versions.empty:
    st.query_params.pop("view", None)
    st.query_params.pop("version", None)
else:
    views = {"frozen": "As frozen for the board", "live": "Live (latest data)"}
    # __getitem__: a label is not a value (AppTest tries the format function on labels first).
    view = synced_select("view", "Figures", list(views), "frozen", views.__getitem__)
    if len(versions) > 1 and view == "frozen":  # frozen again: every version stays, each with its date and note
        labels = {str(r.version): f"Version {r.version}, {str(r.frozen_at)[:10]}" + (f": {r.note}" if r.note else "")
                  for r in versions.itertuples()}
        chosen = synced_select("version", "Frozen version", list(labels), next(iter(labels)), labels.__getitem__)
    else:
        st.query_params.pop("version", None)
        chosen = None
frozen = q.snapshot(engine(), quarter, int(chosen) if view == "frozen" and chosen else None) if not versions.empty else None
payload = frozen if (frozen and view == "frozen") else run(q.overview, quarter=quarter)
limit = payload["threshold"]

if frozen and view == "frozen":
    which = f" (version {chosen} of {len(versions)})" if chosen else ""
    note = f" Note: {plain(frozen['note'])}" if frozen.get("note") else ""
    st.info(f"**As frozen on {q.frozen_date(frozen)}{which}.** These are exactly the numbers presented for "
            f"{quarter_label(quarter)}, even if newer or corrected data has been imported since. "
            f"Choose *Live (latest data)* in the sidebar to compare.{note}", icon=":material/lock:")
elif frozen:
    st.warning(f"**Live figures.** {quarter_label(quarter)} was frozen on {q.frozen_date(frozen)}; the board saw "
               "the frozen figures, which may differ from these.", icon=":material/update:")


# --- headline ------------------------------------------------------------------------------------
headline = payload["headline"]
st.header(f"{quarter_label(quarter)}: {plain(headline['text'])}" if headline["m"] else quarter_label(quarter))
st.caption("Indicators count as moving the right way when their all-students rate changed since "
           f"{kpi.school_year_label(payload['previous_school_year']) if payload.get('previous_school_year') else 'the year before'} "
           f"in the direction the indicator asks for. {payload['school_year_rule']}")

# --- reach ----------------------------------------------------------------------------------------
st.markdown("### Reach")
columns = st.columns(len(payload["reach"]))
for column, item in zip(columns, payload["reach"]):
    with column:
        label = item["label"] + (" ¹" if item["measure"] == "participants" else "")
        delta = charts.reach_delta_text(item, payload["previous_quarter"])
        steady = delta is not None and item["value"] == item["previous"]
        st.metric(label, charts.reach_value_text(item, limit), delta, border=True,
                  delta_color="off" if steady else "normal", delta_arrow="off" if steady else "auto",
                  help=f"By quarter up to {quarter_label(quarter)}.")
        st.caption(plain(sentences.target_text(item).capitalize()))
st.caption(f"¹ {q.PARTICIPATION_NOTE[0].upper()}{q.PARTICIPATION_NOTE[1:]}. Partners, programs and seats count those "
           f"active during {quarter_label(quarter)}.")
link("pages/coverage.py", "Where programs and seats are: coverage by region", quarter=quarter)

# --- what changed ---------------------------------------------------------------------------------
changes_section(payload, reach=True)

# --- indicators ---------------------------------------------------------------------------------
indicators_section(payload, f"indicators-{quarter}.csv")

rural_section(payload)

# --- board packet ---------------------------------------------------------------------------------
st.markdown("### Take it with you")
left, right = st.columns(2)
with left:
    if not auth.may("packet"):
        st.caption(auth.needs("packet"))
    elif st.button("Prepare the board packet (PDF)", key="make_packet", icon=":material/picture_as_pdf:"):
        from reports.board import PacketBusy, prepare_packet
        from reports.packet import PacketError

        with st.spinner("Drawing the charts and writing the PDF (about 20 seconds)…"):
            try:
                st.session_state["_packet"] = (quarter, view, chosen, prepare_packet(
                    engine(), quarter, frozen=(view == "frozen"), version=int(chosen) if chosen else None))
            except PacketBusy as busy:
                st.warning(str(busy))
            except PacketError as problem:  # e.g. no browser to draw the charts with: said, not a traceback
                st.error(str(problem), icon=":material/error:")
    made = st.session_state.get("_packet")
    if made and made[:3] == (quarter, view, chosen):
        st.download_button("Download the board packet", made[3], file_name=f"board-packet-{quarter}.pdf",
                           mime="application/pdf", key="packet_pdf", icon=":material/download:")
with right:
    st.caption("The packet holds these figures, the charts as images with their captions, suppression notes and "
               "data sources. Data stewards freeze a quarter on the **Data** page or with "
               f"`python cli.py snapshot {quarter}`.")
