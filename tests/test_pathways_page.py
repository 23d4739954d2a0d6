"""/pathways under AppTest: runs on the demo store without an exception, states the biggest leak,
mirrors its filters in the URL (and follows a link's), shows suppressed counts as suppressed,
and says plainly when there is no pathway data or the data is not a funnel."""
from __future__ import annotations

from functools import partial

import json
import math

from streamlit.testing.v1 import AppTest

from tests import apptest
from tests.apptest import param

from data.importer import import_package
from data.db import get_engine
from tests.packages import write_package

PAGE = "pages/pathways.py"
open_page = partial(apptest.open_page, page=PAGE)


def body(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    parts += [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def figure(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def test_page_runs_on_the_demo_and_states_where_the_group_falls_behind(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url)
    assert not at.exception
    assert any(t.value == "Pathways" for t in at.title)
    assert len(at.get("plotly_chart")) == 2  # the funnel and the cohort trend
    text = body(at)
    assert "Economically disadvantaged students lose the most ground between" in text
    assert "% continue, against" in text
    # Defaults are written to the URL, so the link reopens the same view.
    assert param(at, "group") == "econ_disadvantaged" and param(at, "reference") == "not_econ_disadvantaged"
    from queries.pathways import cohorts

    assert param(at, "region") == "all" and param(at, "cohort") == str(cohorts(get_engine(demo_store_url))[-1])
    # Every chart has a caption and its numbers as a table with a CSV download.
    assert len(at.dataframe) >= 2 and len(at.get("download_button")) >= 2
    funnel = at.dataframe[0].value
    assert {"Stage", "Student group", "Students", "Share of the cohort (%)",
            "Conversion from the stage before (%)"} <= set(funnel.columns)
    names = {trace.get("name") for trace in figure(at)["data"]}
    assert {"Economically disadvantaged", "Not economically disadvantaged"} <= names
    assert any(name and name.startswith("Suppressed") for name in names)


def test_a_link_reopens_the_same_view_and_choices_rewrite_the_url(monkeypatch, demo_store_url):
    params = {"region": "locale:rural", "cohort": "2020", "group": "female", "reference": "all"}
    at = open_page(monkeypatch, demo_store_url, params)
    assert not at.exception
    assert {name: param(at, name) for name in params} == params
    assert at.selectbox(key="_filter_widget_reference").value == "all"
    assert "Class of 2020 · Rural regions" in [h.value for h in at.header]
    # A new group brings its complementary group as the reference, and the URL follows.
    at.selectbox(key="_filter_widget_group").select("english_learner").run()
    assert not at.exception
    assert param(at, "group") == "english_learner" and param(at, "reference") == "not_english_learner"
    at.selectbox(key="_filter_widget_reference").select("none").run()
    assert not at.exception and param(at, "reference") == "none"
    assert len(at.get("plotly_chart")) == 2


def test_unknown_values_in_a_link_fall_back_to_defaults(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url, {"region": "nowhere", "cohort": "1900", "group": "martians",
                                                 "reference": "martians"})
    assert not at.exception
    assert param(at, "region") == "all" and param(at, "cohort") != "1900"
    assert param(at, "group") == "econ_disadvantaged" and param(at, "reference") == "not_econ_disadvantaged"


def test_a_small_region_shows_suppressed_counts_as_suppressed(monkeypatch, demo_store_url):
    from queries.meta import region_list

    regions = region_list(get_engine(demo_store_url))
    smallest = regions[regions["locale"] == "rural"]["region_id"].iloc[0]
    at = open_page(monkeypatch, demo_store_url, {"region": smallest, "group": "students_with_disabilities"})
    assert not at.exception
    table = at.dataframe[0].value
    suppressed = table[table["Count"].str.startswith("suppressed")]
    assert len(suppressed) > 0 and suppressed["Students"].isna().all()
    assert suppressed["Share of the cohort (%)"].isna().all()
    texts = [t for trace in figure(at)["data"] if trace.get("type") == "bar" for t in (trace.get("text") or [])]
    assert "suppressed" in texts


def test_no_pathway_data_says_so(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    folder = write_package(tmp_path / "package", {"regions.csv": "region_id,name,locale,k12_enrollment\n47001,Anderson County,rural,900\n"})
    assert import_package(folder, get_engine(url)).ok
    at = open_page(monkeypatch, url)
    assert not at.exception
    assert "No pathway data yet" in body(at)


def test_stages_that_are_not_a_funnel_are_flagged(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    pathway = (
        "cohort,stage_order,stage,region_id,student_group,students\n"
        "2025,1,Grade 5 science proficient,47001,all,400\n"
        "2025,2,Algebra I by grade 9,47001,all,250\n"
        "2025,4,Advanced STEM course in high school,47001,all,300\n"
    )
    folder = write_package(tmp_path / "package", {
        "regions.csv": "region_id,name,locale,k12_enrollment\n47001,Anderson County,rural,900\n", "pathway.csv": pathway})
    assert import_package(folder, get_engine(url)).ok
    at = open_page(monkeypatch, url)
    assert not at.exception
    warning = "\n".join(w.value for w in at.warning)
    assert "there is no stage 3" in warning
    assert "More students reached “Advanced STEM course in high school” than “Algebra I by grade 9”" in warning
    table = at.dataframe[0].value
    assert table.loc[table["Stage number"] == 4, "Data problem"].iloc[0].startswith("counts rise")
    assert "Stage counts as reported" in json.dumps(figure(at)["layout"].get("title", {}))


def _dot_counts(label: str):
    import re

    found = re.search(r"· ([\d,]+) of ([\d,]+)", label)
    return None if not found else tuple(int(n.replace(",", "")) for n in found.groups())


def test_every_dot_states_its_counts_and_they_are_the_bars_or_marked(monkeypatch, demo_store_url):
    """Each conversion dot says '<rate> · N of D'; N and D are the table's conversion counts and
    N / D is the rate; unmarked, they are the bars (this stage's students of the stage before's);
    marked †, they are not, and the note under the chart says why. A dot whose counts are hidden
    says suppressed."""
    for region in ("all", "47061"):
        at = open_page(monkeypatch, demo_store_url, {"region": region})
        assert not at.exception
        table = at.dataframe[0].value
        spec = figure(at)
        bars = {t["name"]: t for t in spec["data"] if t.get("type") == "bar" and t.get("customdata")}
        dots = {t["name"]: t for t in spec["data"] if t.get("mode") == "markers+text"}
        assert set(dots) == set(bars) and len(dots) == 2
        marked = 0
        for name, dot in dots.items():
            rows = table[table["Student group"] == name].sort_values("Stage number").reset_index(drop=True)
            bar_counts = [int(c[0].replace(",", "")) if c[0] else None for c in bars[name]["customdata"]]
            for k, (label, row) in enumerate(zip(dot["text"], rows.itertuples(index=False))):
                counts = _dot_counts(label)
                if k == 0:
                    assert label == ""
                    continue
                if counts is None:  # no rate: none of its numbers either
                    assert math.isnan(row[5]) and label in ("", "suppressed (fewer than 10)", "counts rise", "no data",
                                                            "no one at the stage before")
                    continue
                went_on, before = counts
                assert (went_on, before) == (row[7], row[8])  # the table's conversion counts
                assert label.startswith(f"{round(100 * went_on / before, 1):.1f}% · ")
                if label.endswith("†"):
                    marked += 1
                    assert (went_on, before) != (bar_counts[k], bar_counts[k - 1])
                else:
                    assert (went_on, before) == (bar_counts[k], bar_counts[k - 1])  # the bars, exactly
            if region == "47061":
                assert "suppressed (fewer than 10)" in dot["text"] or name.startswith("Not")
        if marked:
            assert f"† {marked} of " in body(at) and "count only the regions that show both stages" in body(at)
        else:
            assert "count only the regions that show both stages" not in body(at)
        if region == "all":
            assert marked > 0  # the demo's alliance-wide funnel leaves regions out of most steps
