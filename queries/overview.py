"""The board overview of one quarter: reach against target and the previous quarter, every
indicator against its target, the biggest changes, trend lines, and frozen snapshots.

Everything here is suppressed before it is returned: participation counts as every page shows
them (`queries.participation`: the store-wide decision made at import); indicator rates come
from `queries.gaps.group_rates`, which suppresses them. `overview(engine, quarter)`
returns a JSON-safe dict of the already-suppressed figures; a snapshot stores exactly that dict.

Reach definitions (as in the demo's targets): a partner counts in a quarter when it joined on
or before the quarter's last day and had not left before its first day; a program when it
started on or before the last day and had not ended before the first; seats are the seats of
the sites of the programs running; participations are the `all students` rows of
participation.csv (enrolments, not unique students).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, func, select

from data.participation_rollup import AGGREGATE_CELLS, ALLIANCE_CELL
from data.schema import (
    imports, indicators, participation_cells, partners, program_sites, programs, regions, snapshots, targets,
)
from domain import gaps as gap_rules
from domain import kpi, sentences
from domain.formatting import says_nothing, suppressed_text
from domain.suppression import threshold
from domain.scope import ALLIANCE, NONRURAL, RURAL
from domain.periods import previous_quarter
from queries.participation import all_programs, protected_cells

REACH_MEASURES = ("partners", "programs", "seats", "participants")
REACH_LABELS = {"partners": "Partners", "programs": "Programs", "seats": "Seats", "participants": "Participations"}
PARTICIPATION_NOTE = "participations are enrolments, not unique students: one child in two programs counts twice"
# Where each number comes from, for the packet's sources section.
SOURCES = {
    "partners": "partners.csv (joined_on, left_on)",
    "programs": "programs.csv (start_on, end_on)",
    "seats": "program_sites.csv (seats of the programs running)",
    "participants": "participation.csv (student group 'all')",
    "indicators": "outcomes.csv and indicators.csv (pooled over regions: numerators and denominators summed)",
    "targets": "targets.csv (alliance-wide, all students)",
}


# --- reach -----------------------------------------------------------------------------------

def _iso(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)[:10]


def _active(start: pd.Series, end: pd.Series, quarters) -> np.ndarray:
    """Quarters x rows: started on or before the quarter's last day and not ended before its
    first (ISO dates compare as text; a missing date is an open end)."""
    bounds = np.array([kpi.quarter_bounds(q) for q in quarters], dtype="U10").reshape(-1, 2)
    first, last = bounds[:, :1], bounds[:, 1:]
    starts, ends = start.fillna("").to_numpy(dtype="U10"), end.fillna("").to_numpy(dtype="U10")
    return ((starts == "") | (starts <= last)) & ((ends == "") | (ends >= first))


def _reach_inputs(engine: Engine):
    with engine.connect() as conn:
        members = pd.DataFrame([tuple(r) for r in conn.execute(select(partners.c.partner_id, partners.c.joined_on, partners.c.left_on))],
                               columns=["partner_id", "start", "end"])
        progs = pd.DataFrame([tuple(r) for r in conn.execute(select(programs.c.program_id, programs.c.start_on, programs.c.end_on))],
                             columns=["program_id", "start", "end"])
        sites = pd.DataFrame([tuple(r) for r in conn.execute(select(program_sites.c.program_id, program_sites.c.region_id, program_sites.c.seats))],
                             columns=["program_id", "region_id", "seats"])
    for frame in (members, progs):
        frame["start"] = frame["start"].map(_iso).astype(object)
        frame["end"] = frame["end"].map(_iso).astype(object)
    return members, progs, sites


def reach_by_quarter(engine: Engine, up_to: str | None = None) -> pd.DataFrame:
    """Partners, programs, seats and participations per quarter (every quarter with
    participation data, up to `up_to`). Participations are the alliance's, as suppressed for
    every page (queries.participation); `participants_partial` counts regional rows suppressed
    at source and so left out of the sum."""
    members, progs, sites = _reach_inputs(engine)
    with engine.connect() as conn:
        alliance = protected_cells(engine, conn, **all_programs(region_id=ALLIANCE_CELL, student_group="all"))
    alliance = alliance.sort_values("quarter")
    if up_to:
        alliance = alliance[alliance["quarter"] <= up_to]
    site_program = pd.Index(progs["program_id"]).get_indexer(sites["program_id"])  # -1: no such program
    seats = pd.to_numeric(sites["seats"], errors="coerce").fillna(0).to_numpy()
    quarters = alliance["quarter"].tolist()
    running = _active(progs["start"], progs["end"], quarters)  # quarters x programs
    site_running = running[:, site_program] & (site_program >= 0) if running.shape[1] else \
        np.zeros((len(quarters), len(seats)), dtype=bool)
    frame = pd.DataFrame({
        "quarter": pd.Series(quarters, dtype=object),
        "partners": _active(members["start"], members["end"], quarters).sum(axis=1).astype("int64"),
        "programs": running.sum(axis=1).astype("int64"),
        "seats": (site_running * seats).sum(axis=1).astype("int64"),
    })
    frame["participants"] = alliance["participations"].to_numpy(dtype="float64")
    frame["participants_partial"] = alliance["source_rows"].to_numpy(dtype="int64")
    frame["participants_suppressed"] = alliance["participations_suppressed"].to_numpy(dtype=bool)
    return frame


def participations_by_region(engine: Engine, quarters: tuple[str, ...]) -> pd.DataFrame:
    """Participations per region in the given quarters, as suppressed for every page."""
    with engine.connect() as conn:
        cells = protected_cells(engine, conn, **all_programs(quarter=tuple(quarters), student_group="all"))
        names = dict(tuple(r) for r in conn.execute(select(regions.c.region_id, regions.c.name)))
    cells = cells[~cells["region_id"].isin(AGGREGATE_CELLS)]
    return pd.DataFrame({
        "quarter": cells["quarter"], "region_id": cells["region_id"],
        "name": cells["region_id"].map(lambda r: names.get(r, r)),
        "participants": cells["participations"], "participants_suppressed": cells["participations_suppressed"],
    }).sort_values(["quarter", "region_id"]).reset_index(drop=True)


def reach_targets(engine: Engine) -> pd.DataFrame:
    """Alliance-wide reach targets (all students) by quarter: measure, period, target."""
    t = targets.c
    query = select(t.measure, t.period, t.target).where(and_(
        t.measure.in_(("participants", "seats", "partners", "programs")), t.student_group == "all", t.region_id == ""))
    with engine.connect() as conn:
        return pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=["measure", "period", "target"])


def final_targets(engine: Engine) -> dict[str, tuple[str, float]]:
    """Each measure's alliance-wide, all-students target furthest ahead: measure -> (period, target)."""
    t = targets.c
    query = select(t.measure, t.period, t.target).where(and_(t.student_group == "all", t.region_id == "")).order_by(t.period)
    with engine.connect() as conn:
        return {measure: (period, float(target)) for measure, period, target in conn.execute(query)}


def _pace(points, final: tuple[str, float] | None, now: str | None, higher_is_better: bool) -> dict | None:
    """The pace towards a measure's final target, when that target lies ahead of `now`."""
    if final is None or now is None or final[0] <= now:
        return None
    return kpi.pace(points, final[1], final[0], higher_is_better).as_dict()


# --- indicators ------------------------------------------------------------------------------

def indicator_rates(engine: Engine) -> pd.DataFrame:
    """Every indicator's pooled, suppressed all-students rate in every school year, with its
    alliance-wide target for that year (NaN when none). A rate published as the whole 0-100%
    says nothing (domain.formatting.says_nothing) and is returned as the hidden rate it is (suppressed,
    no rate): no status, change, pace or trend point is made of its midpoint."""
    from queries.gaps import group_rates

    with engine.connect() as conn:
        meta = pd.DataFrame([tuple(r) for r in conn.execute(select(
            indicators.c.indicator_id, indicators.c.name, indicators.c.stage, indicators.c.higher_is_better))],
            columns=["indicator_id", "name", "stage", "higher_is_better"])
        t = targets.c
        goals = pd.DataFrame([tuple(r) for r in conn.execute(select(t.measure, t.period, t.target).where(
            and_(t.student_group == "all", t.region_id == "")))], columns=["indicator_id", "school_year", "target"])
    if meta.empty:
        return pd.DataFrame(columns=["indicator_id", "name", "stage", "higher_is_better", "school_year", "rate_low",
                                     "rate_high", "denominator", "suppressed", "target"])
    rates = group_rates(engine, tuple(meta["indicator_id"]), ALLIANCE)
    rates = rates[rates["student_group"] == "all"][["indicator_id", "school_year", "rate_low", "rate_high", "denominator", "suppressed"]]
    blank = [says_nothing(lo, hi) for lo, hi in zip(rates["rate_low"], rates["rate_high"])]
    if any(blank):
        rates = rates.copy()
        rates.loc[blank, ["rate_low", "rate_high"]] = np.nan
        rates.loc[blank, "suppressed"] = True
    out = meta.merge(rates, on="indicator_id", how="left").merge(goals, on=["indicator_id", "school_year"], how="left")
    out["higher_is_better"] = out["higher_is_better"].astype(bool)
    return out.sort_values(["stage", "name", "school_year"]).reset_index(drop=True)


def _rate_value(low, high) -> float | None:
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return None
    return float((low + high) / 2)


# --- what moved, and rural vs non-rural ----------------------------------------------------------

def indicator_moves(indicator_rows: list[dict], n: int = 3) -> list[dict]:
    """The `n` indicators whose all-students rate moved most since the year before (in points,
    midpoints for ranking only), each with its sentence."""
    moved = [i for i in indicator_rows if i.get("value") is not None and i.get("previous") is not None
             and abs(i["value"] - i["previous"]) > kpi.STEADY_POINTS]
    moved.sort(key=lambda i: (-abs(i["value"] - i["previous"]), i["name"]))
    return [{"kind": "indicator", "sentence": sentences.indicator_move(i), "subject": i["name"],
             "previous": i["previous"], "current": i["value"], "unit": "rate"} for i in moved[:n]]


def gap_moves(engine: Engine, year: str | None, prior_year: str | None, n: int = 3) -> list[dict]:
    """The `n` largest clear moves of alliance-wide gaps since the year before: each group's gap
    to its default reference (each comparison once), for groups behind it in either year, where
    the change is beyond the uncertainty (domain.gaps.classify_change)."""
    from queries.gaps import _groups, group_rates

    if not year or not prior_year:
        return []
    with engine.connect() as conn:
        meta = pd.DataFrame([tuple(r) for r in conn.execute(select(
            indicators.c.indicator_id, indicators.c.name, indicators.c.higher_is_better))],
            columns=["indicator_id", "name", "higher_is_better"])
    if meta.empty:
        return []
    rates = group_rates(engine, tuple(meta["indicator_id"]), ALLIANCE, (prior_year, year))
    if rates.empty:
        return []
    labels, complements = _groups(engine)
    higher = dict(zip(meta["indicator_id"], meta["higher_is_better"].astype(bool)))
    names = dict(zip(meta["indicator_id"], meta["name"]))
    by_year = gap_rules.compute_gaps(rates, "complement", higher, complements, reported_within=("indicator_id",))
    moves = []
    for indicator_id, part in by_year.groupby("indicator_id", sort=True):
        for r in gap_rules.comparisons(gap_rules.trend_summary(part)).to_dict("records"):
            if r["years"] < 2 or r["latest_year"] != year or r["previous_year"] != prior_year:
                continue
            if r["recent_verdict"] not in (gap_rules.CLOSING, gap_rules.WIDENING):
                continue
            sign = 1 if r["higher_is_better"] else -1
            behind = any(max(sign * r[f"{p}gap_low"], sign * r[f"{p}gap_high"]) < 0 for p in ("previous_", "latest_"))
            if not behind:
                continue
            moves.append({**{k: _num(v) for k, v in r.items()}, "indicator_id": indicator_id, "name": names[indicator_id],
                          "group_label": labels.get(r["student_group"], r["student_group"]),
                          "reference_label": labels.get(r["reference_group"], r["reference_group"])})
    moves.sort(key=lambda m: (-abs(m["recent_change"]), m["name"], m["student_group"]))
    return [{"kind": "gap", "sentence": sentences.gap_move(m), "subject": f"{m['name']}: {m['group_label']}",
             "previous": m["previous_gap"], "current": m["latest_gap"], "unit": "points",
             "verdict": m["recent_verdict"]} for m in moves[:n]]


def locale_overview(engine: Engine, quarter: str | None, year: str | None) -> dict:
    """Rural against non-rural regions: every indicator's all-students rate in `year`, and
    participations per 1,000 K-12 students in `quarter`, as suppressed for every page."""
    from queries.gaps import group_rates
    from queries.participation import all_programs, protected_cells

    out = {"school_year": year, "quarter": quarter, "indicators": [], "reach": None}
    with engine.connect() as conn:
        meta = pd.DataFrame([tuple(r) for r in conn.execute(select(
            indicators.c.indicator_id, indicators.c.name, indicators.c.stage, indicators.c.higher_is_better))],
            columns=["indicator_id", "name", "stage", "higher_is_better"]).sort_values(["stage", "name"])
        locales = pd.DataFrame([tuple(r) for r in conn.execute(select(regions.c.locale, regions.c.k12_enrollment))],
                               columns=["locale", "k12"])
        cells = protected_cells(engine, conn, **all_programs(region_id=(RURAL.cell, NONRURAL.cell),
                                                             student_group="all", quarter=quarter)) if quarter else None
    if year and not meta.empty:
        areas = {}
        for key, scope in (("rural", RURAL), ("nonrural", NONRURAL)):
            found = group_rates(engine, tuple(meta["indicator_id"]), scope, (year,))
            areas[key] = found[found["student_group"] == "all"].set_index("indicator_id")
        for r in meta.itertuples():
            item = {"indicator_id": r.indicator_id, "name": r.name, "higher_is_better": bool(r.higher_is_better)}
            for key, rows in areas.items():
                row = rows.loc[r.indicator_id] if r.indicator_id in rows.index else None
                item[f"{key}_low"] = None if row is None else _num(row["rate_low"])
                item[f"{key}_high"] = None if row is None else _num(row["rate_high"])
                item[f"{key}_suppressed"] = bool(row is not None and row["suppressed"])
            if any(item[f"{k}_low"] is not None or item[f"{k}_suppressed"] for k in areas):
                out["indicators"].append(item)
    if cells is not None and len(cells):
        rural_k12 = float(pd.to_numeric(locales.loc[locales["locale"] == "rural", "k12"], errors="coerce").sum())
        other_k12 = float(pd.to_numeric(locales.loc[locales["locale"] != "rural", "k12"], errors="coerce").sum())
        reach = {}
        for key, cell, k12 in (("rural", RURAL.cell, rural_k12), ("nonrural", NONRURAL.cell, other_k12)):
            row = cells[cells["region_id"] == cell]
            value = None if row.empty or bool(row["participations_suppressed"].iloc[0]) else _num(row["participations"].iloc[0])
            reach[key] = {"participations": value, "suppressed": bool(len(row) and row["participations_suppressed"].iloc[0]),
                          "k12": k12, "per_1000": None if value is None or not k12 else 1000 * value / k12}
        out["reach"] = reach
    return out


# --- the overview --------------------------------------------------------------------------

def quarters_with_data(engine: Engine) -> list[str]:
    """Quarters with participation data (the alliance's cells of the participation rollup)."""
    c = participation_cells.c
    with engine.connect() as conn:
        return list(conn.execute(select(c.quarter).distinct().where(
            c.region_id == ALLIANCE_CELL, c.student_group == "all").order_by(c.quarter)).scalars())


def _num(value):
    """JSON-safe number: None for NaN."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    return value


def _years_with_data(rates: pd.DataFrame) -> list[str]:
    return sorted(rates.loc[rates["rate_low"].notna() | rates["suppressed"].fillna(False).astype(bool), "school_year"].dropna().unique())


def _indicator_summary(rates: pd.DataFrame, years_with_data: list[str], year: str | None,
                       finals: dict[str, tuple[str, float]] | None = None):
    """Each indicator in `year` against its target, the year before and its final target's
    pace: (prior year, rows, (before, now, higher is better) pairs, trend points up to `year`)."""
    earlier = [y for y in years_with_data if year and y < year]
    prior_year = earlier[-1] if earlier else None
    indicator_rows, pairs, indicator_trends = [], [], []
    for indicator_id, rows in rates.groupby("indicator_id", sort=False):
        first = rows.iloc[0]
        now = rows[rows["school_year"] == year]
        then = rows[rows["school_year"] == prior_year]
        now = now.iloc[0] if len(now) else None
        then = then.iloc[0] if len(then) else None
        low = None if now is None else _num(now["rate_low"])
        high = None if now is None else _num(now["rate_high"])
        target = None if now is None else _num(now["target"])
        higher = bool(first["higher_is_better"])
        value, prev_value = _rate_value(low, high), (None if then is None else _rate_value(then["rate_low"], then["rate_high"]))
        prev_low, prev_high = (None, None) if then is None else (_num(then["rate_low"]), _num(then["rate_high"]))
        pairs.append((prev_low, prev_high, low, high, higher))
        upto = rows[rows["school_year"].notna() & (rows["school_year"] <= (year or ""))]
        final = (finals or {}).get(indicator_id)
        indicator_rows.append({
            "indicator_id": indicator_id, "name": first["name"], "stage": first["stage"], "higher_is_better": higher,
            "school_year": year, "rate_low": low, "rate_high": high, "value": value,
            "suppressed": bool(now is not None and bool(now["suppressed"])),
            "previous_year": prior_year, "previous": prev_value, "target": target,
            "previous_low": prev_low, "previous_high": prev_high,
            "status": kpi.track_status(low, high, target, higher),
            # From the ranges, never their midpoints: overlapping ranges are too close to call.
            "moved": kpi.moved(prev_low, prev_high, low, high, higher, kpi.STEADY_POINTS),
            "final_target": final[1] if final else None, "final_period": final[0] if final else None,
            "pace": _pace(zip(upto["school_year"], upto["rate_low"].map(_num), upto["rate_high"].map(_num)), final, year, higher),
        })
        for _, row in rows[rows["school_year"].notna() & (rows["school_year"] <= (year or ""))].iterrows():
            indicator_trends.append({"indicator_id": indicator_id, "school_year": row["school_year"],
                                     "value": _rate_value(row["rate_low"], row["rate_high"]),
                                     "low": _num(row["rate_low"]), "high": _num(row["rate_high"]),
                                     "suppressed": bool(row["suppressed"]), "target": _num(row["target"])})
    return prior_year, indicator_rows, pairs, indicator_trends


def indicator_overview(engine: Engine) -> dict:
    """The indicators part of the overview for a store without participation data (so without
    quarters): the latest school year with outcomes, against targets and the year before."""
    rates = indicator_rates(engine)
    years_with_data = _years_with_data(rates)
    year = years_with_data[-1] if years_with_data else None
    prior_year, indicator_rows, pairs, indicator_trends = _indicator_summary(rates, years_with_data, year,
                                                                             final_targets(engine))
    n, m = kpi.moving_right_way(pairs)
    limit = threshold()
    return {"school_year": year, "previous_school_year": prior_year, "threshold": limit, "indicators": indicator_rows,
            "indicator_trends": indicator_trends, "headline": {"n": n, "m": m, "text": sentences.headline(n, m)},
            "changes": indicator_moves(indicator_rows, 3) + gap_moves(engine, year, prior_year, 3),
            "locale": locale_overview(engine, None, year),
            "notes": {"suppression": _suppression_note(limit)}}


def _suppression_note(limit: int) -> str:
    return (f"Counts below {limit}, and rates whose denominator is below {limit}, are shown as "
            f"{suppressed_text(limit)}; where one could be worked out by subtraction, a second value is suppressed too.")


def overview(engine: Engine, quarter: str | None = None) -> dict:
    """The board overview of `quarter` (default: the latest with participation data), as a
    JSON-safe dict of suppressed figures. Empty dict when there is no participation data."""
    quarters = quarters_with_data(engine)
    if not quarters:
        return {}
    if quarter not in quarters:
        quarter = quarters[-1]
    previous = previous_quarter(quarter)
    limit = threshold()

    # Reach
    trend = reach_by_quarter(engine, up_to=quarter)
    goals = reach_targets(engine)
    current = trend[trend["quarter"] == quarter].iloc[0]
    before = trend[trend["quarter"] == previous]
    before = before.iloc[0] if len(before) else None
    reach = []
    for measure in REACH_MEASURES:
        value = current[measure]
        hidden = bool(measure == "participants" and current["participants_suppressed"])
        prev_value = None if before is None else before[measure]
        prev_hidden = bool(before is not None and measure == "participants" and before["participants_suppressed"])
        goal = goals[(goals["measure"] == measure) & (goals["period"] == quarter)]["target"]
        target = float(goal.iloc[0]) if len(goal) else None
        shown = None if hidden else _num(value)
        reach.append({
            "measure": measure, "label": REACH_LABELS[measure], "value": shown, "suppressed": hidden,
            "previous": None if prev_hidden else _num(prev_value), "previous_suppressed": prev_hidden,
            "target": target, "status": kpi.track_status(shown, shown, target, True),
            "partial_rows": int(current["participants_partial"]) if measure == "participants" else 0,
        })

    # Indicators
    rates = indicator_rates(engine)
    years_with_data = _years_with_data(rates)
    year = kpi.school_year_for_quarter(quarter, years_with_data)
    prior_year, indicator_rows, pairs, indicator_trends = _indicator_summary(rates, years_with_data, year,
                                                                             final_targets(engine))
    n, m = kpi.moving_right_way(pairs)

    # Changes: reach since the previous quarter; indicators and gaps since the previous school year.
    changes: list[kpi.Change] = []
    since = kpi.quarter_label(previous)
    for item in reach:
        if item["value"] is not None and item["previous"] is not None:
            changes.append(kpi.Change(item["label"], item["previous"], item["value"], since, "count",
                                      True, PARTICIPATION_NOTE if item["measure"] == "participants" else ""))
    by_region = participations_by_region(engine, (previous, quarter))
    if len(by_region):
        wide = by_region.pivot_table(index="name", columns="quarter", values="participants", aggfunc="first")
        if previous in wide and quarter in wide:
            comparable = wide[wide[previous].notna() & wide[quarter].notna() & (wide[previous] >= limit)]
            for name, before_value, value in zip(comparable.index, comparable[previous], comparable[quarter]):
                changes.append(kpi.Change(f"Participations in {name}", float(before_value), float(value), since,
                                          "count", True, "not unique students"))
    reach_changes = [{"kind": "reach", "sentence": sentences.reach_change(c), "subject": c.subject,
                      "previous": c.previous, "current": c.current, "unit": c.unit}
                     for c in kpi.biggest_changes(changes, 3)]
    finals = final_targets(engine)
    for item in reach:
        hidden = trend["participants_suppressed"] if item["measure"] == "participants" else [False] * len(trend)
        values = [None if h or pd.isna(v) else float(v) for v, h in zip(trend[item["measure"]], hidden)]
        points = [(q, v, v) for q, v in zip(trend["quarter"], values)]
        final = finals.get(item["measure"])
        item.update(final_target=final[1] if final else None, final_period=final[0] if final else None,
                    pace=_pace(points, final, quarter, True))
    for item in indicator_rows:
        item["pace"] = item["pace"] if item.get("final_period") else None
    indicator_changes = indicator_moves(indicator_rows, 3)
    gap_changes = gap_moves(engine, year, prior_year, 3)

    with engine.connect() as conn:
        last_import = conn.execute(select(imports.c.source, imports.c.finished_at).order_by(imports.c.import_id.desc()).limit(1)).first()
    return {
        "quarter": quarter,
        "previous_quarter": previous,
        "school_year": year,
        "previous_school_year": prior_year,
        "school_year_rule": school_year_rule(quarter, year),
        "threshold": limit,
        "reach": reach,
        "reach_trend": json.loads(trend.drop(columns=["participants_partial"]).to_json(orient="records")),
        "indicators": indicator_rows,
        "indicator_trends": indicator_trends,
        "headline": {"n": n, "m": m, "text": sentences.headline(n, m)},
        # Every change sentence, by kind: reach since the previous quarter, indicators and gaps
        # since the previous school year (a frozen quarter keeps exactly these sentences).
        "changes": reach_changes + indicator_changes + gap_changes,
        "locale": locale_overview(engine, quarter, year),
        "notes": {
            "participations": PARTICIPATION_NOTE,
            "suppression": _suppression_note(limit),
        },
        "sources": SOURCES,
        "data_as_of": {"source": last_import[0] if last_import else None,
                       "imported_at": last_import[1].isoformat() if last_import and last_import[1] else None},
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def school_year_rule(quarter: str, year: str | None) -> str:
    own = kpi.school_year_of_quarter(quarter)
    rule = (f"{kpi.quarter_label(quarter)} falls in school year {kpi.school_year_label(own)} (school years run July to June)")
    if year is None:
        return rule + "; no school year up to then has outcome data."
    if year == own:
        return rule + "; indicators show that year."
    return rule + f", which has no outcome data yet, so indicators show the latest year with data, {kpi.school_year_label(year)}."


# --- snapshots (written by data/snapshots.py) -----------------------------------------------------

def snapshot(engine: Engine, quarter: str, version: int | None = None) -> dict | None:
    """A frozen overview of a quarter: its latest version, or `version`; None when there is none."""
    query = select(snapshots.c.payload).where(snapshots.c.quarter == quarter)
    query = query.where(snapshots.c.version == version) if version is not None else \
        query.order_by(snapshots.c.version.desc()).limit(1)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return json.loads(row[0]) if row else None


def snapshot_versions(engine: Engine, quarter: str | None = None) -> pd.DataFrame:
    """Every snapshot version (of one quarter, or all), newest first: quarter, version,
    frozen_at, note, frozen_by."""
    query = select(snapshots.c.quarter, snapshots.c.version, snapshots.c.frozen_at, snapshots.c.note,
                   snapshots.c.frozen_by).order_by(snapshots.c.quarter.desc(), snapshots.c.version.desc())
    if quarter is not None:
        query = query.where(snapshots.c.quarter == quarter)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query)]
    return pd.DataFrame(rows, columns=["quarter", "version", "frozen_at", "note", "frozen_by"])


def frozen_quarters(engine: Engine) -> pd.DataFrame:
    """Each frozen quarter with its latest version's date and how many versions it has."""
    query = (select(snapshots.c.quarter, func.max(snapshots.c.frozen_at).label("frozen_at"),
                    func.count().label("versions")).group_by(snapshots.c.quarter).order_by(snapshots.c.quarter))
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query)]
    return pd.DataFrame(rows, columns=["quarter", "frozen_at", "versions"])


def frozen_date(payload: dict) -> str:
    """`2026-01-15` from a snapshot's frozen_at."""
    return (payload.get("frozen_at") or "")[:10]
