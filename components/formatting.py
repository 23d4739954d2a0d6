"""Numbers as the dashboard writes them, the same on every page, chart, table and report."""
from __future__ import annotations

import math


def rate_text(low, high, digits: int = 0, exact_digits: int | None = None) -> str:
    """A rate in percent: `87%` when exact, `90–94%` when range-coded, or `≈94%` when a range's
    ends round alike (a pooled rate with a few range-coded rows: never `94–94%`). Empty when
    there is no rate; `exact_digits` (default `digits`) for an exact rate."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return ""
    if abs(high - low) < 1e-9:
        return f"{low:.{digits if exact_digits is None else exact_digits}f}%"
    low_text, high_text = f"{low:.{digits}f}", f"{high:.{digits}f}"
    return f"≈{low_text}%" if low_text == high_text else f"{low_text}–{high_text}%"
