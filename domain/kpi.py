"""Board-overview maths, in one place: periods, on-track status, "moving the right way", the
biggest changes and the pace to a target (the sentences that say them: domain/sentences.py).

Rules (stated on the page and in the board packet):
- **Quarter to school year.** A school year runs July to June, so calendar quarters Q3 and Q4
  of year Y fall in school year Y–(Y+1) and Q1, Q2 in (Y-1)–Y: 2025 Q3 -> 2025–26. When that
  school year has no outcome data yet, the overview uses the latest school year with data
  before it (2025 Q3 -> 2024–25 while 2025–26 is not loaded).
- **On track.** A measure is on track when its value meets or beats its target, read with
  `higher_is_better`; off track when it does not; "no target" when the board set none for the
  period. A rate known only as a range is on track only if its worse end meets the target,
  off track only if its better end misses it, and "too close to call" otherwise. A suppressed
  or missing value is "no data", and so is a rate whose range is the whole 0–100%
  (domain.formatting.says_nothing): it says nothing, so no status is made of it.
- **Moving the right way.** An indicator moves the right way when its rate changed since the
  previous school year with data in the direction `higher_is_better` asks for (an unchanged
  rate, under `STEADY_POINTS`, is "no change"). A rate known as a range moved only when the
  whole range of the change (later low minus earlier high, to later high minus earlier low) is
  on one side: a range of changes across zero is "too close to call", never read from the
  ranges' midpoints. M counts indicators whose move can be told (a shown rate in both years,
  not too close to call); N of them moved the right way.
- **Biggest changes.** Changes are ranked by their size relative to where they started
  (a 10% rise in seats and a 2-point rise on a 20% rate both count as 10%), among values that
  are shown (not suppressed) in both periods.
- **Pace to a target.** Each measure's latest target (the board's goal furthest ahead) is
  set against a straight line fitted to its shown values (a rate known as a range by its
  midpoint; at least three periods). The distance still to go is the target minus the latest
  value (a range for a range). At the fitted pace the target is reached in the period where
  the line meets it; with the slope's 95% interval (Student's t, n-2 degrees of freedom) and
  the range of the distance, that period is itself a range, open-ended when the slow end of
  the interval does not move towards the target. "On pace" when even the slow end reaches it
  by the target period, "not at this pace" when even the fast end does not, "too close to
  call" otherwise; "met" when the latest value (its worse end) already meets it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from domain.formatting import says_nothing
from domain.periods import (  # noqa: F401
    quarter_bounds, quarter_label, school_year_for_quarter, school_year_label, school_year_of_quarter,
)

ON_TRACK, OFF_TRACK, NO_TARGET, NO_DATA, UNCLEAR = "on track", "off track", "no target", "no data", "too close to call"
MET, ON_PACE, OFF_PACE, AWAY, TOO_FEW = "met", "on pace", "not at this pace", "moving away", "too few periods"
PACE_PERIODS = 3  # fewest shown values a pace is fitted to
STEADY_POINTS = 0.05  # a rate change smaller than this (in points) is "no change"


# --- periods: domain/periods.py (imported here too, for the callers of kpi.quarter_label & co.) ---

# --- status ----------------------------------------------------------------------------------

def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def track_status(value_low, value_high, target, higher_is_better: bool = True) -> str:
    """On track / off track / too close to call / no target / no data (see module rules)."""
    if _missing(target):
        return NO_TARGET
    if (_missing(value_low) and _missing(value_high)) or says_nothing(value_low, value_high):
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


def change_range(previous_low, previous_high, low, high) -> tuple[float, float] | None:
    """The change from an earlier value to a later one as a range (later low minus earlier high,
    to later high minus earlier low; one number twice when both are exact). None without both
    values, or where either says nothing (a rate over the whole 0–100%)."""
    if any(_missing(v) for v in (previous_low, previous_high, low, high)):
        return None
    if says_nothing(previous_low, previous_high) or says_nothing(low, high):
        return None
    return low - previous_high, high - previous_low


def moved(previous_low, previous_high, low, high, higher_is_better: bool = True, steady: float = STEADY_POINTS) -> str | None:
    """`better`, `worse`, `same` or `too close to call` (UNCLEAR) for a change between two values
    known exactly or as ranges (see module rules); None without both values."""
    change = change_range(previous_low, previous_high, low, high)
    if change is None:
        return None
    lo, hi = change
    if abs(hi - lo) < 1e-9:
        return direction(0.0, lo, higher_is_better, steady)
    if -steady <= lo and hi <= steady:
        return "same"
    if lo > steady or hi < -steady:
        return "better" if (lo > 0) == bool(higher_is_better) else "worse"
    return UNCLEAR


def moving_right_way(pairs) -> tuple[int, int]:
    """(N, M): of M indicators whose move can be told, N moved the right way. `pairs` holds
    (previous_low, previous_high, low, high, higher_is_better)."""
    moves = [moved(pl, ph, lo, hi, h, STEADY_POINTS) for pl, ph, lo, hi, h in pairs]
    counted = [m for m in moves if m is not None and m != UNCLEAR]
    return sum(m == "better" for m in counted), len(counted)


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


def biggest_changes(changes: list[Change], n: int = 3) -> list[Change]:
    """The n largest changes by relative size (ties: larger absolute change first); unchanged
    values are left out."""
    moving = [c for c in changes if c.delta != 0 and not (c.unit == "rate" and abs(c.delta) <= STEADY_POINTS)]
    return sorted(moving, key=lambda c: (-c.relative, -abs(c.delta), c.subject))[:n]


# --- pace to a target ---------------------------------------------------------------------------

def period_number(period: str) -> float:
    """A school year (`2024-25` -> 2024) or a quarter (`2025-Q3` -> 2025.5) on one line of time."""
    if "-Q" in period:
        return int(period[:4]) + (int(period[-1]) - 1) / 4
    return float(int(period[:4]))


def period_at(number: float, like: str) -> str:
    """The period (of the kind of `like`) in which time `number` falls, rounded up."""
    if "-Q" in like:
        quarters = math.ceil(round(number * 4, 6))
        return f"{quarters // 4}-Q{quarters % 4 + 1}"
    start = math.ceil(round(number, 6))
    return f"{start}-{(start + 1) % 100:02d}"


@dataclass(frozen=True)
class Pace:
    """Where a measure's trend takes it against a target (see module rules)."""

    status: str  # MET, ON_PACE, OFF_PACE, UNCLEAR, AWAY or TOO_FEW
    target: float
    target_period: str
    to_go_low: float  # distance still to go (in the direction of better; 0 when met)
    to_go_high: float
    per_period: float = math.nan  # fitted change per year (or per quarter), towards better when > 0
    per_period_low: float = math.nan
    per_period_high: float = math.nan
    reached: str | None = None  # the period the fitted line reaches the target
    reached_early: str | None = None  # the fast end of the uncertainty
    reached_late: str | None = None  # the slow end; None: possibly never

    def as_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.__dict__.items()}


def pace(points, target: float, target_period: str, higher_is_better: bool = True) -> Pace:
    """`points`: (period, low, high) of the shown values up to now, oldest first (None for a
    suppressed or missing value, which is left out)."""
    from scipy import stats

    shown = [(period_number(p), lo, hi) for p, lo, hi in points if not (_missing(lo) or _missing(hi))]
    sign = 1.0 if higher_is_better else -1.0
    if not shown:
        return Pace(NO_DATA, target, target_period, math.nan, math.nan)
    _, low, high = shown[-1]
    worse, better = (low, high) if higher_is_better else (high, low)
    to_go = sorted(float(max(0.0, sign * (target - v))) for v in (worse, better))
    if to_go[1] == 0:
        return Pace(MET, target, target_period, 0.0, 0.0)
    if len(shown) < PACE_PERIODS:
        return Pace(TOO_FEW, target, target_period, *to_go)
    x = [t for t, _, _ in shown]
    y = [sign * (lo + hi) / 2 for _, lo, hi in shown]
    fit = stats.linregress(x, y)
    step = 0.25 if "-Q" in target_period else 1.0  # a slope per period, not per year, for quarters
    slope, spread = float(fit.slope), float(stats.t.ppf(0.975, len(shown) - 2) * fit.stderr)
    slow, fast = slope - spread, slope + spread
    now, due = x[-1], period_number(target_period)
    like = target_period
    common = dict(per_period=slope * step, per_period_low=slow * step, per_period_high=fast * step)
    if fast <= 0:
        return Pace(AWAY, target, target_period, *to_go, **common)
    reached = period_at(now + to_go[1] / slope, like) if slope > 0 else None
    early = period_at(now + to_go[0] / fast, like)
    late = period_at(now + to_go[1] / slow, like) if slow > 0 else None
    if slow > 0 and now + to_go[1] / slow <= due + 1e-9:
        status = ON_PACE
    elif now + to_go[0] / fast > due + 1e-9:
        status = OFF_PACE if slope > 0 else AWAY
    else:
        status = UNCLEAR
    return Pace(status, target, target_period, *to_go, **common, reached=reached, reached_early=early, reached_late=late)
