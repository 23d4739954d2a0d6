"""/gaps under AppTest: runs on the demo store without an exception, draws its five charts with
captions, mirrors its filters in the URL (and follows a link's), and shows small groups as
suppressed in its tables."""
from __future__ import annotations

from functools import partial

import json

from streamlit.testing.v1 import AppTest

from tests import apptest
from tests.apptest import param

PAGE = "pages/gaps.py"
open_page = partial(apptest.open_page, page=PAGE)


def test_page_runs_on_the_demo_with_every_chart_captioned(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url)
    assert not at.exception, [e.value for e in at.exception]
    charts = at.get("plotly_chart")
    assert len(charts) == 5
    captions = " ".join(c.value for c in at.caption)
    assert "largest gap" in captions or "no group is behind" in captions
    assert "closing" in captions and "rural" in captions
    assert len(at.dataframe) == 5  # every chart has its table
    for key in ("indicator", "group", "reference", "region", "year"):
        assert param(at, key)
    figure = json.loads(charts[0].proto.spec)
    assert "vs " in json.dumps(figure["data"])  # the reference is named on the chart


def test_query_params_round_trip(monkeypatch, demo_store_url):
    wanted = {"indicator": "grad4", "group": "english_learner", "reference": "all", "region": "locale:rural",
              "year": "2023-24"}
    at = open_page(monkeypatch, demo_store_url, wanted)
    assert not at.exception, [e.value for e in at.exception]
    for key, value in wanted.items():
        assert param(at, key) == value
    selected = {box.label: box.value for box in at.selectbox}
    assert selected["Indicator"] == "grad4" and selected["Compare with"] == "all"
    assert selected["Student group (over time)"] == "english_learner"
    # changing a control updates the URL
    at.selectbox(key="_filter_widget_reference").set_value("best").run()
    assert param(at, "reference") == "best"
    assert not at.exception


def test_unknown_params_fall_back_to_defaults(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url, {"indicator": "nope", "reference": "nobody", "group": "all"})
    assert not at.exception
    assert param(at, "reference") == "complement"
    assert param(at, "indicator") != "nope"


def test_a_small_region_shows_suppressed_groups_as_suppressed(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url, {"indicator": "grad4", "region": "47061"})  # Grundy County
    assert not at.exception
    table = at.dataframe[0].value
    assert (table["Rate (%)"] == "suppressed").any()
    shown = table.loc[table["Students measured"] != "suppressed", "Students measured"]
    assert all(int(v.replace(",", "")) == 0 or int(v.replace(",", "")) >= 10 for v in shown if v and v != "no data")
