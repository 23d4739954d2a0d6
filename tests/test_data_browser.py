"""/data in a real browser with the network blocked, as a data steward uses it: sign in with the
sidebar form as an editor, upload a broken package and read its problems in the page, upload a
good one, read the preview and import it; the store changes only at the import. On SQLite and
PostgreSQL (a server of its own on a fresh store, so the demo store of the other browser tests
is left alone)."""
from __future__ import annotations

import pytest

from data import history
from data.db import get_engine, upgrade
from data.importer import import_package
from tests.apptest import TEST_PASSWORD, ensure_user
from tests.browser import StreamlitServer, new_visit, wait_until_idle
from tests.packages import VALID_PACKAGE, write_package
from tests.test_data_page import EDITOR, folder_zip, zipped
from tests.test_undo import corrected_package, rows

pytestmark = pytest.mark.browser


@pytest.fixture
def steward_server(store_url, tmp_path):
    """A server on a store holding the small valid package, with an editor account."""
    engine = get_engine(store_url)
    upgrade(engine)
    assert import_package(write_package(tmp_path / "first"), engine, actor=EDITOR).ok
    ensure_user(store_url, "editor")
    server = StreamlitServer(store_url, {"ALLIANCE_AUTOLOAD_DEMO": "0"})
    yield server, engine
    server.stop()


def _sign_in(page, password: str) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("textbox", name="User name").fill("editor-user")
    sidebar.get_by_role("textbox", name="Password").fill(password)
    sidebar.get_by_role("button", name="Sign in").click()
    wait_until_idle(page)


def _upload(page, name: str, content: bytes) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        [{"name": name, "mimeType": "application/zip", "buffer": content}])
    page.get_by_text(name, exact=True).wait_for(timeout=60_000)  # listed under the uploader once sent
    wait_until_idle(page)


def _click(page, label: str) -> None:
    page.get_by_role("button", name=label).click()
    wait_until_idle(page, timeout_ms=180_000)


def _table(page, column: str) -> list[list[str]]:
    """The rows (header first) of the last table on the page with that column. A table is drawn
    on a canvas; its cells are in the page as the grid's accessibility table, made a moment after
    it is drawn."""
    script = """(column) => {
        const grids = Array.from(document.querySelectorAll('[data-testid="stDataFrame"] table[role="grid"]'))
            .filter(g => Array.from(g.querySelectorAll('th')).some(th => th.textContent === column));
        if (!grids.length) return null;
        return Array.from(grids.pop().querySelectorAll('tr')).map(tr => Array.from(tr.children, c => c.textContent));
    }"""
    page.wait_for_function(script, arg=column, timeout=30_000)
    return page.evaluate(script, column)


def test_an_editor_signs_in_checks_a_broken_package_then_imports_a_good_one(offline_browser, steward_server, tmp_path):
    server, engine = steward_server
    before = rows(engine)
    visit = new_visit(offline_browser, f"{server.url}/data", timeout_ms=180_000)
    page = visit.page
    try:
        body = page.inner_text("body")
        assert "Sign in as an editor (or higher) to import" in body  # anonymous: no uploader
        assert page.locator('[data-testid="stFileUploader"]').count() == 0

        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("Sign in", exact=True).first.click()
        _sign_in(page, "not the pass phrase")
        assert "The user name or password is not right." in sidebar.inner_text()
        assert "not the pass phrase" not in page.inner_text("body")
        _sign_in(page, TEST_PASSWORD)
        sidebar.get_by_text("Signed in as").wait_for(timeout=60_000)
        assert "Signed in as editor-user (editor)" in sidebar.inner_text()
        assert TEST_PASSWORD not in page.inner_text("body")
        assert page.evaluate("() => Array.from(document.querySelectorAll('input')).map(i => i.value)").count(TEST_PASSWORD) == 0

        broken = dict(VALID_PACKAGE)
        broken["outcomes.csv"] = broken["outcomes.csv"].replace("grad4,47037,2023-24,all", "grad4,47037,2023,all")
        broken["regions.csv"] = broken["regions.csv"].replace("47015,Cannon County,rural,2100", "47015,Cannon County,rural,lots")
        _upload(page, "broken.zip", zipped(broken))
        _click(page, "Check this package")
        body = page.inner_text("body")
        assert "2 problem(s) found; nothing was written." in body
        header, *problems = _table(page, "expected")
        assert header == ["file", "row", "column", "found", "expected"]
        assert [row[:4] for row in problems] == [["regions.csv", "4", "k12_enrollment", "lots"],
                                                 ["outcomes.csv", "2", "school_year", "2023"]]
        assert page.get_by_role("button", name="Download the problems (CSV)").count() == 1
        assert page.get_by_role("button", name="Import this package").count() == 0
        assert rows(engine) == before

        page.get_by_role("button", name="Remove broken.zip").click()
        wait_until_idle(page)
        _upload(page, "corrected.zip", folder_zip(corrected_package(tmp_path / "c")))
        _click(page, "Check this package")
        body = page.inner_text("body")
        assert "No problems found." in body and "2 problem(s)" not in body
        assert "New quarters: 2025 Q3" in body and "New regions: 47189" in body
        header, *preview = _table(page, "unchanged")
        changes = {row[0]: row[1:] for row in preview}
        assert header == ["table", "added", "replaced", "unchanged"]
        assert changes["participation"] == ["1", "1", "4"] and changes["regions"] == ["1", "0", "4"]
        assert rows(engine) == before  # checking and previewing wrote nothing

        _click(page, "Import this package")
        page.get_by_text("Imported 38 rows from corrected.zip").wait_for(timeout=180_000)
        assert visit.error_boxes() == []
        assert visit.outside_requests == []
        assert visit.unexpected_console_errors() == []
        assert rows(engine) != before
        latest = history.history(engine).iloc[0]
        assert (latest["action"], latest["actor"], latest["summary"]) == ("import", "editor-user", "imported corrected.zip")
    finally:
        page.context.close()
    server.stop()
    log = server.process.stdout.read().decode(errors="replace")
    for secret in (TEST_PASSWORD, "not the pass phrase", "argon2"):
        assert secret not in log  # the server logged neither password nor hash
