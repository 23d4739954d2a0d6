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


TEST_PASSWORD = "a test pass phrase"


def ensure_user(url: str, role: str) -> str:
    """The local account `ROLE-user` of the store at `url` with that role (made if need be)."""
    from data import auth
    from data.db import get_engine, upgrade

    engine = get_engine(url)
    upgrade(engine)
    name = f"{role}-user"
    if auth.user_role(engine, name) is None:
        auth.add_user(engine, name, TEST_PASSWORD, role, actor=auth.cli_actor())
    elif auth.user_role(engine, name) != role:
        auth.set_role(engine, name, role, actor=auth.cli_actor())
    return name


def sign_in(at: AppTest, url: str, role: str | None) -> AppTest:
    """Sign the AppTest session in as the local account `ROLE-user` (see ensure_user), as the
    sign-in form leaves it; None leaves the session anonymous. Call before at.run()."""
    if role is None:
        return at
    from components.auth import USER_KEY

    at.session_state[USER_KEY] = ensure_user(url, role)
    return at
