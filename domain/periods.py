"""Periods and their labels, in one place: calendar quarters (`2025-Q3`, participation) and
school years (`2024-25`, outcomes; they run July to June), as stored and as read."""
from __future__ import annotations

from typing import Callable, Sequence


def quarter_label(quarter: str) -> str:
    """`2025-Q3` reads `2025 Q3`."""
    return quarter.replace("-", " ")


def school_year_label(year: str) -> str:
    """`2024-25` reads `2024–25`."""
    return year.replace("-", "–")


def period_span(values: Sequence, label: Callable = str) -> str:
    """`2019–20 to 2024–25 (6)`, or `none`."""
    return f"{label(values[0])} to {label(values[-1])} ({len(values)})" if values else "none"


def previous_quarter(quarter: str) -> str:
    """`2025-Q1` -> `2024-Q4`."""
    year, q = int(quarter[:4]), int(quarter[-1])
    return f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"


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
