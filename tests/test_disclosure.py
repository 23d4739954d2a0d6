"""The disclosure policy's rate side (domain.suppression.protect_rates): bands that pin no small
numerator or remainder, rates at one decimal, and the policy setting."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from domain.suppression import BANDS, COUNTS, disclosure_policy, numerator_band, protect_rates


def _rates(rows, policy=BANDS, hidden=None, limit=10):
    frame = pd.DataFrame(rows, columns=["denominator", "numerator_low", "numerator_high"], dtype="float64")
    return protect_rates(frame, hidden, limit, policy)


def test_fewer_than_the_threshold_meeting_is_a_band_under_half():
    out = _rates([(20, 5, 5)]).iloc[0]
    assert bool(out["banded"]) and not bool(out["suppressed"])
    assert (out["rate_low"], out["rate_high"]) == (0.0, 45.0)  # 0..9 of 20
    assert math.isnan(out["numerator_low"]) and out["denominator"] == 20


def test_fewer_than_the_threshold_not_meeting_is_a_band_near_the_top():
    out = _rates([(20, 17, 17)]).iloc[0]
    assert bool(out["banded"])
    assert (out["rate_low"], out["rate_high"]) == (55.0, 100.0)  # 11..20 of 20


def test_zones_that_meet_leave_the_whole_range():
    # 10..18 students: every numerator but none and all is in a small zone, the zones overlap.
    for den in range(10, 19):
        out = _rates([(den, n, n) for n in range(den + 1)])
        assert list(out["banded"]) == [False, *[True] * (den - 1), False]
        inner = out.iloc[1:-1]
        assert (inner["rate_low"] == 0).all() and (inner["rate_high"] == 100).all()
        assert (out["rate_low"].iloc[0], out["rate_low"].iloc[-1]) == (0.0, 100.0)  # zeros are shown


@pytest.mark.parametrize("limit", [3, 5, 10, 11])
def test_every_band_covers_its_whole_small_zone_whatever_the_numerator(limit):
    """The band shown for one numerator is the band shown for every numerator of its zone, so
    the band and the students give no more away than 'fewer than the threshold'."""
    for den in range(limit, 80):
        n = np.arange(den + 1, dtype="float64")
        low, high, banded = numerator_band(n, n, np.full(len(n), den, dtype="float64"), limit)
        small = ((n > 0) & (n < limit)) | ((den - n > 0) & (den - n < limit))
        assert (banded == small).all()
        for band in {(a, b) for a, b, s in zip(low, high, banded) if s}:
            members = n[(low == band[0]) & (high == band[1])]
            assert band[0] <= members.min() and members.max() <= band[1]
            # every count the band could stand for, meeting or not: at least limit - 2 wide
            assert members.max() - members.min() >= limit - 2


def test_rate_times_students_pins_no_small_numerator():
    out = _rates([(d, n, n) for d in range(10, 200) for n in range(d + 1)])
    shown = out[~out["banded"] & ~out["suppressed"]]
    for den, rate in zip(shown["denominator"], shown["rate_low"]):
        # every numerator the published one-decimal rate is consistent with
        candidates = [n for n in range(int(den) + 1) if round(n / den * 100, 1) == rate]
        for small in (min(candidates), den - max(candidates)):
            assert small == 0 or small >= 10  # a zero reveals no one


def test_rates_are_published_at_one_decimal_ranges_rounded_outwards():
    out = _rates([(31, 14, 14), (1000, 451.5, 460.2)], policy=COUNTS)
    assert out["rate_low"].iloc[0] == 45.2  # 45.16129...
    assert (out["rate_low"].iloc[1], out["rate_high"].iloc[1]) == (45.1, 46.1)


def test_primary_rule_and_zero_denominators():
    out = _rates([(9, 3, 3), (0, 0, 0), (50, 20, 20)], hidden=[False, False, True])
    assert list(out["suppressed"]) == [True, False, True]
    assert out.loc[0, ["denominator", "numerator_low", "rate_low"]].isna().all()
    # A zero denominator reveals no one: shown, with no rate (and the import counts it as known).
    assert out["denominator"].iloc[1] == 0 and math.isnan(out["rate_low"].iloc[1])
    assert out.loc[2, ["denominator", "rate_low"]].isna().all()


def test_counts_policy_keeps_todays_behaviour():
    out = _rates([(20, 5, 5)], policy=COUNTS).iloc[0]
    assert not bool(out["banded"]) and out["rate_low"] == 25.0 and out["numerator_low"] == 5


def test_the_policy_setting(monkeypatch):
    monkeypatch.delenv("ALLIANCE_DISCLOSURE_POLICY", raising=False)
    assert disclosure_policy() == BANDS
    monkeypatch.setenv("ALLIANCE_DISCLOSURE_POLICY", "counts")
    assert disclosure_policy() == COUNTS
    monkeypatch.setenv("ALLIANCE_DISCLOSURE_POLICY", "no-such-policy")
    assert disclosure_policy() == BANDS  # never falls back to the weaker policy
