"""Board-overview maths, in one place: periods, on-track status, "moving the right way" and
the plain sentences that say what changed.

Rules (stated on the page and in the board packet):
- **Quarter to school year.** A school year runs July to June, so calendar quarters Q3 and Q4
  of year Y fall in school year Y–(Y+1) and Q1, Q2 in (Y-1)–Y: 2025 Q3 -> 2025–26. When that
  school year has no outcome data yet, the overview uses the latest school year with data
  before it (2025 Q3 -> 2024–25 while 2025–26 is not loaded).
- **On track.** A measure is on track when its value meets or beats its target, read with
  `higher_is_better`; off track when it does not; "no target" when the board set none for the
  period. A rate known only as a range is on track only if its worse end meets the target,
  off track only if its better end misses it, and "too close to call" otherwise. A suppressed
  or missing value is "no data".
- **Moving the right way.** An indicator moves the right way when its rate changed since the
  previous school year with data in the direction `higher_is_better` asks for (an unchanged
  rate, under `STEADY_POINTS`, is "no change"). M counts indicators with a shown rate in both
  years; N of them moved the right way.
- **Biggest changes.** Changes are ranked by their size relative to where they started
  (a 10% rise in seats and a 2-point rise on a 20% rate both count as 10%), among values that
  are shown (not suppressed) in both periods.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

ON_TRACK, OFF_TRACK, NO_TARGET, NO_DATA, UNCLEAR = "on track", "off track", "no target", "no data", "too close to call"
STEADY_POINTS = 0.05  # a rate change smaller than this (in points) is "no change"


# --- periods ---------------------------------------------------------------------------------

def quarter_label(quarter: str) -> str:
    """`2025-Q3` reads `2025 Q3`."""
    return quarter.replace("-", " ")


def school_year_label(year: str) -> str:
    """`2024-25` reads `2024–25`."""
    return year.replace("-", "–")


def school_year_of_quarter(quarter: str) -> str:
    """The school year (July–June) a calendar quarter falls in: 2025-Q3 -> 2025-26,
    2025-Q2 -> 2024-25."""
    year, q = int(quarter[:4]), int(quarter[-1])
    start = year if q >= 3 else year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def school_year_for_quarter(quarter: str, years_with_data: list[str] | tuple[str, ...]) -> str | None:
    """The quarter's school year if it has data, else the latest school year with data before it,
    else None."""
    own = school_year_of_quarter(quarter)
    earlier = sorted(y for y in years_with_data if y <= own)
    return earlier[-1] if earlier else None


def quarter_bounds(quarter: str) -> tuple[str, str]:
    """First and last day of a calendar quarter as ISO dates."""
    year, q = int(quarter[:4]), int(quarter[-1])
    first_month = 3 * (q - 1) + 1
    last_day = {1: "03-31", 2: "06-30", 3: "09-30", 4: "12-31"}[q]
    return f"{year}-{first_month:02d}-01", f"{year}-{last_day}"


# --- status ----------------------------------------------------------------------------------

def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def track_status(value_low, value_high, target, higher_is_better: bool = True) -> str:
    """On track / off track / too close to call / no target / no data (see module rules)."""
    if _missing(target):
        return NO_TARGET
    if _missing(value_low) and _missing(value_high):
        return NO_DATA
    low = value_high if _missing(value_low) else value_low
    high = value_low if _missing(value_high) else value_high
    worse, better = (low, high) if higher_is_better else (high, low)
    meets = (lambda v: v >= target) if higher_is_better else (lambda v: v <= target)
    if meets(worse):
        return ON_TRACK
    if not meets(better):
        return OFF_TRACK
    return UNCLEAR


def direction(previous, current, higher_is_better: bool = True, steady: float = 0.0) -> str | None:
    """`better`, `worse` or `same` for a change read with higher_is_better; None without both values."""
    if _missing(previous) or _missing(current):
        return None
    delta = current - previous
    if abs(delta) <= steady:
        return "same"
    return "better" if (delta > 0) == bool(higher_is_better) else "worse"


def moving_right_way(pairs) -> tuple[int, int]:
    """(N, M): of M indicators with both a previous and a current value, N moved the right way.
    `pairs` holds (previous, current, higher_is_better)."""
    moved = [direction(p, c, h, STEADY_POINTS) for p, c, h in pairs]
    counted = [m for m in moved if m is not None]
    return sum(m == "better" for m in counted), len(counted)


def headline(n: int, m: int) -> str:
    if m == 0:
        return "No measure has a rate in two school years yet, so none can be said to be moving."
    return f"{n} of {m} measures moving the right way"


# --- changes ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One value that changed between two periods."""

    subject: str  # "Participations", "Seats in Bledsoe County", "Grade 3 reading proficiency"
    previous: float
    current: float
    since: str  # display label of the earlier period, e.g. "2025 Q2" or "2023–24"
    unit: str = "count"  # "count" or "rate" (percent)
    higher_is_better: bool | None = True  # None: no better direction (e.g. a neutral count)
    note: str = ""  # e.g. "participations are not unique students"

    @property
    def delta(self) -> float:
        return self.current - self.previous

    @property
    def relative(self) -> float:
        """Size of the change relative to where it started; inf from zero."""
        if self.previous == 0:
            return math.inf if self.current != 0 else 0.0
        return abs(self.delta) / abs(self.previous)

    def sentence(self) -> str:
        return change_sentence(self)


def _fmt_count(value: float) -> str:
    return f"{value:,.0f}"


def _fmt_rate(value: float) -> str:
    return f"{value:.1f}%"


def change_sentence(change: Change) -> str:
    """`Participations rose from 1,200 in 2025 Q2 to 1,380 (+180, +15%).` Rates move in points."""
    if change.delta == 0 or (change.unit == "rate" and abs(change.delta) <= STEADY_POINTS):
        verb = "held steady at"
        value = _fmt_rate(change.current) if change.unit == "rate" else _fmt_count(change.current)
        text = f"{change.subject} {verb} {value} since {change.since}."
    else:
        verb = "rose" if change.delta > 0 else "fell"
        if change.unit == "rate":
            detail = f"{change.delta:+.1f} points"
            text = (f"{change.subject} {verb} from {_fmt_rate(change.previous)} in {change.since} to "
                    f"{_fmt_rate(change.current)} ({detail}).")
        else:
            percent = "" if change.previous == 0 else f", {change.delta / change.previous:+.0%}"
            text = (f"{change.subject} {verb} from {_fmt_count(change.previous)} in {change.since} to "
                    f"{_fmt_count(change.current)} ({change.delta:+,.0f}{percent}).")
        way = direction(change.previous, change.current, change.higher_is_better) if change.higher_is_better is not None else None
        if way == "better":
            text += " That is the right way."
        elif way == "worse":
            text += " That is the wrong way."
    if change.note:
        text += f" ({change.note[0].upper()}{change.note[1:]}.)"
    return text


def biggest_changes(changes: list[Change], n: int = 3) -> list[Change]:
    """The n largest changes by relative size (ties: larger absolute change first); unchanged
    values are left out."""
    moving = [c for c in changes if c.delta != 0 and not (c.unit == "rate" and abs(c.delta) <= STEADY_POINTS)]
    return sorted(moving, key=lambda c: (-c.relative, -abs(c.delta), c.subject))[:n]
