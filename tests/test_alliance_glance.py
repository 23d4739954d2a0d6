"""The alliance at a glance (queries.coverage.alliance_glance) against independent sums: the
demo package's own CSV files, counted with pandas, for the alliance, rural regions and one
region, with and without a program filter, in a quarter and the one before."""
from __future__ import annotations

import pandas as pd
import pytest

from components import glance_charts as glance
from data.db import get_engine
from data.demo import write_demo_package
from queries import coverage as q
from domain.periods import previous_quarter
from domain.scope import Scope

QUARTER = "2024-Q3"


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> dict[str, pd.DataFrame]:
    folder = write_demo_package(tmp_path_factory.mktemp("demo_package"))
    read = lambda name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    return {name: read(name) for name in ("regions", "partners", "programs", "program_sites", "participation")}


def _running_sites(package, quarter: str, area: str, program_type: str | None = None) -> pd.DataFrame:
    """Sites whose program runs in the quarter while its partner is a member (the overview's
    definition), in the area, counted from the files."""
    year, n = int(quarter[:4]), int(quarter[-1])
    first = f"{year}-{3 * n - 2:02d}-01"
    last = {1: f"{year}-03-31", 2: f"{year}-06-30", 3: f"{year}-09-30", 4: f"{year}-12-31"}[n]
    programs = package["programs"]
    partners = package["partners"]
    running = programs[(programs["start_on"].replace("", "0000") <= last) & (programs["end_on"].replace("", "9999") >= first)]
    members = partners[(partners["joined_on"].replace("", "0000") <= last) & (partners["left_on"].replace("", "9999") >= first)]
    sites = (package["program_sites"].merge(running, on="program_id", suffixes=("", "_program"))
             .merge(members[["partner_id", "sector"]], on="partner_id"))
    regions = package["regions"]
    if area == "locale:rural":
        sites = sites[sites["region_id"].isin(regions.loc[regions["locale"] == "rural", "region_id"])]
    elif area != "all":
        sites = sites[sites["region_id"] == area]
    if program_type:
        sites = sites[sites["program_type"] == program_type]
    return sites.assign(seats=sites["seats"].astype(int))


@pytest.mark.parametrize("area,program_type", [("all", None), ("locale:rural", None), ("47065", None),
                                                ("all", "afterschool")])
def test_breakdowns_match_the_files(demo_store_url, package, area, program_type):
    glance_ = q.alliance_glance(get_engine(demo_store_url), QUARTER, program_type=program_type or q.ANY, area=Scope.from_param(area))
    for quarter, suffix in ((QUARTER, ""), (previous_quarter(QUARTER), "_before")):
        sites = _running_sites(package, quarter, area, program_type)
        partners = sites.groupby("sector")["partner_id"].nunique()
        got = glance_["sectors"].set_index("sector")[f"partners{suffix}"]
        assert got[got > 0].sort_index().to_dict() == partners.sort_index().to_dict()
        # one sector per partner: the sectors add up to the partners, each counted once
        assert got.sum() == sites["partner_id"].nunique()
        cells = sites.groupby(["program_type", "grade_band"]).agg(programs=("program_id", "nunique"), seats=("seats", "sum"))
        got = glance_["programs"].set_index(["program_type", "grade_band"])
        got = got[got[f"programs{suffix}"] > 0]
        assert got[f"programs{suffix}"].sort_index().to_dict() == cells["programs"].sort_index().to_dict()
        assert got[f"seats{suffix}"].sort_index().to_dict() == cells["seats"].sort_index().to_dict()
        row = glance_["by_quarter"].set_index("quarter").loc[quarter]
        assert (row["sites"], row["seats"], row["programs"], row["partners"]) == (
            len(sites), sites["seats"].sum(), sites["program_id"].nunique(), sites["partner_id"].nunique())


def test_participations_are_the_reported_counts_of_every_program(demo_store_url, package):
    """Participations count every program (not split by the filter) and equal the files' sum of
    the `all` rows in the area, counts suppressed at source left out; none is suppressed at this
    size."""
    engine = get_engine(demo_store_url)
    rows = package["participation"]
    rows = rows[(rows["student_group"] == "all") & rows["participants"].str.isdigit()]
    rural = set(package["regions"].loc[package["regions"]["locale"] == "rural", "region_id"])
    for area, keep in (("all", rows.index == rows.index), ("locale:rural", rows["region_id"].isin(rural))):
        expected = rows[keep].assign(n=rows["participants"].astype(int)).groupby("quarter")["n"].sum()
        for program_type in (q.ANY, "afterschool"):
            by_quarter = q.alliance_glance(engine, QUARTER, program_type=program_type, area=Scope.from_param(area))["by_quarter"]
            got = by_quarter.set_index("quarter")
            assert not got["participations_suppressed"].any()
            assert got["participations"].astype(int).to_dict() == expected.to_dict()


def test_a_small_region_keeps_its_participations_suppressed(demo_store_url):
    """Suppression is the store-wide decision, as on the rest of the page: a quarter hidden in
    the region profile is hidden here too, and its table says so."""
    engine = get_engine(demo_store_url)
    hidden_quarters = 0
    for region in ("47007", "13083", "47153"):  # the demo regions with a suppressed quarter
        profile = q.region_participation(engine, region)["by_quarter"].set_index("quarter")
        at_glance = q.alliance_glance(engine, QUARTER, area=Scope.from_param(region))["by_quarter"].set_index("quarter")
        hidden = profile["participations_suppressed"].astype(bool)
        hidden_quarters += int(hidden.sum())
        assert (at_glance.loc[hidden.index, "participations_suppressed"] == hidden).all()
        table = glance.reach_table(q.alliance_glance(engine, QUARTER, area=Scope.from_param(region))["by_quarter"])
        column = next(c for c in table.columns if c.startswith("Participations, all programs"))
        for value, is_hidden in zip(table[column], at_glance["participations_suppressed"]):
            assert (value == "▨ suppressed") == bool(is_hidden)
    assert hidden_quarters >= 3  # the check above had something to check


def test_captions_and_tables_say_what_the_chart_shows(demo_store_url):
    engine = get_engine(demo_store_url)
    at = q.alliance_glance(engine, QUARTER)
    total = int(at["sectors"]["partners"].sum())
    before = int(at["sectors"]["partners_before"].sum())
    caption = glance.sectors_caption(at["sectors"], "the alliance", "all programs")
    assert caption.startswith(f"In 2024 Q3, {total} partners run programs at sites in the alliance")
    assert glance.change_text(total, before) in caption
    table = glance.sectors_table(at["sectors"])
    assert list(table.columns) == ["Sector", "Partners, 2024 Q3", "Partners, 2024 Q2", "Change"]
    assert table["Partners, 2024 Q3"].sum() == total
    reach = glance.reach_caption(at["by_quarter"], "The alliance", "all programs")
    seats = int(at["by_quarter"].set_index("quarter").loc[QUARTER, "seats"])
    assert f"had {seats:,} seats in programs in 2024 Q3" in reach and "not unique students" in reach
    assert glance.change_text(5, 5) == "no change" and glance.change_text(3, 5) == "−2" and glance.change_text(7, 5) == "+2"


def test_no_quarter_before_and_nothing_running(demo_store_url):
    engine = get_engine(demo_store_url)
    at = q.alliance_glance(engine, QUARTER, area=Scope.from_param("47061"), program_type="dual_enrollment")
    assert at["sectors"].empty
    assert glance.sectors_caption(at["sectors"], "Grundy County", "dual enrollment programs") == (
        "No partner runs dual enrollment programs at a site in Grundy County in 2024 Q3.")
    assert glance.programs_figure(at["programs"], "Grundy County").layout.annotations  # says there is nothing
