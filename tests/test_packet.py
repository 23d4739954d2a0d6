"""The board packet PDF: made by the command line from the pages' own builders, its text read
back (pypdf) and checked against what the pages show, numbers printed as numbers, charts that
print with numbered axes, and errors that surface instead of a silently thinner packet."""
from __future__ import annotations

import re
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from data.db import get_engine
from reports.board import freeze
from domain import formatting, sentences
from queries import overview as q
from tests.apptest import APP
from tests.packages import SPARSE_PACKAGE, write_package
from tests.test_overview import QUARTER, copy_store

REPO = Path(__file__).resolve().parent.parent


def pdf_text(data: bytes) -> str:
    """The PDF's text as one line per paragraph break collapsed: wrapped lines join with a space."""
    text = "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


@pytest.fixture(scope="module")
def packet(demo_store_url, tmp_path_factory):
    """A frozen quarter and its packet made by the command line (chromium draws every chart)."""
    folder = tmp_path_factory.mktemp("packet")
    url = copy_store(demo_store_url, folder)
    frozen = freeze(get_engine(url), QUARTER)
    out = folder / "packet.pdf"
    run = subprocess.run([sys.executable, "cli.py", "report", "--quarter", QUARTER, "--out", str(out), "--database", url],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return out.read_bytes(), frozen, run.stdout, url


def page_captions(monkeypatch, url: str, page: str, params: dict | None = None) -> list[str]:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception
    return [flat(c.value) for c in at.caption] + [flat(m.value) for m in at.markdown]


def test_the_packet_has_every_chart_and_says_it_is_the_frozen_quarter(packet):
    data, frozen, stdout, _ = packet
    assert data[:5] == b"%PDF-" and "wrote" in stdout and "nothing to show" not in stdout
    reader = PdfReader(BytesIO(data))
    # reach, indicators, trends, rural, map, funnel, every-indicator gaps, one indicator's gaps, closing
    assert sum(len(page.images) for page in reader.pages) >= 9
    text = pdf_text(data)
    assert "Board packet: 2025 Q3" in text and f"As frozen on {frozen['frozen_at'][:10]}" in text
    assert "Demo data" in text and "Notes and sources" in text


def test_the_packets_sentences_are_the_pages_sentences(packet, monkeypatch):
    data, frozen, _, url = packet
    text = pdf_text(data)
    overview = page_captions(monkeypatch, url, "pages/overview.py", {"quarter": QUARTER})
    # Headline, every "what changed" sentence (reach, indicators, gaps), the indicator and rural captions.
    assert flat(frozen["headline"]["text"]) in text
    kinds = {c["kind"] for c in frozen["changes"]}
    assert {"reach", "indicator", "gap"} <= kinds
    for change in frozen["changes"]:
        assert flat(change["sentence"]) in text
        assert any(flat(change["sentence"]) in shown for shown in overview), change["sentence"]
    for caption in (sentences.indicator_caption(frozen), sentences.rural_caption(frozen["locale"])):
        assert flat(caption) in overview and flat(caption) in text
    # The gap page's own caption for the indicator it opens on, in the same year.
    gaps_page = page_captions(monkeypatch, url, "pages/gaps.py", {"year": frozen["school_year"]})
    largest = next(c for c in gaps_page if c.startswith("In 2024–25, the largest gap"))
    assert largest in text
    closing = next(c for c in gaps_page if c.startswith("Between "))
    assert closing in text
    # The funnel: the page's note on conversions whose counts are not the bars, and every dot's
    # counts as the page's table (and its dots) state them.
    pathways_page = page_captions(monkeypatch, url, "pages/pathways.py", {})
    note = next(c for c in pathways_page if "count only the regions that show both stages" in c)
    assert flat(note.replace("**", "")) in text
    from reports import packet as module

    printed = module.funnel_section(get_engine(url)).table
    counts = [c for c in printed["Conversion: went on, of those at the stage before"] if " of " in str(c)]
    assert counts and all(str(c) in text for c in counts)


def test_numbers_print_as_the_page_prints_them(packet):
    data, frozen, _, _ = packet
    text = pdf_text(data)
    for item in frozen["reach"]:
        if item["value"] is not None:
            assert f"{item['value']:,.0f}" in text  # 4,925, with its thousands separator
    for item in frozen["indicators"]:
        if item["value"] is not None:
            assert sentences.rate(item["rate_low"], item["rate_high"]) in text
        parts = sentences.pace_parts(item)
        if parts and parts["to_go"] not in ("", "met"):
            assert f"{parts['target']} {parts['to_go']}" in text  # final target and distance to go, side by side
    hidden = formatting.suppressed_text(frozen["threshold"], why=True)
    for item in frozen["locale"]["indicators"]:
        # A hidden rural rate prints as the page's table prints it: the one suppressed wording.
        assert (hidden if item["rural_suppressed"] else sentences.rate(item["rural_low"], item["rural_high"])) in text
    # Counts are whole numbers with separators: no "1950.0", and no 4925 for 4,925.
    assert not re.search(r"\b\d{4,}\.0\b", text)
    for item in frozen["reach"]:
        if item["value"] is not None and item["value"] >= 1000:
            assert not re.search(rf"(?<![\d,.]){int(item['value'])}(?![\d,.])", text)


@pytest.fixture(scope="module")
def printed(demo_store_url):
    """Every chart of the packet but the map, as the packet draws it (same builders, same print
    layout, same width), as SVG: title -> (svg, width, height)."""
    import os

    import kaleido

    from reports import packet as module

    engine = get_engine(demo_store_url)
    payload = q.overview(engine, QUARTER)
    sections = [*module.overview_sections(payload, engine), module.funnel_section(engine),
                *module.gap_sections(engine, payload["school_year"])]
    os.environ.setdefault("BROWSER_PATH", "/usr/bin/chromium")
    kaleido.start_sync_server(n=1, mathjax=False, timeout=90, silence_warnings=True)
    try:
        return {s.title: (kaleido.calc_fig_sync(s.figure, opts=dict(format="svg", width=module.IMAGE_WIDTH_PX,
                                                                    height=s.height_px)).decode(),
                          module.IMAGE_WIDTH_PX, s.height_px) for s in sections if s.figure is not None}
    finally:
        kaleido.stop_sync_server(silence_warnings=True)


def _shift(transform: str) -> tuple[float, float]:
    moves = re.findall(r"translate\(([-\d.e]+)[ ,]*([-\d.e]*)\)", transform or "")
    return sum(float(a) for a, _ in moves), sum(float(b or 0) for _, b in moves)


def text_width(text: str, size: float) -> float:
    """Width in px of `text` in the charts' sans-serif (DejaVu Sans here), measured with fpdf2."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt")
    pdf.add_font("Sans", "", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("Sans", size=size)
    return pdf.get_string_width(text)


def text_boxes(svg: str, classes=("xtick", "ytick", "x2tick", "y2tick")) -> list[tuple[str, tuple]]:
    """Axis tick labels and axis titles: (text, (left, top, right, bottom)) from the SVG's
    positions, a label's width estimated from its length and font size."""
    boxes = []
    pattern = (r'<g class="(?:\w*tick\d*)"><text ([^>]*)>([^<]*)<|<text class="[xy]\d*title" ([^>]*)>([^<]*)<')
    for m in re.finditer(pattern, svg):
        attributes, text = (m.group(1), m.group(2)) if m.group(1) is not None else (m.group(3), m.group(4))
        if not text.strip():
            continue
        at = dict(re.findall(r'([\w-]+)="([^"]*)"', attributes))
        dx, dy = _shift(at.get("transform", ""))
        x, y = float(at.get("x", 0)) + dx, float(at.get("y", 0)) + dy
        size = float(re.search(r"font-size: ([\d.]+)px", attributes).group(1))
        width = text_width(text, size)
        left = {"start": x, "end": x - width}.get(at.get("text-anchor"), x - width / 2)
        if "rotate" in at.get("transform", ""):
            continue  # rotated labels (the heat map's columns): their box is not this one
        boxes.append((text, (left, y - 0.8 * size, left + width, y + 0.25 * size)))
    return boxes


def plot_areas(svg: str) -> list[tuple]:
    sizes = {m.group(1): (float(m.group(2)), float(m.group(3))) for m in re.finditer(
        r'<clipPath id="clip\w*?(x\d*y\d*)plot" class="plotclip"><rect width="([\d.]+)" height="([\d.]+)"', svg)}
    areas = []
    for m in re.finditer(r'<g class="(x\d*y\d*)" transform="(translate\([^)]*\))"', svg.split('<g class="overplot">')[-1]):
        if m.group(1) in sizes:
            (x, y), (w, h) = _shift(m.group(2)), sizes[m.group(1)]
            areas.append((x, y, x + w, y + h))
    return areas


def legend_box(svg: str) -> tuple | None:
    m = re.search(r'<g class="legend"[^>]*transform="(translate\([^)]*\))"><rect class="bg"[^>]*width="([\d.]+)" '
                  r'height="([\d.]+)"', svg)
    if not m:
        return None
    x, y = _shift(m.group(1))
    return x, y, x + float(m.group(2)), y + float(m.group(3))


def overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_printed_charts_keep_legends_clear_of_axes_and_every_label_on_the_page(printed):
    """The packet's charts as printed: no legend over a plot area, a tick label or an axis
    title ("Target" sat on the axis), and no tick label or axis title cut off at the edge."""
    assert {"Reach by quarter", "Indicator trends", "Rural vs non-rural regions", "Pathway funnel"} <= set(printed)
    for title, (svg, width, height) in printed.items():
        labels, areas, legend = text_boxes(svg), plot_areas(svg), legend_box(svg)
        assert areas and labels, title
        for text, (left, top, right, bottom) in labels:
            assert left >= -1 and top >= -1 and right <= width + 1 and bottom <= height + 1, (title, text)
        if legend is None:
            continue
        entries = re.findall(r'class="legendtext"[^>]*>([^<]*)<', svg)
        assert len(entries) == len(set(entries)), (title, "a legend entry twice", entries)  # "Target" seven times
        for area in areas:
            assert not overlap(legend, area), (title, "legend over a plot area", legend, area)
        for text, box in labels:
            assert not overlap(legend, box), (title, f"legend over the axis label {text!r}", legend, box)


def test_printed_trend_panels_have_numbered_distinct_ticks(printed):
    """The packet's indicator trends (small panels, narrow ranges): every y tick reads as a
    number with %, and no panel repeats a tick label."""
    svg = printed["Indicator trends"][0]
    panels = svg.split('<g class="yaxislayer-above">')[1:]
    ticks = [re.findall(r'<g class="y\d*tick"><text[^>]*>([^<]*)</text></g>', panel.split('class="overaxes-above"')[0]
                        .split('<g class="xaxislayer-above">')[0]) for panel in panels]
    assert len([t for t in ticks if t]) >= 11
    for labels in ticks:
        assert all(re.fullmatch(r"\d+(\.\d)?%", label) for label in labels), labels
        assert len(labels) == len(set(labels)), labels


def test_printed_reach_panels_count_in_whole_numbers_with_separators(printed):
    svg = printed["Reach by quarter"][0]
    ticks = re.findall(r'<g class="y\d*tick"><text[^>]*>([^<]*)</text></g>', svg)
    assert ticks and all(re.fullmatch(r"\d{1,3}(,\d{3})*", t) for t in ticks), ticks
    assert any("," in t for t in ticks)  # seats and participations run into thousands


def test_without_a_browser_every_number_stays_and_the_packet_says_so(packet):
    from reports.packet import make_packet

    _, frozen, _, url = packet
    made = make_packet(get_engine(url), QUARTER, images=False)
    text = pdf_text(made.pdf)
    assert "Charts were not drawn for this copy" in text
    assert flat(frozen["changes"][0]["sentence"]) in text
    assert not made.left_out  # every section had something to show


def test_a_chart_that_cannot_be_drawn_stops_the_packet_and_names_it(packet, monkeypatch):
    import kaleido

    from reports import packet as module

    _, _, _, url = packet

    def broken(fig, opts=None, **kw):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(kaleido, "calc_fig_sync", broken)
    with pytest.raises(module.PacketError, match="The chart 'Reach by quarter' could not be drawn: renderer crashed"):
        module.make_packet(get_engine(url), QUARTER)


def test_a_builder_that_fails_is_not_hidden_behind_a_fallback(packet, monkeypatch):
    from reports import packet as module

    _, _, _, url = packet

    def broken(*args, **kwargs):
        raise KeyError("standing")

    monkeypatch.setattr(module.gap_charts, "heatmap_figure", broken)
    with pytest.raises(KeyError, match="standing"):
        module.make_packet(get_engine(url), QUARTER, images=False)


def test_the_packet_of_a_sparse_alliance_says_what_it_cannot_show(tmp_path):
    """No pathway data, one indicator renamed (no `grad4` anywhere): the gap section follows the
    indicator the gaps page opens on, and the funnel says why it is not there."""
    from data.importer import import_package
    from reports.packet import make_packet

    files = {k: v.replace("grad4", "ontime").replace("Four-year graduation rate", "On-time graduation")
             for k, v in SPARSE_PACKAGE.items() if k != "pathway.csv"}
    url = f"sqlite:///{tmp_path / 'sparse.db'}"
    engine = get_engine(url)
    assert import_package(write_package(tmp_path / "package", files), engine).ok
    made = make_packet(engine, images=False)
    text = pdf_text(made.pdf)
    assert "No pathway data is loaded, so there is no funnel." in text and "Pathway funnel" in made.left_out
    assert "Equity gaps: On-time graduation" in text
    assert "Rural vs non-rural regions" in text
    participations = next(i["value"] for i in q.overview(engine)["reach"] if i["measure"] == "participants")
    assert participations >= 1000 and f"{participations:,.0f}" in text  # 2,074, not 2074.0
    assert not re.search(r"\b\d{4,}\.0\b", text)


def test_the_coverage_section_shows_the_coverage_pages_figures(demo_store_url):
    from queries.coverage import region_coverage
    from reports.packet import coverage_section

    engine = get_engine(demo_store_url)
    section = coverage_section(engine, "2024-Q1")  # not the latest: the packet's quarter, not every site ever
    page = region_coverage(engine, "2024-Q1").set_index("name")["seats_per_1000"].round(1)
    assert section.table.set_index("Region")["Seats per 1,000"].to_dict() == page.to_dict()
    assert "2024 Q1" in section.caption and section.figure is not None
