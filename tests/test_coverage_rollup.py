"""The participation rollup and its store-wide suppression (data/participation_rollup.py).

Attacker model as in tests/test_suppression.py: they see every shown cell the coverage page can
show (each region's, locale's, non-rural and alliance participations, for all students and by
student group), know every relation between them and that a hidden count is a whole number of
at least 1; no hidden cell may be pinned down to one value.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from data import participation_rollup as rollup
from data.importer import import_package
from domain import coverage as cov
from tests.properties import examples
from tests.test_suppression import check_protected

LIMIT = 10
counts = st.one_of(st.integers(0, 0), st.integers(1, 9), st.integers(10, 14), st.integers(15, 300))
PROGRAMS = (  # program type, grade band, partner sector
    ("afterschool", "middle", "k12"), ("summer", "middle", "informal_education"),
    ("afterschool", "high", "informal_education"),
)


@st.composite
def bases(draw):
    """Base rows as read_base returns them: per quarter, region and program, all students and
    two complementary pairs that add up to it."""
    n_regions = draw(st.integers(1, 4))
    locales = [draw(st.sampled_from(["city", "town", "rural"])) for _ in range(n_regions)]
    rows = []
    for quarter in ("2025-Q1", "2025-Q2")[: draw(st.integers(1, 2))]:
        for r in range(n_regions):
            for program in PROGRAMS[: draw(st.integers(1, len(PROGRAMS)))]:
                econ, not_econ = draw(counts), draw(counts)
                female = draw(st.integers(0, econ + not_econ))
                values = {"all": econ + not_econ, "econ_disadvantaged": econ, "not_econ_disadvantaged": not_econ,
                          "female": female, "male": econ + not_econ - female}
                for group, value in values.items():
                    hidden = False  # source suppression: see the tests below
                    rows.append({"quarter": quarter, "region_id": f"R{r}", "locale": locales[r], "student_group": group,
                                 "program_type": program[0], "grade_band": program[1], "sector": program[2],
                                 "participants": np.nan if hidden else float(value), "known_rows": 0 if hidden else 1,
                                 "source_rows": 1 if hidden else 0, "true": value})
    return pd.DataFrame(rows)


def attacker_partitions(cells: pd.DataFrame):
    """The true relations: every pooled cell (aliases included) is a part of its totals."""
    return [dataclasses.replace(p, only_if="pooled") for p in rollup.partitions_for(cells)]


@pytest.mark.privacy
@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(base=bases())
def test_no_participation_cell_can_be_recovered(base):
    cells = rollup.build_cells(base.drop(columns="true"))
    out = rollup.protect(cells, LIMIT)
    out["pooled"] = out["known_rows"] > 0
    hidden = out["suppressed"].astype(bool)
    values = out["participants"].fillna(0).round().astype(int)
    check_protected(out, "participants", hidden, rollup.CELL_KEYS, attacker_partitions(out), values)


def test_cells_sum_known_counts_and_mark_source_suppression():
    base = pd.DataFrame([
        # quarter, region, locale, group, type, band, sector, participants, known, source
        ("2025-Q1", "A", "rural", "all", "afterschool", "middle", "k12", 40.0, 2, 1),
        ("2025-Q1", "A", "rural", "all", "summer", "high", "k12", 25.0, 1, 0),
        ("2025-Q1", "B", "city", "all", "summer", "high", "informal_education", np.nan, 0, 1),
        ("2025-Q1", "B", "city", "female", "summer", "high", "informal_education", 12.0, 1, 0),
    ], columns=["quarter", "region_id", "locale", "student_group", "program_type", "grade_band", "sector",
                "participants", "known_rows", "source_rows"])
    cells = rollup.build_cells(base)
    key = cells.set_index(rollup.CELL_KEYS)
    any_ = rollup.ANY
    a_total = key.loc[("2025-Q1", "A", "all", any_, any_, any_)]
    assert a_total["participants"] == 65 and a_total["source_rows"] == 1
    # B has only a suppressed count for all students: no known sum, never zero
    b_total = key.loc[("2025-Q1", "B", "all", any_, any_, any_)]
    assert np.isnan(b_total["participants"]) and b_total["source_rows"] == 1
    assert key.loc[("2025-Q1", "locale:rural", "all", any_, any_, any_), "participants"] == 65
    assert key.loc[("2025-Q1", "locale:nonrural", "all", any_, any_, any_), "source_rows"] == 1
    assert key.loc[("2025-Q1", rollup.ALLIANCE_CELL, "all", any_, any_, any_), "participants"] == 65
    assert key.loc[("2025-Q1", "B", "female", any_, any_, any_), "participants"] == 12
    # not split by program filters
    assert (cells[list(rollup.FILTERS)] == any_).all().all()
    out = rollup.protect(cells, LIMIT).set_index(rollup.CELL_KEYS)
    assert bool(out.loc[("2025-Q1", "B", "all", any_, any_, any_), "suppressed"])
    assert not bool(out.loc[("2025-Q1", "B", "all", any_, any_, any_), "complement"])  # hidden at source


def test_a_group_count_missing_a_source_suppressed_count_is_hidden_with_a_complement():
    """Program P1 wrote `*` for its economically disadvantaged count; the region's group count
    (known part only) must not be shown, nor can all students minus the other group give it."""
    rows = []
    for program, (econ, not_econ) in {"P1": (None, 30), "P2": (20, 25)}.items():
        for group, value in (("all", 33 + (0 if program == "P1" else 12)), ("econ_disadvantaged", econ),
                             ("not_econ_disadvantaged", not_econ)):
            rows.append(("2025-Q1", "A", "city", group, "summer" if program == "P1" else "afterschool", "middle", "k12",
                         np.nan if value is None else float(value), 0 if value is None else 1, 1 if value is None else 0))
    rows.append(("2025-Q1", "B", "city", "all", "summer", "middle", "k12", 80.0, 1, 0))
    base = pd.DataFrame(rows, columns=["quarter", "region_id", "locale", "student_group", "program_type", "grade_band",
                                       "sector", "participants", "known_rows", "source_rows"])
    base = base.groupby(["quarter", "region_id", "locale", "student_group", "program_type", "grade_band", "sector"],
                        as_index=False).agg(participants=("participants", "sum"), known_rows=("known_rows", "sum"),
                                            source_rows=("source_rows", "sum"))
    base.loc[base["known_rows"] == 0, "participants"] = np.nan
    out = rollup.protect(rollup.build_cells(base), LIMIT).set_index(rollup.CELL_KEYS)
    any_ = rollup.ANY
    econ = out.loc[("2025-Q1", "A", "econ_disadvantaged", any_, any_, any_)]
    not_econ = out.loc[("2025-Q1", "A", "not_econ_disadvantaged", any_, any_, any_)]
    everyone = out.loc[("2025-Q1", "A", "all", any_, any_, any_)]
    assert econ["participants"] == 20 and econ["source_rows"] == 1 and bool(econ["suppressed"])
    assert bool(not_econ["suppressed"]) or bool(everyone["suppressed"])


def test_an_unreported_complementary_group_does_not_hide_the_total():
    """Providers that report economically disadvantaged participants but not the others: a
    small disadvantaged count is hidden, all students stay shown (the reader cannot subtract
    a group nobody reports)."""
    rows = [("2025-Q1", "A", "city", "all", "afterschool", "middle", "k12", 120.0, 1, 0),
            ("2025-Q1", "A", "city", "econ_disadvantaged", "afterschool", "middle", "k12", 6.0, 1, 0),
            ("2025-Q1", "B", "city", "all", "afterschool", "middle", "k12", 90.0, 1, 0),
            ("2025-Q1", "B", "city", "econ_disadvantaged", "afterschool", "middle", "k12", 40.0, 1, 0)]
    base = pd.DataFrame(rows, columns=["quarter", "region_id", "locale", "student_group", "program_type", "grade_band",
                                       "sector", "participants", "known_rows", "source_rows"])
    out = rollup.protect(rollup.build_cells(base), LIMIT).set_index(rollup.CELL_KEYS)
    any_ = rollup.ANY
    assert bool(out.loc[("2025-Q1", "A", "econ_disadvantaged", any_, any_, any_), "suppressed"])
    assert not bool(out.loc[("2025-Q1", "A", "all", any_, any_, any_), "suppressed"])
    # no page shows an area's participation by group, so B's group need not hide with A's
    assert not bool(out.loc[("2025-Q1", "B", "econ_disadvantaged", any_, any_, any_), "suppressed"])
    assert ("2025-Q1", "locale:city", "econ_disadvantaged", any_, any_, any_) not in out.index


def test_empty_store():
    empty = rollup.build_cells(pd.DataFrame(columns=["quarter", "region_id", "locale", "student_group", *rollup.FILTERS,
                                                     "participants", "known_rows", "source_rows"]))
    assert empty.empty
    assert rollup.protect(empty, LIMIT).empty


@pytest.mark.parametrize("url_fixture", ["sqlite_url"])
def test_import_rebuilds_the_rollup(request, url_fixture, package_dir):
    from data.db import get_engine
    from data.importer import import_package
    from sqlalchemy import select
    from data.schema import participation_cells

    engine = get_engine(request.getfixturevalue(url_fixture))
    result = import_package(package_dir, engine)
    assert result.ok, result.problems[:3]
    with engine.connect() as conn:
        rows = pd.DataFrame([tuple(r) for r in conn.execute(select(participation_cells))],
                            columns=[c.name for c in participation_cells.columns])
        assert rollup.stored_threshold(conn) == 10
    total = rows[(rows["region_id"] == "47037") & (rows["quarter"] == "2025-Q1") & (rows["student_group"] == "all")
                 & (rows["program_type"] == rollup.ANY) & (rows["grade_band"] == rollup.ANY) & (rows["sector"] == rollup.ANY)]
    assert total["participants"].iloc[0] == 110


# --- the page's queries on both stores ---------------------------------------------------------

def test_queries_on_the_small_package(store, package_dir, monkeypatch):
    """queries/coverage.py on SQLite and PostgreSQL: counts, per-1,000 figures, distance,
    suppression of small participation counts, and the region profile."""
    from queries import coverage as q

    result = import_package(package_dir, store)
    assert result.ok, result.problems[:3]
    ranked = q.underserved(store, "2025-Q1", indicator="grad4").set_index("region_id")
    assert ranked.loc["47037", "sites"] == 2 and ranked.loc["47037", "seats"] == 180
    assert ranked.loc["47037", "seats_per_1000"] == pytest.approx(180 / 86000 * 1000)
    assert ranked.loc["47037", "participations"] == 110
    assert ranked.loc["47015", "participations"] == 12  # 12 known; the `*` group is not added
    assert ranked.loc["47149", "sites"] == 0 and ranked.loc["47149", "nearest_site_km"] > 10
    assert ranked.loc["47037", "nearest_site_km"] == pytest.approx(
        min(cov.haversine_km(ranked.loc["47037", "centroid_lon"], ranked.loc["47037", "centroid_lat"], lon, lat)
            for lon, lat in ((-86.78, 36.16), (-86.77, 36.17))), rel=1e-9)
    # grad4 2023-24 has no 2024-25 row for 47149's need: a region without data gets no point
    assert set(ranked["need_missing"].loc[["01001"]].iloc[0].split(", ")) >= {"low-income share"}
    q2 = q.region_coverage(store, "2025-Q2").set_index("region_id")
    assert q2.loc["47037", "participations"] == 115 and not q2.loc["47037", "participations_suppressed"]
    profile = q.region_participation(store, "47015", "2025-Q1")
    groups = profile["by_group"].set_index("student_group")
    assert bool(groups.loc["english_learner", "participations_suppressed"])  # `*` at source
    programs = q.region_programs(store, "47037", "2025-Q1")
    assert int(programs["programs"]["seats"].sum()) == 180
    outcomes = q.region_outcomes(store, "47037")
    assert "grad4" in set(outcomes["indicator_id"])
    choices = q.outcome_choices(store).set_index("indicator_id")
    assert choices.loc["grad4", "regions_reported"] > 0
    shapes = q.region_shapes(store)
    west, south, east, north = shapes["bounds"]
    assert {"47037", "47015"} <= set(shapes["geometries"]) and west < -86.78 < east and south < 36.16 < north
    from bench.pages import coverage

    for _, query in coverage():  # every benchmark entry runs on this store too
        query(store)
    # another threshold in force than the import used: the decision is made again
    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "20")
    again = q.region_coverage(store, "2025-Q1").set_index("region_id")
    assert bool(again.loc["47015", "participations_suppressed"]) and np.isnan(again.loc["47015", "participations"])
