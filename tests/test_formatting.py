"""How rates read everywhere (components/formatting.py)."""
from __future__ import annotations

import math

from components.formatting import rate_text


def test_an_exact_rate_a_range_and_a_range_whose_ends_round_alike():
    assert rate_text(87.0, 87.0) == "87%"
    assert rate_text(87.24, 87.24, 1) == "87.2%"
    assert rate_text(90.0, 94.0) == "90–94%"
    # A pooled rate with a few range-coded rows: not "94–94%".
    assert rate_text(93.6, 94.4) == "≈94%"
    assert rate_text(93.6, 94.4, 1) == "93.6–94.4%"
    assert rate_text(41.96, 41.96, 0, exact_digits=1) == "42.0%"


def test_no_rate_is_empty_text():
    assert rate_text(None, None) == "" and rate_text(math.nan, math.nan) == ""
