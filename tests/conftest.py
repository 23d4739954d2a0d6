"""Shared fixtures: fresh stores on SQLite and PostgreSQL, and a small valid data package.

PostgreSQL and browser tests skip only outside CI when their server or browser is absent;
under CI (CI=true) an absent server or browser fails them.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text

from data.db import get_engine
from tests.packages import write_package

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def unavailable(reason: str):
    """Fail in CI, skip elsewhere: CI must run every test for real."""
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def postgres_url():
    """A PostgreSQL URL whose search_path is a new, empty schema, dropped afterwards."""
    admin = get_engine(TEST_DATABASE_URL)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        unavailable(f"PostgreSQL not reachable at {TEST_DATABASE_URL}: {str(exc).splitlines()[0]}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    yield f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


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
