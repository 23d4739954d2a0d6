"""Presentation mode, links and stories in the app (AppTest): every page's filters survive a
round trip through the URL, presentation mode hides tables, downloads and data-management
controls, and a view can be added to a story from the sidebar."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import stories as edit
from data.auth import SESSION_KEY, Actor
from data.db import get_engine
from queries.stories import load_story, story_list
from tests.apptest import sign_in

APP = "../app.py"  # AppTest resolves paths against this file's folder
APP_SOURCE = Path(__file__).resolve().parent.parent / "app.py"
WIDGET_PREFIX = "_filter_widget_"


def registered_pages() -> list[tuple[str, str]]:
    """(file, url_path) of every page in app.py's PAGES, read at test time so later pages count."""
    pages = re.findall(r'st\.Page\(\s*"([^"]+)"[^)]*?url_path="([^"]+)"', APP_SOURCE.read_text(encoding="utf-8"))
    assert pages, "no st.Page(...) found in app.py"
    return pages


PAGES = registered_pages()


def open_page(monkeypatch, url: str, page: str, params: dict | None = None, role: str | None = None) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = sign_in(AppTest.from_file(APP, default_timeout=180), url, role)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page)
    at.run()
    return at


def synced_selects(at: AppTest) -> dict[str, object]:
    """The page's URL-synced select boxes (components.filters.synced_select), by query parameter."""
    return {box.key.removeprefix(WIDGET_PREFIX): box for box in at.selectbox if (box.key or "").startswith(WIDGET_PREFIX)}


@pytest.mark.slow
@pytest.mark.parametrize("page", [file for file, _ in PAGES])
def test_every_filter_of_every_page_round_trips_through_the_url(monkeypatch, demo_store_url, page):
    first = open_page(monkeypatch, demo_store_url, page)
    assert not first.exception, first.exception
    # Set every URL-synced filter to an option that is not its current one …
    for box in synced_selects(first).values():
        if len(box.options) > 1:
            box.select_index(len(box.options) - 1 if box.index != len(box.options) - 1 else 0)
    first.run()
    assert not first.exception, first.exception
    wanted = {name: str(box.value) for name, box in synced_selects(first).items()}
    for name, value in wanted.items():  # … which the URL now says,
        assert first.query_params[name] in (value, [value]), name
    # … and a fresh visit to that URL shows the same view.
    at = open_page(monkeypatch, demo_store_url, page, wanted)
    assert not at.exception, at.exception
    shown = synced_selects(at)
    assert set(shown) == set(wanted)
    for name, value in wanted.items():
        assert str(shown[name].value) == value, name
        assert at.query_params[name] in (value, [value]), name


def test_a_quarter_chosen_on_the_overview_stays_chosen_on_the_next_page(monkeypatch, demo_store_url):
    # The overview lists quarters newest first and /coverage oldest first: two widgets, one key.
    at = open_page(monkeypatch, demo_store_url, "pages/overview.py")
    quarter = synced_selects(at)["quarter"]
    quarter.select_index(len(quarter.options) // 2).run()
    older = synced_selects(at)["quarter"].value
    assert older != quarter.value  # not the default, the newest
    at.switch_page("pages/coverage.py").run()
    assert not at.exception, at.exception
    assert synced_selects(at)["quarter"].value == older
    assert at.query_params["quarter"] in (older, [older])


@pytest.mark.parametrize("page", ["pages/gaps.py", "pages/data.py", "pages/stories.py"])
def test_presentation_mode_hides_tables_downloads_and_data_controls(monkeypatch, demo_store_url, page):
    at = open_page(monkeypatch, demo_store_url, page, {"present": "1"})
    assert not at.exception, at.exception
    if page == "pages/gaps.py":
        assert len(at.get("plotly_chart")) >= 3
        assert not at.get("arrow_data_frame") and not at.expander
    if page == "pages/stories.py":
        assert not at.get("file_uploader") and not at.text_input  # no importing or editing while presenting
    assert not [b for b in at.get("download_button") if "st-key-present" not in str(b.key)] or page == "pages/data.py"


def test_one_chart_per_screen_with_chart_parameter(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url, "pages/gaps.py", {"present": "1", "chart": "gap_trend"})
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 1 and charts[0].proto.id and "gap_trend" in str(charts[0].key or charts[0].proto.id)


def test_stories_page_lists_steps_and_exports(monkeypatch, demo_store_url):
    engine = get_engine(demo_store_url)
    story_id = edit.create_story(engine, "AppTest story")
    try:
        edit.add_step(engine, story_id, "gaps", {"region": "all"}, "The gap that matters")
        at = open_page(monkeypatch, demo_store_url, "pages/stories.py")
        assert not at.exception, at.exception
        at.selectbox(key="story_pick").set_value(story_id).run()
        body = "\n".join(m.value for m in at.markdown)
        assert "The gap that matters" in body and "Equity gaps" in body
        assert [b for b in at.get("download_button") if b.proto.label.startswith("Export")]
        at.button(key="down_1")  # reordering controls are there
    finally:
        edit.delete_story(engine, story_id)


def _sidebar_form_script():
    import streamlit as st

    from components import present

    class Page:  # the page app.py would pass: /gaps
        _url_path, url_path, title = "gaps", "gaps", "Equity gaps"

    st.query_params["region"] = "all"
    with st.sidebar:
        present.add_to_story_form(Page())


def test_add_this_view_to_a_new_story_from_the_sidebar(monkeypatch, demo_store_url):
    monkeypatch.setenv("DATABASE_URL", demo_store_url)
    at = AppTest.from_function(_sidebar_form_script, default_timeout=60)
    at.session_state[SESSION_KEY] = Actor("pat", "presenter")  # as app.py's sign-in check leaves it
    at.query_params["year"] = "2023-24"
    at.query_params["present"] = "1"  # a playback parameter: never saved
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="_story_choice").set_value("➕ A new story")
    at.text_input(key="_story_new_name").input("Sidebar story")
    at.text_area(key="_story_headline").input("Rural graduation is catching up")
    next(b for b in at.button if b.label == "Add this view").click()
    at.run()
    assert not at.exception, at.exception
    assert any("step 1" in s.value for s in at.success)
    engine = get_engine(demo_store_url)
    listing = story_list(engine)
    story_id = int(listing.loc[listing["name"] == "Sidebar story", "story_id"].iloc[0])
    try:
        step = load_story(engine, story_id).steps[0]
        assert (step.page, step.headline) == ("gaps", "Rural graduation is catching up")
        assert step.params == {"year": "2023-24", "region": "all"}
    finally:
        edit.delete_story(engine, story_id)


def test_headlines_can_be_edited_on_the_stories_page(monkeypatch, demo_store_url):
    engine = get_engine(demo_store_url)
    story_id = edit.create_story(engine, "Headline story")
    try:
        edit.add_step(engine, story_id, "gaps", {}, "Old headline")
        at = open_page(monkeypatch, demo_store_url, "pages/stories.py", role="presenter")
        at.selectbox(key="story_pick").set_value(story_id).run()
        at.text_input(key=f"headline_{story_id}_1").input("New headline")
        next(b for b in at.button if b.label == "Save headlines").click()
        at.run()
        assert not at.exception, at.exception
        assert load_story(engine, story_id).steps[0].headline == "New headline"
    finally:
        edit.delete_story(engine, story_id)
