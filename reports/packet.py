"""The board packet: one PDF with the overview's figures, the coverage map, a pathway funnel
and the key gap charts as static images with their captions, suppression notes and data
sources. Made with no network: charts are drawn by kaleido in the local chromium (one browser
for all the images), the PDF by fpdf2.

The overview's figures come from the frozen snapshot when the quarter was frozen (and
`frozen=True`), else from `queries.overview.overview`; the other charts come from the same
`queries/` functions as the pages, which suppress before returning. A chart that cannot be
drawn is left out with a sentence saying so, never silently.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import Engine

from components import overview_charts as charts
from components.palette import SEQUENTIAL, SUPPRESSED, base_layout
from domain import kpi, sentences
from queries import overview as q

log = logging.getLogger(__name__)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
IMAGE_WIDTH_PX = 1000
_RENDER_LOCK = threading.Lock()


@dataclass
class Section:
    title: str
    caption: str
    figure: go.Figure | None = None
    image: bytes | None = None
    table: pd.DataFrame | None = None
    missing: str = ""  # why the chart is not there
    height_px: int = 500


@dataclass
class Packet:
    pdf: bytes
    sections: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    seconds: float = 0.0
    pages: int = 0


# --- images -------------------------------------------------------------------------------------

def render_images(figures: list[go.Figure], width: int = IMAGE_WIDTH_PX, heights: list[int] | None = None,
                  scale: float = 2.0) -> list[bytes | None]:
    """PNG bytes of each figure, drawn by one kaleido browser started once for the batch.
    None for a figure that could not be drawn."""
    os.environ.setdefault("BROWSER_PATH", "/usr/bin/chromium")
    import kaleido

    heights = heights or [int(f.layout.height or 500) for f in figures]
    out: list[bytes | None] = []
    with _RENDER_LOCK:
        kaleido.start_sync_server(n=1, mathjax=False, timeout=90, silence_warnings=True)
        try:
            for fig, height in zip(figures, heights):
                try:
                    out.append(kaleido.calc_fig_sync(fig, opts=dict(format="png", width=width, height=height, scale=scale)))
                except Exception as exc:  # one bad figure must not lose the packet
                    log.warning("chart could not be drawn: %s", exc)
                    out.append(None)
        finally:
            kaleido.stop_sync_server(silence_warnings=True)
    return out


def figure_png(figure: go.Figure, width: int = IMAGE_WIDTH_PX, height: int | None = None) -> bytes | None:
    """One chart as PNG (for "download this chart")."""
    return render_images([figure], width, [height or int(figure.layout.height or 500)])[0]


# --- the coverage map, drawn as plain polygons (no map tiles, no WebGL, no topojson) -------------

NAMED_REGIONS_AT_MOST = 40  # beyond that, names on the printed map are clutter


def coverage_map_figure(regions: pd.DataFrame, value: str, title: str) -> go.Figure:
    """Regions filled by `value` in five classes of the sequential palette; regions without a
    value grey. `regions` has name, geometry (GeoJSON text) and the value column. One trace per
    class (rings joined by gaps), so that a state network's thousands of regions print quickly."""
    import json

    values = pd.to_numeric(regions[value], errors="coerce")
    shown = values.dropna()
    edges = list(pd.Series(shown).quantile([0, .2, .4, .6, .8, 1]).round(1).drop_duplicates()) if len(shown) else []
    colours = [c for _, c in SEQUENTIAL]
    classes: dict[str, dict] = {}  # legend label -> colour, order and the rings' points
    for (_, row), v in zip(regions.iterrows(), values):
        if not isinstance(row["geometry"], str):
            continue
        geometry = json.loads(row["geometry"])
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        if pd.isna(v):
            colour, group, order = SUPPRESSED, "no value", len(edges)
        else:
            k = max(0, min(len(edges) - 2, sum(v > e for e in edges[1:-1]))) if len(edges) > 1 else 0
            colour = colours[min(k, len(colours) - 1)]
            group, order = (f"{edges[k]:,.0f}–{edges[k + 1]:,.0f}" if len(edges) > 1 else f"{v:,.0f}"), k
        points = classes.setdefault(group, {"colour": colour, "order": order, "x": [], "y": [], "text": []})
        label = f"{row['name']}: {'no value' if pd.isna(v) else f'{v:,.1f}'}"
        for polygon in polygons:
            ring = polygon[0]
            points["x"] += [p[0] for p in ring] + [None]
            points["y"] += [p[1] for p in ring] + [None]
            points["text"] += [label] * (len(ring) + 1)
    fig = go.Figure()
    for group, points in sorted(classes.items(), key=lambda item: item[1]["order"]):
        fig.add_trace(go.Scatter(x=points["x"], y=points["y"], text=points["text"], fill="toself",
                                 fillcolor=points["colour"], mode="lines", line=dict(color="#333333", width=0.8),
                                 name=group, hoverinfo="text"))
    if len(regions) <= NAMED_REGIONS_AT_MOST:
        for _, row in regions.iterrows():
            if row.get("centroid_lon") is not None and not pd.isna(row.get("centroid_lon")):
                fig.add_annotation(x=row["centroid_lon"], y=row["centroid_lat"], text=str(row["name"]).replace(" County", ""),
                                   showarrow=False, font=dict(size=10, color="#000000"), bgcolor="rgba(255,255,255,0.6)")
    fig.update_layout(**base_layout(height=620, title=dict(text=title, font=dict(size=16)),
                                    legend=dict(title=dict(text="per 1,000 students"), orientation="v", x=1.01, y=1)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1.2)
    return fig


def coverage_section(engine: Engine, quarter: str) -> Section:
    """Seats per 1,000 K-12 students by region in the quarter: the coverage page's figures
    (queries.coverage: the sites of programs running in the quarter), printed as plain polygons."""
    from queries import coverage

    frame = coverage.region_coverage(engine, quarter)
    geometries = coverage.region_shapes(engine)["geometries"]
    frame["geometry"] = frame["region_id"].map(geometries)
    if frame["geometry"].isna().all():
        return Section("Coverage map", "", missing="No region has boundaries, so the coverage map cannot be drawn.")
    low = frame.sort_values("seats_per_1000").iloc[0]
    caption = (f"Program seats per 1,000 K-12 students by region in {kpi.quarter_label(quarter)} (sites of the programs "
               f"running). The least served is {low['name']} with {low['seats_per_1000']:,.1f} seats per 1,000 students; "
               "darker is better served. Seats are places offered, not students.")
    table = frame[["name", "seats", "k12_enrollment", "seats_per_1000"]].rename(columns={
        "name": "Region", "seats": "Seats", "k12_enrollment": "K-12 students", "seats_per_1000": "Seats per 1,000"}).round(1)
    return Section("Coverage map", caption, coverage_map_figure(frame, "seats_per_1000", "Seats per 1,000 K-12 students"),
                   table=table.sort_values("Seats per 1,000"), height_px=620)


# --- pathway funnel and gap charts, from the pages' own queries ----------------------------------

def funnel_section(engine: Engine) -> Section:
    """The latest cohort's funnel, economically disadvantaged students against the rest, drawn by
    the pathways page's own builder; a plain all-students funnel if that is not available."""
    try:
        from queries import pathways
        cohorts = pathways.cohorts(engine)
    except Exception as exc:
        log.warning("pathways not available: %s", exc)
        return Section("Pathway funnel", "", missing="The pathway funnel could not be built from this store.")
    if not cohorts:
        return Section("Pathway funnel", "", missing="No pathway data is loaded, so there is no funnel.")
    cohort = cohorts[-1]
    try:
        return _page_funnel(engine, pathways, cohort)
    except Exception as exc:  # the pathways page's builders changed or are missing: plain funnel
        log.warning("pathway page builder not usable, drawing a plain funnel: %s", exc)
        return _plain_funnel(pathways.funnel(engine, cohort), cohort)


def _page_funnel(engine: Engine, pathways, cohort) -> Section:
    from components import funnel_charts
    from domain import funnel as funnel_domain
    from domain.suppression import threshold
    from queries.meta import group_list

    groups = group_list(engine).drop_duplicates("group_id", keep="last")
    labels = dict(zip(groups["group_id"], groups["label"]))
    group, reference = "econ_disadvantaged", "not_econ_disadvantaged"
    data = pathways.funnel(engine, cohort, groups=(group, reference))
    if data.empty:
        return _plain_funnel(pathways.funnel(engine, cohort), cohort)
    measured = funnel_domain.measures(data)
    leak = funnel_domain.biggest_leak(measured, group, reference)
    limit = threshold()
    series = [labels[group], labels[reference]]
    table = funnel_charts.funnel_table(measured, {group: labels[group], reference: labels[reference]}, limit)
    figure = print_margins(funnel_charts.funnel_figure(table, series, leak=leak, limit=limit), left=250)
    caption = funnel_charts.funnel_caption(table, series, cohort, "Alliance-wide", leak)
    sentence = funnel_domain.leak_sentence(leak, labels[group], labels[reference])
    return Section("Pathway funnel", f"{sentence} {caption}", figure, height_px=int(figure.layout.height or 560))


def _plain_funnel(funnel: pd.DataFrame, cohort) -> Section:
    funnel = funnel[funnel["student_group"] == "all"].sort_values("stage_order")
    first = funnel["students"].iloc[0] if len(funnel) else None
    shares = [None if pd.isna(s) or not first else 100 * s / first for s in funnel["students"]]
    text = ["suppressed" if hidden else f"{s:,.0f} ({p:.0f}%)" if p is not None else "—"
            for s, p, hidden in zip(funnel["students"], shares, funnel["students_suppressed"].astype(bool))]
    figure = go.Figure(go.Bar(y=funnel["stage"], x=funnel["students"].fillna(0), orientation="h", text=text,
                              textposition="outside", cliponaxis=False, marker_color="#0072B2"))
    figure.update_layout(**base_layout(height=120 + 45 * len(funnel), margin=dict(l=290, r=120, t=50, b=10),
                                       title=dict(text=f"Class of {cohort}: students reaching each stage", font=dict(size=16))))
    figure.update_yaxes(autorange="reversed", automargin=False)
    last = funnel.iloc[-1] if len(funnel) else None
    caption = (f"The class of {cohort}, all students, alliance-wide: of {first:,.0f} students in the cohort, "
               f"{last['students']:,.0f} ({shares[-1]:.0f}%) reached '{last['stage']}'." if last is not None and first
               and not pd.isna(last["students"]) else f"The class of {cohort} along the pathway.")
    table = pd.DataFrame({"Stage": funnel["stage"], "Students": funnel["students"].map(
        lambda v: "suppressed" if pd.isna(v) else f"{v:,.0f}"), "Share of cohort": [
        "—" if s is None else f"{s:.0f}%" for s in shares]})
    return Section("Pathway funnel", caption, figure, table=table, height_px=int(figure.layout.height or 450))


def print_margins(figure: go.Figure, left: int = 0, top: int = 0) -> go.Figure:
    """Static export lays a figure out once, so axis labels that rely on automatic margins get
    cut: give them room explicitly."""
    margin = figure.layout.margin
    figure.update_layout(margin=dict(l=max(left, margin.l or 0), t=max(top, margin.t or 0),
                                     r=margin.r, b=margin.b))
    return figure


def gap_sections(engine: Engine, year: str | None) -> list[Section]:
    try:
        from components import gap_charts
        from queries import gaps
        heat = gaps.gap_heatmap(engine, year=year)
        if heat.empty:
            return [Section("Equity gaps", "", missing="No outcome data, so there are no gap charts.")]
        year = year or heat["school_year"].max()
        sections = [Section("Equity gaps: every indicator", sentences.heatmap_caption(heat, year),
                            print_margins(gap_charts.heatmap_figure(heat, year), left=300, top=170), height_px=620)]
        fig = sections[0].figure
        sections[0].height_px = int(fig.layout.height or 620)
        # The headline gap: economically disadvantaged students on the first indicator with a target.
        indicator = "grad4" if (heat["indicator_id"] == "grad4").any() else heat["indicator_id"].iloc[0]
        meta = heat[heat["indicator_id"] == indicator].iloc[0]
        table = gaps.gap_table(engine, indicator, year=year)
        higher = bool(table["higher_is_better"].iloc[0]) if "higher_is_better" in table and len(table) else True
        targets = gaps.indicator_targets(engine, indicator)
        figure = print_margins(gap_charts.gap_figure(table, meta["indicator_name"], higher, year, targets), left=300)
        sections.append(Section(f"Equity gaps: {meta['indicator_name']}",
                                sentences.gap_caption(table, meta["indicator_name"], higher, year),
                                figure, height_px=int(figure.layout.height or 600)))
        return sections
    except Exception as exc:
        log.warning("gap charts not available: %s", exc)
        return [Section("Equity gaps", "", missing="The gap charts could not be built from this store.")]


# --- the PDF ------------------------------------------------------------------------------------

def _pdf():
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="Letter")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    if (FONT_DIR / "DejaVuSans.ttf").exists():
        pdf.add_font("Body", "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("Body", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        pdf.add_font("Body", "I", str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
        pdf.font_family_name = "Body"
    else:  # core font: Latin-1 only
        pdf.font_family_name = "Helvetica"
    return pdf


def _text(pdf, text: str) -> str:
    if pdf.font_family_name == "Helvetica":
        return (text.replace("–", "-").replace("—", "-").replace("’", "'").replace("≈", "~")
                .encode("latin-1", "replace").decode("latin-1"))
    return text


def _para(pdf, text: str, size: float = 10, style: str = "", height: float = 5) -> None:
    pdf.set_font(pdf.font_family_name, style, size)
    pdf.multi_cell(0, height, _text(pdf, text), new_x="LMARGIN", new_y="NEXT")


def _heading(pdf, text: str, size: float = 14) -> None:
    pdf.ln(2)
    _para(pdf, text, size, "B", 7)
    pdf.ln(1)


def _table(pdf, table: pd.DataFrame, size: float = 8.5) -> None:
    pdf.set_font(pdf.font_family_name, "", size)
    columns = [str(c) for c in table.columns]
    width = pdf.epw
    first = min(0.36, max(0.22, 1.6 / (len(columns) + 1)))
    widths = [width * first] + [width * (1 - first) / max(1, len(columns) - 1)] * (len(columns) - 1)
    with pdf.table(col_widths=widths, text_align=["LEFT"] + ["RIGHT"] * (len(columns) - 1), line_height=4.6,
                   first_row_as_headings=True) as grid:
        row = grid.row()
        for c in columns:
            row.cell(_text(pdf, c))
        for values in table.astype(str).itertuples(index=False):
            row = grid.row()
            for v in values:
                row.cell(_text(pdf, v))
    pdf.ln(2)


def _image_height(pdf, section: Section) -> float:
    return min(pdf.epw * section.height_px / IMAGE_WIDTH_PX, pdf.eph - 25)


def _image(pdf, section: Section) -> None:
    from io import BytesIO

    if section.image is None:
        _para(pdf, section.missing or "This chart could not be drawn as an image here; its numbers follow.", 9, "I")
        return
    width_mm = pdf.epw
    height_mm = width_mm * section.height_px / IMAGE_WIDTH_PX
    max_height = pdf.eph - 25
    if height_mm > max_height:
        width_mm, height_mm = width_mm * max_height / height_mm, max_height
    if pdf.get_y() + height_mm > pdf.page_break_trigger:
        pdf.add_page()
    pdf.image(BytesIO(section.image), w=width_mm, h=height_mm, x=pdf.l_margin + (pdf.epw - width_mm) / 2)
    pdf.ln(1)


def build_packet(engine: Engine, quarter: str | None = None, frozen: bool = True, images: bool = True,
                 progress: Callable[[str], None] | None = None) -> bytes:
    """The board packet of `quarter` as PDF bytes (see `make_packet` for what went in)."""
    return make_packet(engine, quarter, frozen, images, progress).pdf


def make_packet(engine: Engine, quarter: str | None = None, frozen: bool = True, images: bool = True,
                progress: Callable[[str], None] | None = None) -> Packet:
    started = time.perf_counter()
    say = progress or (lambda _m: None)
    payload = q.snapshot(engine, quarter) if (frozen and quarter) else None
    if payload is None:
        payload = q.overview(engine, quarter)
    if not payload:
        raise ValueError("There is no participation data, so there is no quarter to report on.")
    quarter = payload["quarter"]
    from data.demo import is_demo
    demo = is_demo(engine)

    say("building the charts")
    sections = [
        Section("Reach by quarter", sentences.reach_caption(payload), charts.reach_figure(payload),
                table=charts.reach_table(payload), height_px=320),
        Section("Indicators against the board's targets", sentences.indicator_caption(payload),
                charts.indicator_figure(payload), table=charts.indicator_table(payload)),
        Section("Indicator trends", sentences.trends_caption(payload), charts.indicator_trends_figure(payload)),
    ]
    for s in sections[1:]:
        s.height_px = int(s.figure.layout.height or 500)
    later = [coverage_section(engine, quarter), funnel_section(engine), *gap_sections(engine, payload.get("school_year"))]
    sections += later
    drawable = [s for s in sections if s.figure is not None]
    if images and drawable:
        say(f"drawing {len(drawable)} charts")
        try:
            pngs = render_images([s.figure for s in drawable], heights=[s.height_px for s in drawable])
        except Exception as exc:  # no browser: the packet still carries every number
            log.warning("kaleido unavailable: %s", exc)
            pngs = [None] * len(drawable)
        for s, png in zip(drawable, pngs):
            s.image = png
            if png is None and not s.missing:
                s.missing = "This chart could not be drawn as an image on this machine; its numbers are in the table."

    say("writing the PDF")
    pdf = _pdf()
    pdf.set_title(f"Board packet {kpi.quarter_label(quarter)}")
    pdf.set_creator("STEM alliance dashboard")
    pdf.add_page()
    _para(pdf, f"Board packet: {kpi.quarter_label(quarter)}", 20, "B", 10)
    frozen_at = payload.get("frozen_at")
    status = (f"As frozen on {frozen_at[:10]}: exactly the figures presented at the board meeting."
              if frozen_at else f"Live figures as of {payload['generated_at'][:10]} (this quarter has not been frozen).")
    _para(pdf, status, 10, "I")
    if demo:
        _para(pdf, "Demo data: the Ridge & Valley STEM Alliance is synthetic. None of these numbers describe real students.", 10, "B")
    _heading(pdf, payload["headline"]["text"], 15)
    _para(pdf, payload["school_year_rule"], 9)

    _heading(pdf, "Reach")
    _table(pdf, charts.reach_table(payload))
    _para(pdf, "Participations are enrolments, not unique students: one child in two programs counts twice.", 9)

    _heading(pdf, f"The biggest changes since {kpi.quarter_label(payload['previous_quarter'])}")
    for k, change in enumerate(payload["changes"], start=1):
        _para(pdf, f"{k}. {change['sentence']}", 10)
    if not payload["changes"]:
        _para(pdf, "Nothing can be compared with the previous quarter.", 10)

    _heading(pdf, "Indicators against the board's targets")
    _table(pdf, charts.indicator_table(payload))

    included, left_out = [], []
    for section in sections:
        if section.image is not None and pdf.get_y() + 14 + _image_height(pdf, section) > pdf.page_break_trigger:
            pdf.add_page()
        _heading(pdf, section.title, 13)
        _image(pdf, section)
        if section.caption:
            _para(pdf, section.caption, 9.5, "I")
        if section.image is not None:
            included.append(section.title)
        else:
            left_out.append(section.title)
        if section.table is not None and section.title in ("Coverage map", "Pathway funnel"):
            _table(pdf, section.table)
    live_note = ("The overview figures are the frozen ones; the coverage map, funnel and gap charts show the data "
                 "in the store when this packet was made." if frozen_at else "")

    _heading(pdf, "Notes and sources", 13)
    _para(pdf, payload["notes"]["suppression"], 9)
    _para(pdf, "Suppressed is shown as 'suppressed' (grey in charts), never as zero; missing is shown as '—'.", 9)
    _para(pdf, "Rates are pooled, not averaged: numerators and denominators are summed over regions, then divided.", 9)
    if live_note:
        _para(pdf, live_note, 9)
    for key, source in payload["sources"].items():
        _para(pdf, f"{q.REACH_LABELS.get(key, key.capitalize())}: {source}", 9)
    data = payload.get("data_as_of") or {}
    if data.get("source"):
        _para(pdf, f"Data: import '{data['source']}' of {str(data.get('imported_at'))[:16].replace('T', ' ')} UTC.", 9)
    _para(pdf, f"Made {payload['generated_at'][:10]} by the alliance dashboard, offline.", 9)
    pdf_bytes = bytes(pdf.output())
    return Packet(pdf_bytes, included, left_out, time.perf_counter() - started, pdf.pages_count)
