"""The app shell: first run on an empty store, a demo store, stores that cannot be used, and
shared filters that round-trip through the URL."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data.db import get_engine, upgrade

APP = "../app.py"  # AppTest resolves paths against this file's folder


def run_app(monkeypatch, url: str, page: str | None = None, params: dict | None = None,
            timeout: int = 120) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def test_first_run_on_an_empty_store_loads_the_demo(monkeypatch, sqlite_url):
    # Loading the demo is most of this run (about 170 s on a busy 2-core machine: the audit).
    at = run_app(monkeypatch, sqlite_url, timeout=600)
    assert not at.exception
    with get_engine(sqlite_url).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM regions")).scalar() >= 8
    assert "Demo data" in texts(at)


def test_demo_store_overview_and_data_page(monkeypatch, demo_store_url):
    at = run_app(monkeypatch, demo_store_url)
    assert not at.exception
    assert "Demo data" in texts(at) and any(t.value == "Board overview" for t in at.title)
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Regions"].replace(",", "")) >= 8
    assert int(metrics["Outcomes"].replace(",", "")) > 1000
    body = texts(at)
    assert "suppressed" in body
    record = next(d.value for d in at.dataframe if "actor" in d.value.columns)  # the History section
    assert record["summary"].str.contains("loaded the demo alliance").any()
    assert len(at.get("download_button")) >= 2


def test_opening_any_page_builds_the_pathway_cube_in_the_background(monkeypatch, demo_store_url):
    """The overview, not /pathways, is opened: the pathway cube of this store and data version is
    built anyway (in a background thread), so the first visit to /pathways does not wait."""
    import threading

    from components import store
    from queries import meta, pathways

    pathways.clear_cache()
    store._warm_pathways.clear()  # an earlier test on this store may have warmed it already
    at = run_app(monkeypatch, demo_store_url)
    assert not at.exception
    version = meta.data_version(get_engine(demo_store_url))
    warming = [t for t in threading.enumerate() if t.name == f"warm-pathways-{version}"]
    for thread in warming:
        thread.join(60)
    built = [key for key in list(pathways._CUBES) if key[1] == get_engine(demo_store_url).url.render_as_string(hide_password=False)]
    assert built and built[0][2] == version


def test_unreachable_store_gives_a_readable_message(monkeypatch):
    at = run_app(monkeypatch, "postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    assert not at.exception
    assert "cannot be reached" in texts(at)
    assert "DATABASE_URL" in texts(at)


def test_outdated_schema_says_what_to_do(monkeypatch, sqlite_url):
    engine = get_engine(sqlite_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000_old'"))
    at = run_app(monkeypatch, sqlite_url)
    assert not at.exception
    assert "older schema" in texts(at) and "cli.py migrate" in texts(at)


def test_empty_store_without_autoload_shows_instructions(monkeypatch, sqlite_url):
    monkeypatch.setattr("components.store.AUTOLOAD_DEMO", False)
    at = run_app(monkeypatch, sqlite_url)
    assert not at.exception
    assert "cli.py import" in texts(at)


@pytest.mark.parametrize("page", ["pages/data.py"])
def test_pages_never_show_a_traceback_on_a_damaged_store(monkeypatch, sqlite_url, page):
    engine = get_engine(sqlite_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE participation"))
    at = run_app(monkeypatch, sqlite_url)
    # A store missing a table reports itself instead of crashing with a traceback.
    assert not at.exception
    assert texts(at)


def test_shared_filters_round_trip_through_the_url(monkeypatch, demo_store_url):
    from components.filters import shared_filters  # noqa: F401  (the page below uses it)

    script = """
import streamlit as st
from components.filters import shared_filters
f = shared_filters(locale_scopes=True)
st.write(f"region={f.region} year={f.year} quarter={f.quarter} group={f.group}")
"""
    monkeypatch.setenv("DATABASE_URL", demo_store_url)
    at = AppTest.from_string(script, default_timeout=60)
    at.query_params.update({"region": "locale:rural", "year": "2021-22", "quarter": "2024-Q2", "group": "econ_disadvantaged"})
    at.run()
    assert not at.exception
    assert at.main.markdown[-1].value == "region=locale:rural year=2021-22 quarter=2024-Q2 group=econ_disadvantaged"
    # Choosing another value rewrites the URL.
    at.selectbox(key="_filter_widget_group").select("english_learner").run()
    assert at.query_params["group"] in ("english_learner", ["english_learner"])
    # Unknown values fall back to defaults instead of failing.
    at2 = AppTest.from_string(script, default_timeout=60)
    at2.query_params.update({"region": "nowhere", "year": "1900-01", "group": "martians"})
    at2.run()
    assert not at2.exception
    assert "region=all" in at2.main.markdown[-1].value and "group=all" in at2.main.markdown[-1].value
