"""Every sentence a reader acts on — headlines, captions, "what changed" — built in one place,
from the same table the chart beside it draws, so a sentence can never say what its chart does
not show.

Rules every sentence here keeps:
- **Ranges stay ranges.** A value from range-coded data (EDFacts `90-94`) or a banded small
  rate is a range: it is written as a range ("between 4 and 12 points below"), never as its
  midpoint, and a midpoint is never stated as exact. A gap whose range spans zero is neither
  behind nor ahead, and is counted and said as such (domain.gaps: `behind`, `ahead`).
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

import pandas as pd

from domain import gaps as gap_rules
from domain.formatting import rate_text, signed, unsigned
from domain.kpi import school_year_label

# Group labels that are names (or start with one) and keep their capital mid-sentence.
_PROPER = ("Asian", "Black", "Hispanic", "Latino", "White", "American Indian", "Alaska Native", "Native Hawaiian",
           "Pacific Islander", "English", "Two or more")
_OWN_NOUN = ("students", "learners", "disabilities", "students)")


# --- words ---------------------------------------------------------------------------------------

def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym (`STEM`, `AP`) or a name."""
    first = text.split(" ", 1)[0]
    if not text or text.startswith(_PROPER) or (len(first) > 1 and first[:2].isupper()) or first in ("I", "K-12"):
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
    return value is None or (isinstance(value, float) and math.isnan(value))


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


# --- 1. gaps for one indicator --------------------------------------------------------------------

def gap_caption(table: pd.DataFrame, indicator_name: str, higher_is_better: bool, school_year: str) -> str:
    """The gap chart's caption: the largest gap behind, then how many groups are behind, ahead
    or neither, and how many are suppressed."""
    rows = _comparisons(table)
    with_gap = rows[rows["gap"].notna()]
    name, when = indicator(indicator_name), year(school_year)
    hidden = int(rows["suppressed"].astype(bool).sum())
    hidden_text = f"{_n(hidden, 'group')} {_is(hidden)} suppressed to protect small numbers" if hidden else ""
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


def change_caption(summary: pd.DataFrame) -> str:
    """Every group's gap over the period and since the year before: how many closed or widened,
    and the largest move."""
    rows = _comparisons(summary)
    rows = rows[rows["first_gap"].notna()]
    if rows.empty:
        return "There are not enough school years with shown values to tell whether any gap is closing."
    counts = rows["verdict"].value_counts()
    closing, widening = int(counts.get(gap_rules.CLOSING, 0)), int(counts.get(gap_rules.WIDENING, 0))
    still = int(counts.get(gap_rules.NO_CLEAR_CHANGE, 0))
    parts = [f"{'no gap is' if not closing else _n(closing, 'gap') + ' ' + _is(closing)} closing",
             f"{widening} {'is' if widening == 1 else 'are'} widening",
             f"{still} {'shows' if still == 1 else 'show'} no clear change beyond the uncertainty that group sizes give"]
    text = (f"Between {year(rows['first_year'].min())} and {year(rows['latest_year'].max())}, "
            f"{parts[0]}, {parts[1]} and {parts[2]}")
    recent = rows[rows["years"] > 2]
    if len(recent):
        moved = recent["recent_verdict"].value_counts()
        text += (f"; since the year before, {int(moved.get(gap_rules.CLOSING, 0))} narrowed and "
                 f"{int(moved.get(gap_rules.WIDENING, 0))} widened")
    moved = rows[rows["verdict"].isin([gap_rules.CLOSING, gap_rules.WIDENING])]
    if len(moved):
        top = moved.assign(_size=moved["change"].abs()).sort_values("_size", ascending=False, kind="stable").iloc[0]
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
    if hidden:
        text += f"; {_n(hidden, 'cell')} (S) {_is(hidden)} suppressed to protect small numbers"
    return text + "."


# --- 4. rural vs non-rural -----------------------------------------------------------------------

def further_behind(a, b) -> bool:
    """Whether gap `a` stands clearly further behind than gap `b` (ranges must not overlap)."""
    return a["standing_high"] < b["standing_low"] if (a["approximate"] or b["approximate"]) else a["standing"] < b["standing"]


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
    text = f"In {when}, " + _k_of_n(len(worse), len(both), "group", "further behind in rural regions than in non-rural ones")
    if worse:
        top = min(worse, key=lambda g: rural.loc[g, "standing"] - other.loc[g, "standing"])
        r, o = rural.loc[top], other.loc[top]
        text += (f"; the biggest difference is for {students(r['group_label'])}: {gap_text(r['gap_low'], r['gap_high'])} "
                 f"in rural regions, {gap_text(o['gap_low'], o['gap_high'])} elsewhere")
    return text + "."
