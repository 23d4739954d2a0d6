"""Stories: saved, ordered views a presenter steps through — store round trip on SQLite and
PostgreSQL, the JSON file format and its errors, and the link and QR helpers."""
from __future__ import annotations

import json

import pytest

from components.present import PLAYBACK, qr_svg, share_url, step_params
from data import stories as edit
from data.db import upgrade
from queries.stories import export_story, load_story, story_id_by_name, story_list


@pytest.fixture
def db(store):
    upgrade(store)
    return store


def test_save_reorder_delete_and_load(db):
    story_id = edit.create_story(db, "Fall convening")
    assert edit.add_step(db, story_id, "overview", {"quarter": "2025-Q3", "present": "1", "story": "9", "step": "2"},
                         "Where we stand") == 1
    assert edit.add_step(db, story_id, "gaps", {"region": "47065", "chart": "gap_trend"}, "The graduation gap") == 2
    edit.add_step(db, story_id, "coverage", {}, "Where programs are missing")
    story = load_story(db, story_id)
    assert story.name == "Fall convening"
    assert [s.page for s in story.steps] == ["overview", "gaps", "coverage"]
    assert story.steps[0].params == {"quarter": "2025-Q3"}  # playback parameters are never saved
    assert story.steps[1].params == {"region": "47065", "chart": "gap_trend"}

    edit.move_step(db, story_id, 3, -1)
    edit.move_step(db, story_id, 1, -1)  # already first: nothing happens
    assert [s.page for s in load_story(db, story_id).steps] == ["overview", "coverage", "gaps"]
    edit.delete_step(db, story_id, 1)
    story = load_story(db, story_id)
    assert [(s.position, s.page) for s in story.steps] == [(1, "coverage"), (2, "gaps")]
    edit.set_headline(db, story_id, 2, "  Gaps are closing  ")
    assert load_story(db, story_id).steps[1].headline == "Gaps are closing"

    listing = story_list(db)
    assert listing.to_dict("records") == [{"story_id": story_id, "name": "Fall convening", "steps": 2}]
    edit.rename_story(db, story_id, "Spring convening")
    assert story_id_by_name(db, "Spring convening") == story_id
    edit.delete_story(db, story_id)
    assert story_list(db).empty and load_story(db, story_id) is None


def test_names_must_be_given_and_unique(db):
    edit.create_story(db, "Board")
    with pytest.raises(edit.StoryError, match="already exists"):
        edit.create_story(db, "Board")
    with pytest.raises(edit.StoryError, match="name"):
        edit.create_story(db, "   ")


def test_export_then_import_gives_the_same_story(db):
    story_id = edit.create_story(db, "Convening")
    edit.add_step(db, story_id, "gaps", {"indicator": "grad_4yr", "region": "locale:rural"}, "Rural graduation – 2024–25")
    edit.add_step(db, story_id, "overview", {}, "")
    text = export_story(db, story_id)
    exported = json.loads(text)
    assert exported["format"] == "alliance-dashboard-story" and exported["version"] == 1
    assert exported["steps"][0] == {"page": "gaps", "params": {"indicator": "grad_4yr", "region": "locale:rural"},
                                    "headline": "Rural graduation – 2024–25"}

    copy_id = edit.import_story(db, text)  # the name is taken: the copy gets "(2)"
    copy = load_story(db, copy_id)
    assert copy.name == "Convening (2)"
    original = load_story(db, story_id)
    assert [(s.page, s.params, s.headline) for s in copy.steps] == [(s.page, s.params, s.headline) for s in original.steps]
    assert load_story(db, edit.import_story(db, text.encode("utf-8"))).name == "Convening (3)"


@pytest.mark.parametrize("content, message", [
    ("not json at all", "not valid JSON"),
    ('{"format": "something-else", "version": 1, "name": "x", "steps": []}', "not a dashboard story file"),
    ('{"format": "alliance-dashboard-story", "version": 7, "name": "x", "steps": []}', "version 7 is not supported"),
    ('{"name": "x"}', "steps: Field required"),
    ('{"name": "x", "steps": [{"page": "../etc", "params": {}}]}', "steps → 1 → page"),
    ('{"name": "x", "steps": [{"page": "gaps", "params": {"region": 5}}]}', "steps → 1 → params → region"),
    ('{"name": "x", "steps": [{"page": "gaps", "colour": "red"}]}', "steps → 1 → colour: Extra inputs"),
])
def test_a_bad_story_file_says_what_is_wrong_and_writes_nothing(db, content, message):
    with pytest.raises(edit.StoryError) as caught:
        edit.import_story(db, content)
    assert message in str(caught.value)
    assert story_list(db).empty


def test_share_link_keeps_filters_and_drops_playback():
    params = {"region": "47065", "year": "2024-25", "present": "1", "story": "3", "step": "2", "chart": "gap_trend"}
    url = share_url("http://localhost:8501/gaps", params)
    assert url == "http://localhost:8501/gaps?region=47065&year=2024-25&chart=gap_trend"
    assert all(f"{name}=" not in url for name in PLAYBACK)
    kept = share_url("http://localhost:8501/gaps", params, keep_playback=True)
    assert "present=1" in kept and "story=3" in kept and "step=2" in kept
    public = share_url("http://localhost:8501/gaps", {"region": "a b"}, public_base="http://192.168.1.20:8501")
    assert public == "http://192.168.1.20:8501/gaps?region=a+b"
    assert share_url("http://127.0.0.1:8501/", {}, public_base="https://dash.example.org/alliance") == \
        "https://dash.example.org/alliance/"


def test_share_link_drops_parameters_no_filter_knows_and_oversized_values():
    params = {"region": "47065", "utm_source": "newsletter", "year": "x" * 500, "chart": "gap_trend", "present": "1"}
    url = share_url("http://localhost:8501/gaps", params, known={"region", "year"})
    assert url == "http://localhost:8501/gaps?region=47065&chart=gap_trend"


def test_a_link_too_long_for_any_qr_code_gives_none_not_an_error():
    assert qr_svg("http://localhost:8501/?q=" + "x" * 3200) is None
    assert qr_svg("http://localhost:8501/?q=" + "x" * 2000).startswith("<svg")


def test_step_params_open_the_step_in_presentation_mode():
    assert step_params(4, 2, {"region": "x", "present": "0", "story": "1"}) == \
        {"region": "x", "present": "1", "story": "4", "step": "2"}


def test_qr_code_is_an_svg_made_offline():
    svg = qr_svg("http://192.168.1.20:8501/gaps?region=47065")
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg and "http" not in svg.split("xmlns")[0]


def test_cli_exports_and_imports_a_story(sqlite_url, tmp_path, capsys):
    from cli import main

    engine = __import__("data.db", fromlist=["get_engine"]).get_engine(sqlite_url)
    upgrade(engine)
    story_id = edit.create_story(engine, "Fall")
    edit.add_step(engine, story_id, "gaps", {"region": "all"}, "The gap")
    target = tmp_path / "fall.json"
    assert main(["story", "export", "Fall", str(target), "--database", sqlite_url]) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["steps"][0]["headline"] == "The gap"
    assert main(["story", "import", str(target), "--name", "Spring", "--database", sqlite_url]) == 0
    assert load_story(engine, story_id_by_name(engine, "Spring")).steps[0].params == {"region": "all"}
    (tmp_path / "bad.json").write_text('{"name": "x", "steps": [{"page": ""}]}', encoding="utf-8")
    capsys.readouterr()
    assert main(["story", "import", str(tmp_path / "bad.json"), "--database", sqlite_url]) == 1
    assert "steps → 1 → page" in capsys.readouterr().err
    assert main(["story", "export", "Nope", "--database", sqlite_url]) == 1
