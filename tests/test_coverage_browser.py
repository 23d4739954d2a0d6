"""/coverage in a real browser with the network blocked: the MapLibre map draws every region
(one location per region across its choropleth traces) and its program sites, no request leaves
localhost, no error box or console error appears, every caption shown is the sentence built from
the ranking and tables the charts draw, and clicking a region opens its profile."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from components import coverage_charts as charts
from components import glance_charts as glance
from data.db import get_engine
from data.schema import regions
from domain.coverage import DEFAULT_ORDER, METRICS
from domain.suppression import threshold
from queries import coverage, meta
from domain.scope import ALLIANCE
from tests.browser import new_visit, spoken

pytestmark = pytest.mark.browser


def _region_ids(url: str) -> list[str]:
    with get_engine(url).connect() as conn:
        return sorted(conn.execute(select(regions.c.region_id)).scalars())


def _app_errors(visit) -> list[str]:
    # A missing favicon or source map is the browser's business, not the app's.
    return [e for e in visit.console_errors if "Failed to load resource" not in e]


def _captions(url: str) -> list[str]:
    """The captions /coverage?metric=seats_per_1000 shows, made from the same queries' results."""
    engine = get_engine(url)
    quarter = meta.quarters(engine)[-1]
    indicator = coverage.outcome_choices(engine)["indicator_id"].iloc[0]
    covered = coverage.region_coverage(engine, quarter)
    ranked = coverage.rank(covered, coverage.need_measures(engine, indicator), DEFAULT_ORDER)
    what = charts.filter_text(coverage.ANY, coverage.ANY, coverage.ANY)
    seats = METRICS["seats_per_1000"]
    at_glance = coverage.alliance_glance(engine, quarter, area=ALLIANCE)
    return [charts.map_caption(ranked, seats, what, quarter, threshold()),
            charts.need_scatter_caption(ranked, seats, ranked.attrs),
            charts.ranking_caption(ranked, what, quarter, DEFAULT_ORDER),
            glance.sectors_caption(at_glance["sectors"], "the alliance", what),
            glance.reach_caption(at_glance["by_quarter"], "The alliance", what),
            glance.programs_caption(at_glance["programs"], "the alliance", what),
            charts.distance_caption(ranked, what),
            charts.locale_caption(coverage.by_locale(covered), what, quarter)]


def test_map_draws_every_region_offline(offline_browser, demo_server, demo_store_url):
    new_visit(offline_browser, f"{demo_server}/").page.context.close()  # the app has run its navigation once
    visit = new_visit(offline_browser, f"{demo_server}/coverage?metric=seats_per_1000", wait_for_plots=4)
    try:
        assert visit.error_boxes() == []
        assert visit.outside_requests == []
        assert _app_errors(visit) == []
        traces = visit.figure_data(0)
        choropleths = [t for t in traces if t["type"] == "choroplethmap"
                       and t.get("name") not in ("Selected region", "Region names")]
        located = [loc for t in choropleths for loc in t["locations"]]
        assert sorted(located) == _region_ids(demo_store_url)  # one location per region
        sites = [t for t in traces if t["type"] == "scattermap"]
        assert sites and len(sites[0]["lat"]) > 50
        # the map really drew: MapLibre's canvas is there and has a size
        size = visit.page.evaluate(
            "() => { const c = document.querySelector('.js-plotly-plot canvas.maplibregl-canvas');"
            " return c ? [c.width, c.height] : null; }")
        assert size and size[0] > 100 and size[1] > 100
        shown = visit.captions()
        for sentence in _captions(demo_store_url):
            assert spoken(sentence) in shown, (sentence, shown)
    finally:
        visit.page.context.close()


def test_profile_opens_offline_from_a_link(offline_browser, demo_server):
    new_visit(offline_browser, f"{demo_server}/").page.context.close()
    visit = new_visit(offline_browser, f"{demo_server}/coverage?region=47061&metric=participations_per_1000",
                      wait_for_plots=10)
    try:
        assert visit.error_boxes() == []
        assert visit.outside_requests == []
        assert "Grundy County: profile" in visit.page.inner_text("body")
        traces = visit.figure_data(0)
        outlined = [t for t in traces if t.get("name") == "Selected region"]
        assert outlined and outlined[0]["locations"] == ["47061"]
    finally:
        visit.page.context.close()


def test_clicking_a_dot_opens_the_region_profile(offline_browser, demo_server):
    from tests.browser import wait_until_idle

    new_visit(offline_browser, f"{demo_server}/").page.context.close()
    visit = new_visit(offline_browser, f"{demo_server}/coverage?region=all", wait_for_plots=4)
    try:
        page = visit.page
        assert ": profile" not in page.inner_text("body")
        point = page.locator(".js-plotly-plot").nth(1).locator(".scatterlayer .point").first
        point.click(force=True)
        page.wait_for_function("() => document.body.innerText.includes(': profile')", timeout=60_000)
        wait_until_idle(page)
        assert visit.error_boxes() == []
        assert visit.outside_requests == []
        assert page.url.split("region=")[1].split("&")[0] != "all"
    finally:
        visit.page.context.close()


def _grey(png: bytes):
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=int)


def test_region_names_are_drawn_without_a_glyph_server(offline_browser, demo_server):
    """Names are filled letter outlines, not a MapLibre text layer: with every request beyond
    localhost blocked they are still painted — hiding their traces changes thousands of the
    map's pixels, darker and lighter — and nothing asked for glyphs."""
    new_visit(offline_browser, f"{demo_server}/").page.context.close()
    visit = new_visit(offline_browser, f"{demo_server}/coverage?metric=seats_per_1000", wait_for_plots=4)
    try:
        page = visit.page
        traces = visit.figure_data(0)
        names = [i for i, t in enumerate(traces) if t.get("name") == "Region names"]
        assert names and sum(len(traces[i]["locations"]) for i in names) >= 8
        assert not any("text" in str(t.get("mode", "")) for t in traces)
        canvas = page.locator(".js-plotly-plot").first.locator("canvas.maplibregl-canvas")
        page.wait_for_timeout(1500)  # MapLibre paints after the figure is in place
        with_names = _grey(canvas.screenshot())
        page.evaluate("(idx) => Plotly.restyle(document.querySelectorAll('.js-plotly-plot')[0], {visible: false}, idx)",
                      names)
        page.wait_for_timeout(1500)
        change = with_names - _grey(canvas.screenshot())
        # ~3,000 letter pixels on the demo (none would change if nothing were painted): darker
        # ones (dark letters on light fills), lighter ones (white letters on the darkest fills,
        # and the halos).
        darker, lighter = int((change < -80).sum()), int((change > 80).sum())
        assert int((abs(change) > 40).sum()) > 1000 and darker > 200 and lighter > 200, (darker, lighter)
        assert visit.outside_requests == []
        assert _app_errors(visit) == []  # no glyph or style request failed either
    finally:
        visit.page.context.close()
