"""Opening one page of the app under Streamlit's AppTest, and reading its query parameters."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

APP = "../app.py"  # AppTest resolves paths against the calling test file's folder


def open_page(monkeypatch, url: str, params: dict | None = None, *, page: str, timeout: int = 180) -> AppTest:
    """Run app.py on the store at `url` with the given query parameters, switched to `page`."""
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    return at


def param(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value
