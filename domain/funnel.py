"""Funnel maths for K-16 pathway cohorts, in one place: share of the cohort, conversion from the
stage before, the stage where a group falls furthest behind its reference group, checks for
data that cannot be a funnel (counts that rise, stages out of order), and whether each stage's
conversion is improving from cohort to cohort. (The sentences that say it: domain/sentences.py.)

Pure functions on the frames `queries.pathways` returns (already suppressed). Rates are pooled
(numerator and denominator summed over regions, then divided), in percent, and rounded once,
here, to `DECIMALS` places, so that every chart, table, CSV and sentence shows the same number.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain import gaps as gap_rules

DECIMALS = 1
# A conversion that moves less than this many percentage points from the first cohort to the
# last (on a straight-line fit) is "little change".
CHANGE_POINTS = 2.0


def pooled_rate(numerator, denominator):
    """domain.gaps.pooled_rate rounded to the funnel's DECIMALS (see above). Scalars and Series."""
    rate = gap_rules.pooled_rate(numerator, denominator)
    return round(rate, DECIMALS) if isinstance(rate, float) else rate.round(DECIMALS)


def measures(frame: pd.DataFrame) -> pd.DataFrame:
    """Add, per group and stage: `share` (percent of the cohort, i.e. of the first stage),
    `conversion` (percent of the stage before who reached this stage), `status` of the count
    (`shown`, `suppressed` or `missing`) and `rising`: the step cannot be a funnel step because
    counts rise from the stage before everywhere it can be compared (regions where they rise are
    a data problem, listed in `rising_regions` and left out of the conversion)."""
    out = frame.copy()
    out["share"] = pooled_rate(out["share_numerator"], out["share_denominator"]) if len(out) else pd.Series(dtype="float64")
    out["conversion"] = (pooled_rate(out["conversion_numerator"], out["conversion_denominator"])
                         if len(out) else pd.Series(dtype="float64"))
    suppressed = out["students_suppressed"].fillna(False).astype(bool)
    out["status"] = np.where(out["students"].notna(), "shown", np.where(suppressed, "suppressed", "missing"))
    area_rises = (out["conversion_numerator"] > out["conversion_denominator"]).fillna(False).astype(bool)
    only_rising = (out["rising_regions"].fillna(0) > 0) & (out["conversion_regions"].fillna(0) == 0)
    out["rising"] = area_rises | only_rising
    out.loc[out["rising"], "conversion"] = np.nan
    out["share_whole"] = share_whole(out)
    return conversions(out)


def share_whole(measured: pd.DataFrame) -> pd.Series:
    """Whether a share's own counts are exactly the bars: this stage's students of the first
    stage's. A share is pooled over the regions that show both this stage and the first
    (queries.pathways), so where a region shows one and not the other its counts are fewer than
    the bars, and a bar's label must state the share's counts, not the bar's (`43.8% · 2,122 of
    4,845`, never `43.8% · 2,132` where 2,122 of 4,845 is the share)."""
    keys = ["cohort", "student_group"]
    first = (measured.loc[measured["previous_stage_order"].isna(), keys + ["students"]]
             .drop_duplicates(keys).rename(columns={"students": "_first_students"}))
    cohort = measured[keys].merge(first, on=keys, how="left")["_first_students"].to_numpy()
    shown = measured["share"].notna().to_numpy()
    return pd.Series(shown & (measured["share_numerator"].to_numpy() == measured["students"].to_numpy())
                     & (measured["share_denominator"].to_numpy() == cohort), index=measured.index, dtype=bool)


# --- the conversion rule -----------------------------------------------------------------------
#
# A dot states its rate *and* its own counts ("11 of 15"), so a reader can check it against
# the bars. The rule, in one place:
# - a conversion is pooled over the regions that show both this stage and the stage before
#   (queries.pathways pairs them), so a region whose count is suppressed at either stage never
#   drags it down; its counts are those sums, which may be fewer students than the bars when a
#   region shows one stage and not the other (`conversion_whole` says whether they are the bars);
# - the rate, its numerator and its denominator are shown together or hidden together: a rate
#   beside a shown count must never let anyone work out a hidden one (docs/privacy.md). The
#   counts are sums of region counts that are themselves shown, so stating them gives away
#   nothing the regions' own funnels do not; where the stage's or the stage before's area count
#   is suppressed, or the engine hid the rate (a pooled denominator under the threshold), all
#   three are hidden and the dot says "suppressed".

FIRST, CONVERTS, HIDDEN, RISES, NO_DATA, NO_ONE = "first", "shown", "suppressed", "rising", "no data", "no one"
CONVERSION_STATUSES = (FIRST, CONVERTS, HIDDEN, RISES, NO_DATA, NO_ONE)


def conversions(measured: pd.DataFrame) -> pd.DataFrame:
    """Apply the conversion rule to `measures`' frame (any number of cohorts and groups). Adds
    `previous_students` (the bar at the stage before), `conversion_status` (`first`: no stage
    before; `shown`; `suppressed`: a count it needs is hidden; `rising`: counts rise, a data
    problem; `no one`: no student at the stage before; `no data`) and `conversion_whole` (the
    conversion's counts are exactly the two bars: this stage's students of the stage before's).
    Hidden conversions lose their rate and both counts."""
    # Applying the rule twice gives the same frame (its own columns are made afresh).
    out = measured.drop(columns=["previous_students", "conversion_status", "conversion_whole"], errors="ignore")
    keys = ["cohort", "student_group", "stage_order"]
    before = out[keys + ["students", "students_suppressed", "regions_suppressed"]].rename(columns={
        "stage_order": "previous_stage_order", "students": "previous_students",
        "students_suppressed": "_previous_hidden", "regions_suppressed": "_previous_left_out"})
    before["previous_stage_order"] = before["previous_stage_order"].astype("Int64")
    out["previous_stage_order"] = out["previous_stage_order"].astype("Int64")
    out = out.merge(before, on=["cohort", "student_group", "previous_stage_order"], how="left", validate="many_to_one")
    out.index = measured.index
    first = out["previous_stage_order"].isna().to_numpy()
    rising = out["rising"].fillna(False).astype(bool).to_numpy()
    numerator, denominator = out["conversion_numerator"], out["conversion_denominator"]
    counted = (numerator.notna() & denominator.notna() & out["conversion"].notna()).to_numpy()
    # A count involved is hidden: either stage's area count, or the rate itself by the engine.
    area_hidden = (out["students_suppressed"].fillna(False).astype(bool)
                   | out["_previous_hidden"].fillna(False).astype(bool)).to_numpy()
    rate_hidden = (out["rates_suppressed"].fillna(False).astype(bool) & denominator.isna()).to_numpy()
    left_out = ((out["regions_suppressed"].fillna(0) > 0) | (out["_previous_left_out"].fillna(0) > 0)).to_numpy()
    hidden = ~first & ~rising & (area_hidden | rate_hidden | (~counted & left_out))
    shown = ~first & ~rising & ~hidden & counted
    no_one = ~first & ~rising & ~hidden & ~shown & (out["previous_students"] == 0).to_numpy()
    status = np.select([first, rising, shown, hidden, no_one], [FIRST, RISES, CONVERTS, HIDDEN, NO_ONE], NO_DATA)
    for column in ("conversion", "conversion_numerator", "conversion_denominator"):
        # A rising step keeps its counts (the data steward needs them) unless a count is hidden.
        out[column] = out[column].astype("float64").where(shown | (rising & ~area_hidden & ~rate_hidden), np.nan)
    out["conversion_status"] = status
    out["conversion_whole"] = (shown & (numerator == out["students"]).to_numpy()
                               & (denominator == out["previous_students"]).to_numpy())
    return out.drop(columns=["_previous_hidden", "_previous_left_out"])


# --- the stage where a group falls furthest behind ---------------------------------------------

@dataclass(frozen=True)
class Leak:
    stage_order: int
    from_stage: str
    to_stage: str
    group_rate: float  # percent of the group at from_stage who reached to_stage
    reference_rate: float
    gap: float  # reference_rate - group_rate, percentage points (> 0)
    group_students: float = float("nan")  # students at from_stage the group's rate is over
    reference_students: float = float("nan")


    @property
    def material(self) -> bool:
        """Big enough to call a leak: smaller gaps are reported as keeping pace."""
        return self.gap >= MATERIAL_GAP


# Below this many students at the stage before, a gap in conversion may well be chance.
FEW_STUDENTS = 100
# A gap in conversion smaller than this (percentage points) is "keeping pace", not a leak.
MATERIAL_GAP = 2.0


def conversion_gaps(measured: pd.DataFrame, group: str, reference: str) -> pd.DataFrame:
    """Per stage (after the first): the group's and the reference's conversion and the gap in
    points (reference minus group; positive = the group falls behind). Stages where either
    conversion is unknown, or where counts rise (a data problem), have no gap."""
    columns = ["stage_order", "previous_stage", "stage", "group_rate", "reference_rate", "gap",
               "group_students", "reference_students"]
    g = measured[measured["student_group"] == group].set_index("stage_order")
    r = measured[measured["student_group"] == reference].set_index("stage_order")
    if g.empty or r.empty:
        return pd.DataFrame(columns=columns)
    both = g.join(r[["conversion", "rising", "conversion_denominator"]], how="inner", suffixes=("", "_reference"))
    both = both[both["previous_stage_order"].notna()]
    usable = ~(both["rising"] | both["rising_reference"])
    gap = (both["conversion_reference"] - both["conversion"]).where(usable).round(DECIMALS)
    return pd.DataFrame({
        "stage_order": both.index.astype("int64"), "previous_stage": both["previous_stage"].to_numpy(),
        "stage": both["stage"].to_numpy(), "group_rate": both["conversion"].to_numpy(),
        "reference_rate": both["conversion_reference"].to_numpy(), "gap": gap.to_numpy(),
        "group_students": both["conversion_denominator"].to_numpy(dtype="float64"),
        "reference_students": both["conversion_denominator_reference"].to_numpy(dtype="float64"),
    }, columns=columns)


def biggest_leak(measured: pd.DataFrame, group: str, reference: str) -> Leak | None:
    """The stage whose conversion falls furthest below the reference's (the earliest on a tie),
    or None when the group keeps up everywhere or nothing can be compared."""
    gaps = conversion_gaps(measured, group, reference).dropna(subset=["gap"])
    gaps = gaps[gaps["gap"] > 0]
    if gaps.empty:
        return None
    row = gaps.sort_values(["gap", "stage_order"], ascending=[False, True]).iloc[0]
    return Leak(int(row["stage_order"]), str(row["previous_stage"]), str(row["stage"]),
                float(row["group_rate"]), float(row["reference_rate"]), float(row["gap"]),
                float(row["group_students"]), float(row["reference_students"]))


# --- data problems -----------------------------------------------------------------------------

@dataclass(frozen=True)
class DataProblem:
    kind: str  # "rising", "numbering", "names", "repeated"
    stage_order: int | None
    message: str
    partial: bool = False  # only some regions: they are left out, the step is still drawn


def data_problems(measured: pd.DataFrame, stages: pd.DataFrame, group_labels: dict[str, str] | None = None) -> list[DataProblem]:
    """What stops this cohort's data from being a funnel: stage counts that rise instead of
    fall, stage numbers that do not run 1, 2, 3 …, a stage with several names, or one name at
    several stages. `stages` is queries.pathways.stages for the cohort."""
    from domain.sentences import students  # the sentence layer imports this module's rules

    labels = group_labels or {}
    problems: list[DataProblem] = []
    orders = sorted(int(o) for o in stages["stage_order"].unique()) if len(stages) else []
    if orders:
        expected = list(range(1, len(orders) + 1))
        if orders != expected:
            missing = sorted(set(range(1, max(orders) + 1)) - set(orders))
            detail = (f"there is no stage {', '.join(map(str, missing))}" if missing else "")
            problems.append(DataProblem("numbering", None,
                                        f"The stages are numbered {_list(orders)} instead of 1 to {len(orders)}"
                                        + (f": {detail}" if detail else "") + ". Stage 1 should be the whole cohort."))
        names_per_stage = stages.groupby("stage_order")["stage"].nunique()
        for order, count in names_per_stage.items():
            if count > 1:
                variants = stages[stages["stage_order"] == order]
                listed = "; ".join(f"“{row.stage}” ({row.regions} region{'s' if row.regions != 1 else ''})"
                                   for row in variants.itertuples())
                problems.append(DataProblem("names", int(order),
                                            f"Stage {order} has {count} different names in different regions: {listed}."))
        orders_per_name = stages.groupby("stage")["stage_order"].unique()
        for name, at in orders_per_name.items():
            if len(at) > 1:
                problems.append(DataProblem("repeated", int(min(at)),
                                            f"“{name}” appears as stage {_list(sorted(int(o) for o in at))}."))
    flagged = measured[measured["rising"] | (measured["rising_regions"].fillna(0) > 0)]
    for row in flagged.itertuples():
        who = students(labels.get(row.student_group, row.student_group))
        who = "students" if who == "all students" else who
        regions = f"{row.rising_regions} region{'s' if row.rising_regions != 1 else ''}"
        if row.rising:
            where = f"in {regions}" if row.rising_regions else "in this area"
            message = (f"More {who} reached “{row.stage}” than “{row.previous_stage}”, the stage before, {where}. "
                       "Counts along a pathway can only fall, so this step is not drawn as a funnel step.")
        else:
            message = (f"In {regions}, more {who} reached “{row.stage}” than “{row.previous_stage}”, the stage "
                       "before; those regions are left out of this step's conversion.")
        problems.append(DataProblem("rising", int(row.stage_order), message, not row.rising))
    return problems


def _list(values) -> str:
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def is_tidy(problems: list[DataProblem]) -> bool:
    """Whether the stages can be drawn as a funnel at all (numbering and names are sound)."""
    return not any(p.kind in ("numbering", "names", "repeated") for p in problems)


# --- across cohorts ----------------------------------------------------------------------------

def cohort_trend(measured: pd.DataFrame, group: str, reference: str | None = None) -> pd.DataFrame:
    """For each stage (by stage_order, after the first): the group's conversion in the first
    and last cohort that have one, the change on a straight-line fit over all cohorts, and its
    direction (`improving`, `worsening`, `little change`, `not enough cohorts`); with a
    reference group, the same for the gap (reference minus group: `narrowing`, `widening`…).

    `measured` is `measures(queries.pathways.conversion_trend(...))`. Stage names come from the
    latest cohort; cohorts whose counts rise at that stage are left out of the fit.
    """
    columns = ["stage_order", "stage", "previous_stage", "cohorts", "first_cohort", "last_cohort", "first", "last",
               "change", "direction", "gap_first", "gap_last", "gap_change", "gap_direction", "gap_first_cohort",
               "gap_last_cohort", "names", "fewest_students"]
    data = measured[measured["previous_stage_order"].notna()]
    if data.empty:
        return pd.DataFrame(columns=columns)
    usable = data[~data["rising"].astype(bool) & data["conversion"].notna()]
    series = {}
    for who in (group, reference) if reference else (group,):
        part = usable[usable["student_group"] == who]
        series[who] = {order: dict(zip(p["cohort"].astype(int), p["conversion"].astype(float)))
                       for order, p in part.groupby("stage_order")}
    base = usable[usable["student_group"] == group]
    students = {order: dict(zip(p["cohort"].astype(int), p["conversion_denominator"].astype(float)))
                for order, p in base.groupby("stage_order")}
    ordered = data.sort_values(["stage_order", "cohort"])
    latest = ordered.drop_duplicates("stage_order", keep="last").set_index("stage_order")
    names = ordered.groupby("stage_order")["stage"].agg(lambda v: " / ".join(dict.fromkeys(v.astype(str))))
    rows = []
    for order in latest.index:
        g = series[group].get(order, {})
        cohorts = sorted(g)
        fit = _fit(cohorts, [g[c] for c in cohorts])
        row = {
            "stage_order": int(order), "stage": latest.at[order, "stage"], "previous_stage": latest.at[order, "previous_stage"],
            "cohorts": len(cohorts), "first_cohort": cohorts[0] if cohorts else np.nan,
            "last_cohort": cohorts[-1] if cohorts else np.nan, "first": g[cohorts[0]] if cohorts else np.nan,
            "last": g[cohorts[-1]] if cohorts else np.nan, "change": fit,
            "direction": _direction(fit, len(cohorts), ("improving", "worsening")),
            "gap_first": np.nan, "gap_last": np.nan, "gap_change": np.nan, "gap_direction": "",
            "gap_first_cohort": np.nan, "gap_last_cohort": np.nan,
            # Different names in different cohorts: the trend may compare different things.
            "names": names[order],
            # The smallest number of students a cohort's conversion is over: few means noisy.
            "fewest_students": min(students.get(order, {}).values(), default=np.nan),
        }
        if reference:
            r = series[reference].get(order, {})
            both = sorted(set(g) & set(r))
            gap = [round(r[c] - g[c], DECIMALS) for c in both]
            gap_fit = _fit(both, gap)
            row.update(gap_first=gap[0] if gap else np.nan, gap_last=gap[-1] if gap else np.nan, gap_change=gap_fit,
                       gap_direction=_direction(gap_fit, len(gap), ("widening", "narrowing")),
                       gap_first_cohort=both[0] if both else np.nan, gap_last_cohort=both[-1] if both else np.nan)
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _fit(x, y) -> float:
    """Change from the first to the last cohort on a least-squares line (points)."""
    if len(x) < 2:
        return float("nan")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    slope = np.polyfit(x, y, 1)[0]
    return round(float(slope * (x[-1] - x[0])), DECIMALS)


def _direction(change: float, n: int, words: tuple[str, str]) -> str:
    if n < 2 or pd.isna(change):
        return "not enough cohorts"
    if abs(change) < CHANGE_POINTS:
        return "little change"
    return words[0] if change > 0 else words[1]
