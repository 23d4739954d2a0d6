"""Numbers as the dashboard writes them, the same on every page, chart, table and report."""
from __future__ import annotations

import math


def says_nothing(low, high) -> bool:
    """Whether a rate's range is the whole 0–100%: a band complement, or a band of a group of
    threshold to 2×threshold−2 students (docs/privacy.md). Such a range tells nothing about the
    rate, so it is shown as hidden (the suppressed wording), never as a range or its midpoint."""
    if _missing(low) or _missing(high):
        return False
    return low <= 1e-9 and high >= 100 - 1e-9


# A gap's range this wide (in points) places the gap nowhere a reader could act on. The whole
# 0-100 scale of a rate, less a point: each rate's ends are rounded outwards to one decimal, and
# a band of nearly the whole scale (0-99.5%) beside an exact rate says no more than 0-100% does.
GAP_SAYS_NOTHING_WIDTH = 99.0


def gap_says_nothing(low, high) -> bool:
    """Whether a gap's range (points) is as wide as (nearly) the whole scale of a rate: two wide
    bands (0-55% against 45-100% gives -100 to +10), or a band of nearly 0-100%. Such a gap is
    shown as not comparable, never as a range, and counted neither behind nor ahead."""
    if _missing(low) or _missing(high):
        return False
    return high - low >= GAP_SAYS_NOTHING_WIDTH - 1e-9


def rate_text(low, high, digits: int = 0, exact_digits: int | None = None, limit: int | None = None) -> str:
    """A rate in percent: `87%` when exact, `90–94%` when range-coded, or `≈94%` when a range's
    ends round alike (a pooled rate with a few range-coded rows: never `94–94%`). Empty when
    there is no rate; `exact_digits` (default `digits`) for an exact rate. A range over the whole
    0–100% reads as suppressed (`says_nothing`), with `limit` the threshold (default: in force)."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return ""
    if says_nothing(low, high):
        if limit is None:
            from domain.suppression import threshold  # here: domain.suppression imports much of domain

            limit = threshold()
        return suppressed_text(limit, why=True)
    if abs(high - low) < 1e-9:
        return f"{low:.{digits if exact_digits is None else exact_digits}f}%"
    low_text, high_text = f"{low:.{digits}f}", f"{high:.{digits}f}"
    return f"≈{low_text}%" if low_text == high_text else f"{low_text}–{high_text}%"


MINUS = "−"  # U+2212: a minus sign, not a hyphen


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def signed(value, digits: int = 1) -> str:
    """`+2.0`, `−9.3`, `0.0` (no sign on zero, nor on a value that rounds to it); empty for none."""
    if _missing(value):
        return ""
    if round(abs(value), digits) == 0:
        return f"{0:.{digits}f}"
    return f"{value:+.{digits}f}".replace("-", MINUS)


def unsigned(value, digits: int = 1) -> str:
    return "" if _missing(value) else f"{abs(value):.{digits}f}"


def gap_label(low, high, digits: int = 1) -> str:
    """A gap as a chart labels it: `−9.3 pts`; a range `≈ −12 to +4 pts`, or `≈ −4 pts` when its
    ends round alike (never `≈ −4 to −4 pts`)."""
    if _missing(low) or _missing(high):
        return ""
    if abs(high - low) < 1e-9:
        return f"{signed(low, digits)} pts"
    ends = signed(low, 0), signed(high, 0)
    return f"≈ {ends[0]} pts" if ends[0] == ends[1] else f"≈ {ends[0]} to {ends[1]} pts"


def count_text(value) -> str:
    """A count as a whole number with thousands separators (`1,950`), `—` for none."""
    return "—" if _missing(value) else f"{value:,.0f}"


def suppressed_text(limit: int, *, students: bool = False, why: bool = False) -> str:
    """The one wording of a hidden value: `suppressed (fewer than 10)`; `fewer than 10 students`
    where the count is of students; `, or could be worked out from other figures` where a value
    may be hidden to protect another (complementary suppression), not only for being small."""
    unit = " students" if students else ""
    reason = ", or could be worked out from other figures" if why else ""
    return f"suppressed (fewer than {limit}{unit}{reason})"
