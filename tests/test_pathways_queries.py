"""queries/pathways.py on SQLite and PostgreSQL: suppression before anything is returned, area
figures made only of shown region counts (with what was left out), matched conversions, stage
problems, the cache following imports, and the benchmark entries."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from data.db import get_engine
from data.importer import import_package
from domain.suppression import GROUP_PARTITIONS, suppress_counts
from queries import pathways
from tests.packages import write_package
from domain.scope import Scope

REGIONS = (
    "region_id,name,locale,k12_enrollment\n"
    "47001,Anderson County,rural,1000\n"
    "47003,Bedford County,rural,800\n"
    "47005,Benton County,city,9000\n"
)
STAGES = ("Grade 5 science proficient", "Algebra I by grade 9", "Advanced STEM course in high school", "Enrolled in postsecondary")
E, N, ALL = "econ_disadvantaged", "not_econ_disadvantaged", "all"


def pathway_csv(counts: dict[tuple[str, str], list], cohort: int = 2025, stages=STAGES, orders=None) -> str:
    orders = orders or range(1, len(stages) + 1)
    lines = ["cohort,stage_order,stage,region_id,student_group,students"]
    for (region, group), values in counts.items():
        for order, stage, value in zip(orders, stages, values):
            if value is not None:
                lines.append(f"{cohort},{order},{stage},{region},{group},{value}")
    return "\n".join(lines) + "\n"


def load(store, tmp_path, pathway: str, name: str = "package"):
    folder = write_package(tmp_path / name, {"regions.csv": REGIONS, "pathway.csv": pathway})
    result = import_package(folder, store)
    assert result.ok, [str(p) for p in result.problems]
    return store


HAND = {
    ("47001", ALL): [120, 60, 30], ("47001", E): [50, 20, 5], ("47001", N): [70, 40, 25],
    ("47003", ALL): [100, 50, "*"], ("47003", E): [40, 15, "*"], ("47003", N): [60, 35, 12],
    ("47005", ALL): [1000, 700, 400], ("47005", E): [300, 150, 60], ("47005", N): [700, 550, 340],
}


def cell(frame, group, order):
    row = frame[(frame["student_group"] == group) & (frame["stage_order"] == order)]
    assert len(row) == 1
    return row.iloc[0]


def test_region_counts_are_suppressed_primary_and_complementary(store, tmp_path):
    load(store, tmp_path, pathway_csv(HAND, stages=STAGES[:3]))
    region = pathways.funnel(store, cohort=2025, scope=Scope.from_param("47001"), groups=(E, N, ALL))
    econ, not_econ, everyone = cell(region, E, 3), cell(region, N, 3), cell(region, ALL, 3)
    # 5 is under the threshold; 25 would give it away (30 - 25), so it is hidden too.
    assert econ["students_suppressed"] and math.isnan(econ["students"])
    assert not_econ["students_suppressed"] and math.isnan(not_econ["students"])
    assert everyone["students"] == 30 and not everyone["students_suppressed"]
    assert math.isnan(econ["conversion_numerator"]) and math.isnan(not_econ["share_numerator"])
    assert cell(region, E, 2)["students"] == 20 and cell(region, E, 2)["conversion_numerator"] == 20
    # `*` in the file stays suppressed, and nothing is ever shown as zero in its place.
    other = pathways.funnel(store, cohort=2025, scope=Scope.from_param("47003"), groups=(E, N, ALL))
    assert cell(other, E, 3)["students_suppressed"] and cell(other, ALL, 3)["students_suppressed"]
    assert cell(other, N, 3)["students"] == 12


def test_alliance_totals_are_sums_of_shown_counts_and_say_what_was_left_out(store, tmp_path):
    load(store, tmp_path, pathway_csv(HAND, stages=STAGES[:3]))
    alliance = pathways.funnel(store, cohort=2025, scope=Scope.from_param("all"), groups=(E, N, ALL))
    econ3 = cell(alliance, E, 3)
    assert (econ3["students"], econ3["regions_reporting"], econ3["regions_suppressed"]) == (60, 1, 2)
    # Conversion and share use only regions that show both counts: 60 of 150, 60 of 300.
    assert (econ3["conversion_numerator"], econ3["conversion_denominator"], econ3["conversion_regions"]) == (60, 150, 1)
    assert (econ3["share_numerator"], econ3["share_denominator"]) == (60, 300)
    econ2 = cell(alliance, E, 2)
    assert (econ2["students"], econ2["conversion_numerator"], econ2["conversion_denominator"]) == (185, 185, 390)
    not_econ3 = cell(alliance, N, 3)
    assert (not_econ3["students"], not_econ3["regions_suppressed"]) == (352, 1)  # Anderson's 25 is not in it
    assert (not_econ3["conversion_numerator"], not_econ3["conversion_denominator"]) == (352, 585)
    all3 = cell(alliance, ALL, 3)
    assert (all3["students"], all3["regions_suppressed"], all3["conversion_denominator"]) == (430, 1, 760)
    assert list(alliance["stage"].unique()) == list(STAGES[:3])
    assert cell(alliance, E, 3)["previous_stage"] == STAGES[1]

    rural = pathways.funnel(store, cohort=2025, scope=Scope.from_param("locale:rural"), groups=(E,))
    rural3 = cell(rural, E, 3)
    assert rural3["students_suppressed"] and math.isnan(rural3["students"]) and rural3["regions_suppressed"] == 2
    assert math.isnan(rural3["conversion_numerator"]) and not rural3["rates_suppressed"]
    city = pathways.funnel(store, cohort=2025, scope=Scope.from_param("locale:nonrural"), groups=(E,))
    assert cell(city, E, 3)["students"] == 60 and cell(city, E, 1)["regions_in_scope"] == 1


def _reference_funnel(raw: pd.DataFrame, locales: dict[str, str], limit: int = 10) -> dict:
    """A slow, independent reading of the same rules: the engine over every region cell, then
    per area, group and stage the sums of shown counts and the matched conversions."""
    cells = raw.copy()
    cells["students"] = cells["students"].astype("float64")
    protected = suppress_counts(cells, "students", keys=["cohort", "stage_order", "region_id", "student_group"],
                                partitions=GROUP_PARTITIONS, limit=limit)
    protected["shown"] = ~protected["students_suppressed"] & protected["students"].notna()
    expected = {}
    scopes = {"all": set(locales), "locale:rural": {r for r, l in locales.items() if l == "rural"},
              "locale:nonrural": {r for r, l in locales.items() if l != "rural"}, **{r: {r} for r in locales}}
    orders = sorted(protected["stage_order"].unique())
    for scope, members in scopes.items():
        part = protected[protected["region_id"].isin(members)]
        for (cohort, group), rows in part.groupby(["cohort", "student_group"]):
            by = {(r.region_id, r.stage_order): r for r in rows.itertuples()}
            for k, order in enumerate(orders):
                here = [by.get((region, order)) for region in members]
                shown = [c for c in here if c is not None and c.shown]
                pairs = [(c, by.get((c.region_id, orders[k - 1]))) for c in shown] if k else []
                pairs = [(c, p) for c, p in pairs if p is not None and p.shown]
                rising = [(c, p) for c, p in pairs if c.students > p.students]
                pairs = [(c, p) for c, p in pairs if c.students <= p.students]
                expected[(scope, cohort, group, order)] = {
                    "students": sum(c.students for c in shown) if shown else np.nan,
                    "regions_reporting": len(shown),
                    "regions_suppressed": sum(1 for c in here if c is not None and c.students_suppressed),
                    "conversion_numerator": sum(c.students for c, _ in pairs),
                    "conversion_denominator": sum(p.students for _, p in pairs),
                    "rising_regions": len(rising),
                }
    return expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_area_figures_match_an_independent_reading_of_the_rules(store, tmp_path, seed):
    rng = np.random.default_rng(seed)
    locales = {f"470{2 * i - 1:02d}": ("rural" if i % 3 else "city") for i in range(1, 8)}
    regions = "region_id,name,locale,k12_enrollment\n" + "".join(
        f"{r},County {r},{l},1000\n" for r, l in locales.items())
    groups = (ALL, E, N, "female", "male")
    lines = ["cohort,stage_order,stage,region_id,student_group,students"]
    raw = []
    for cohort in (2024, 2025):
        for region in locales:
            size = int(rng.choice([8, 40, 300]))
            for group in groups:
                value = size if group == ALL else int(size * rng.uniform(0.3, 0.7))
                for order, stage in enumerate(STAGES, start=1):
                    if order > 1:
                        value = int(value * rng.uniform(0.2, 1.05))  # sometimes rising: a data problem
                    roll = rng.random()
                    written = "*" if roll < 0.08 else ("" if roll < 0.12 else str(value))
                    if written == "":
                        continue  # no row at all: missing
                    lines.append(f"{cohort},{order},{stage},{region},{group},{written}")
                    raw.append((cohort, order, region, group, np.nan if written == "*" else value, written == "*"))
    folder = write_package(tmp_path / "random", {"regions.csv": regions, "pathway.csv": "\n".join(lines) + "\n"})
    assert import_package(folder, store).ok
    raw = pd.DataFrame(raw, columns=["cohort", "stage_order", "region_id", "student_group", "students", "students_suppressed"])
    expected = _reference_funnel(raw, locales)
    checked = 0
    for scope in ["all", "locale:rural", "locale:nonrural", *locales]:
        got = pathways.conversion_trend(store, scope=Scope.from_param(scope), groups=groups)
        for row in got.itertuples():
            want = expected[(scope, row.cohort, row.student_group, row.stage_order)]
            if want["regions_reporting"]:
                assert row.students == want["students"], (scope, row)
            else:
                assert math.isnan(row.students)
            assert row.regions_reporting == want["regions_reporting"]
            assert row.regions_suppressed == want["regions_suppressed"]
            assert row.rising_regions == want["rising_regions"]
            if want["conversion_denominator"] > 0:
                assert row.conversion_numerator == want["conversion_numerator"]
                assert row.conversion_denominator == want["conversion_denominator"]
            else:
                assert math.isnan(row.conversion_denominator)
            checked += 1
    assert checked > 100


def test_stage_numbering_problems_reach_the_page(store, tmp_path):
    counts = {("47005", ALL): [1000, 600, 650]}
    load(store, tmp_path, pathway_csv(counts, stages=STAGES[:3], orders=[1, 2, 4]))
    stages = pathways.stages(store, cohort=2025)
    assert stages[["stage_order", "stage", "regions"]].values.tolist() == [
        [1, STAGES[0], 1], [2, STAGES[1], 1], [4, STAGES[2], 1]]
    funnel = pathways.funnel(store, cohort=2025, scope=Scope.from_param("all"), groups=(ALL,))
    last = cell(funnel, ALL, 4)
    assert last["previous_stage_order"] == 2 and last["rising_regions"] == 1
    assert math.isnan(last["conversion_numerator"])  # the only region rises: no conversion
    rising = pathways.rising_counts(store, cohort=2025, scope=Scope.from_param("all"), groups=(ALL,))
    assert rising[["region_id", "stage_order", "students", "previous_students"]].values.tolist() == [["47005", 4, 650, 600]]


def test_a_new_import_is_seen_and_an_empty_store_says_so(store, tmp_path):
    folder = write_package(tmp_path / "regions-only", {"regions.csv": REGIONS})
    assert import_package(folder, store).ok
    assert pathways.cohorts(store) == []
    empty = pathways.funnel(store, cohort=2025, scope=Scope.from_param("all"), groups=(ALL,))
    assert empty.empty and list(empty.columns) == pathways.FUNNEL_COLUMNS
    load(store, tmp_path, pathway_csv({("47005", ALL): [500, 200]}, stages=STAGES[:2]), "first")
    assert pathways.cohorts(store) == [2025]
    assert cell(pathways.funnel(store, cohort=2025, scope=Scope.from_param("all"), groups=(ALL,)), ALL, 2)["students"] == 200
    load(store, tmp_path, pathway_csv({("47005", ALL): [500, 260]}, stages=STAGES[:2]), "corrected")
    assert cell(pathways.funnel(store, cohort=2025, scope=Scope.from_param("all"), groups=(ALL,)), ALL, 2)["students"] == 260
    assert pathways.funnel(store, cohort=2025, scope=Scope.from_param("99999"), groups=(ALL,)).empty
    assert pathways.funnel(store, cohort=1999, scope=Scope.from_param("all"), groups=(ALL,)).empty


def test_groups_lists_what_has_pathway_data(store, tmp_path):
    load(store, tmp_path, pathway_csv(HAND, stages=STAGES[:3]))
    groups = pathways.groups(store).set_index("student_group")
    assert sorted(groups.index) == sorted([ALL, E, N])
    assert groups.loc[E, "cohorts"] == 1


def test_benchmark_entries_run(tmp_path):
    store = get_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    load(store, tmp_path, pathway_csv(HAND, stages=STAGES[:3]))
    from bench.pages import pathways as bench_entries

    entries = bench_entries()
    names = [name for name, _ in entries]
    assert len(names) == len(set(names)) and all(name.startswith("pathways.") for name in names)
    for name, function in entries:
        result = function(store)
        assert len(result) > 0, name
