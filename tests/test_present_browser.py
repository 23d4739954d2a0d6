"""Offline, proven: every page registered in app.py, normal and presenting, in a real browser with
every request beyond localhost blocked — no request attempted, no error box, no unexpected console
error, every chart drawn. And a story stepped through with the ← and → keys."""
from __future__ import annotations

import pytest

from data import stories as edit
from data.db import get_engine
from tests.browser import new_visit, wait_until_idle
from tests.test_present import registered_pages

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEFAULT_PAGE = registered_pages()[0][1]  # app.py lists the default page first


@pytest.fixture(scope="module", autouse=True)
def app_registered_its_pages(offline_browser, demo_server):
    """Open / once first. Until app.py has run once in a server, Streamlit knows only the files in
    pages/, and a first visit straight to /gaps runs pages/gaps.py on its own, without app.py."""
    new_visit(offline_browser, demo_server + "/", timeout_ms=120_000).page.context.close()


def path_of(url_path: str) -> str:
    return "/" if url_path == DEFAULT_PAGE else f"/{url_path}"


def wait_for_charts(page, at_least: int = 0, timeout_ms: int = 120_000) -> int:
    """Every chart element the app sent has been drawn by Plotly (`_fullData` present)."""
    page.wait_for_function(
        "(least) => { const n = document.querySelectorAll('[data-testid=\"stPlotlyChart\"]').length;"
        " const drawn = Array.from(document.querySelectorAll('.js-plotly-plot'));"
        " return n >= least && drawn.length === n && drawn.every(p => p._fullData); }",
        arg=at_least, timeout=timeout_ms,
    )
    return page.evaluate("document.querySelectorAll('.js-plotly-plot').length")


@pytest.mark.parametrize("mode", ["normal", "presenting"])
@pytest.mark.parametrize("url_path", [u for _, u in registered_pages()])
def test_every_page_works_offline(offline_browser, demo_server, url_path, mode):
    query = "?present=1" if mode == "presenting" else ""
    visit = new_visit(offline_browser, demo_server + path_of(url_path) + query, timeout_ms=120_000)
    try:
        wait_for_charts(visit.page)
        assert visit.outside_requests == []
        assert visit.error_boxes() == []
        assert visit.unexpected_console_errors() == []
        if mode == "presenting":
            visit.page.wait_for_selector(".st-key-present_bar", timeout=60_000)
            visit.page.wait_for_selector('[data-testid="stSidebar"]', state="hidden", timeout=60_000)
            assert "present=1" in visit.page.url
            # No table, download or data control is visible to the room.
            for testid in ("stDataFrame", "stDownloadButton", "stFileUploader", "stExpander"):
                assert all(not el.is_visible() for el in visit.page.query_selector_all(f'[data-testid="{testid}"]')), testid
    finally:
        visit.page.context.close()


@pytest.fixture
def story(demo_store_url):
    engine = get_engine(demo_store_url)
    story_id = edit.create_story(engine, "Browser story")
    edit.add_step(engine, story_id, DEFAULT_PAGE, {}, "First: where the alliance stands")
    edit.add_step(engine, story_id, "gaps", {"region": "all", "chart": "gap_trend"}, "Second: the gap over time")
    edit.add_step(engine, story_id, "data", {}, "Third: where the numbers come from")
    yield story_id
    edit.delete_story(engine, story_id)


def headline(page) -> str:
    return page.wait_for_selector(".present-story-headline", timeout=60_000).inner_text()


def press(page, key: str, expect_in_url: str) -> None:
    """Press a key as the presenter would (focus on the page, not in a field), once."""
    page.wait_for_selector(".st-key-present_bar button", timeout=60_000)
    wait_until_idle(page, 120_000)
    page.mouse.click(5, 5)
    page.keyboard.press(key)
    page.wait_for_url(f"**{expect_in_url}**", timeout=120_000)
    wait_until_idle(page, 120_000)


def test_story_steps_with_the_keyboard_offline(offline_browser, demo_server, story):
    visit = new_visit(offline_browser, f"{demo_server}/?present=1&story={story}&step=1", timeout_ms=120_000)
    page = visit.page
    try:
        assert headline(page) == "First: where the alliance stands"
        assert "step 1 of 3" in page.inner_text(".st-key-present_bar")

        press(page, "ArrowRight", "step=2")
        assert "/gaps?" in page.url and "chart=gap_trend" in page.url and "present=1" in page.url
        page.wait_for_function("() => document.querySelector('.present-story-headline')?.innerText.startsWith('Second')")
        assert "step 2 of 3" in page.inner_text(".st-key-present_bar")
        assert wait_for_charts(page, at_least=1) == 1  # just the chart the step names

        press(page, "ArrowRight", "step=3")
        assert "/data?" in page.url
        page.wait_for_function("() => document.querySelector('.present-story-headline')?.innerText.startsWith('Third')")

        press(page, "ArrowLeft", "step=2")
        assert "/gaps?" in page.url
        page.wait_for_function("() => document.querySelector('.present-story-headline')?.innerText.startsWith('Second')")

        # Esc leaves presentation mode: the sidebar is back and the URL no longer says present=1.
        page.mouse.click(5, 5)
        page.keyboard.press("Escape")
        page.wait_for_function("() => !location.search.includes('present=1')", timeout=60_000)
        wait_until_idle(page, 120_000)
        page.wait_for_selector('[data-testid="stSidebar"]', state="visible", timeout=60_000)
        assert "story=" not in page.url and "/gaps" in page.url

        assert visit.outside_requests == []
        assert visit.error_boxes() == []
        assert visit.unexpected_console_errors() == []
    finally:
        page.context.close()
