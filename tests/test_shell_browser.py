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
