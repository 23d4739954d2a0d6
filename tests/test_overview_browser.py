"""The board overview in a real browser with the network blocked: it draws, says what it should,
the indicator chart holds the numbers the queries return, and every sentence shown (headline,
what changed, targets, pace, captions) is the one domain/sentences.py makes of the same payload."""
import pytest

from data.db import get_engine
from domain import formatting, sentences
from queries import overview as q
from tests.browser import new_visit, spoken

pytestmark = pytest.mark.browser


def test_overview_works_offline_and_shows_the_query_numbers(offline_browser, demo_server, demo_store_url):
    visit = new_visit(offline_browser, demo_server + "/?quarter=2025-Q3", wait_for_plots=1, timeout_ms=180_000)
    try:
        assert visit.outside_requests == []
        assert visit.error_boxes() == []
        assert visit.unexpected_console_errors() == []
        body = visit.page.inner_text("body")
        payload = q.overview(get_engine(demo_store_url), "2025-Q3")
        assert payload["headline"]["text"] in body
        assert "not unique students" in body
        for item in payload["reach"]:
            assert f"{item['value']:,.0f}" in body
        assert payload["changes"][0]["subject"] in body
        bars = next(t for t in visit.figure_data(0) if t["type"] == "bar")
        # Each shown rate's bar reaches its rate (a range's solid bar its low end, never its
        # midpoint); a hidden rate, or a range over the whole 0-100% (it says nothing), has no bar.
        drawn = sorted(round(v, 6) for v in bars["x"] if v is not None)
        shown = [i for i in payload["indicators"] if i["rate_low"] is not None and not i["suppressed"]
                 and not formatting.says_nothing(i["rate_low"], i["rate_high"])]
        assert drawn == sorted(round(i["rate_low"], 6) for i in shown) and shown
        assert len(bars["x"]) == len(payload["indicators"])
        assert f"2025 Q3: {payload['headline']['text']}" in visit.headings()
        lines = spoken(body)
        kinds = {c.get("kind", "reach") for c in payload["changes"]}
        assert kinds == {"reach", "indicator", "gap"}, kinds  # the demo moves all three
        for change in payload["changes"]:
            assert spoken(change["sentence"]) in lines, change["sentence"]
        captions = visit.captions()
        for item in payload["reach"]:
            assert spoken(sentences.target_text(item).capitalize()) in captions
        paced = [i for i in payload["indicators"] if i.get("pace")]
        assert paced
        for item in paced:
            assert spoken(sentences.pace_text(item).capitalize()) in captions
        assert spoken(sentences.indicator_caption(payload)) in captions
        assert spoken(sentences.rural_caption(payload["locale"])) in captions
        assert "Sign in as a viewer (or higher) to prepare the board packet" in body  # anonymous: no packet button
    finally:
        visit.page.context.close()
