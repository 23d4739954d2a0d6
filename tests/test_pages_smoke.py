"""Every page in app.PAGES opens on the demo store under AppTest without an exception: a page
added to the navigation is covered here without anyone listing it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.apptest import open_page

REPO = Path(__file__).resolve().parent.parent


def app_pages() -> list[str]:
    """The script path of each st.Page(...) in app.py's PAGES list (read, not run: app.py runs
    Streamlit at import)."""
    tree = ast.parse((REPO / "app.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets):
            return [call.args[0].value for call in node.value.elts]
    raise AssertionError("app.py has no PAGES list")


def test_app_pages_lists_every_page_file():
    assert sorted(app_pages()) == sorted(f"pages/{p.name}" for p in (REPO / "pages").glob("*.py"))


@pytest.mark.parametrize("page", app_pages())
def test_every_page_opens_without_an_exception(monkeypatch, demo_store_url, page):
    at = open_page(monkeypatch, demo_store_url, page=page)
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
