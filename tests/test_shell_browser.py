"""The shell in a real browser with the network blocked: / and /data."""
import pytest

from tests.browser import new_visit

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/", "/data"])
def test_page_works_offline(offline_browser, demo_server, path):
    visit = new_visit(offline_browser, demo_server + path)
    assert visit.outside_requests == []
    assert visit.error_boxes() == []
    assert visit.unexpected_console_errors() == []
    body = visit.page.inner_text("body")
    assert "Demo data" in body
    visit.page.context.close()


def test_deep_link_as_first_request_runs_through_the_app(offline_browser, demo_store_url):
    """A fresh server whose first request is /gaps still runs app.py (gate, demo label)."""
    from tests.browser import StreamlitServer

    server = StreamlitServer(demo_store_url)
    try:
        visit = new_visit(offline_browser, server.url + "/gaps?year=2023-24")
        assert visit.error_boxes() == []
        assert visit.outside_requests == []
        assert "Demo data" in visit.page.inner_text("body")
        assert "year=2023-24" in visit.page.url
        visit.page.context.close()
    finally:
        server.stop()
