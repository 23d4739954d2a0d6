"""Every sentence a reader acts on — headlines, captions, "what changed" — built in one place,
from the same table the chart beside it draws, so a sentence can never say what its chart does
not show.

Rules every sentence here keeps:
- **Ranges stay ranges.** A value from range-coded data (EDFacts `90-94`) or a banded small
  rate is a range: it is written as a range ("between 4 and 12 points below"), never as its
  midpoint, and a midpoint is never stated as exact. A gap whose range spans zero is neither
  behind nor ahead, and is counted and said as such (domain.gaps: `behind`, `ahead`).
- **A range over the whole scale says nothing.** A rate published as 0–100% is a hidden rate
  (domain.formatting.says_nothing), and a gap whose range is as wide as (nearly) the whole
  scale is not comparable (domain.gaps `not_comparable`): neither is counted behind, ahead or
  level, nor stated as a range; each is counted as suppressed or not comparable.
- **Uncertainty decides the verbs.** "Narrowed" and "widened" only where domain.gaps calls
  the change closing or widening (beyond the 95% uncertainty, at least 1 point); otherwise
  "no clear change".
- **Display labels.** Groups are named as a sentence needs them, capitalised properly
  mid-sentence ("Asian students", "English learners", "economically disadvantaged students");
  indicators in lower case mid-sentence unless they start with a name or an acronym.
- **Each comparison once.** Mirrored pairs (domain.gaps `mirrors`) and reference rows are left
  out, as the charts leave them out.
- Numbers are written by domain.formatting: a true minus sign, counts with thousands
  separators, rates that read `90–94%` or `≈94%`.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from domain import funnel as funnel_rules
from domain import gaps as gap_rules
from domain.formatting import count_text, rate_text, says_nothing, signed, suppressed_text, unsigned
from domain.periods import school_year_label
from domain.memo import memo_builders

# Group labels that are names (or start with one) and keep their capital mid-sentence.
_PROPER = ("Asian", "Black", "Hispanic", "Latino", "White", "American Indian", "Alaska Native", "Native Hawaiian",
           "Pacific Islander", "English", "Two or more")
_OWN_NOUN = ("students", "learners", "disabilities", "students)")


# --- words ---------------------------------------------------------------------------------------

def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym (`STEM`, `AP`) or a name."""
    first = text.split(" ", 1)[0]
    numbered = text.split(" ", 2)[1:2] in (["I"], ["II"])  # a course: `Algebra I by grade 9`
    if not text or text.startswith(_PROPER) or (len(first) > 1 and first[:2].isupper()) or first in ("I", "K-12") or numbered:
        return text
    return text[0].lower() + text[1:]


def students(label: str, start: bool = False) -> str:
    """A student group as the subject of a sentence: `Asian` -> `Asian students`, `Economically
    disadvantaged` -> `economically disadvantaged students` mid-sentence, `English learners` and
    `Students with disabilities` keep their own noun. `start`: capitalised to open a sentence."""
    label = str(label).strip()
    lower = label.lower()
    if lower == "two or more races":
        phrase = "students of two or more races"
    elif lower.endswith(_OWN_NOUN) or lower.startswith("students"):
        phrase = _lower_first(label)
    else:
        phrase = f"{_lower_first(label)} students"
    return phrase[:1].upper() + phrase[1:] if start else phrase


def indicator(name: str) -> str:
    """An indicator's name mid-sentence: `Four-year graduation rate` -> `four-year graduation
    rate`; `STEM credential` stays."""
    return _lower_first(str(name))


def year(value) -> str:
    return school_year_label(value) if isinstance(value, str) and value else "an unknown year"


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _is(count: int) -> str:
    return "is" if count == 1 else "are"


def _k_of_n(k: int, n: int, noun: str, rest: str) -> str:
    """`3 of 8 groups are behind`, `1 of 1 group is behind`, `none of the 3 groups is behind`."""
    nouns = noun if n == 1 else noun + "s"
    if k == 0:
        return f"{'the one' if n == 1 else f'none of the {n}'} {nouns} {'is not' if n == 1 else 'is'} {rest}"
    return f"{k} of {n} {nouns} {_is(k)} {rest}"


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


# --- numbers in words ----------------------------------------------------------------------------

def rate(low, high) -> str:
    """A rate in a sentence: `78%`, `90–94%`, or `≈94%`."""
    return rate_text(low, high, 0, exact_digits=1) or "no rate"


def gap_size(low, high) -> str:
    """How far apart, without direction: `9.3 points`, or `between 4 and 12 points` for a range
    on one side of zero (a range that spans zero has no size without its sign: see gap_text)."""
    if abs(high - low) < 1e-9:
        return f"{unsigned(low)} points"
    ends = sorted((abs(low), abs(high)))
    a, b = unsigned(ends[0], 0), unsigned(ends[1], 0)
    return f"about {a} points" if a == b else f"between {a} and {b} points"


def gap_text(low, high) -> str:
    """A signed gap in a sentence: `−9.3 points`; a range `between −12 and +4 points`, or
    `about −4 points` when its ends round alike."""
    if _missing(low) or _missing(high):
        return "no gap"
    if abs(high - low) < 1e-9:
        return f"{signed(low)} points"
    a, b = signed(low, 0), signed(high, 0)
    return f"about {a} points" if a == b else f"between {a} and {b} points"


def _gap_of(row, prefix: str = "") -> str:
    return gap_text(row[f"{prefix}gap_low"], row[f"{prefix}gap_high"])


def _comparisons(frame: pd.DataFrame) -> pd.DataFrame:
    return gap_rules.comparisons(frame)


def _not_comparable(rows: pd.DataFrame) -> pd.Series:
    """Rows whose gap is left out for a range as wide as the scale (domain.gaps `not_comparable`)."""
    if "not_comparable" not in rows:
        return pd.Series(False, index=rows.index)
    return rows["not_comparable"].fillna(False).astype(bool)


# --- 1. gaps for one indicator --------------------------------------------------------------------

def gap_caption(table: pd.DataFrame, indicator_name: str, higher_is_better: bool, school_year: str) -> str:
    """The gap chart's caption: the largest gap behind, then how many groups are behind, ahead
    or neither, and how many are suppressed."""
    rows = _comparisons(table)
    with_gap = rows[rows["gap"].notna()]
    name, when = indicator(indicator_name), year(school_year)
    hidden = int(rows["suppressed"].astype(bool).sum())
    hidden_text = f"{_n(hidden, 'group')} {_is(hidden)} suppressed to protect small numbers" if hidden else ""
    wide = int(_not_comparable(rows).sum())
    if wide:
        hidden_text += ("; " if hidden_text else "") + (
            f"{_n(wide, 'group')} {_is(wide)} not comparable with {'its' if wide == 1 else 'their'} reference group "
            "(both rates are bands so wide that the gap could be anything)")
    if with_gap.empty:
        why = hidden_text or "too few students, or no data"
        return f"No group has a gap that can be shown for {name} in {when}: {why}."
    behind = with_gap[with_gap["behind"].astype(bool)]
    ahead = with_gap[with_gap["ahead"].astype(bool)]
    spanning = with_gap[~with_gap["behind"].astype(bool) & ~with_gap["ahead"].astype(bool)]
    if len(behind):
        worst = behind.sort_values("standing", kind="stable").iloc[0]
        where = "below" if worst["gap"] < 0 else "above"
        better = "" if higher_is_better else " (lower is better)"
        first = (f"In {when}, the largest gap in {name} is for {students(worst['group_label'])}: "
                 f"{rate(worst['rate_low'], worst['rate_high'])}, {gap_size(worst['gap_low'], worst['gap_high'])} "
                 f"{where} {students(worst['reference_label'])} "
                 f"({rate(worst['reference_rate_low'], worst['reference_rate_high'])}){better}")
    else:
        first = f"In {when}, no group is clearly behind its reference group in {name}"
    counts = _k_of_n(len(behind), len(with_gap), "group", "behind their reference group")
    if len(ahead):
        counts += f", {len(ahead)} ahead"
    if len(spanning):
        counts += (f", and {len(spanning)} can be called neither (a range that spans zero, or no gap at all)"
                   if spanning["approximate"].astype(bool).any() else f", and {len(spanning)} level with it")
    return f"{first}; {counts}" + (f"; {hidden_text}" if hidden_text else "") + "."


# --- 2. over time --------------------------------------------------------------------------------

def _change_amount(row, prefix: str = "") -> str:
    """How much a gap moved, for a verdict that says it moved: `2.0 points`, or a range."""
    change = row[f"{prefix}change"]
    if not row["approximate"]:
        return f"{unsigned(change)} points"
    earlier = "first" if prefix == "" else "previous"
    low = row["latest_gap_low"] - row[f"{earlier}_gap_high"]
    high = row["latest_gap_high"] - row[f"{earlier}_gap_low"]
    return gap_size(low, high)


def _verdict_clause(row, prefix: str = "") -> str:
    verdict = row[f"{prefix}verdict"]
    if verdict == gap_rules.CLOSING:
        return f"it narrowed by {_change_amount(row, prefix)}, more than the uncertainty from group sizes"
    if verdict == gap_rules.WIDENING:
        return f"it widened by {_change_amount(row, prefix)}, more than the uncertainty from group sizes"
    return "no clear change, within the uncertainty that group sizes give (or under 1 point)"


def trend_caption(summary: pd.DataFrame, group: str, indicator_name: str) -> str:
    """One group's gap over the years: over the whole period and since the year before, each
    with its verdict."""
    rows = summary[summary["student_group"] == group]
    if rows.empty:
        return f"{indicator_name}: no school year has a value for this group in this area, so there is no gap to show."
    row = rows.iloc[0]
    if row["is_reference"]:
        return f"{indicator_name}: no gap to show, this group is the reference group itself; choose another group or reference."
    subject = students(row["group_label"])
    if row["years"] == 0:
        return (f"No school year has a gap that can be shown for {subject} in {indicator(indicator_name)} "
                "(suppressed or missing years are left out).")
    if row["years"] == 1:
        return (f"Only {year(row['latest_year'])} has a gap that can be shown for {subject} "
                f"({_gap_of(row, 'latest_')}), so there is no trend yet.")
    sentence = (f"The gap between {subject} and {students(row['reference_label'])} went from {_gap_of(row, 'first_')} "
                f"in {year(row['first_year'])} to {_gap_of(row, 'latest_')} in {year(row['latest_year'])}: "
                f"{_verdict_clause(row)}.")
    if row["years"] > 2:
        since = f"Since {year(row['previous_year'])}, when it was {_gap_of(row, 'previous_')}"
        if row["recent_verdict"] in (gap_rules.CLOSING, gap_rules.WIDENING):
            sentence += f" {since}, {_verdict_clause(row, 'recent_')}."
        else:
            sentence += f" {since}, it has not clearly changed."
    return sentence


OVERTOOK = "overtook"


def _verdicts(rows: pd.DataFrame, earlier: str, verdict: str) -> pd.Series:
    """Each row's verdict, with a clear move from behind the reference group to ahead of it
    called `overtook` (by size alone it could read as a gap that widened)."""
    sign = np.where(rows["higher_is_better"].fillna(True).astype(bool), 1.0, -1.0)
    was_behind = np.maximum(sign * rows[f"{earlier}_gap_low"], sign * rows[f"{earlier}_gap_high"]) < 0
    now_ahead = np.minimum(sign * rows["latest_gap_low"], sign * rows["latest_gap_high"]) > 0
    moved = rows[verdict].isin([gap_rules.CLOSING, gap_rules.WIDENING])
    return rows[verdict].where(~(moved & was_behind & now_ahead), OVERTOOK)


def _overtook_part(count: int) -> str:
    return f" and {count} overtook {'its' if count == 1 else 'their'} reference group" if count else ""


def change_caption(summary: pd.DataFrame) -> str:
    """Every group's gap over the period and since the year before: how many closed, widened or
    overtook, and the largest move."""
    rows = _comparisons(summary)
    rows = rows[rows["first_gap"].notna()]
    if rows.empty:
        return "There are not enough school years with shown values to tell whether any gap is closing."
    counts = _verdicts(rows, "first", "verdict").value_counts()
    closing, widening = int(counts.get(gap_rules.CLOSING, 0)), int(counts.get(gap_rules.WIDENING, 0))
    still, overtook = int(counts.get(gap_rules.NO_CLEAR_CHANGE, 0)), int(counts.get(OVERTOOK, 0))
    parts = [f"{'no gap is' if not closing else _n(closing, 'gap') + ' ' + _is(closing)} closing",
             f"{widening} {'is' if widening == 1 else 'are'} widening",
             f"{still} {'shows' if still == 1 else 'show'} no clear change beyond the uncertainty that group sizes give"]
    if overtook:
        parts.insert(2, f"{overtook} {'has' if overtook == 1 else 'have'} overtaken {'its' if overtook == 1 else 'their'} "
                        "reference group")
    text = (f"Between {year(rows['first_year'].min())} and {year(rows['latest_year'].max())}, "
            f"{', '.join(parts[:-1])} and {parts[-1]}")
    recent = rows[rows["years"] > 2]
    if len(recent):
        moved = _verdicts(recent, "previous", "recent_verdict").value_counts()
        narrowed, widened = int(moved.get(gap_rules.CLOSING, 0)), int(moved.get(gap_rules.WIDENING, 0))
        text += (f"; since the year before, {narrowed} narrowed{',' if moved.get(OVERTOOK) else ' and'} {widened} widened"
                 f"{_overtook_part(int(moved.get(OVERTOOK, 0)))}")
    moved = rows[rows["verdict"].isin([gap_rules.CLOSING, gap_rules.WIDENING])]
    if len(moved):
        top = moved.assign(_size=moved["change"].abs()).sort_values("_size", ascending=False, kind="stable").iloc[0]
        if _verdicts(moved, "first", "verdict")[top.name] == OVERTOOK:
            text += (f". The largest move: {students(top['group_label'])} overtook {students(top['reference_label'])}, "
                     f"from {_gap_of(top, 'first_')} to {_gap_of(top, 'latest_')}")
        else:
            verb = "narrowed" if top["verdict"] == gap_rules.CLOSING else "widened"
            text += (f". The largest move: the gap for {students(top['group_label'])} {verb} by {_change_amount(top)}, "
                     f"from {_gap_of(top, 'first_')} to {_gap_of(top, 'latest_')}")
    return text + "."


# --- 3. every indicator at once ------------------------------------------------------------------

def heatmap_caption(heat: pd.DataFrame, school_year: str) -> str:
    cells = _comparisons(heat)
    with_gap = cells[cells["gap"].notna()]
    when = year(school_year)
    if with_gap.empty:
        return f"No gap can be shown for {when}."
    behind = with_gap[with_gap["behind"].astype(bool)]
    text = f"In {when}, " + _k_of_n(len(behind), len(with_gap), "group-and-indicator pair", "behind their reference group")
    spanning = with_gap[~with_gap["behind"].astype(bool) & ~with_gap["ahead"].astype(bool) & with_gap["approximate"].astype(bool)]
    if len(spanning):
        text += f" ({len(spanning)} more can be called neither: their range spans zero)"
    if len(behind):
        worst = behind.sort_values("standing", kind="stable").iloc[0]
        text += (f"; the widest gap is {students(worst['group_label'])} in {indicator(worst['indicator_name'])} "
                 f"({gap_text(worst['gap_low'], worst['gap_high'])})")
    hidden = int((cells["suppressed"].astype(bool) | cells["reference_suppressed"].astype(bool)).sum())
    wide = int(_not_comparable(cells).sum())  # drawn as S too: wide bands of small numbers hide them
    if hidden:
        text += f"; {_n(hidden, 'cell')} (S) {_is(hidden)} suppressed to protect small numbers"
    if wide:
        text += (f"; {_n(wide, 'cell')} (S) {_is(wide)} not comparable (both rates are bands so wide that the gap "
                 "could be anything)")
    return text + "."


# --- 4. rural vs non-rural -----------------------------------------------------------------------

def _margin(row) -> float:
    value = row.get("margin")
    return 0.0 if _missing(value) else float(value)


def further_behind(a, b) -> bool:
    """Whether gap `a` is behind its reference and clearly further behind than gap `b`: the
    difference, ranges kept, lies beyond the 95% uncertainty of both gaps and is at least
    domain.gaps.MIN_CHANGE_POINTS — the rule that calls a gap closing or widening. By point
    values alone a group ahead in both areas, or within a few students' noise, counted."""
    if not bool(a["behind"]):
        return False
    uncertainty = math.hypot(_margin(a), _margin(b))
    difference = b["standing_low"] - a["standing_high"]  # how far a stands behind b, at the least
    return difference - uncertainty > 0 and difference >= gap_rules.MIN_CHANGE_POINTS


def locale_caption(locale: pd.DataFrame, school_year: str) -> str:
    rows = _comparisons(locale)
    rows = rows[rows["gap"].notna()]
    rural = rows[rows["area"] == "Rural regions"].set_index("student_group")
    other = rows[rows["area"] == "Non-rural regions"].set_index("student_group")
    both = [g for g in rural.index if g in other.index]
    when = year(school_year)
    if not both:
        return (f"In {when} no group has a gap that can be shown in both rural and non-rural regions "
                "(too few students, or no data).")
    worse = [g for g in both if further_behind(rural.loc[g], other.loc[g])]
    text = f"In {when}, " + _k_of_n(len(worse), len(both), "group", "clearly further behind in rural regions than in "
                                    "non-rural ones (beyond the uncertainty that group sizes give)")
    behind = worse or [g for g in both if bool(rural.loc[g, "behind"])
                       and rural.loc[g, "standing"] < other.loc[g, "standing"]]
    if behind:
        top = min(behind, key=lambda g: rural.loc[g, "standing"] - other.loc[g, "standing"])
        r, o = rural.loc[top], other.loc[top]
        figures = f"{gap_text(r['gap_low'], r['gap_high'])} in rural regions, {gap_text(o['gap_low'], o['gap_high'])} elsewhere"
        text += (f"; the biggest difference is for {students(r['group_label'])}: {figures}" if worse else
                 f"; the largest difference, for {students(r['group_label'])} ({figures}), is within that uncertainty")
    return text + "."


# --- the board overview --------------------------------------------------------------------------

def headline(n: int, m: int) -> str:
    if m == 0:
        return "No measure has a rate in two school years yet, so none can be said to be moving."
    return f"{n} of {m} measures moving the right way"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _way(better: bool | None) -> str:
    return "" if better is None else " That is the right way." if better else " That is the wrong way."


def reach_change(change) -> str:
    """A count or rate that changed between two periods (a domain.kpi.Change):
    `Participations rose from 1,200 in 2025 Q2 to 1,380 (+180, +15%). That is the right way.`"""
    from domain.kpi import STEADY_POINTS, direction

    rate_unit = change.unit == "rate"
    shown = (lambda v: f"{v:.1f}%") if rate_unit else _count
    if change.delta == 0 or (rate_unit and abs(change.delta) <= STEADY_POINTS):
        text = f"{change.subject} held steady at {shown(change.current)} since {change.since}."
    else:
        verb = "rose" if change.delta > 0 else "fell"
        if rate_unit:
            detail = f"{signed(change.delta)} points"
        else:
            percent = "" if change.previous == 0 else f", {signed(100 * change.delta / change.previous, 0)}%"
            detail = f"{'+' if change.delta > 0 else '−'}{_count(abs(change.delta))}{percent}"
        text = f"{change.subject} {verb} from {shown(change.previous)} in {change.since} to {shown(change.current)} ({detail})."
        if change.higher_is_better is not None:
            text += _way(direction(change.previous, change.current, change.higher_is_better) == "better")
    if change.note:
        text += f" ({change.note[0].upper()}{change.note[1:]}.)"
    return text


def indicator_move(item: dict) -> str:
    """An indicator's all-students rate since the year before, a range where either year is one:
    `Chronic absence fell from 19.7% in 2023–24 to 17.6% in 2024–25 (−2.1 points). That is the
    right way.`; ranges that overlap give no direction."""
    before = rate(item["previous_low"], item["previous_high"])
    now = rate(item["rate_low"], item["rate_high"])
    since, when = year(item["previous_year"]), year(item["school_year"])
    low = item["rate_low"] - item["previous_high"]
    high = item["rate_high"] - item["previous_low"]
    if low < 0 < high and abs(high - low) > 1e-9:
        return (f"{item['name']} moved from {before} in {since} to {now} in {when}: a change of between "
                f"{signed(low, 0)} and {signed(high, 0)} points, so no clear direction (range-coded data).")
    verb = "rose" if low + high > 0 else "fell"
    change = f"{signed(low)} points" if abs(high - low) < 1e-9 else f"between {signed(low, 0)} and {signed(high, 0)} points"
    better = (verb == "rose") == bool(item["higher_is_better"])
    return f"{item['name']} {verb} from {before} in {since} to {now} in {when} ({change}).{_way(better)}"


def standing_text(low, high, higher_is_better: bool) -> str:
    """A gap as how far behind or ahead of the reference: `18.6 points behind`, `between 4 and 9
    points ahead`, or `level (between −3 and +2 points)` for a range that spans zero."""
    if _missing(low) or _missing(high):
        return "no gap"
    sign = 1 if higher_is_better else -1
    a, b = sorted((sign * low, sign * high))
    if b < 0:
        return f"{gap_size(a, b)} behind"
    if a > 0:
        return f"{gap_size(a, b)} ahead"
    if abs(b - a) < 1e-9:
        return "level"
    return f"neither behind nor ahead (between {signed(a, 0)} and {signed(b, 0)} points)"


def gap_move(move: dict) -> str:
    """A gap (to the group's default reference) that clearly narrowed or widened since the year
    before, for a group behind its reference in either year: narrowing is the right way; a
    group that overtook its reference is said to have done so."""
    higher = bool(move["higher_is_better"])
    before = standing_text(move["previous_gap_low"], move["previous_gap_high"], higher)
    now = standing_text(move["latest_gap_low"], move["latest_gap_high"], higher)
    subject = f"{students(move['group_label'], start=True)} were {before} {students(move['reference_label'])} in " \
              f"{indicator(move['name'])} in {year(move['previous_year'])}"
    if before.endswith("behind") and now.endswith("ahead"):
        return (f"{subject}; in {year(move['latest_year'])} they were {now}: they overtook them, beyond the uncertainty "
                f"from group sizes.{_way(True)}")
    verb = "narrowed" if move["recent_verdict"] == gap_rules.CLOSING else "widened"
    return (f"{subject}; in {year(move['latest_year'])}, {now}: the gap {verb}, beyond the uncertainty from group "
            f"sizes.{_way(verb == 'narrowed')}")


def _period(value: str | None) -> str:
    from domain.periods import quarter_label

    if not value:
        return "never"
    return quarter_label(value) if "-Q" in value else school_year_label(value)


PACE_HORIZON_YEARS = 20


def pace_parts(item: dict, unit: str = "rate") -> dict | None:
    """A measure's final target in parts, for a table: `target` (`92.0% by 2029–30`), `to_go`
    (`7.0 points`, a range, or `met`), `at_pace` (`2032–33 (95% range 2031–32 to 2033–34)`) and
    `verdict` (`in time`, `too late`, `too close to call`, …); None without a target ahead."""
    from domain import kpi

    pace = item.get("pace")
    if not pace:
        return None
    shown = (lambda v: f"{v:.1f}%") if unit == "rate" else _count
    parts = {"target": f"{shown(pace['target'])} by {_period(pace['target_period'])}", "to_go": "", "at_pace": "",
             "verdict": ""}
    if pace["status"] == kpi.MET:
        return {**parts, "to_go": "met", "verdict": "already met"}
    if pace["status"] == kpi.NO_DATA:
        return {**parts, "verdict": "no shown value to measure from"}
    lo, hi = pace["to_go_low"], pace["to_go_high"]
    amount = (lambda v: f"{v:.1f} points") if unit == "rate" else _count
    parts["to_go"] = amount(lo) if abs(hi - lo) < 1e-9 else f"between {amount(lo)} and {amount(hi)}"
    if pace["status"] == kpi.TOO_FEW:
        return {**parts, "verdict": "too few periods to tell the pace"}
    if pace["status"] == kpi.AWAY:
        return {**parts, "at_pace": "not reached", "verdict": "the trend is not moving towards it"}
    # Beyond a horizon of PACE_HORIZON_YEARS after the target period a year is not worth naming.
    horizon = kpi.period_number(pace["target_period"]) + PACE_HORIZON_YEARS
    beyond = kpi.period_at(horizon, pace["target_period"])
    far = lambda p: p is None or kpi.period_number(p) > horizon  # noqa: E731
    when = f"later than {_period(beyond)}" if far(pace["reached"]) else _period(pace["reached"])
    late = f"later than {_period(beyond)}" if far(pace["reached_late"]) else _period(pace["reached_late"])
    spread = ("95% range: all later than " + _period(beyond) if far(pace["reached_early"])
              else f"95% range {_period(pace['reached_early'])} to {late}")
    verdict = {kpi.ON_PACE: "in time", kpi.OFF_PACE: "too late", kpi.UNCLEAR: "too close to call"}
    return {**parts, "at_pace": f"{when} ({spread})", "verdict": verdict[pace["status"]]}


def pace_text(item: dict, unit: str = "rate") -> str:
    """A measure's final target, the distance still to go, and where the current pace takes it:
    `target 92.0% by 2029–30: 7.0 points to go; at this pace: 2032–33 (95% range 2031–32 to
    2032–33), too late`."""
    parts = pace_parts(item, unit)
    if parts is None:
        return ""
    text = f"target {parts['target']}: "
    if parts["to_go"] == "met" or not parts["to_go"]:
        return text + parts["verdict"]
    text += f"{parts['to_go']} to go; "
    if not parts["at_pace"]:
        return text + parts["verdict"]
    if parts["at_pace"] == "not reached":
        return text + f"at this pace it is not reached: {parts['verdict']}"
    return text + f"at this pace: {parts['at_pace']}, {parts['verdict']}"


def target_text(item: dict, unit: str = "count") -> str:
    """A measure's target for this period and its status, then its final target's pace:
    `target 3,850: off track; target 4,040 by 2025 Q4: 190 to go; at this pace: …`."""
    target = item.get("target")
    now = "no target set for this period" if target is None else \
        f"target {_count(target) if unit == 'count' else f'{target:.1f}%'}: {item['status']}"
    ahead = pace_text(item, unit)
    return f"{now}; {ahead}" if ahead else now


def indicator_caption(payload: dict) -> str:
    from domain import kpi

    items = payload.get("indicators", [])
    counts = {s: sum(i["status"] == s for i in items) for s in (kpi.ON_TRACK, kpi.OFF_TRACK, kpi.NO_TARGET)}
    when = year(payload.get("school_year")) if payload.get("school_year") else "no year"
    text = (f"{_n(counts[kpi.ON_TRACK], 'indicator')} on track, {counts[kpi.OFF_TRACK]} off track and "
            f"{counts[kpi.NO_TARGET]} without a target in {when}; bars are pooled all-students rates, black ticks the "
            "board's targets for the year")
    paced = [i["pace"] for i in items if i.get("pace")]
    if paced:
        # Already met, on pace and too close to call are different answers: each is counted.
        words = ((kpi.MET, "already met"), (kpi.ON_PACE, "on pace to reach it in time"),
                 (kpi.UNCLEAR, "too close to call"), (kpi.OFF_PACE, "too late at the current pace"),
                 (kpi.AWAY, "moving away from it"), (kpi.TOO_FEW, "too few years to tell"),
                 (kpi.NO_DATA, "no value to measure from"))
        parts = [f"{n} {word}" for status, word in words if (n := sum(p["status"] == status for p in paced))]
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        text += f". Of the {_n(len(paced), 'indicator')} with a final target: {listed}"
    return text + "."


def reach_caption(payload: dict) -> str:
    from domain.periods import quarter_label

    parts = []
    for item in payload.get("reach", []):
        if item.get("value") is None:
            continue
        target = f" against a target of {_count(item['target'])}" if item.get("target") is not None else ""
        parts.append(f"{_count(item['value'])} {item['label'].lower()}{target}")
    when = quarter_label(payload["quarter"])
    return (f"Reach in {when}: " + ", ".join(parts) + ". Participations are enrolments, not unique students."
            if parts else f"No reach figures for {when}.")


def trends_caption(payload: dict) -> str:
    """The trend panels' caption; counts the years left out of the lines as the panels mark them
    (a hidden rate, or a range over the whole 0–100%, which says nothing)."""
    upto = year(payload["school_year"]) if payload.get("school_year") else "the latest year"
    text = (f"Each indicator's pooled all-students rate by school year up to {upto}, with the board's targets as black "
            "ticks; a year known only as a range (range-coded data) is drawn as a range")
    names = {i["indicator_id"] for i in payload.get("indicators", [])}
    hidden = [p for p in payload.get("indicator_trends", []) if p.get("indicator_id") in names
              and (p.get("suppressed") or says_nothing(p.get("low"), p.get("high")))]
    if hidden:
        text += (f". {_n(len(hidden), 'year')} with {'its' if len(hidden) == 1 else 'their'} rate suppressed to protect small numbers "
                 f"{_is(len(hidden))} left out of the line{'s' if len({p['indicator_id'] for p in hidden}) > 1 else ''} "
                 "and marked ▨")
    return text + "."


def _rural_side(item: dict) -> str:
    """`behind`, `ahead` or `` for rural regions against non-rural ones, by non-overlapping ranges."""
    if any(item.get(k) is None for k in ("rural_low", "rural_high", "nonrural_low", "nonrural_high")):
        return ""
    sign = 1 if item["higher_is_better"] else -1
    low = min(sign * (item["rural_low"] - item["nonrural_high"]), sign * (item["rural_high"] - item["nonrural_low"]))
    high = max(sign * (item["rural_low"] - item["nonrural_high"]), sign * (item["rural_high"] - item["nonrural_low"]))
    return "behind" if high < 0 else "ahead" if low > 0 else "level"


def rural_caption(locale: dict | None) -> str:
    """Rural against non-rural regions on the overview and in the packet."""
    if not locale:
        return "Rural against non-rural regions is not part of this frozen overview."
    items = locale.get("indicators", [])
    compared = [i for i in items if _rural_side(i)]
    parts = []
    if compared:
        behind = [i for i in compared if _rural_side(i) == "behind"]
        ahead = [i for i in compared if _rural_side(i) == "ahead"]
        when = year(locale.get("school_year"))
        text = (f"In {when}, rural regions are behind non-rural ones on {len(behind)} of {_n(len(compared), 'indicator')} "
                f"and ahead on {len(ahead)}")
        if behind:
            sign = lambda i: 1 if i["higher_is_better"] else -1  # noqa: E731
            worst = min(behind, key=lambda i: sign(i) * ((i["rural_low"] + i["rural_high"]) - (i["nonrural_low"] + i["nonrural_high"])))
            text += (f"; the widest difference is {indicator(worst['name'])}: {rate(worst['rural_low'], worst['rural_high'])} "
                     f"in rural regions against {rate(worst['nonrural_low'], worst['nonrural_high'])} elsewhere")
        parts.append(text + ".")
    elif items:
        parts.append("No indicator has a rate that can be shown in both rural and non-rural regions.")
    reach = locale.get("reach")
    if reach and all(reach[k]["per_1000"] is not None for k in ("rural", "nonrural")):
        from domain.periods import quarter_label

        parts.append(f"Participations per 1,000 K-12 students in {quarter_label(locale['quarter'])}: "
                     f"{reach['rural']['per_1000']:,.0f} in rural regions, {reach['nonrural']['per_1000']:,.0f} elsewhere "
                     "(participations are enrolments, not unique students).")
    elif reach:
        parts.append("Participations in rural or non-rural regions are suppressed to protect small numbers.")
    return " ".join(parts) or "There are no outcome or participation figures for rural and non-rural regions."


# --- pathway funnels -----------------------------------------------------------------------------

def group_name(label: str) -> str:
    """A group's label mid-sentence, without a noun: `economically disadvantaged`, `English learners`."""
    return _lower_first(str(label))


def percent(value: float) -> str:
    return f"{value:.{funnel_rules.DECIMALS}f}%"


def leak_sentence(leak: funnel_rules.Leak | None, group_label: str, reference_label: str, compared: bool = True) -> str:
    """One sentence, with the numbers, naming the stage where the group loses the most ground."""
    group_students = students(group_label, start=True)
    reference_students = students(reference_label)
    if leak is None:
        if not compared:
            return (f"No stage's conversion can be compared between {students(group_label)} and "
                    f"{reference_students} in this view.")
        return f"{group_students} continue at least as often as {reference_students} at every stage that can be compared."
    if not leak.material:
        return (f"{group_students} keep pace with {reference_students} at every stage: the largest gap in going on "
                f"is {leak.gap:.{funnel_rules.DECIMALS}f} points, between “{leak.from_stage}” and “{leak.to_stage}” "
                f"({percent(leak.group_rate)} against {percent(leak.reference_rate)}).")
    sentence = (f"{group_students} lose the most ground between “{leak.from_stage}” and “{leak.to_stage}”: "
                f"{percent(leak.group_rate)} continue, against {percent(leak.reference_rate)} of {reference_students} "
                f"({leak.gap:.{funnel_rules.DECIMALS}f} points fewer).")
    if min(leak.group_students, leak.reference_students) < funnel_rules.FEW_STUDENTS:
        sentence += (f" Only {leak.group_students:,.0f} and {leak.reference_students:,.0f} students reached "
                     f"“{leak.from_stage}”, so a gap this size may be chance.")
    return sentence


# A dot's counts when they are not the bars (regions show one stage and not the other): the mark
# beside its label, explained under the chart by conversion_note.
PARTIAL_MARK = "†"


def conversion_counts(went_on, before) -> str:
    """A conversion's own counts as written beside its dot: `11 of 15` (thousands separated)."""
    return f"{count_text(went_on)} of {count_text(before)}"


def conversion_word(status: str, limit: int) -> str:
    """What a dot without a rate says instead: the one suppressed wording where a count it needs
    is hidden, or why there is no conversion."""
    return {
        funnel_rules.HIDDEN: suppressed_text(limit),
        funnel_rules.RISES: "counts rise",
        funnel_rules.NO_ONE: "no one at the stage before",
        funnel_rules.NO_DATA: "no data",
        funnel_rules.FIRST: "",
    }.get(status, "no data")


def conversion_label(rate, went_on, before, status: str, whole: bool, limit: int) -> str:
    """A dot's label: `73.3% · 11 of 15`, with PARTIAL_MARK when its counts are not the bars;
    the conversion_word when there is no rate to show."""
    if status != funnel_rules.CONVERTS or _missing(rate):
        return conversion_word(status, limit)
    return f"{percent(rate)} · {conversion_counts(went_on, before)}" + ("" if whole else f" {PARTIAL_MARK}")


def share_label(share, went_to, of, students, whole: bool) -> str:
    """A bar's label, from the share's own counts: `43.8% · 2,132` when they are the bars (this
    stage's students of the cohort's first stage), else `43.8% · 2,122 of 4,845 †` (the regions
    that show both stages); `2,132 students` where no share is shown."""
    if _missing(share):
        return f"{count_text(students)} students"
    if whole:
        return f"{percent(share)} · {count_text(students)}"
    return f"{percent(share)} · {conversion_counts(went_to, of)} {PARTIAL_MARK}"


def share_note(partial: int, shares: int, example: str = "") -> str:
    """Under the funnel: why the bars marked PARTIAL_MARK state counts that are not their own
    students (domain.funnel.share_whole); `example` is one such label's counts."""
    if not partial:
        return ""
    like = f" (e.g. {example})" if example else ""
    return (f"**{PARTIAL_MARK} {partial} of {_n(shares, 'share')} of the cohort count only the regions that show both "
            f"that stage and the first**: the label beside such a bar gives the share's own counts{like}, which can be "
            "fewer than the students at that stage.")


def conversion_note(partial: list[dict], conversions: int) -> str:
    """Under the funnel: why the dots marked PARTIAL_MARK have counts that are not the bars, with
    the one whose rate differs most from the bars' ratio as the example. Each item: stage,
    group (label), went_on, before, regions, students and previous_students (the two bars), as
    the funnel table holds them; `conversions`: how many dots state a rate."""
    if not partial:
        return ""

    def bars_ratio(item) -> float:
        if _missing(item["students"]) or _missing(item["previous_students"]) or not item["previous_students"]:
            return float("nan")
        return 100 * item["students"] / item["previous_students"]

    def distance(item) -> float:
        ratio = bars_ratio(item)
        return -1.0 if math.isnan(ratio) else abs(100 * item["went_on"] / item["before"] - ratio)

    example = max(partial, key=distance)
    regions = int(example["regions"])
    where = "the one region that shows" if regions == 1 else f"the {regions} regions that show"
    who = students(example["group"])
    who = "students" if who == "all students" else who  # "11 of 15 students", not "11 of 15 all students"
    text = (f"**{PARTIAL_MARK} {len(partial)} of {_n(conversions, 'conversion')} count only the regions that show both "
            "stages**: a region whose count is suppressed at a stage or at the stage before is left out of that step, "
            "so the dot's counts can be fewer than the bars, which add up every region that shows each stage. "
            f"For example, into “{example['stage']}”, {conversion_counts(example['went_on'], example['before'])} "
            f"{who} went on in {where} both stages")
    if not math.isnan(bars_ratio(example)):
        text += (f"; the bars show {count_text(example['students'])} at that stage and "
                 f"{count_text(example['previous_students'])} at the one before "
                 f"({percent(round(bars_ratio(example), funnel_rules.DECIMALS))}), but from different regions")
    return text + ". The table gives every conversion's counts and regions."


def steepest_step_sentence(measured: pd.DataFrame, group: str, group_label: str) -> str:
    """Without a comparison: the step where the fewest students go on, in one sentence."""
    rows = measured[(measured["student_group"] == group) & measured["conversion"].notna() & ~measured["rising"]]
    who = students(group_label)
    if rows.empty:
        return f"No step's conversion can be shown for {who} in this view."
    row = rows.sort_values(["conversion", "stage_order"]).iloc[0]
    return (f"For {who}, the steepest step is from “{row['previous_stage']}” to “{row['stage']}”: "
            f"{percent(row['conversion'])} of those at the stage before go on.")


def funnel_trend_sentence(trend: pd.DataFrame, group_label: str, reference_label: str | None = None) -> str:
    """One or two sentences: the stage whose conversion improved most and the one that worsened
    most for the group; with a reference, whether the biggest gap is narrowing."""
    who = students(group_label)
    known = trend[trend["direction"].isin(["improving", "worsening", "little change"])]
    if known.empty:
        return f"There are not enough cohorts with shown numbers to tell whether conversion is changing for {who}."
    parts = []
    best = known.sort_values("change", ascending=False).iloc[0]
    worst = known.sort_values("change").iloc[0]
    if best["direction"] == "improving":
        parts.append(f"For {who}, conversion into {best['stage']} improved the most, from "
                     f"{percent(best['first'])} (class of {int(best['first_cohort'])}) to {percent(best['last'])} "
                     f"(class of {int(best['last_cohort'])}).")
    if worst["direction"] == "worsening":
        parts.append(f"Conversion into {worst['stage']} worsened, from {percent(worst['first'])} to {percent(worst['last'])}.")
    named = [r for r, word in ((best, "improving"), (worst, "worsening")) if r["direction"] == word]
    if any(r["fewest_students"] < funnel_rules.FEW_STUDENTS for r in named):
        parts.append(f"Some cohorts count fewer than {funnel_rules.FEW_STUDENTS} students at these steps, so part of the "
                     "change may be chance.")
    if not parts:
        parts.append(f"For {who}, no stage's conversion changed by {funnel_rules.CHANGE_POINTS:.0f} points or more "
                     "across the cohorts shown.")
    if reference_label:
        gaps = trend.dropna(subset=["gap_last"])
        gaps = gaps[gaps["gap_direction"].isin(["narrowing", "widening", "little change"])]
        if not gaps.empty:
            widest = gaps.sort_values("gap_last", ascending=False).iloc[0]
            if widest["gap_last"] > 0:
                verb = {"narrowing": "is narrowing", "widening": "is widening",
                        "little change": "has hardly changed"}[widest["gap_direction"]]
                parts.append(f"The largest gap to {students(reference_label)}, into {widest['stage']}, "
                             f"{verb}: {widest['gap_first']:.{funnel_rules.DECIMALS}f} points for the class of "
                             f"{int(widest['gap_first_cohort'])}, {widest['gap_last']:.{funnel_rules.DECIMALS}f} for the class of "
                             f"{int(widest['gap_last_cohort'])}.")
    return " ".join(parts)


# Every view of every session asks for the same few figures, captions and tables: build each once.
memo_builders(globals())
