"""Equity-gap maths, in one place: pooled rates, gaps to a reference group, and whether a gap
is closing.

- A pooled rate sums numerators and denominators, then divides; it is never an average of
  rates. Range-coded source rates (`90-94`) make the pooled numerator a range, so the rate is a
  range `rate_low`..`rate_high`; it is exact when the two are equal.
- A gap is the group's rate minus its reference group's rate, in percentage points. With ranges
  the gap is a range too (`gap_low`..`gap_high`) and marked approximate: never an invented
  exact value.
- `standing` is the gap signed so that negative always means "worse than the reference" (read
  with `higher_is_better`: for chronic absence a higher rate is worse), which is what the
  colours show everywhere; `standing_low`..`standing_high` is its range. A group is `behind`
  only when its whole range is below zero and `ahead` only when it is all above: a range that
  spans zero is neither, and is said to be so.
- A rate that says nothing (its range the whole 0-100%: domain.formatting.says_nothing, a band
  complement or a band of a small group) is a hidden rate here: `suppressed`, with no rate, so
  no gap is drawn or counted from it (as a reference: `reference_suppressed`). A gap whose range
  is as wide as (nearly) the whole scale (`formatting.gap_says_nothing`: two wide bands) is
  `not_comparable`: no gap, neither behind nor ahead, never drawn as a -100..+100 range.
- Each comparison is read once: where a group and its reference are each other's reference
  (economically disadvantaged vs not, and not vs economically disadvantaged), the second is the
  first's gap with the sign turned, and is marked `mirrors` (the later of the two in the
  built-in order), so charts and sentences leave it out.
- Trends: the latest gap is compared with the first year's, and with the year before it (the
  previous year with a gap to the same reference). Each change counts as closing or widening
  only when its 95% confidence interval (from the group sizes, difference of proportions with
  the Agresti-Caffo adjustment, widened by any ranges) excludes zero *and* it is at least
  `MIN_CHANGE_POINTS` points; anything else is "no clear change". A 0.3-point wobble is not a
  trend.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from domain.formatting import gap_says_nothing, says_nothing
from domain.vocabulary import BUILT_IN_GROUPS

Z95 = 1.959964
MIN_CHANGE_POINTS = 1.0  # a change smaller than this is never called closing or widening

ALL = "all"
CLOSING, WIDENING, NO_CLEAR_CHANGE, NOT_ENOUGH = "closing", "widening", "no clear change", "not enough data"


# --- pooled rates ------------------------------------------------------------------------

def pooled_rate(numerator, denominator):
    """The one pooled rate: summed numerator over summed denominator, in percent, unrounded; NaN
    where the denominator is unknown or not positive. A float for scalars, else a float Series."""
    if np.ndim(numerator) == 0 and np.ndim(denominator) == 0:  # per row in queries.gaps: no pandas
        try:
            num, den = float(numerator), float(denominator)
        except (TypeError, ValueError):
            return float("nan")
        return num / den * 100 if den > 0 else float("nan")
    den = pd.Series(pd.to_numeric(denominator, errors="coerce"), dtype="float64")
    num = pd.Series(pd.to_numeric(numerator, errors="coerce"), dtype="float64", index=den.index)
    return (num / den * 100).where(den > 0)


def pooled_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `rate_low`, `rate_high` (percent) and `exact` from summed `numerator_low`,
    `numerator_high` and `denominator`. A zero or unknown denominator gives no rate."""
    out = frame.copy()
    out["rate_low"] = pooled_rate(out["numerator_low"], out["denominator"])
    out["rate_high"] = pooled_rate(out["numerator_high"], out["denominator"])
    out["exact"] = (out["rate_high"] - out["rate_low"]).abs() < 1e-9
    return out


def pool(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Pool rows (sum numerator bounds and denominators), then compute rates."""
    summed = frame.groupby(by, as_index=False, sort=False)[["numerator_low", "numerator_high", "denominator"]].sum(min_count=1)
    return pooled_rates(summed)


def standard_error(rate_percent, denominator) -> np.ndarray:
    """Standard error of a rate in points, with one success and one failure added
    (Agresti-Caffo), so 0% and 100% still carry uncertainty."""
    p = np.asarray(rate_percent, dtype="float64") / 100
    n = np.asarray(denominator, dtype="float64")
    adjusted = (p * n + 1) / (n + 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100 * np.sqrt(adjusted * (1 - adjusted) / (n + 2))


# --- reference groups --------------------------------------------------------------------

def headline_indicator(indicator_ids, stages) -> str | None:
    """The indicator a gap view opens on: the first high-school one (graduation, usually),
    else the first."""
    ids = list(indicator_ids)
    return next((i for i, stage in zip(ids, stages) if stage == "high"), ids[0] if ids else None)


def reference_for(group: str, mode: str, complements: dict[str, str | None], best: str | None,
                  reported: set[str] | None = None) -> str | None:
    """The reference group of `group` under `mode`: its complement, all students, the
    best-performing shown group, or one chosen group. A group without a complement, or whose
    complement the data does not report (not in `reported`, when given: EDFacts has no "not
    economically disadvantaged"), is compared with all students, which the chart names."""
    if mode == "complement":
        complement = complements.get(group)
        return complement if complement and (reported is None or complement in reported) else ALL
    if mode == "all":
        return ALL
    if mode == "best":
        return best
    return mode


def _midpoint(low, high):
    """The middle of a range (scalars or Series); only for ranking and error bars, never shown as a value."""
    return (low + high) / 2


def best_group(rates: pd.DataFrame, higher_is_better: bool) -> str | None:
    """The shown group with the best rate (midpoint of its range), `all` excluded."""
    shown = rates[(rates["student_group"] != ALL) & rates["rate_low"].notna() & ~rates["suppressed"].astype(bool)]
    if shown.empty:
        return None
    mid = _midpoint(shown["rate_low"], shown["rate_high"])
    return shown.loc[mid.idxmax() if higher_is_better else mid.idxmin(), "student_group"]


def compute_gaps(rates: pd.DataFrame, mode: str, higher_is_better, complements: dict[str, str | None],
                 slice_keys: tuple[str, ...] = ("indicator_id", "school_year"),
                 reported_within: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per student group (reference groups included, gap empty) for each slice
    (indicator and year): its rate, its reference, the gap in points (range and midpoint), its
    95% margin, `approximate`, `behind` and `standing`.

    `rates` has student_group, rate_low, rate_high, denominator and suppressed (plus the slice
    columns it has); `higher_is_better` is a bool, or a mapping indicator_id -> bool. A
    suppressed group, or one whose reference is suppressed or missing, gets no gap.

    A complement the data does not report (no value, shown or suppressed) within
    `reported_within` (default: the slice) gives way to all students; a trend passes the
    indicator alone, so that one reference holds through every year.

    Plain Python over records: these frames are small (groups x indicators), and per-row
    arithmetic here is much cheaper than many small pandas operations.
    """
    records = [_hide_if_says_nothing(rec) for rec in rates.to_dict("records")]
    keys = [k for k in slice_keys if k in rates.columns]
    slices: dict[tuple, dict[str, dict]] = {}
    for rec in records:
        slices.setdefault(tuple(rec[k] for k in keys), {})[rec["student_group"]] = rec
    within = [k for k in (keys if reported_within is None else reported_within) if k in rates.columns]
    reported: dict[tuple, set[str]] = {}
    for rec in records:
        if _reported(rec):
            reported.setdefault(tuple(rec[k] for k in within), set()).add(rec["student_group"])
    nan = math.nan
    out = []
    for slice_key, by_group in slices.items():
        first = next(iter(by_group.values()))
        if isinstance(higher_is_better, (bool, np.bool_)):
            higher = bool(higher_is_better)
        else:
            higher = bool(higher_is_better.get(first.get("indicator_id"), True))
        best = None
        if mode == "best":
            scored = [(_midpoint(r["rate_low"], r["rate_high"]) * (1 if higher else -1), g) for g, r in by_group.items()
                      if g != ALL and not r["suppressed"] and not _isnan(r["rate_low"])]
            best = max(scored, key=lambda item: item[0])[1] if scored else None
        for group, rec in by_group.items():
            row = dict(rec)
            ref_id = reference_for(group, mode, complements, best, reported.get(tuple(rec[k] for k in within), set()))
            ref = by_group.get(ref_id) if ref_id is not None else None
            row["higher_is_better"] = higher
            row["reference_group"] = ref_id
            row["is_reference"] = ref_id is None or ref_id == group
            row["reference_rate_low"] = ref["rate_low"] if ref else nan
            row["reference_rate_high"] = ref["rate_high"] if ref else nan
            row["reference_denominator"] = ref["denominator"] if ref else nan
            row["reference_suppressed"] = bool(ref["suppressed"]) if ref else False
            usable = ref is not None and not row["is_reference"] and not rec["suppressed"] and not ref["suppressed"]
            gap_low = rec["rate_low"] - ref["rate_high"] if usable else nan
            gap_high = rec["rate_high"] - ref["rate_low"] if usable else nan
            row["not_comparable"] = gap_says_nothing(gap_low, gap_high)
            if row["not_comparable"]:
                gap_low = gap_high = nan
            gap = (gap_low + gap_high) / 2
            row["gap_low"], row["gap_high"], row["gap"] = gap_low, gap_high, gap
            row["approximate"] = bool(not _isnan(gap) and abs(gap_high - gap_low) > 1e-9)
            if _isnan(gap):
                row["margin"] = nan
            else:
                se_group = float(standard_error(_midpoint(rec["rate_low"], rec["rate_high"]), rec["denominator"]))
                se_ref = float(standard_error(_midpoint(ref["rate_low"], ref["rate_high"]), ref["denominator"]))
                row["margin"] = Z95 * math.sqrt(se_group ** 2 + se_ref ** 2)
            row["standing"] = gap if higher else -gap
            row["standing_low"], row["standing_high"] = (gap_low, gap_high) if higher else (-gap_high, -gap_low)
            row["behind"] = bool(not _isnan(gap) and row["standing_high"] < 0)
            row["ahead"] = bool(not _isnan(gap) and row["standing_low"] > 0)
            row["mirrors"] = False
            out.append(row)
        _mark_mirrors(out[len(out) - len(by_group):])
    return pd.DataFrame(out, columns=list(rates.columns) + [c for c in GAP_COLUMNS if c not in rates.columns])


GAP_COLUMNS = ["higher_is_better", "reference_group", "is_reference", "reference_rate_low", "reference_rate_high",
               "reference_denominator", "reference_suppressed", "gap_low", "gap_high", "gap", "approximate", "margin",
               "standing", "standing_low", "standing_high", "behind", "ahead", "mirrors", "not_comparable"]
_ORDER = {g.group_id: k for k, g in enumerate(BUILT_IN_GROUPS)}


def _order(group: str) -> tuple[int, str]:
    return _ORDER.get(group, len(_ORDER)), group


def _mark_mirrors(rows: list[dict]) -> None:
    """In one slice: of two groups that are each other's reference, the later one `mirrors`."""
    reference_of = {r["student_group"]: r["reference_group"] for r in rows if not r["is_reference"]}
    for r in rows:
        group, ref = r["student_group"], r["reference_group"]
        if not r["is_reference"] and reference_of.get(ref) == group and _order(group) > _order(ref):
            r["mirrors"] = True


def comparisons(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows a chart or sentence reads: each comparison once, reference rows left out."""
    keep = ~frame["is_reference"].astype(bool)
    if "mirrors" in frame:
        keep &= ~frame["mirrors"].astype(bool)
    return frame[keep]


def side(row) -> str:
    """`behind`, `ahead`, `level` (a gap of zero, or a range spanning zero) or `` (no gap)."""
    if _isnan(row["gap"]):
        return ""
    return "behind" if row["behind"] else "ahead" if row["ahead"] else "level"


def _hide_if_says_nothing(rec: dict) -> dict:
    """A rate over the whole 0-100% as the hidden rate it is (its `banded` flag kept, saying why)."""
    if rec["suppressed"] or not says_nothing(rec["rate_low"], rec["rate_high"]):
        return rec
    hidden = {**rec, "suppressed": True, "rate_low": math.nan, "rate_high": math.nan}
    if "exact" in rec:  # as domain.suppression.protect_rates marks a hidden rate
        hidden["exact"] = True
    return hidden


def _reported(rec: dict) -> bool:
    """Whether a group's row has a value, shown or suppressed (suppressed is reported)."""
    return bool(rec["suppressed"]) or not _isnan(rec["rate_low"])


def _isnan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# --- trends ------------------------------------------------------------------------------

def classify_change(first_low: float, first_high: float, latest_low: float, latest_high: float,
                    margin_first: float, margin_latest: float, min_change: float = MIN_CHANGE_POINTS) -> tuple[str, float, float]:
    """Closing, widening or no clear change between two gaps (ranges in points, with their 95%
    margins). Returns (verdict, change_low, change_high): the change in the gap (latest minus
    first, in points) as a range that includes its uncertainty."""
    values = (first_low, first_high, latest_low, latest_high, margin_first, margin_latest)
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
        return NOT_ENOUGH, math.nan, math.nan
    change_low, change_high = latest_low - first_high, latest_high - first_low
    margin = math.sqrt(margin_first ** 2 + margin_latest ** 2)
    first_mid, latest_mid = (first_low + first_high) / 2, (latest_low + latest_high) / 2
    if change_low - margin > 0 and change_low >= min_change:
        moved = +1
    elif change_high + margin < 0 and -change_high >= min_change:
        moved = -1
    else:
        return NO_CLEAR_CHANGE, change_low - margin, change_high + margin
    # The gap moved clearly; it is closing when it moved towards parity and ended closer to it.
    toward_zero = (first_mid < 0 and moved > 0) or (first_mid > 0 and moved < 0)
    verdict = CLOSING if toward_zero and abs(latest_mid) < abs(first_mid) else WIDENING
    return verdict, change_low - margin, change_high + margin


TREND_COLUMNS = [
    "student_group", "reference_group", "first_year", "previous_year", "latest_year", "first_gap", "first_gap_low",
    "first_gap_high", "previous_gap", "previous_gap_low", "previous_gap_high", "latest_gap", "latest_gap_low",
    "latest_gap_high", "change", "change_low", "change_high", "verdict", "recent_change", "recent_change_low",
    "recent_change_high", "recent_verdict", "years", "approximate", "is_reference", "mirrors", "higher_is_better",
]


def trend_summary(by_year: pd.DataFrame) -> pd.DataFrame:
    """Per student group: the first, previous and latest year with a gap to one reference, the
    gaps (midpoint and range), and two verdicts with their changes: over the whole period
    (`verdict`, `change`, latest minus first) and since the year before (`recent_verdict`,
    `recent_change`, latest minus previous). `change_low`..`change_high` include the 95%
    uncertainty. `by_year` is `compute_gaps` output for several years with a `school_year` column."""
    per_group: dict[str, list[dict]] = {}
    for rec in sorted(by_year.to_dict("records"), key=lambda r: r["school_year"]):
        per_group.setdefault(rec["student_group"], []).append(rec)
    rows = []
    for group, recs in per_group.items():
        usable = [r for r in recs if not _isnan(r["gap"])]
        refs = [r["reference_group"] for r in recs if isinstance(r["reference_group"], str)]
        # Only gaps to one reference compare, the latest gap's (a complement reported in some
        # years only gives gaps to all students in the others).
        reference = usable[-1]["reference_group"] if usable else (refs[-1] if refs else None)
        usable = [r for r in usable if r["reference_group"] == reference]
        nan = math.nan
        row = {c: nan for c in TREND_COLUMNS}
        row.update(student_group=group, reference_group=reference, first_year=None, previous_year=None,
                   latest_year=None, verdict=NOT_ENOUGH, recent_verdict=NOT_ENOUGH, years=len(usable),
                   approximate=any(bool(r["approximate"]) for r in usable),
                   is_reference=all(bool(r["is_reference"]) for r in recs),
                   mirrors=bool(usable[-1].get("mirrors", False)) if usable else bool(recs[-1].get("mirrors", False)),
                   higher_is_better=bool(recs[-1].get("higher_is_better", True)))
        for name, rec in (("first", usable[0] if len(usable) >= 2 else None),
                          ("previous", usable[-2] if len(usable) >= 2 else None),
                          ("latest", usable[-1] if usable else None)):
            if rec is not None:
                row.update({f"{name}_year": rec["school_year"], f"{name}_gap": rec["gap"],
                            f"{name}_gap_low": rec["gap_low"], f"{name}_gap_high": rec["gap_high"]})
        if len(usable) >= 2:
            latest = usable[-1]
            for prefix, earlier in (("", usable[0]), ("recent_", usable[-2])):
                verdict, low, high = classify_change(earlier["gap_low"], earlier["gap_high"], latest["gap_low"],
                                                     latest["gap_high"], earlier["margin"], latest["margin"])
                row.update({f"{prefix}verdict": verdict, f"{prefix}change": latest["gap"] - earlier["gap"],
                            f"{prefix}change_low": low, f"{prefix}change_high": high})
        rows.append(row)
    return pd.DataFrame(rows, columns=TREND_COLUMNS).astype(
        {"approximate": bool, "is_reference": bool, "mirrors": bool, "higher_is_better": bool})
