"""/coverage under AppTest: runs on the demo store and on a one-region package without an
exception, captions every chart and gives its numbers, mirrors its filters in the URL (and
follows a link's), opens a region's profile from `region`, keeps suppressed counts out of its
tables, and sends a map small enough for a projector's laptop."""
from __future__ import annotations

from functools import partial

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests import apptest
from tests.apptest import param

from data.db import get_engine
from data.importer import import_package
from tests.packages import write_package

PAGE = "pages/coverage.py"
open_page = partial(apptest.open_page, page=PAGE)


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def map_locations(figure: dict) -> list[str]:
    return [loc for trace in figure["data"] if trace["type"] == "choroplethmap"
            and trace.get("name") not in ("Selected region", "Region names") for loc in trace["locations"]]


def test_page_runs_on_the_demo(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url)
    assert not at.exception, [e.value for e in at.exception]
    figs = figures(at)
    assert len(figs) == 7  # map, need vs coverage, the glance's three, distance, rural vs non-rural (no region chosen)
    regions = sorted(map_locations(figs[0]))
    assert len(regions) == 12 and len(set(regions)) == 12  # every region drawn, once
    assert figs[0]["layout"]["map"]["style"] == "white-bg"
    assert not any(t.get("mode", "").count("text") for t in figs[0]["data"])  # no map text: no glyph server
    named = [loc for t in figs[0]["data"] if t.get("name") == "Region names" for loc in t["locations"]]
    assert len(named) >= 8 and len(set(named)) == len(named)  # names drawn as outlines where they fit
    captions = " ".join(c.value for c in at.caption)
    assert "Shortfall: need points × how far seats fall short" in captions and "high need and low coverage" in captions
    assert "farthest" in captions and "rural regions" in captions
    markdown = " ".join(m.value for m in at.markdown)
    assert "Shortfall, need against coverage" in markdown and "The first 5, and why" in markdown
    ranking = ranking_table(at)
    assert len(ranking) == 12 and list(ranking["Rank"])[0] == 1
    assert ranking["Region"].iloc[0] == "Grundy County"  # the demo's high-poverty rural county with no site
    # the best-covered county (84 seats per 1,000) has no shortfall and comes last, not 6th
    assert ranking["Region"].iloc[-1] == "Rhea County"
    assert ranking["Why it ranks here"].iloc[-1].startswith("No shortfall: 84.1 seats per 1,000")
    for key in ("quarter", "metric", "program_type", "grade_band", "sector", "region", "indicator", "order"):
        assert param(at, key)
    assert param(at, "order") == "shortfall" and param(at, "metric") == "ranking"


def ranking_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Why it ranks here" in d.value.columns)


def decode(values) -> list:
    """A figure array as plotly's JSON carries it: a list, or {"dtype", "bdata"} (base64)."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def map_values(figure: dict) -> dict[str, float]:
    """Region -> the colour value the map draws (z of the coloured traces)."""
    values = {}
    for trace in figure["data"]:
        if trace["type"] == "choroplethmap" and trace.get("name") not in ("Selected region", "No data", "Region names") \
                and not trace.get("name", "").startswith(("Suppressed", "Not ranked")):
            values.update(zip(trace["locations"], decode(trace["z"])))
    return values


@pytest.mark.parametrize("order,column,first", [
    ("shortfall", "Shortfall (need points × coverage gap)", "Grundy County"),
    ("need", "Need points", "Grundy County"),
    ("coverage", "Seats per 1,000", "Grundy County"),
])
def test_rule_table_and_map_colour_agree(monkeypatch, demo_store_url, order, column, first):
    at = open_page(monkeypatch, demo_store_url, {"order": order})
    assert not at.exception, [e.value for e in at.exception]
    assert param(at, "order") == order
    ranking = ranking_table(at)
    assert ranking["Region"].iloc[0] == first
    assert list(ranking["Rank"]) == sorted(ranking["Rank"])  # the table is in rank order
    # the map's colour, by default the ranking's measure, is the table's column region by region
    by_name = dict(zip(ranking["Region"], ranking[column]))
    names = {r["region_id"]: r["name"] for r in _regions(demo_store_url)}
    drawn = {names[k]: v for k, v in map_values(figures(at)[0]).items()}
    assert drawn.keys() == by_name.keys()
    for name, value in drawn.items():
        assert value == pytest.approx(by_name[name], abs=0.051), name  # the table rounds to 1 or 2 decimals
    # and the rule above the table is this order's
    rule = next(m.value for m in at.markdown if m.value.startswith("**The rule.**"))
    assert {"shortfall": "Shortfall, need against coverage", "need": "Need first",
            "coverage": "Coverage only"}[order] in rule


def _regions(url: str) -> list[dict]:
    from queries.meta import region_list

    return region_list(get_engine(url)).to_dict("records")


def test_an_explicit_colour_still_wins(monkeypatch, demo_store_url):
    """Links made before the ranking had orders (metric=seats_per_1000) open as they did."""
    at = open_page(monkeypatch, demo_store_url, {"metric": "seats_per_1000"})
    assert not at.exception and param(at, "metric") == "seats_per_1000"
    assert any(c.value.startswith("Seats per 1,000 K-12 students for all programs") for c in at.caption)


def test_every_chart_has_a_caption_and_a_table(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url, {"region": "47065"})
    assert not at.exception, [e.value for e in at.exception]
    n_charts = len(at.get("plotly_chart"))
    assert n_charts == 13  # + the region's six profile charts
    # every chart's numbers: the map and scatter, the profile's six, distance, locale (+ the ranking)
    assert len(at.dataframe) >= n_charts + 1
    assert len(at.caption) >= n_charts


def test_region_profile_from_the_url(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url, {"region": "47007"})
    assert not at.exception, [e.value for e in at.exception]
    assert any("Bledsoe County: profile" in h.value for h in at.header)
    figure = figures(at)[0]
    selected = [t for t in figure["data"] if t.get("name") == "Selected region"]
    assert selected and selected[0]["locations"] == ["47007"]
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    groups = next(v for k, v in tables.items() if "Student group" in k)
    # small groups are shown as suppressed, never as a number under the threshold
    for value in groups["Participations"]:
        assert value in ("▨ suppressed", "0") or int(value.replace(",", "")) >= 10


def test_query_params_round_trip(monkeypatch, demo_store_url):
    wanted = {"metric": "participations_per_1000", "program_type": "afterschool", "grade_band": "middle",
              "sector": "k12", "quarter": "2025-Q2", "region": "47011"}
    at = open_page(monkeypatch, demo_store_url, wanted)
    assert not at.exception, [e.value for e in at.exception]
    for key, value in wanted.items():
        assert param(at, key) == value
    assert any("Bradley County: profile" in h.value for h in at.header)
    # participations count every program: the page says so when program filters are set
    assert any("Participations count every program" in i.value for i in at.info)
    at.selectbox(key="_filter_widget_metric").set_value("partners").run()
    assert param(at, "metric") == "partners" and not at.exception
    at.selectbox(key="_filter_widget_program_type").set_value("any").run()
    assert param(at, "program_type") == "any" and not at.exception


def test_unknown_params_fall_back(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url, {"metric": "nonsense", "region": "99999", "program_type": "juggling"})
    assert not at.exception, [e.value for e in at.exception]
    assert param(at, "metric") == "ranking"
    assert param(at, "region") == "all" and param(at, "program_type") == "any"
    at = open_page(monkeypatch, demo_store_url, {"order": "alphabetical"})
    assert not at.exception and param(at, "order") == "shortfall"


def test_ranking_has_its_csv_download(monkeypatch, demo_store_url):
    """The page hands the same frame to the table and to the download (pages/coverage.py)."""
    at = open_page(monkeypatch, demo_store_url)
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Underserved regions (CSV)", "Underserved regions (XLSX)", "All 3 tables (XLSX)"} <= set(labels)


def test_the_alliance_at_a_glance_for_an_area(monkeypatch, demo_store_url):
    at = open_page(monkeypatch, demo_store_url, {"area": "locale:rural", "program_type": "afterschool"})
    assert not at.exception, [e.value for e in at.exception]
    assert param(at, "area") == "locale:rural"
    captions = [c.value for c in at.caption]
    assert any(c.startswith("In 2025 Q4,") and "afterschool programs at sites in rural regions" in c for c in captions)
    assert any("rural regions had" in c and "not unique students" in c for c in captions)
    sectors = next(d.value for d in at.dataframe if list(d.value.columns[:2]) == ["Sector", "Partners, 2025 Q4"])
    assert "Change" in sectors.columns
    at = open_page(monkeypatch, demo_store_url, {"area": "nowhere"})
    assert not at.exception and param(at, "area") == "all"


ONE_REGION = {
    "regions.csv": "region_id,name,locale,k12_enrollment,low_income_pct\n47015,Cannon County,rural,2100,44.2\n",
    "partners.csv": "partner_id,name,sector,region_id,joined_on,left_on\nP3,Rural Makers,afterschool_community,47015,,\n",
    "programs.csv": "program_id,partner_id,name,program_type,grade_band,start_on,end_on\nG3,P3,Robotics club,afterschool,high,,\n",
    "program_sites.csv": "program_id,region_id,site_name,latitude,longitude,seats\nG3,47015,,35.81,-86.06,15\n",
    "participation.csv": (
        "program_id,region_id,quarter,student_group,participants\n"
        "G3,47015,2025-Q1,all,12\nG3,47015,2025-Q1,english_learner,*\nG3,47015,2025-Q2,all,7\n"
    ),
}


@pytest.fixture
def one_region_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    result = import_package(write_package(tmp_path / "one", ONE_REGION), get_engine(url))
    assert result.ok, result.problems[:3]
    return url


def test_page_runs_with_one_region_and_no_outcomes(monkeypatch, one_region_url):
    at = open_page(monkeypatch, one_region_url, {"metric": "participations_per_1000", "quarter": "2025-Q2"})
    assert not at.exception, [e.value for e in at.exception]
    figure = figures(at)[0]
    assert map_locations(figure) == ["47015"]
    # 7 participations: suppressed on the map (grey), never drawn as a number
    suppressed = [t for t in figure["data"] if t["type"] == "choroplethmap" and t["name"].startswith("Suppressed")]
    assert suppressed and suppressed[0]["locations"] == ["47015"]
    ranking = ranking_table(at)
    assert list(ranking["Participations per 1,000 (all programs; participations, not unique students)"]) == ["▨ suppressed"]
    at = open_page(monkeypatch, one_region_url, {"region": "47015"})
    assert not at.exception, [e.value for e in at.exception]
    assert any("Cannon County: profile" in h.value for h in at.header)


def test_a_store_without_programs_says_what_to_import(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'regions_only.db'}"
    assert import_package(write_package(tmp_path / "regions_only", {"regions.csv": ONE_REGION["regions.csv"]}), get_engine(url)).ok
    at = open_page(monkeypatch, url)
    assert not at.exception, [e.value for e in at.exception]
    assert any("No programs are loaded yet" in i.value for i in at.info)
    assert not figures(at)


def test_map_figure_stays_small_for_150_regions():
    """The figure sent to the browser for a 150-county alliance (real built-in boundaries)."""
    import gzip

    from components.maps import coverage_map
    from data.geography import COUNTIES_FILE, load_counties
    from domain.coverage import METRICS

    with gzip.open(COUNTIES_FILE, "rt") as f:
        ids = sorted(f2["properties"]["region_id"] for f2 in json.load(f)["features"])
    ids = [i for i in ids if i.startswith(("47", "13", "01"))][:150]  # Tennessee, Georgia, Alabama
    counties = load_counties(ids)
    lons = [counties[i]["centroid_lon"] for i in ids]
    lats = [counties[i]["centroid_lat"] for i in ids]
    shapes = {"geometries": {i: json.dumps(counties[i]["geometry"]) for i in ids},
              "bounds": [min(lons) - 1, min(lats) - 1, max(lons) + 1, max(lats) + 1]}
    frame = pd.DataFrame({
        "region_id": ids, "name": [counties[i]["name"] for i in ids], "locale": "rural", "k12_enrollment": 5000.0,
        "low_income_pct": 50.0, "sites": [i % 3 for i in range(150)], "seats": 100, "seats_per_1000": [float(i % 40) for i in range(150)],
        "nearest_site_km": 5.0, "participations": 100.0, "participations_suppressed": [i % 10 == 0 for i in range(150)],
        "participations_per_1000": 20.0, "programs": 2, "partners": 1,
    })
    sites = pd.DataFrame({"region_id": ids * 4, "site_name": "x", "program": "Robotics", "program_type": "afterschool",
                          "seats": 40, "lon": lons * 4, "lat": lats * 4})
    for metric in ("seats_per_1000", "participations_per_1000"):
        size = len(coverage_map(frame, shapes, METRICS[metric], sites=sites, selected=ids[3]).to_json())
        assert size < 2_000_000, size


def test_the_regions_in_the_scatters_corner_are_named_and_one_more_is_never_just_counted():
    from components.coverage_charts import need_scatter_caption
    from domain.coverage import METRICS

    def caption(k: int) -> str:
        frame = pd.DataFrame({"name": [f"Region {i}" for i in range(k)], "rank": range(1, k + 1),
                              "low_income_pct": [60.0] * k, "seats_per_1000": [5.0] * k, "participations_per_1000": [1.0] * k})
        return need_scatter_caption(frame, METRICS["seats_per_1000"], {"low_income_pct": 50.0, "seats_per_1000": 20.0})

    assert "4 regions in the shaded corner (Region 0, Region 1, Region 2 and Region 3)" in caption(4)
    assert "5 regions in the shaded corner (Region 0, Region 1, Region 2 and 2 more)" in caption(5)


def test_a_region_without_participation_says_so_in_its_group_caption(demo_store_url):
    from components.coverage_charts import group_caption
    from queries import coverage, meta

    engine = get_engine(demo_store_url)
    quarter = meta.quarters(engine)[-1]
    by_group = coverage.region_participation(engine, "47061", quarter)["by_group"]  # Grundy County: no program
    assert by_group.empty
    assert group_caption(by_group, {}, "Grundy County", quarter, 10) == (
        "No participation by student group is reported for Grundy County in 2025 Q4.")
