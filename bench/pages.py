"""Each page's queries for the benchmark: what a first view of the page asks the store for.

`PAGES` maps a page name to a function that imports the page's query module and returns its
entries, `[(name, callable taking an Engine)]`; importing lazily lets a broken page module be
reported by the harness without stopping the other pages' timings.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import Engine, func, select

PageQuery = tuple[str, Callable[[Engine], object]]


def coverage() -> list[PageQuery]:
    from data.schema import coverage_sites, participation_cells, programs
    from domain.scope import ANY
    from queries import coverage as q

    def latest_quarter(engine: Engine) -> str | None:
        with engine.connect() as conn:
            return conn.execute(select(func.max(participation_cells.c.quarter))).scalar()

    def busiest_region(engine: Engine) -> str | None:
        c = coverage_sites.c
        with engine.connect() as conn:
            return conn.execute(select(c.region_id).group_by(c.region_id)
                                .order_by(func.count().desc(), c.region_id).limit(1)).scalar()

    def first_type(engine: Engine) -> str:
        with engine.connect() as conn:
            return conn.execute(select(programs.c.program_type).order_by(programs.c.program_type).limit(1)).scalar() or ANY

    def default_indicator(engine: Engine) -> str | None:
        choices = q.outcome_choices(engine)
        return None if choices.empty else choices["indicator_id"].iloc[0]

    def page(engine: Engine) -> None:
        """What the page asks for on a first view of a region (each query once, as the cache does)."""
        quarter, region = latest_quarter(engine), busiest_region(engine)
        regions = q.region_coverage(engine, quarter)
        q.rank(regions, q.need_measures(engine, default_indicator(engine)))
        q.by_locale(regions)
        q.alliance_glance(engine, quarter)
        q.site_points(engine, quarter)
        q.region_programs(engine, region, quarter)
        q.region_participation(engine, region, quarter)
        q.region_outcomes(engine, region)

    return [
        ("coverage: regions, latest quarter", lambda engine: q.region_coverage(engine, latest_quarter(engine))),
        ("coverage: regions, one program type",
         lambda engine: q.region_coverage(engine, latest_quarter(engine), first_type(engine))),
        ("coverage: need measures", lambda engine: q.need_measures(engine, default_indicator(engine))),
        ("coverage: underserved ranking (regions + need + rank)",
         lambda engine: q.underserved(engine, latest_quarter(engine), indicator=default_indicator(engine))),
        ("coverage: rural vs non-rural (regions + by locale)",
         lambda engine: q.locale_coverage(engine, latest_quarter(engine))),
        ("coverage: site points", lambda engine: q.site_points(engine, latest_quarter(engine))),
        ("coverage: region shapes", q.region_shapes),
        ("coverage: where region names go (once per data version)", q.label_anchors),
        ("coverage: the alliance at a glance", lambda engine: q.alliance_glance(engine, latest_quarter(engine))),
        ("coverage: region profile, programs",
         lambda engine: q.region_programs(engine, busiest_region(engine), latest_quarter(engine))),
        ("coverage: region profile, participation",
         lambda engine: q.region_participation(engine, busiest_region(engine), latest_quarter(engine))),
        ("coverage: region profile, outcomes", lambda engine: q.region_outcomes(engine, busiest_region(engine))),
        ("coverage: whole page", page),
    ]


def gaps() -> list[PageQuery]:
    from data.schema import indicators, regions
    from domain.scope import ALLIANCE, region
    from queries import gaps as q

    def first(engine: Engine, column):
        with engine.connect() as conn:
            return conn.execute(select(column).order_by(column).limit(1)).scalar()

    def indicator(engine: Engine) -> str | None:
        return first(engine, indicators.c.indicator_id)

    def first_region(engine: Engine):
        return region(first(engine, regions.c.region_id))

    def page(scope_of):
        def run(engine: Engine) -> None:
            chosen, scope = indicator(engine), scope_of(engine)
            q.gap_table(engine, chosen, scope)
            q.gap_trends(engine, chosen, scope)
            q.gap_heatmap(engine, scope)
            q.indicator_targets(engine, chosen, scope)
            if scope == ALLIANCE:
                q.locale_gaps(engine, chosen)
        return run

    return [
        ("gaps: one indicator, alliance-wide", lambda engine: q.gap_table(engine, indicator(engine))),
        ("gaps: trend of every group, alliance-wide", lambda engine: q.gap_trends(engine, indicator(engine))),
        ("gaps: heat map of every indicator, alliance-wide", q.gap_heatmap),
        ("gaps: rural vs non-rural", lambda engine: q.locale_gaps(engine, indicator(engine))),
        ("gaps: heat map of every indicator, one region", lambda engine: q.gap_heatmap(engine, first_region(engine))),
        ("gaps: whole page, alliance-wide", page(lambda engine: ALLIANCE)),
        ("gaps: whole page, one region", page(first_region)),
    ]


def overview() -> list[PageQuery]:
    from queries import overview as q

    def latest(engine: Engine) -> str | None:
        quarters = q.quarters_with_data(engine)
        return quarters[-1] if quarters else None

    return [
        ("overview.overview latest quarter", lambda engine: q.overview(engine, latest(engine))),
        ("overview.reach_by_quarter", q.reach_by_quarter),
        ("overview.indicator_rates", q.indicator_rates),
        ("overview.participations_by_region latest two quarters",
         lambda engine: q.participations_by_region(engine, tuple(q.quarters_with_data(engine)[-2:]))),
    ]


def pathways() -> list[PageQuery]:
    from domain.scope import ALLIANCE, RURAL, region
    from queries import pathways as q

    def params(engine: Engine) -> dict:
        data = q.cube(engine)
        latest = int(data.cohorts[-1]) if not data.empty else 0
        present = set(data.groups)
        group = next((g for g in ("econ_disadvantaged", "english_learner", "female") if g in present), "all")
        reference = next((g for g in ("not_econ_disadvantaged", "all") if g in present and g != group), "all")
        shown = data.region_ids[(data.state == q.SHOWN).any(axis=(0, 1, 3))] if not data.empty else []
        return {"cohort": latest, "groups": tuple(dict.fromkeys((group, reference, "all"))),
                "region": next(iter(shown), None)}

    def funnel(scope_of):
        def run(engine: Engine):
            p = params(engine)
            return q.funnel(engine, cohort=p["cohort"], scope=scope_of(p), groups=p["groups"])
        return run

    return [
        ("pathways.funnel alliance-wide", funnel(lambda p: ALLIANCE)),
        ("pathways.funnel rural regions", funnel(lambda p: RURAL)),
        ("pathways.funnel one region", funnel(lambda p: region(p["region"]))),
        ("pathways.conversion_trend alliance-wide",
         lambda engine: q.conversion_trend(engine, scope=ALLIANCE, groups=params(engine)["groups"][:2])),
        ("pathways.cohorts", q.cohorts),
        ("pathways.groups", q.groups),
        ("pathways.stages", lambda engine: q.stages(engine, params(engine)["cohort"])),
    ]


PAGES: dict[str, Callable[[], list[PageQuery]]] = {
    "coverage": coverage, "gaps": gaps, "overview": overview, "pathways": pathways}
