"""The board packet: one PDF with the overview's figures and sentences, rural vs non-rural
regions, the coverage map, the pathway funnel and the key gap charts, as static images with
their captions and numbers, suppression notes and data sources. Made with no network: charts
are drawn by kaleido in the local chromium (one browser for all the images), the PDF by fpdf2.

Every chart and sentence comes from the same builders as the pages (components/*_charts.py,
components/maps.py, domain/sentences.py) on the same query results, so the packet says what
the pages say. The overview's figures come from the frozen snapshot when the quarter was
frozen (and `frozen=True`), else from `queries.overview.overview`; the other charts show the
store's data as it is now (the packet says so). Nothing is left out silently: a section with
nothing to show says why in a sentence, and a chart that cannot be drawn stops the packet with
a PacketError naming it.
"""
from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import Engine

from components import coverage_charts, funnel_charts, gap_charts, maps
from components import overview_charts as charts
from components.markup import inert
from domain import funnel as funnel_rules
from domain import gaps as gap_rules
from domain import kpi, sentences
from domain.suppression import threshold
from queries import overview as q

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
IMAGE_WIDTH_PX = 800  # drawn at this width, printed across the text width (7.3 in): 12 px text prints at 8 pt
_RENDER_LOCK = threading.Lock()
FUNNEL_GROUPS = ("econ_disadvantaged", "english_learner", "students_with_disabilities")  # as /pathways opens


class PacketError(Exception):
    """The packet could not be made; the message says which part and why."""


@dataclass
class Section:
    title: str
    caption: str
    figure: go.Figure | None = None
    image: bytes | None = None
    table: pd.DataFrame | None = None
    missing: str = ""  # why there is no chart
    height_px: int = 500
    live: bool = False  # drawn from the store as it is now, not from a frozen snapshot


@dataclass
class Packet:
    pdf: bytes
    sections: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # sections with nothing to show (each says why)
    seconds: float = 0.0
    pages: int = 0


# --- images -------------------------------------------------------------------------------------

def for_print(figure: go.Figure) -> go.Figure:
    """A copy laid out for paper: a static image is laid out once, so every axis makes room for
    its own labels, and tick labels stay at least 12 px."""
    fig = go.Figure(figure)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(legend_font_size=max(12, fig.layout.legend.font.size or 13))
    return fig


def render_images(figures: list[go.Figure], names: list[str], heights: list[int], width: int = IMAGE_WIDTH_PX,
                  scale: float = 2.0) -> list[bytes]:
    """PNG bytes of each figure, drawn by one kaleido browser started once for the batch."""
    os.environ.setdefault("BROWSER_PATH", "/usr/bin/chromium")
    import kaleido

    out: list[bytes] = []
    with _RENDER_LOCK:
        try:
            kaleido.start_sync_server(n=1, mathjax=False, timeout=90, silence_warnings=True)
        except Exception as exc:  # kaleido raises several types; all mean "no browser to draw with"
            raise PacketError(f"The charts cannot be drawn: kaleido could not start the browser at "
                              f"{os.environ['BROWSER_PATH']} (BROWSER_PATH): {exc}") from exc
        try:
            for fig, name, height in zip(figures, names, heights):
                try:
                    out.append(kaleido.calc_fig_sync(inert(fig.to_dict()), opts=dict(format="png", width=width, height=height, scale=scale)))
                except Exception as exc:
                    raise PacketError(f"The chart '{name}' could not be drawn: {exc}") from exc
        finally:
            kaleido.stop_sync_server(silence_warnings=True)
    return out


def _section(title: str, caption: str, figure: go.Figure | None, table: pd.DataFrame | None = None,
             live: bool = False) -> Section:
    figure = for_print(figure) if figure is not None else None
    return Section(title, caption, figure, table=table, live=live,
                   height_px=int(figure.layout.height or 500) if figure is not None else 0)


# --- the sections, each from the pages' own builders ---------------------------------------------

def overview_sections(payload: dict, engine: Engine) -> list[Section]:
    sections = [
        _section("Reach by quarter", sentences.reach_caption(payload), charts.reach_figure(payload), reach_table(payload)),
        _section("Indicators against the board's targets", sentences.indicator_caption(payload),
                 charts.indicator_figure(payload), indicator_table(payload)),
        _section("Indicator trends", sentences.trends_caption(payload), charts.indicator_trends_figure(payload)),
    ]
    locale, live = payload.get("locale"), False
    if locale is None:  # frozen before rural vs non-rural was part of the overview: the live figures, said so
        locale, live = q.locale_overview(engine, payload["quarter"], payload.get("school_year")), True
    with_locale = {**payload, "locale": locale}
    if locale.get("indicators"):
        sections.append(_section("Rural vs non-rural regions", sentences.rural_caption(locale),
                                 charts.locale_figure(with_locale), charts.locale_table(with_locale), live))
    else:
        sections.append(Section("Rural vs non-rural regions", "", missing=sentences.rural_caption(locale), live=live))
    return sections


def _with_pace(table: pd.DataFrame, items: list[dict], unit: str) -> pd.DataFrame:
    """The page's table, with the final target's distance to go and pace in short columns."""
    parts = [sentences.pace_parts(item, unit) for item in items]
    if not any(parts):
        return table
    table = table.copy()
    for column, key in (("Final target", "target"), ("To go", "to_go"), ("At this pace", "at_pace"), ("In time?", "verdict")):
        table[column] = [(p or {}).get(key) or "—" for p in parts]
    return table


def reach_table(payload: dict) -> pd.DataFrame:
    return _with_pace(charts.reach_table(payload), payload.get("reach", []), "count")


def indicator_table(payload: dict) -> pd.DataFrame:
    table = charts.indicator_table(payload)
    table["Indicator"] = [n + ("" if b == "higher" else " (lower is better)") for n, b in zip(table["Indicator"], table["Better when"])]
    return _with_pace(table.drop(columns=["Better when"]), payload.get("indicators", []), "rate")


def coverage_section(engine: Engine, quarter: str) -> Section:
    """The /coverage page as it opens for this quarter: its map (the ranking's measure), caption,
    ranking sentence and the map's numbers."""
    from domain.coverage import DEFAULT_ORDER, METRICS, ORDER_METRIC
    from queries import coverage

    if not coverage.has_programs(engine):
        return Section("Coverage map", "", missing="No programs are loaded, so there is no coverage to map.", live=True)
    choices = coverage.outcome_choices(engine)
    indicator = choices["indicator_id"].iloc[0] if len(choices) else None
    ranked = coverage.rank(coverage.region_coverage(engine, quarter), coverage.need_measures(engine, indicator), DEFAULT_ORDER)
    metric = METRICS[ORDER_METRIC[DEFAULT_ORDER]]
    limit, what = threshold(), coverage_charts.filter_text(coverage.ANY, coverage.ANY, coverage.ANY)
    shapes = coverage.region_shapes(engine)
    if not shapes["geometries"]:
        return Section("Coverage map", "", missing="No region has a boundary, so the coverage map cannot be drawn.", live=True)
    figure = maps.coverage_map(ranked, shapes, metric, limit, sites=coverage.site_points(engine, quarter),
                               outcome_name=ranked.attrs.get("indicator_name"))
    caption = (f"{coverage_charts.map_caption(ranked, metric, what, quarter, limit)} "
               f"{coverage_charts.ranking_caption(ranked, what, quarter, DEFAULT_ORDER)}")
    numbers = coverage_charts.map_table(ranked.sort_values("name"), metric, limit)
    keep = [c for c in ("Region", "K-12 students", "Program sites", "Seats", "Seats per 1,000", "Participations per 1,000",
                        "Nearest site (km)", "Rank") if c in numbers]
    return _section("Coverage map", caption, figure, numbers[keep], live=True)


def funnel_section(engine: Engine) -> Section:
    """The latest cohort's funnel as /pathways opens it: the first of its usual groups that has
    pathway data, against its reference group (the gaps' reference rule)."""
    from queries import pathways
    from queries.gaps import _groups

    cohorts = pathways.cohorts(engine)
    if not cohorts:
        return Section("Pathway funnel", "", missing="No pathway data is loaded, so there is no funnel.", live=True)
    cohort = cohorts[-1]
    available = list(pathways.groups(engine)["student_group"])
    labels, complements = _groups(engine)
    group = next((g for g in FUNNEL_GROUPS if g in available), None)
    reference = gap_rules.reference_for(group, "complement", complements, None, set(available)) if group else None
    series_ids = [g for g in (group, reference) if g] or ["all"]
    data = pathways.funnel(engine, cohort, groups=tuple(series_ids))
    if data.empty:
        return Section("Pathway funnel", "", missing=f"There are no pathway counts for the class of {cohort}.", live=True)
    measured = funnel_rules.measures(data)
    limit = threshold()
    names = {g: labels.get(g, g) for g in series_ids}
    series = [names[g] for g in series_ids]
    leak = funnel_rules.biggest_leak(measured, group, reference) if len(series_ids) == 2 else None
    table = funnel_charts.funnel_table(measured, names, limit)
    tidy = funnel_rules.is_tidy(funnel_rules.data_problems(measured, pathways.stages(engine, cohort), labels))
    figure = funnel_charts.funnel_figure(table, series, leak=leak, tidy=tidy, limit=limit)
    headline = (sentences.leak_sentence(leak, series[0], series[1]) if len(series) == 2
                else sentences.steepest_step_sentence(measured, series_ids[0], series[0]))
    caption = f"{headline} {funnel_charts.funnel_caption(table, series, cohort, 'Alliance-wide', leak)}"
    notes = [n for n in (funnel_charts.left_out_note(table, markdown=False),
                         funnel_charts.conversion_note(table, markdown=False)) if n]
    # The page's table, with each conversion's own counts as its dot states them.
    printed = table[[funnel_charts.STAGE, funnel_charts.GROUP, funnel_charts.STUDENTS, funnel_charts.SHARE,
                     funnel_charts.CONVERSION, funnel_charts.CONV_COUNTS]].copy()
    partial = table[funnel_charts.CONV_OVER].astype(str).str.startswith(sentences.PARTIAL_MARK)
    printed.loc[partial, funnel_charts.CONV_COUNTS] += f" {sentences.PARTIAL_MARK}"
    return _section("Pathway funnel", " ".join([caption, *notes]), figure, printed, live=True)


def gap_sections(engine: Engine, year: str | None) -> list[Section]:
    """Every indicator's gaps at once, then the headline indicator (the one /gaps opens on): its
    gaps, and whether they are closing."""
    from queries import gaps, meta

    listed = meta.indicator_list(engine)
    if listed.empty:
        return [Section("Equity gaps", "", missing="No outcome indicators are loaded, so there are no gap charts.", live=True)]
    heat = gaps.gap_heatmap(engine, year=year)
    if heat.empty:
        return [Section("Equity gaps", "", missing=f"No outcome data for {sentences.year(year)}, so there are no gap "
                                                   "charts.", live=True)]
    year = year or heat["school_year"].max()
    limit = threshold()
    indicator = gap_rules.headline_indicator(listed["indicator_id"], listed["stage"])
    row = listed.set_index("indicator_id").loc[indicator]
    name, higher = row["name"], bool(row["higher_is_better"])
    table = gaps.gap_table(engine, indicator, year=year)
    targets = gaps.indicator_targets(engine, indicator)
    _, summary = gaps.gap_trends(engine, indicator)
    return [
        _section("Equity gaps: every indicator", sentences.heatmap_caption(heat, year),
                 gap_charts.heatmap_figure(heat, year, limit), live=True),
        _section(f"Equity gaps: {name}", sentences.gap_caption(table, name, higher, year),
                 gap_charts.gap_figure(table, name, higher, year, targets, limit), live=True),
        _section(f"Is the gap closing? {name}", sentences.change_caption(summary),
                 gap_charts.change_figure(summary, name), live=True),
    ]


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
        return (text.replace("–", "-").replace("—", "-").replace("’", "'").replace("≈", "~").replace("−", "-")
                .encode("latin-1", "replace").decode("latin-1"))
    return text


def _para(pdf, text: str, size: float = 10, style: str = "", height: float = 5) -> None:
    pdf.set_font(pdf.font_family_name, style, size)
    pdf.multi_cell(0, height, _text(pdf, text), new_x="LMARGIN", new_y="NEXT")


def _heading(pdf, text: str, size: float = 14, keep: float = 30) -> None:
    """A heading, on a new page unless `keep` mm of what follows it fit under it."""
    if pdf.get_y() + 10 + keep > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(2)
    _para(pdf, text, size, "B", 7)
    pdf.ln(1)


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value))


def column_texts(values) -> list[str]:
    """A table column as printed: counts as whole numbers with thousands separators (`1,950`,
    never `1950.0`); a column with any fraction to one decimal throughout (`30.0`, not `30`
    beside `8.6`); `—` for none."""
    values = list(values)
    numbers = [float(v) for v in values if _is_number(v) and not _missing(v)]
    digits = 0 if all(n.is_integer() for n in numbers) else 1
    return ["—" if _missing(v) else ("yes" if v else "no") if isinstance(v, bool)
            else f"{float(v):,.{digits}f}" if _is_number(v) else str(v) for v in values]


def _numeric(texts: list[str]) -> bool:
    """A column of numbers (counts, rates, ranges, `−2.1 points`), set right; words set left."""
    shown = [t for t in texts if t not in ("—", "") and not t.startswith("suppressed")]
    return bool(shown) and sum(t[:1].isdigit() or t[:1] in "+−-≈" for t in shown) >= len(shown) / 2


def _table(pdf, table: pd.DataFrame, size: float = 8) -> None:
    pdf.set_font(pdf.font_family_name, "", size)
    columns = [str(c) for c in table.columns]
    cells = [list(row) for row in zip(*[column_texts(table.iloc[:, k].astype(object)) for k in range(table.shape[1])])] if len(table) else []
    # Each column at least as wide as its longest word (numbers and years never break), the rest of
    # the line shared by how much text each column has.
    pad = 2.5
    least, wanted = [], []
    for k, column in enumerate(columns):
        texts = [_text(pdf, t) for t in [column] + [row[k] for row in cells]]
        least.append(1.1 * max(pdf.get_string_width(w) for t in texts for w in (t.split() or [""])) + pad)
        wanted.append(max(least[-1], min(60.0, max(pdf.get_string_width(t) for t in texts)) + pad))
    spare = pdf.epw - sum(least)
    extra = [w - m for w, m in zip(wanted, least)]
    if spare <= 0 or not sum(extra):
        widths = [pdf.epw * m / sum(least) for m in least]
    elif sum(wanted) <= pdf.epw:
        widths = [pdf.epw * w / sum(wanted) for w in wanted]
    else:
        widths = [m + spare * e / sum(extra) for m, e in zip(least, extra)]
    align = ["LEFT"] + ["RIGHT" if _numeric([row[k] for row in cells]) else "LEFT" for k in range(1, len(columns))]
    with pdf.table(col_widths=widths, text_align=align, line_height=4.4,
                   first_row_as_headings=True) as grid:
        row = grid.row()
        for c in columns:
            row.cell(_text(pdf, c))
        for values in cells:
            row = grid.row()
            for v in values:
                row.cell(_text(pdf, v))
    pdf.ln(2)


def _image_size(pdf, section: Section) -> tuple[float, float]:
    width, height = pdf.epw, pdf.epw * section.height_px / IMAGE_WIDTH_PX
    limit = pdf.eph - 30
    return (width * limit / height, limit) if height > limit else (width, height)


def _image(pdf, section: Section) -> None:
    width, height = _image_size(pdf, section)
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()
    pdf.image(BytesIO(section.image), w=width, h=height, x=pdf.l_margin + (pdf.epw - width) / 2)
    pdf.ln(1)


def build_packet(engine: Engine, quarter: str | None = None, frozen: bool = True, images: bool = True,
                 progress: Callable[[str], None] | None = None, version: int | None = None) -> bytes:
    """The board packet of `quarter` as PDF bytes (see `make_packet` for what went in)."""
    return make_packet(engine, quarter, frozen, images, progress, version).pdf


def make_packet(engine: Engine, quarter: str | None = None, frozen: bool = True, images: bool = True,
                progress: Callable[[str], None] | None = None, version: int | None = None) -> Packet:
    """`images=False` leaves the charts out (their captions and numbers stay): for a machine
    with no browser, said on every chart's place in the packet. `version`: that snapshot version
    of a quarter frozen more than once (default: its latest)."""
    started = time.perf_counter()
    say = progress or (lambda _m: None)
    payload = q.snapshot(engine, quarter, version) if (frozen and quarter) else None
    if version is not None and payload is None:
        raise PacketError(f"{kpi.quarter_label(quarter) if quarter else 'That quarter'} has no frozen version {version}.")
    if payload is None:
        payload = q.overview(engine, quarter)
    if not payload:
        raise PacketError("There is no participation data, so there is no quarter to report on.")
    quarter = payload["quarter"]
    from data.demo import is_demo
    demo = is_demo(engine)

    say("building the charts")
    sections = [*overview_sections(payload, engine), coverage_section(engine, quarter), funnel_section(engine),
                *gap_sections(engine, payload.get("school_year"))]
    drawable = [s for s in sections if s.figure is not None]
    if images and drawable:
        say(f"drawing {len(drawable)} charts")
        for s, png in zip(drawable, render_images([s.figure for s in drawable], [s.title for s in drawable],
                                                  [s.height_px for s in drawable])):
            s.image = png

    say("writing the PDF")
    pdf = _pdf()
    pdf.set_title(f"Board packet {kpi.quarter_label(quarter)}")
    pdf.set_creator("STEM alliance dashboard")
    pdf.add_page()
    _para(pdf, f"Board packet: {kpi.quarter_label(quarter)}", 20, "B", 10)
    frozen_at = payload.get("frozen_at")
    again = f" (version {payload['version']}: {payload.get('note') or 'no note'})" if payload.get("version", 1) > 1 else ""
    status = (f"As frozen on {frozen_at[:10]}{again}: exactly the figures presented at the board meeting."
              if frozen_at else f"Live figures as of {payload['generated_at'][:10]} (this quarter has not been frozen).")
    made = datetime.now(timezone.utc).date().isoformat()
    _para(pdf, f"{status} This copy was made on {made} by the alliance dashboard, offline.", 10, "I")
    if demo:
        _para(pdf, "Demo data: the Ridge & Valley STEM Alliance is synthetic. None of these numbers describe real students.", 10, "B")
    _heading(pdf, f"{kpi.quarter_label(quarter)}: {payload['headline']['text']}", 15)
    _para(pdf, payload["school_year_rule"], 9)

    _heading(pdf, "Reach")
    _table(pdf, reach_table(payload))
    _para(pdf, "Participations are enrolments, not unique students: one child in two programs counts twice.", 9)

    _heading(pdf, "What changed")
    changes = payload.get("changes", [])
    since = kpi.school_year_label(payload["previous_school_year"]) if payload.get("previous_school_year") else "the year before"
    for kind, title in (("reach", f"Reach since {kpi.quarter_label(payload['previous_quarter'])}"),
                        ("indicator", f"Indicators since {since}"), ("gap", f"Gaps since {since}")):
        found = [c["sentence"] for c in changes if c.get("kind", "reach") == kind]
        if kind != "reach" and "locale" not in payload:
            continue  # frozen before indicators and gaps were part of "what changed"
        _para(pdf, title, 10, "B")
        for k, sentence in enumerate(found, start=1):
            _para(pdf, f"{k}. {sentence}", 9.5)
        if not found:
            _para(pdf, "Nothing moved clearly enough to report.", 9.5, "I")

    _heading(pdf, "Indicators against the board's targets")
    _table(pdf, indicator_table(payload), 7.5)

    included, left_out = [], []
    for section in sections:
        if section.image is not None and pdf.get_y() + 16 + _image_size(pdf, section)[1] > pdf.page_break_trigger:
            pdf.add_page()
        _heading(pdf, section.title, 13)
        if section.image is not None:
            _image(pdf, section)
        elif section.figure is not None:
            _para(pdf, "Charts were not drawn for this copy (no browser); the numbers follow.", 9, "I")
        if section.missing:
            _para(pdf, section.missing, 9.5, "I")
            left_out.append(section.title)
        else:
            included.append(section.title)
        if section.caption:
            _para(pdf, section.caption, 9.5, "I")
        if section.table is not None and section.title not in ("Reach by quarter", "Indicators against the board's targets"):
            _table(pdf, section.table, 7.5)

    _heading(pdf, "Notes and sources", 13)
    _para(pdf, payload["notes"]["suppression"], 9)
    _para(pdf, "Suppressed is shown as 'suppressed' (grey in charts), never as zero; missing is shown as '—'. A value "
               "from range-coded public data is shown as a range (≈), never as its midpoint.", 9)
    _para(pdf, "Rates are pooled, not averaged: numerators and denominators are summed over regions, then divided.", 9)
    _para(pdf, "Targets: the distance to go and the pace are to the board's final target; the pace is a straight line "
               "through the shown years, and its 95% range comes from how closely the years follow it.", 9)
    if frozen_at:
        _para(pdf, "The overview figures are the frozen ones; the coverage map, funnel and gap charts show the data in the "
                   "store when this packet was made.", 9)
    for key, source in payload["sources"].items():
        _para(pdf, f"{q.REACH_LABELS.get(key, key.capitalize())}: {source}", 9)
    data = payload.get("data_as_of") or {}
    if data.get("source"):
        _para(pdf, f"Data: import '{data['source']}' of {str(data.get('imported_at'))[:16].replace('T', ' ')} UTC.", 9)
    pdf_bytes = bytes(pdf.output())
    return Packet(pdf_bytes, included, left_out, time.perf_counter() - started, pdf.pages_count)
