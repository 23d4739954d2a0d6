"""Keyboard and screen readers, in a real browser on every page, normal and presenting: axe-core
(vendored, tests/vendor/axe-core) finds no critical or serious violation and no moderate one;
no chart puts a toolbar button in the Tab order; every chart has an accessible name, its caption."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.screens import heading_jumps, open_page, outline
from tests.test_present import registered_pages

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
DEFAULT_PAGE = registered_pages()[0][1]
BLOCKING = {"critical", "serious", "moderate"}

_RUN_AXE = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.html.slice(0, 160))}))"""


@pytest.fixture(scope="module")
def server(demo_server, offline_browser):
    """Open / once first: until app.py has run in a server, Streamlit knows only pages/."""
    open_page(offline_browser, demo_server + "/", 1400, 1000).page.context.close()
    return demo_server


@pytest.mark.parametrize("mode", ["normal", "presenting"])
@pytest.mark.parametrize("url_path", [u for _, u in registered_pages()])
def test_axe_finds_nothing_serious_and_charts_are_named_and_out_of_the_tab_order(offline_browser, server, url_path, mode):
    path = "/" if url_path == DEFAULT_PAGE else f"/{url_path}"
    visit = open_page(offline_browser, server + path + ("?present=1" if mode == "presenting" else ""), 1400, 1000)
    page = visit.page
    try:
        assert visit.error_boxes() == []
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(_RUN_AXE)
        assert [v for v in violations if v["impact"] in BLOCKING] == []
        charts = page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]')).map(c =>
            ({name: c.getAttribute('aria-label') || '', role: c.getAttribute('role'),
              modebar: c.querySelectorAll('.modebar-btn').length,
              // The map's canvas stays one Tab stop: it is how a keyboard pans and zooms it.
              tabbable: Array.from(c.querySelectorAll('a, button, [tabindex]')).filter(e => e.tabIndex >= 0
                  && !e.matches('canvas.maplibregl-canvas')).length}))""")
        assert all(c["name"] and c["role"] == "figure" for c in charts), charts
        # No toolbar: its 8 buttons per chart were Tab stops (40 on /gaps before the first table).
        assert all(c["tabbable"] == 0 and c["modebar"] == 0 for c in charts), charts
        assert heading_jumps(outline(page)) == []
    finally:
        page.context.close()
