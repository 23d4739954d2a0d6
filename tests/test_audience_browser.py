"""The audience page (components/audience.py) opened by a phone with the network blocked: the
share link's page for phones, made by the live server for a real view (the coverage map, a
MapLibre chart, among its charts), draws every chart with plotly.js from this server, and
nothing asks for an address beyond localhost (plotly.js's bundle names style sheets and glyph
servers for its maps: none may be fetched at run time)."""
from __future__ import annotations

import re

import pytest

from tests.browser import LOCAL_HOSTS
from tests.screens import open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"


def _audience_link(browser, server: str, path: str) -> str:
    """The audience page's address as the view's share box offers it (the code block under the QR code)."""
    visit = open_page(browser, server + path, 1400, 1000)
    try:
        codes = visit.page.evaluate(
            "() => Array.from(document.querySelectorAll('[data-testid=\"stSidebar\"] [data-testid=\"stCode\"]'))"
            ".map(c => c.textContent.trim())")
    finally:
        visit.page.context.close()
    links = [c for c in codes if "/app/static/audience/" in c]
    assert links, codes
    return links[0]


@pytest.mark.parametrize("path", ["/coverage", "/gaps"])
def test_the_audience_page_draws_offline(demo_server, offline_browser, path):
    open_page(offline_browser, demo_server + "/", 1400, 1000).page.context.close()  # app.py registers the pages
    link = _audience_link(offline_browser, demo_server, path)
    # The link names the address the browser used (127.0.0.1 here); the page is served as a file.
    address = demo_server + "/app/static/audience/" + link.split("/app/static/audience/", 1)[1]
    context = offline_browser.new_context(viewport={"width": 390, "height": 844}, user_agent=PHONE, is_mobile=True,
                                          has_touch=True)
    attempted, local, errors = [], [], []

    def route(request_route):
        url = request_route.request.url
        host = re.sub(r"^[a-z]+://([^/:]+|\[[^\]]+\]).*$", r"\1", url)
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            local.append(url)
            request_route.continue_()
        else:
            attempted.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(address, wait_until="load", timeout=60_000)
        sections = page.evaluate("document.querySelectorAll('.chart').length")
        assert sections >= 2
        page.wait_for_function(
            "(n) => Array.from(document.querySelectorAll('.chart')).filter(c => c._fullData && c._fullLayout).length === n",
            arg=sections, timeout=120_000)
        page.wait_for_timeout(1500)  # a map's style, tiles or glyphs are asked for after the first draw
        drawn = page.evaluate("""() => Array.from(document.querySelectorAll('.chart')).map(c => ({
            traces: c._fullData.length, marks: c.querySelectorAll('svg path, svg rect, canvas').length,
            types: c._fullData.map(t => t.type)}))""")
        assert all(d["traces"] and d["marks"] for d in drawn), drawn
        if path == "/coverage":
            assert any("choroplethmap" in d["types"] for d in drawn)  # the MapLibre map is among them
        assert attempted == []  # nothing tried to leave localhost
        assert any(u.endswith((".min.js.gz", ".min.js")) for u in local)  # plotly.js came from this server
        assert errors == []
    finally:
        context.close()
