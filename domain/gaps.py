"""Equity-gap maths, in one place: pooled rates, gaps to a reference group, and whether a gap
is closing.

- A pooled rate sums numerators and denominators, then divides; it is never an average of
  rates. Range-coded source rates (`90-94`) make the pooled numerator a range, so the rate is a
  range `rate_low`..`rate_high`; it is exact when the two are equal.
- A gap is the group's rate minus its reference group's rate, in percentage points. With ranges
  the gap is a range too (`gap_low`..`gap_high`) and marked approximate: never an invented
  exact value.
- `behind` is the gap read with `higher_is_better`: for chronic absence a higher rate is worse.
  `standing` is the gap signed so that negative always means "worse than the reference", which
  is what the colours show everywhere.
- Trends: the latest gap is compared with the first year's. The change counts as closing or
  widening only when its 95% confidence interval (from the group sizes, difference of
  proportions with the Agresti-Caffo adjustment) excludes zero *and* it is at least
  `MIN_CHANGE_POINTS` points; anything else is "no clear change". A 0.3-point wobble is not a
  trend.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

Z95 = 1.959964
MIN_CHANGE_POINTS = 1.0  # a change smaller than this is never called closing or widening

REFERENCE_MODES = ("complement", "all", "best")  # or any student group id
ALL = "all"
CLOSING, WIDENING, NO_CLEAR_CHANGE, NOT_ENOUGH = "closing", "widening", "no clear change", "not enough data"


# --- pooled rates ------------------------------------------------------------------------

def pooled_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `rate_low`, `rate_high` (percent) and `exact` from summed `numerator_low`,
    `numerator_high` and `denominator`. A zero or unknown denominator gives no rate."""
    out = frame.copy()
    den = pd.to_numeric(out["denominator"], errors="coerce").astype("float64")
    valid = den > 0
    out["rate_low"] = (pd.to_numeric(out["numerator_low"], errors="coerce") / den * 100).where(valid)
    out["rate_high"] = (pd.to_numeric(out["numerator_high"], errors="coerce") / den * 100).where(valid)
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


def _midpoint(frame: pd.DataFrame, low: str = "rate_low", high: str = "rate_high") -> pd.Series:
    return (frame[low] + frame[high]) / 2


def best_group(rates: pd.DataFrame, higher_is_better: bool) -> str | None:
    """The shown group with the best rate (midpoint of its range), `all` excluded."""
    shown = rates[(rates["student_group"] != ALL) & rates["rate_low"].notna() & ~rates["suppressed"].astype(bool)]
    if shown.empty:
        return None
    mid = _midpoint(shown)
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
    records = rates.to_dict("records")
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
            scored = [(_mid(r["rate_low"], r["rate_high"]) * (1 if higher else -1), g) for g, r in by_group.items()
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
            gap = (gap_low + gap_high) / 2
            row["gap_low"], row["gap_high"], row["gap"] = gap_low, gap_high, gap
            row["approximate"] = bool(not _isnan(gap) and abs(gap_high - gap_low) > 1e-9)
            if _isnan(gap):
                row["margin"] = nan
            else:
                se_group = _se(_mid(rec["rate_low"], rec["rate_high"]), rec["denominator"])
                se_ref = _se(_mid(ref["rate_low"], ref["rate_high"]), ref["denominator"])
                row["margin"] = Z95 * math.sqrt(se_group ** 2 + se_ref ** 2)
            row["standing"] = gap if higher else -gap
            row["behind"] = bool(not _isnan(gap) and row["standing"] < 0)
            out.append(row)
    return pd.DataFrame(out, columns=list(rates.columns) + [c for c in GAP_COLUMNS if c not in rates.columns])


GAP_COLUMNS = ["higher_is_better", "reference_group", "is_reference", "reference_rate_low", "reference_rate_high",
               "reference_denominator", "reference_suppressed", "gap_low", "gap_high", "gap", "approximate", "margin",
               "standing", "behind"]


def _reported(rec: dict) -> bool:
    """Whether a group's row has a value, shown or suppressed (suppressed is reported)."""
    return bool(rec["suppressed"]) or not _isnan(rec["rate_low"])


def _isnan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _mid(low, high) -> float:
    return (low + high) / 2


def _se(rate_percent: float, denominator: float) -> float:
    """Standard error of a rate in points (Agresti-Caffo: one success and one failure added)."""
    if _isnan(denominator) or _isnan(rate_percent):
        return math.nan
    adjusted = (rate_percent / 100 * denominator + 1) / (denominator + 2)
    return 100 * math.sqrt(adjusted * (1 - adjusted) / (denominator + 2))


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


def trend_summary(by_year: pd.DataFrame) -> pd.DataFrame:
    """Per student group: first and latest year with a gap, both gaps, the change and the
    verdict. `by_year` is `compute_gaps` output for several years with a `school_year` column."""
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
        row = {"student_group": group, "reference_group": reference, "first_year": None,
               "latest_year": None, "first_gap": math.nan, "latest_gap": math.nan, "change": math.nan,
               "change_low": math.nan, "change_high": math.nan, "verdict": NOT_ENOUGH, "approximate": False,
               "is_reference": all(bool(r["is_reference"]) for r in recs)}
        if len(usable) >= 2:
            first, latest = usable[0], usable[-1]
            verdict, low, high = classify_change(first["gap_low"], first["gap_high"], latest["gap_low"],
                                                 latest["gap_high"], first["margin"], latest["margin"])
            row.update(first_year=first["school_year"], latest_year=latest["school_year"],
                       first_gap=first["gap"], latest_gap=latest["gap"], change=latest["gap"] - first["gap"],
                       change_low=low, change_high=high, verdict=verdict,
                       approximate=bool(first["approximate"] or latest["approximate"]))
        elif len(usable) == 1:
            latest = usable[-1]
            row.update(latest_year=latest["school_year"], latest_gap=latest["gap"], approximate=bool(latest["approximate"]))
        rows.append(row)
    return pd.DataFrame(rows, columns=["student_group", "reference_group", "first_year", "latest_year", "first_gap",
                                       "latest_gap", "change", "change_low", "change_high", "verdict", "approximate",
                                       "is_reference"]).astype({"approximate": bool, "is_reference": bool})
