"""Phones, measured in a real browser: every page, normal and presenting, at 390x844 with a
phone's user agent (the only hint of the screen a server gets): the page does not scroll
sideways, every chart text is whole inside its chart, no two texts of a chart sit on each
other, and none is smaller than 12 px."""
from __future__ import annotations

import pytest

from tests.screens import chart_texts, horizontal_overflow, open_page, overlaps
from tests.test_present import registered_pages

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEFAULT_PAGE = registered_pages()[0][1]
PHONE = (390, 844)
PHONE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Version/18.0 Mobile/15E148 Safari/604.1")
MIN_PHONE_TEXT_PX = 12


@pytest.fixture(scope="module")
def server(demo_server, offline_browser):
    """Open / once first: until app.py has run in a server, Streamlit knows only pages/."""
    open_page(offline_browser, demo_server + "/", 1400, 1000).page.context.close()
    return demo_server


@pytest.mark.parametrize("mode", ["normal", "presenting"])
@pytest.mark.parametrize("url_path", [u for _, u in registered_pages()])
def test_every_page_reads_on_a_phone(offline_browser, server, url_path, mode):
    path = "/" if url_path == DEFAULT_PAGE else f"/{url_path}"
    visit = open_page(offline_browser, server + path + ("?present=1" if mode == "presenting" else ""), *PHONE,
                      user_agent=PHONE_AGENT)
    page = visit.page
    try:
        assert visit.error_boxes() == []
        assert horizontal_overflow(page) == 0
        texts = chart_texts(page)
        assert [str(t) for t in texts if t.clipped] == []
        assert [str(t) for t in texts if t.size < MIN_PHONE_TEXT_PX] == []
        assert overlaps(texts) == []
    finally:
        page.context.close()
