"""The built-in demo alliance: deterministic, valid under the contract, and rich enough to show
every page (underserved rural counties, closing and widening gaps, leaky pathways)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

import cli
from data import demo, geography
from data.db import get_engine
from data.importer import import_package, validate
from data.schema import metadata
from domain import vocabulary as vocab
from tests.packages import write_package

CONTRACT_GROUPS = set(vocab.BUILT_IN_GROUP_IDS)


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    return demo.write_demo_package(tmp_path_factory.mktemp("demo") / demo.DEMO_SOURCE)


@pytest.fixture(scope="module")
def tables(package) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(package.glob("*.csv"))}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


# --- determinism and validity ------------------------------------------------------------

def test_same_seed_gives_identical_files_and_cli_writes_them(package, tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path), "--seed", str(demo.DEFAULT_SEED)]) == 0
    written = tmp_path / demo.DEMO_SOURCE
    assert str(written) in capsys.readouterr().out
    again = _files(written)
    assert set(again) == {f"{t}.csv" for t in ("regions", "partners", "programs", "program_sites", "participation",
                                                "indicators", "outcomes", "pathway", "targets")}
    assert again == _files(package)


def test_another_seed_gives_other_numbers(package, tmp_path):
    other = _files(demo.write_demo_package(tmp_path / "other", seed=7))
    mine = _files(package)
    assert other["regions.csv"] == mine["regions.csv"]  # the places are fixed ...
    assert other["outcomes.csv"] != mine["outcomes.csv"]  # ... the numbers are drawn
    assert other["participation.csv"] != mine["participation.csv"]


def test_package_validates_without_problems_or_warnings(package):
    valid, result = validate(package)
    assert result.problems == []
    assert result.warnings == []
    assert valid is not None


# --- places, partners, programs ----------------------------------------------------------

def test_regions_are_real_counties_of_every_locale(tables):
    regions = tables["regions"]
    assert len(regions) >= 8
    assert set(regions["locale"]) == set(vocab.LOCALES)
    assert all(geography.is_county_fips(r) for r in regions["region_id"])
    assert all(name.endswith(" County") for name in regions["name"])
    counties = geography.load_counties(regions["region_id"])
    assert all(counties[r]["name"] == n for r, n in zip(regions["region_id"], regions["name"]))
    enrollment = regions["k12_enrollment"].astype(int)
    assert enrollment.between(1000, 100_000).all()
    assert regions["low_income_pct"].astype(float).between(20, 90).all()


def test_two_rural_counties_are_clearly_underserved(tables):
    regions = tables["regions"].set_index("region_id")
    seats = tables["program_sites"].assign(seats=lambda f: f["seats"].astype(int)).groupby("region_id")["seats"].sum()
    enrollment = regions["k12_enrollment"].astype(int)
    per_1000 = seats.reindex(regions.index, fill_value=0) / enrollment * 1000
    overall = seats.sum() / enrollment.sum() * 1000
    underserved = regions[(regions["locale"] == "rural") & (regions["low_income_pct"].astype(float) >= 60)
                          & (per_1000 < overall / 2)]
    assert len(underserved) >= 2, per_1000.round(1).to_dict()
    # ... and their students do worse: pooled grade 8 math in the latest year, vs. the alliance
    outcomes = _numeric(tables["outcomes"])
    latest = outcomes[(outcomes["indicator_id"] == "gr8_math") & (outcomes["student_group"] == "all")
                      & (outcomes["school_year"] == demo.SCHOOL_YEARS[-1])].set_index("region_id")
    alliance = latest["numerator"].sum() / latest["denominator"].sum()
    for region_id in underserved.index:
        assert latest.at[region_id, "numerator"] / latest.at[region_id, "denominator"] < alliance - 0.05


def test_partners_cover_every_sector(tables):
    partners = tables["partners"]
    assert len(partners) >= 40
    assert set(partners["sector"]) == set(vocab.SECTORS)
    assert partners["partner_id"].is_unique


def test_programs_cover_every_type_and_grade_band(tables):
    programs = tables["programs"]
    assert len(programs) >= 60
    assert set(programs["program_type"]) == set(vocab.PROGRAM_TYPES)
    assert set(programs["grade_band"]) == set(vocab.GRADE_BANDS)
    assert set(programs["partner_id"]) <= set(tables["partners"]["partner_id"])
    assert set(programs["program_id"]) == set(tables["program_sites"]["program_id"])  # every program runs somewhere


def test_sites_lie_inside_their_counties_with_realistic_seats(tables):
    sites = tables["program_sites"]
    assert sites["seats"].astype(int).between(10, 400).all()
    counties = geography.load_counties(tables["regions"]["region_id"])
    inside = geography.points_in_regions(
        sites["longitude"].astype(float), sites["latitude"].astype(float), sites["region_id"],
        {r: c["geometry"] for r, c in counties.items()}, tolerance_km=0.0)
    assert inside.all()
    # a school district runs its programs in its own county
    partners = tables["partners"].set_index("partner_id")
    owner = tables["programs"].set_index("program_id")["partner_id"]
    district = sites["program_id"].map(owner).map(partners["sector"]) == "k12"
    home = sites["program_id"].map(owner).map(partners["region_id"])
    assert (sites.loc[district, "region_id"] == home[district]).all()


# --- participation ------------------------------------------------------------------------

def test_participation_has_twelve_quarters_every_group_and_growth(tables):
    reach = tables["participation"]
    assert sorted(set(reach["quarter"])) == list(demo.QUARTERS) and len(demo.QUARTERS) == 12
    assert set(reach["student_group"]) == CONTRACT_GROUPS
    keys = reach[["program_id", "region_id", "quarter"]].drop_duplicates()
    assert len(keys) == (reach["student_group"] == "all").sum()  # an `all` row for each
    suppressed = reach["participants"] == "*"
    assert 0 < suppressed.sum() < 0.05 * len(reach)  # a few providers protect small counts themselves
    totals = reach[reach["student_group"] == "all"].assign(n=lambda f: f["participants"].astype(int))
    by_year = totals.groupby(totals["quarter"].str[:4])["n"].sum()
    assert by_year["2023"] < by_year["2024"] < by_year["2025"]
    # groups partition the total: races, and each complementary pair, add up to `all`
    exact = reach[~suppressed].assign(n=lambda f: f["participants"].astype(int))
    pivot = exact.pivot_table(index=["program_id", "region_id", "quarter"], columns="student_group", values="n").dropna()
    assert (pivot["econ_disadvantaged"] + pivot["not_econ_disadvantaged"] == pivot["all"]).all()
    assert (pivot[list(demo.RACES)].sum(axis=1) == pivot["all"]).all()


# --- outcomes -----------------------------------------------------------------------------

def _numeric(outcomes: pd.DataFrame) -> pd.DataFrame:
    rows = outcomes[outcomes["numerator"].str.fullmatch(r"\d+")].copy()
    rows["numerator"] = rows["numerator"].astype(int)
    rows["denominator"] = rows["denominator"].astype(int)
    return rows


def test_indicators_span_the_stages_and_say_they_are_synthetic(tables):
    indicators = tables["indicators"]
    assert len(indicators) >= 8
    assert set(indicators["stage"]) == set(vocab.STAGES)
    assert {"true", "false"} <= set(indicators["higher_is_better"])
    assert indicators.set_index("indicator_id").at["chronic_absence", "higher_is_better"] == "false"
    assert indicators["description"].str.contains("Synthetic demo data").all()


def test_outcomes_cover_every_region_year_and_group(tables):
    outcomes = tables["outcomes"]
    assert sorted(set(outcomes["school_year"])) == list(demo.SCHOOL_YEARS) and len(demo.SCHOOL_YEARS) == 6
    expected = len(tables["indicators"]) * len(tables["regions"]) * len(demo.SCHOOL_YEARS) * len(CONTRACT_GROUPS)
    assert len(outcomes) == expected
    assert set(outcomes["student_group"]) == CONTRACT_GROUPS
    numeric = _numeric(outcomes)
    assert (numeric["numerator"] <= numeric["denominator"]).all()
    assert ((numeric["denominator"] > 0) & (numeric["denominator"] < 10)).sum() > 50  # small groups to suppress
    ranged = outcomes[outcomes["rate"] != ""]
    assert 0 < len(ranged) < 0.02 * len(outcomes)
    assert (ranged["numerator"] == "").all()
    assert ranged["rate"].str.fullmatch(r"\d+-\d+").any() and ranged["rate"].str.startswith("GE").any()
    assert len(numeric) + len(ranged) == len(outcomes)


def _disadvantage(outcomes: pd.DataFrame, indicator: str, group: str, reference: str, higher_is_better: bool) -> pd.Series:
    """Percentage points by which `group` trails `reference`, pooled over regions, by year."""
    rows = _numeric(outcomes)
    rows = rows[rows["indicator_id"] == indicator]
    pooled = rows.groupby(["student_group", "school_year"])[["numerator", "denominator"]].sum()
    rate = (100 * pooled["numerator"] / pooled["denominator"]).unstack("school_year")
    gap = rate.loc[reference] - rate.loc[group]
    return gap if higher_is_better else -gap


@pytest.mark.parametrize("indicator, group, reference, higher_is_better", [
    ("gr8_math", "econ_disadvantaged", "not_econ_disadvantaged", True),
    ("college_enroll", "hispanic", "all", True),
])
def test_some_gaps_close(tables, indicator, group, reference, higher_is_better):
    gap = _disadvantage(tables["outcomes"], indicator, group, reference, higher_is_better)
    first, last = gap[demo.SCHOOL_YEARS[0]], gap[demo.SCHOOL_YEARS[-1]]
    assert first > 10 and last < first - 7, gap.round(1).to_dict()
    assert gap[list(demo.SCHOOL_YEARS[-3:])].mean() < gap[list(demo.SCHOOL_YEARS[:3])].mean() - 4


@pytest.mark.parametrize("indicator, group, reference, higher_is_better", [
    ("adv_stem_course", "students_with_disabilities", "not_students_with_disabilities", True),
    ("chronic_absence", "english_learner", "not_english_learner", False),
])
def test_some_gaps_widen(tables, indicator, group, reference, higher_is_better):
    gap = _disadvantage(tables["outcomes"], indicator, group, reference, higher_is_better)
    first, last = gap[demo.SCHOOL_YEARS[0]], gap[demo.SCHOOL_YEARS[-1]]
    assert first > 0 and last > first + 7, gap.round(1).to_dict()
    assert gap[list(demo.SCHOOL_YEARS[-3:])].mean() > gap[list(demo.SCHOOL_YEARS[:3])].mean() + 4


# --- pathway and targets ------------------------------------------------------------------

def test_pathway_cohorts_narrow_stage_by_stage(tables):
    pathway = tables["pathway"].assign(students=lambda f: f["students"].astype(int),
                                       stage_order=lambda f: f["stage_order"].astype(int))
    assert sorted(set(pathway["cohort"])) == [str(c) for c in demo.COHORTS]
    assert pathway.groupby("cohort")["stage_order"].nunique().min() >= 7
    assert set(pathway["student_group"]) == CONTRACT_GROUPS
    names = pathway.drop_duplicates("stage_order").set_index("stage_order")["stage"]
    for stage in ("Grade 5 science proficient", "Algebra I by grade 9", "Advanced STEM course in high school",
                  "Graduated ready", "Enrolled in postsecondary", "Declared a STEM major", "STEM credential"):
        assert stage in set(names)
    wide = pathway.pivot_table(index=["cohort", "region_id", "student_group"], columns="stage_order", values="students")
    assert (wide.diff(axis=1).iloc[:, 1:] <= 0).all().all()  # never more students at a later stage
    alliance = pathway.groupby(["cohort", "student_group", "stage_order"])["students"].sum().unstack("stage_order")
    conversion = alliance / alliance.shift(axis=1)
    enrolled = names[names == "Enrolled in postsecondary"].index[0]
    algebra = names[names == "Algebra I by grade 9"].index[0]
    for cohort in map(str, demo.COHORTS):  # the leak: ready graduates from low-income homes do not enroll
        assert conversion.at[(cohort, "econ_disadvantaged"), enrolled] < conversion.at[(cohort, "not_econ_disadvantaged"), enrolled] - 0.2
    algebra_gap = [conversion.at[(str(c), "not_econ_disadvantaged"), algebra] - conversion.at[(str(c), "econ_disadvantaged"), algebra]
                   for c in demo.COHORTS]
    assert algebra_gap[0] > algebra_gap[1] > algebra_gap[2]  # ... while the algebra leak shrinks


def test_targets_cover_indicators_and_reach(tables):
    targets = tables["targets"]
    measures = set(targets["measure"])
    assert len(measures & set(tables["indicators"]["indicator_id"])) >= 4
    assert set(vocab.REACH_MEASURES) <= measures
    reach = targets[targets["measure"].isin(vocab.REACH_MEASURES) & (targets["region_id"] == "")]
    assert reach.groupby("measure")["period"].nunique().min() == 12
    indicator_groups = set(targets.loc[~targets["measure"].isin(vocab.REACH_MEASURES), "student_group"])
    assert "all" in indicator_groups and len(indicator_groups) >= 3


# --- loading into a store -----------------------------------------------------------------

def test_load_demo_into_sqlite_marks_the_store_as_demo(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    assert demo.is_demo(engine) is False  # no schema yet
    result = demo.load_demo(engine)
    assert result.ok and result.written, result.problems[:5]
    assert result.warnings == []
    with engine.connect() as conn:
        for name, rows in result.row_counts.items():
            table = metadata.tables["student_groups" if name == "groups" else name]
            assert conn.execute(select(func.count()).select_from(table)).scalar() == rows
        sources = conn.execute(select(metadata.tables["imports"].c.source)).scalars().all()
        geometry = conn.execute(select(metadata.tables["regions"].c.geometry_source).distinct()).scalars().all()
    assert sources == [demo.DEMO_SOURCE]
    assert geometry == ["county"]  # the built-in boundaries draw the map
    assert result.row_counts["participation"] + result.row_counts["outcomes"] < 60_000
    assert demo.is_demo(engine) is True

    # the alliance's own data replaces the demo label
    assert import_package(write_package(tmp_path / "own"), engine).ok
    assert demo.is_demo(engine) is False
