"""Board overview queries on the demo alliance, and frozen snapshots that do not move when data
changes. (The board packet: tests/test_packet.py.)"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from data.db import get_engine
from data.importer import import_package
from reports.board import freeze
from data.schema import participation, regions
from queries import overview as q

REPO = Path(__file__).resolve().parent.parent
QUARTER = "2025-Q3"


def copy_store(source_url: str, folder: Path) -> str:
    """A private copy of a SQLite store (tests here write to it)."""
    target = folder / "store.db"
    with sqlite3.connect(source_url.removeprefix("sqlite:///")) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


@pytest.fixture
def demo_copy(demo_store_url, tmp_path) -> str:
    return copy_store(demo_store_url, tmp_path)


def test_overview_of_the_latest_quarter(demo_store_url):
    engine = get_engine(demo_store_url)
    payload = q.overview(engine)
    assert payload["quarter"] == "2025-Q4" and payload["previous_quarter"] == "2025-Q3"
    assert payload["school_year"] == "2024-25"  # 2025-26 has no outcomes: the latest year before it
    assert "2025–26" in payload["school_year_rule"] and "2024–25" in payload["school_year_rule"]
    reach = {r["measure"]: r for r in payload["reach"]}
    assert set(reach) == {"partners", "programs", "seats", "participants"}
    assert reach["participants"]["target"] is not None and reach["programs"]["target"] is None
    assert reach["programs"]["status"] == "no target"
    assert len(payload["indicators"]) == 11
    both = [i for i in payload["indicators"] if i["value"] is not None and i["previous"] is not None]
    # m counts the indicators whose move can be told (a shown rate in both years, not ranges that
    # overlap). How many depends on how many all-students rates the privacy audit publishes as the
    # whole 0-100% (hidden here, issue 14): with fewer such bands, more indicators compare.
    told = [i for i in both if i["moved"] != "too close to call"]
    assert payload["headline"]["m"] == len(told) >= 1
    kinds = [c["kind"] for c in payload["changes"]]
    # What changed covers reach, indicators and gaps, up to three of each.
    assert {"reach", "indicator", "gap"} <= set(kinds) and all(kinds.count(k) <= 3 for k in set(kinds))
    assert all(c["sentence"].endswith(".") or c["sentence"].endswith(".)") for c in payload["changes"])
    moved = [i for i in both if abs(i["value"] - i["previous"]) > 0.05]
    largest = max(moved, key=lambda i: abs(i["value"] - i["previous"]))
    assert payload["changes"][kinds.index("indicator")]["subject"] == largest["name"]
    gaps_said = [c for c in payload["changes"] if c["kind"] == "gap"]
    assert all(c["verdict"] in ("closing", "widening") for c in gaps_said)
    # Each indicator with a target ahead has its pace; rural and non-rural are there for every indicator.
    paced = [i for i in payload["indicators"] if i["final_period"] and i["final_period"] > payload["school_year"]]
    assert paced and all(i["pace"] and i["pace"]["target_period"] == i["final_period"] for i in paced)
    assert len(payload["locale"]["indicators"]) == 11 and payload["locale"]["reach"]["rural"]["per_1000"] > 0


def test_reach_matches_the_store(demo_store_url):
    engine = get_engine(demo_store_url)
    with engine.connect() as conn:
        rows = pd.DataFrame([tuple(r) for r in conn.execute(select(participation.c.participants).where(
            (participation.c.quarter == QUARTER) & (participation.c.student_group == "all")))], columns=["p"])
    payload = q.overview(engine, QUARTER)
    reach = {r["measure"]: r for r in payload["reach"]}
    assert reach["participants"]["value"] == rows["p"].sum()
    trend = pd.DataFrame(payload["reach_trend"])
    assert trend["quarter"].max() == QUARTER and trend["quarter"].iloc[-2] == "2025-Q2"
    assert reach["participants"]["previous"] == trend["participants"].iloc[-2]


def test_indicators_respect_higher_is_better_and_targets(demo_store_url):
    payload = q.overview(get_engine(demo_store_url), QUARTER)
    items = {i["indicator_id"]: i for i in payload["indicators"]}
    absence = items["chronic_absence"]
    assert absence["higher_is_better"] is False
    expected = "on track" if absence["value"] <= absence["target"] else "off track"
    assert absence["status"] == expected
    assert items["gr5_science"]["status"] == "no target"
    moved = sum(i["moved"] == "better" for i in payload["indicators"])
    assert payload["headline"]["n"] == moved


def test_region_participations_are_suppressed(demo_store_url):
    engine = get_engine(demo_store_url)
    frame = q.participations_by_region(engine, ("2025-Q2", QUARTER))
    shown = frame[~frame["participants_suppressed"]]["participants"]
    assert (shown.isna() | (shown == 0) | (shown >= 10)).all()
    assert frame.loc[frame["participants_suppressed"], "participants"].isna().all()


def test_region_participations_match_the_coverage_page(demo_store_url):
    """One decision for every page: a count hidden on one page and shown on another could be
    worked out from what the other shows."""
    from queries.coverage import region_coverage

    engine = get_engine(demo_store_url)
    quarters = q.quarters_with_data(engine)
    overview = q.participations_by_region(engine, tuple(quarters)).set_index(["quarter", "region_id"])
    coverage = pd.concat([region_coverage(engine, quarter).assign(quarter=quarter) for quarter in quarters])
    both = overview.join(coverage.set_index(["quarter", "region_id"])[["participations", "participations_suppressed"]],
                         how="inner")
    assert len(both) == len(overview) > 100
    assert (both["participants_suppressed"] == both["participations_suppressed"]).all()
    shown = both[~both["participants_suppressed"]]
    assert (shown["participants"] == shown["participations"]).all()


def test_reach_by_quarter_participations_are_the_alliance_cells_on_both_stores(store, package_dir):
    assert import_package(package_dir, store).ok
    with store.connect() as conn:
        sums = dict(conn.execute(select(participation.c.quarter, func.sum(participation.c.participants)).where(
            participation.c.student_group == "all").group_by(participation.c.quarter)).all())
    trend = q.reach_by_quarter(store)
    assert trend["quarter"].tolist() == sorted(sums) == q.quarters_with_data(store)
    shown = trend[~trend["participants_suppressed"]]
    assert len(shown) and all(row.participants == sums[row.quarter] for row in shown.itertuples())
    regions_frame = q.participations_by_region(store, tuple(sums))
    assert set(regions_frame["quarter"]) == set(sums) and not regions_frame["region_id"].str.startswith(("locale:", "__")).any()


def _changed_participation_package(engine, folder: Path) -> Path:
    """A package correcting every 2025-Q3 all-students participation row (+100 each)."""
    folder.mkdir()
    with engine.connect() as conn:
        regs = pd.DataFrame([tuple(r) for r in conn.execute(select(
            regions.c.region_id, regions.c.name, regions.c.locale, regions.c.k12_enrollment))],
            columns=["region_id", "name", "locale", "k12_enrollment"])
        rows = pd.DataFrame([tuple(r) for r in conn.execute(select(
            participation.c.program_id, participation.c.region_id, participation.c.quarter,
            participation.c.student_group, participation.c.participants).where(
            (participation.c.quarter == QUARTER) & (participation.c.student_group == "all")
            & participation.c.participants.is_not(None)))],
            columns=["program_id", "region_id", "quarter", "student_group", "participants"])
    rows["participants"] = rows["participants"].astype(int) + 100
    regs.to_csv(folder / "regions.csv", index=False)
    rows.to_csv(folder / "participation.csv", index=False)
    return folder


def test_a_frozen_quarter_does_not_move_when_data_changes(demo_copy, tmp_path):
    engine = get_engine(demo_copy)
    frozen = freeze(engine, QUARTER)
    assert frozen["frozen_at"] and q.frozen_quarters(engine)["quarter"].tolist() == [QUARTER]
    before = {r["measure"]: r["value"] for r in frozen["reach"]}

    result = import_package(_changed_participation_package(engine, tmp_path / "fix"), engine)
    assert result.ok, result.problems[:5]

    live = {r["measure"]: r["value"] for r in q.overview(engine, QUARTER)["reach"]}
    assert live["participants"] > before["participants"]  # the live view moved…
    again = q.snapshot(engine, QUARTER)
    assert again == frozen  # …the frozen quarter did not, in any number
    assert {r["measure"]: r["value"] for r in again["reach"]} == before
    assert q.frozen_date(again) == frozen["frozen_at"][:10]


def test_freezing_a_quarter_without_data_is_refused(demo_copy):
    with pytest.raises(ValueError, match="no participation data"):
        freeze(get_engine(demo_copy), "1999-Q1")


def test_cli_snapshot(demo_copy):
    out = subprocess.run([sys.executable, "cli.py", "snapshot", QUARTER, "--database", demo_copy], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "froze 2025 Q3" in out.stdout and "moving the right way" in out.stdout
    assert q.snapshot(get_engine(demo_copy), QUARTER) is not None


def test_overview_on_an_empty_store(store):
    from data.db import upgrade

    upgrade(store)
    assert q.overview(store) == {}
    assert q.frozen_quarters(store).empty


def test_bench_entries_run(demo_store_url):
    engine = get_engine(demo_store_url)
    from bench.pages import overview

    for name, function in overview():
        assert function(engine) is not None, name


def _trend_payload(points):
    """A payload (as a frozen snapshot may hold it) with one indicator's trend points."""
    item = {"indicator_id": "grad4", "name": "Four-year graduation rate", "higher_is_better": True}
    return {"school_year": "2024-25", "indicators": [item],
            "indicator_trends": [{"indicator_id": "grad4", "school_year": y, "low": lo, "high": hi, "value": None,
                                  "suppressed": hidden, "target": None} for y, lo, hi, hidden in points]}


def test_a_trend_year_published_as_0_to_100_is_a_gap_in_the_line_marked_and_counted():
    from components.overview_charts import indicator_trends_figure
    from domain import sentences

    payload = _trend_payload([("2021-22", 90.0, 90.0, False), ("2022-23", 0.0, 100.0, False),
                              ("2023-24", None, None, True), ("2024-25", 91.0, 93.0, False)])
    fig = indicator_trends_figure(payload)
    line = next(t for t in fig.data if t.name == "Rate (all students)")
    # On the line: only the exact year; the 0-100% year, the hidden one and the range are not points.
    assert [v is None or v != v for v in line.y] == [False, True, True, True]
    bars = [t for t in fig.data if t.type == "bar"]
    assert [(b, b + h) for t in bars for b, h in zip(t.base, t.y)] == [(91.0, 93.0)]  # never 0-100
    marks = [a for a in fig.layout.annotations if a.text == "▨"]
    assert [a.x for a in marks] == ["2022–23", "2023–24"]
    assert any(t.name == "▨ Suppressed: left out of the line" for t in fig.data)
    assert sentences.trends_caption(payload).endswith(
        "2 years with their rate suppressed to protect small numbers are left out of the line and marked ▨.")


def test_the_overview_states_nothing_of_a_rate_published_as_0_to_100(demo_store_url):
    from domain.formatting import says_nothing

    payload = q.overview(get_engine(demo_store_url), QUARTER)
    for item in payload["indicators"]:
        assert not says_nothing(item["rate_low"], item["rate_high"]), item["name"]
        assert not says_nothing(item["previous_low"], item["previous_high"]), item["name"]
        if item["suppressed"]:
            assert item["value"] is None and item["status"] in ("no data", "no target") and item["moved"] is None
    assert not any(says_nothing(p["low"], p["high"]) for p in payload["indicator_trends"])
    assert all(p["low"] is None for p in payload["indicator_trends"] if p["suppressed"])
