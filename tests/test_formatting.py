"""How numbers read everywhere (domain/formatting.py)."""
from __future__ import annotations

import math

from domain.formatting import rate_text


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


def test_points_carry_a_true_minus_and_no_sign_on_zero():
    from domain.formatting import signed, unsigned

    assert signed(-9.26) == "−9.3" and signed(2.0) == "+2.0" and signed(-0.04) == "0.0" and signed(None) == ""
    assert unsigned(-9.26) == "9.3"


def test_a_gap_range_is_labelled_as_a_range_never_as_two_equal_ends():
    from domain.formatting import gap_label

    assert gap_label(-9.26, -9.26) == "−9.3 pts"
    assert gap_label(-57.0, 12.0) == "≈ −57 to +12 pts"
    assert gap_label(-4.3, -3.8) == "≈ −4 pts"  # not "≈ −4 to −4 pts"
    assert gap_label(math.nan, 1.0) == ""


def test_counts_are_whole_numbers_with_thousands_separators():
    from domain.formatting import count_text

    assert count_text(1950.0) == "1,950" and count_text(None) == "—" and count_text(math.nan) == "—"


def test_one_wording_for_a_suppressed_value():
    from domain.formatting import suppressed_text

    assert suppressed_text(10) == "suppressed (fewer than 10)"
    assert suppressed_text(10, students=True) == "suppressed (fewer than 10 students)"
    assert suppressed_text(5, students=True, why=True) == \
        "suppressed (fewer than 5 students, or could be worked out from other figures)"
