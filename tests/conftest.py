"""Shared fixtures: fresh stores on SQLite and PostgreSQL, and a small valid data package.

PostgreSQL and browser tests skip only outside CI when their server or browser is absent;
under CI (CI=true) an absent server or browser fails them.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

from data.db import get_engine
from tests.packages import write_package

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Property tests: the same examples on every CI run (a counterexample found once is kept as an
# @example, not met by luck); `make privacy` runs thousands of new ones (HYPOTHESIS_PROFILE=privacy).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("privacy", max_examples=3000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev"))
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def unavailable(reason: str):
    """Fail in CI, skip elsewhere: CI must run every test for real."""
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@contextmanager
def postgres_schema():
    """A PostgreSQL URL whose search_path is a new, empty schema, dropped afterwards."""
    admin = get_engine(TEST_DATABASE_URL)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        unavailable(f"PostgreSQL not reachable at {TEST_DATABASE_URL}: {str(exc).splitlines()[0]}")
    # named after the pytest-xdist worker too, so a leftover schema says which run left it
    schema = f"t_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    try:
        yield f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def postgres_url():
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def store(store_url):
    return get_engine(store_url)


@pytest.fixture
def package_dir(tmp_path):
    """A small valid package in a fresh folder; tests break it in their own ways."""
    return write_package(tmp_path / "package")


# --- the demo store, a server on it, and an offline browser -------------------------------

@pytest.fixture(scope="session")
def demo_store_url(tmp_path_factory) -> str:
    """A SQLite store holding the demo alliance, built once per test session."""
    from data.demo import load_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    result = load_demo(get_engine(url))
    assert result.ok, result.problems[:5]
    return url


@pytest.fixture(scope="session")
def demo_server(demo_store_url):
    """Base URL of a Streamlit server on the demo store."""
    from tests.browser import StreamlitServer

    server = StreamlitServer(demo_store_url)
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def offline_browser():
    """Debian's chromium under Playwright (requests beyond localhost are blocked per visit)."""
    from tests.browser import CHROMIUM, CHROMIUM_FLAGS, chromium_available

    if not chromium_available():
        unavailable("chromium or playwright is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()
