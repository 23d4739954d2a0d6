"""The projector, measured in a real browser on every page in presentation mode, at 1920x1080
and 1280x720: every text of every chart at least 20 px and WCAG AA contrast against the pixels
behind it, no chart text in Streamlit's grey or in vermillion, no chart text cut off, no two texts
of a chart over each other (tests.screens.overlaps, as on phones), each chart
and its headline on one screen above the presenter's bar, the sentences that carry each page's
message shown, no heading without content, and `?chart=KEY` showing that chart alone and whole
for every chart a page draws (the map and the scatter included)."""
from __future__ import annotations

import pytest

from tests.screens import (FORBIDDEN_TEXT_COLOURS, MIN_CHART_TEXT_PX, chart_screens, chart_texts, empty_headings,
                           heading_jumps, open_page, outline, overlaps)
from tests.test_present import registered_pages

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEFAULT_PAGE = registered_pages()[0][1]
CHART_PAGES = ["overview", "gaps", "coverage", "pathways"]  # the pages that draw charts on the demo store
SCREENS = [(1920, 1080), (1280, 720)]
# The sentence that carries each page's message, shown when presenting (a fragment of it).
MESSAGES = {
    "overview": ("What changed", "since"),  # the biggest changes, in words
    "gaps": ("largest gap",),  # the gap headline over the first chart
    "pathways": ("lose the most ground",),  # the funnel's leak, as the funnel's headline
    "coverage": ("The rule.",),  # the ranking's rule and first regions (the table is not shown)
}


def path_of(url_path: str) -> str:
    return "/" if url_path == DEFAULT_PAGE else f"/{url_path}"


@pytest.fixture(scope="module")
def server(demo_server, offline_browser):
    """Open / once first: until app.py has run in a server, Streamlit knows only pages/."""
    open_page(offline_browser, demo_server + "/", 1400, 1000).page.context.close()
    return demo_server


def _open(browser, server, url_path: str, query: str, size) -> object:
    visit = open_page(browser, server + path_of(url_path) + query, *size)
    assert visit.outside_requests == [] and visit.error_boxes() == []
    return visit


# Texts that still cover each other at 1280x720 (strict: each starts failing the day it passes,
# to be unmarked): on /gaps, 11 rows of two-line group names (about 52 px a row at 20 px) on a
# plot about 400 px tall, and range labels wider than the heatmap's cells ('≈−18…+82'); on
# /coverage, the programs grid's 'N seats' lines wider than their cells; on /pathways, the
# funnel's dot labels and the trend panels' titles.
STILL_OVERLAPPING = {("gaps", SCREENS[1]), ("coverage", SCREENS[1]), ("pathways", SCREENS[1])}
SCREEN_PAGES = [pytest.param(u, size, id=f"{u}-{size[0]}x{size[1]}",
                             marks=[pytest.mark.xfail(strict=True, reason="chart texts still overlap (see above)")]
                             if (u, size) in STILL_OVERLAPPING else [])
                for size in SCREENS for u in CHART_PAGES]


@pytest.mark.parametrize("url_path,size", SCREEN_PAGES)
def test_every_chart_text_reads_from_the_back_of_the_room(offline_browser, server, url_path, size):
    visit = _open(offline_browser, server, url_path, "?present=1", size)
    page = visit.page
    try:
        screens = chart_screens(page)
        assert screens, "no chart drawn in presentation mode"
        texts = chart_texts(page)
        assert len(texts) >= 10 * len(screens)  # every chart's ticks, labels and legends were found
        small = [str(t) for t in texts if t.size < MIN_CHART_TEXT_PX]
        faint = [str(t) for t in texts if not t.passes]
        forbidden = [str(t) for t in texts if t.colour in FORBIDDEN_TEXT_COLOURS]
        cut = [str(t) for t in texts if t.clipped]
        assert (small, faint, forbidden, cut) == ([], [], [], [])
        if url_path == "pathways":  # the funnel's "largest gap" note touches no other text (bounding boxes)
            assert any("largest gap" in t.text for t in texts)
            assert [o for o in overlaps(texts, share=0) if "largest gap" in o] == []
        assert overlaps(texts) == []  # no two texts of a chart cover each other
        too_big = [(s.key, round(s.top), round(s.bottom), round(s.room)) for s in screens if not s.fits]
        assert too_big == []
        for fragment in MESSAGES[url_path]:
            assert fragment in page.inner_text('[data-testid="stMain"]'), fragment
        if url_path == "pathways":  # the leak leads; the note on how to read the bars is not the headline
            funnel = next(s for s in screens if s.key == "pathway_funnel")
            assert "lose the most ground" in funnel.headline and not funnel.headline.startswith("Bars:")
        items = outline(page)
        assert (empty_headings(items), heading_jumps(items)) == ([], [])
        if size == SCREENS[-1]:
            ONE_CHART_KEYS[url_path] = [s.key for s in screens]
    finally:
        page.context.close()


ONE_CHART_KEYS: dict[str, list[str]] = {}  # every chart each page presented, filled in by the test above


@pytest.mark.parametrize("url_path", [u for _, u in registered_pages() if u not in CHART_PAGES])
def test_pages_without_charts_show_no_heading_without_content(offline_browser, server, url_path):
    visit = _open(offline_browser, server, url_path, "?present=1", (1280, 720))
    try:
        items = outline(visit.page)
        assert any(level == 0 for level, _ in items)
        assert (empty_headings(items), heading_jumps(items)) == ([], [])
    finally:
        visit.page.context.close()


# Each page's first and last chart, and the coverage map and scatter (drawn apart from the rest
# before): `&chart=` is one mechanism (components/layout.chart_block), a chart in the middle of a
# page tells nothing more.
ONE_CHART = [("overview", 0), ("overview", -1), ("gaps", 0), ("gaps", -1), ("coverage", "coverage_map"),
             ("coverage", "need_scatter"), ("coverage", -1), ("pathways", 0), ("pathways", -1)]


@pytest.mark.parametrize("url_path,which", ONE_CHART)
def test_chart_parameter_opens_that_chart_alone_and_whole(offline_browser, server, url_path, which):
    """`&chart=KEY` draws that chart and no other, with its headline, on one 1280x720 screen
    without scrolling."""
    if url_path not in ONE_CHART_KEYS:
        visit = _open(offline_browser, server, url_path, "?present=1", (1280, 720))
        ONE_CHART_KEYS[url_path] = [s.key for s in chart_screens(visit.page)]
        visit.page.context.close()
    keys = ONE_CHART_KEYS[url_path]
    assert len(keys) >= 2
    key = which if isinstance(which, str) else keys[which]
    assert key in keys
    visit = _open(offline_browser, server, url_path, f"?present=1&chart={key}", (1280, 720))
    try:
        shown = chart_screens(visit.page, scroll=False)
        assert [s.key for s in shown] == [key]
        assert visit.plot_count() == 1
        assert shown[0].fits, shown[0]
    finally:
        visit.page.context.close()
