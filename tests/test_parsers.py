"""Property tests for the cell parsers of the data package contract (data/parsers.py).

Each parser is checked on values written the ways real files write them (spaces, leading
zeros, case, dash styles) and on arbitrary text, which must never raise and never yield a
value that is not canonical. The vectorised parsers must agree with the scalar helpers.
"""
from __future__ import annotations

import calendar
import math
import re
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from data import parsers

settings.register_profile("parsers", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("parsers")

spaces = st.sampled_from(["", " ", "  ", "\t"])
leading_zeros = st.integers(0, 3).map(lambda n: "0" * n)
any_text = st.text(max_size=12) | st.text(alphabet="0123456789-–/<>=.%*QqnPSGELT +", max_size=12)


def _bad(parser, text: str) -> bool:
    return bool(parser(pd.Series([text], dtype="object")).bad.iloc[0])


# --- counts -------------------------------------------------------------------------------

@given(n=st.integers(0, 10**18 - 1), zeros=leading_zeros, before=spaces, after=spaces)
@example(n=0, zeros="", before="", after="")
@example(n=1001, zeros="0", before="", after="")
@example(n=10**18 - 1, zeros="00", before="", after="")
def test_count_round_trips(n, zeros, before, after):
    assert parsers.count_value(f"{before}{zeros}{n}{after}") == (n, False)


@given(n=st.integers(1, 10**12), before=spaces)
def test_negative_count_is_bad(n, before):
    with pytest.raises(ValueError):
        parsers.count_value(f"{before}-{n}")


@given(whole=st.integers(0, 10**6), fraction=st.integers(1, 999).map(lambda f: str(f).rstrip("0")))
def test_fractional_count_is_bad(whole, fraction):
    with pytest.raises(ValueError):
        parsers.count_value(f"{whole}.{fraction}")


@given(digits=st.text(alphabet="0123456789", min_size=19, max_size=40))
@example(digits="9223372036854775808")
@example(digits="99999999999999999999")
@example(digits="9223372036854775807")
def test_huge_count_is_exact_or_bad_never_wrapped(digits):
    """A count too large to hold is reported as bad, never wrapped round or rounded."""
    try:
        value, suppressed = parsers.count_value(digits)
    except ValueError:
        return
    assert not suppressed and value == int(digits)


suppression_marks = st.one_of(
    st.just("*"),
    st.sampled_from(["ps", "PS", "Ps", "pS"]),
    st.just("--"),
    st.tuples(st.sampled_from(["", "n", "N"]), spaces, spaces, st.integers(1, 1000)).map(
        lambda t: f"{t[0]}{t[1]}<{t[2]}{t[3]}"),
)


@given(mark=suppression_marks, before=spaces, after=spaces)
@example(mark="<10", before="", after="")
@example(mark="n<10", before="", after="")
def test_suppression_marks_are_suppressed_never_zero(mark, before, after):
    value, suppressed = parsers.count_value(f"{before}{mark}{after}")
    assert suppressed is True
    assert value is None  # not 0, not the threshold


@given(text=any_text)
@example(text="١٢")  # Arabic-Indic digits: a regex \d matches them, a number parser does not
@example(text="１２")
def test_count_never_raises_on_arbitrary_text(text):
    parsed = parsers.parse_count(pd.Series([text], dtype="object"))
    value = parsed.values.iloc[0]
    if parsed.bad.iloc[0] or parsed.suppressed.iloc[0] or not text.strip():
        assert pd.isna(value)
    else:
        assert re.fullmatch(r"\s*\+?[0-9]+(\.0+)?\s*", text)
        assert value == int(float(text.strip())) >= 0


def test_blank_count_is_missing_not_bad():
    parsed = parsers.parse_count(pd.Series(["", "  ", None], dtype="object"))
    assert not parsed.bad.any() and not parsed.suppressed.any() and parsed.values.isna().all()


# --- rates --------------------------------------------------------------------------------

percent = st.integers(0, 10000).map(lambda n: n / 100)


def _fmt(x: float) -> str:
    return f"{x:g}" if x == int(x) else f"{x:.2f}".rstrip("0")


@given(x=percent, pct=st.sampled_from(["", "%", " %"]), before=spaces)
@example(x=0.0, pct="", before="")
@example(x=100.0, pct="", before="")
@example(x=90.5, pct="", before="")
def test_exact_rate_round_trips(x, pct, before):
    low, high, suppressed = parsers.rate_value(f"{before}{_fmt(x)}{pct}")
    assert (low, high, suppressed) == (x, x, False)


@given(a=percent, b=percent, dash=st.sampled_from(["-", "–", " - ", " – "]))
@example(a=90.0, b=94.0, dash="-")
def test_rate_range_keeps_both_ends(a, b, dash):
    lo, hi = min(a, b), max(a, b)
    low, high, suppressed = parsers.rate_value(f"{_fmt(lo)}{dash}{_fmt(hi)}")
    assert low <= high
    assert (low, high, suppressed) == (lo, hi, False)


@given(a=percent, b=percent)
def test_reversed_rate_range_is_bad(a, b):
    assume(a > b)
    with pytest.raises(ValueError):
        parsers.rate_value(f"{_fmt(a)}-{_fmt(b)}")


def _any_case(word: str):
    return st.tuples(*[st.sampled_from([c.lower(), c.upper()]) for c in word]).map("".join)


lower_bounds = st.sampled_from(["GE", "GT", ">=", ">"]).flatmap(_any_case)
upper_bounds = st.sampled_from(["LE", "LT", "<=", "<"]).flatmap(_any_case)


@given(op=lower_bounds, x=percent, gap=spaces)
@example(op="GE", x=95.0, gap="")
@example(op=">=", x=95.0, gap="")
def test_lower_bound_rate_is_x_to_100(op, x, gap):
    assert parsers.rate_value(f"{op}{gap}{_fmt(x)}") == (x, 100.0, False)


@given(op=upper_bounds, x=percent, gap=spaces)
@example(op="LT", x=50.0, gap="")
@example(op="<", x=50.0, gap="")
def test_upper_bound_rate_is_0_to_x(op, x, gap):
    assert parsers.rate_value(f"{op}{gap}{_fmt(x)}") == (0.0, x, False)


out_of_range = st.integers(10001, 10**7).map(lambda n: n / 100)


@given(x=out_of_range, form=st.sampled_from(["{x}", "0-{x}", "GE{x}", "LT{x}", ">{x}"]))
@example(x=101.0, form="{x}")
@example(x=104.0, form="0-{x}")
def test_rate_above_100_is_bad(x, form):
    with pytest.raises(ValueError):
        parsers.rate_value(form.format(x=_fmt(x)))


@given(x=percent.filter(lambda v: v > 0))
def test_negative_rate_is_bad(x):
    with pytest.raises(ValueError):
        parsers.rate_value(f"-{_fmt(x)}")


@given(mark=st.sampled_from(["*", "PS", "ps", "--", "n<10", "N < 5"]), before=spaces)
def test_suppressed_rate_has_no_value(mark, before):
    assert parsers.rate_value(f"{before}{mark}") == (None, None, True)


@given(text=any_text)
@example(text="٩٠")
@example(text="nan")
@example(text="inf")
def test_rate_never_raises_and_stays_within_0_100(text):
    parsed = parsers.parse_rate(pd.Series([text], dtype="object"))
    low, high = parsed.values.iloc[0], parsed.upper.iloc[0]
    if parsed.bad.iloc[0] or parsed.suppressed.iloc[0] or not text.strip():
        assert math.isnan(low) and math.isnan(high)
    else:
        assert re.search(r"[0-9]", text) and not re.search(r"[^\x00-\x7f–]", text)
        assert 0 <= low <= high <= 100


# --- quarters -----------------------------------------------------------------------------

@given(year=st.integers(1000, 9999), q=st.integers(1, 4),
       form=st.sampled_from(["{y}-Q{q}", "{y}-q{q}", "{y}Q{q}", "{y} Q{q}", " {y}-Q{q} "]))
def test_quarter_canonical(year, q, form):
    assert parsers.canonical(parsers.parse_quarter, form.format(y=year, q=q)) == f"{year}-Q{q}"


@given(year=st.integers(1000, 9999), q=st.sampled_from([0, 5, 6, 7, 8, 9, 10, 12]))
@example(year=2025, q=5)
@example(year=2025, q=0)
def test_quarter_out_of_range_is_bad(year, q):
    with pytest.raises(ValueError):
        parsers.canonical(parsers.parse_quarter, f"{year}-Q{q}")


@given(text=any_text)
@example(text="٢٠٢٥-Q1")
def test_quarter_never_raises_and_is_canonical(text):
    parsed = parsers.parse_quarter(pd.Series([text], dtype="object"))
    value = parsed.values.iloc[0]
    if parsed.bad.iloc[0] or not text.strip():
        assert pd.isna(value)
    else:
        assert re.fullmatch(r"[0-9]{4}-Q[1-4]", value)


# --- school years -------------------------------------------------------------------------

@given(year=st.integers(1000, 9998), dash=st.sampled_from(["-", "–", " - "]), four=st.booleans())
@example(year=1999, dash="-", four=False)
@example(year=1999, dash="-", four=True)
@example(year=2024, dash="-", four=True)
@example(year=2024, dash="–", four=False)
def test_school_year_canonical(year, dash, four):
    end = f"{year + 1}" if four else f"{(year + 1) % 100:02d}"
    assert parsers.canonical(parsers.parse_school_year, f"{year}{dash}{end}") == f"{year}-{(year + 1) % 100:02d}"


@given(year=st.integers(1000, 9998), step=st.integers(-5, 5).filter(lambda s: s != 1), four=st.booleans())
@example(year=2024, step=2, four=False)
@example(year=2024, step=0, four=True)
def test_school_year_must_be_consecutive(year, step, four):
    end = year + step
    text = f"{year}-{end}" if four else f"{year}-{end % 100:02d}"
    with pytest.raises(ValueError):
        parsers.canonical(parsers.parse_school_year, text)


@given(text=any_text)
@example(text="٢٠٢٤-٢٥")
def test_school_year_never_raises_and_is_canonical(text):
    parsed = parsers.parse_school_year(pd.Series([text], dtype="object"))
    value = parsed.values.iloc[0]
    if parsed.bad.iloc[0] or not text.strip():
        assert pd.isna(value)
    else:
        assert re.fullmatch(r"[0-9]{4}-[0-9]{2}", value)
        assert (int(value[:4]) + 1) % 100 == int(value[5:])


# --- dates --------------------------------------------------------------------------------

@given(day=st.dates())
@example(day=date(2024, 2, 29))
@example(day=date(1, 1, 1))
@example(day=date(9999, 12, 31))
def test_real_dates_round_trip(day):
    text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    assert parsers.canonical(parsers.parse_date, f" {text} ") == text


@given(year=st.integers(1, 9999), month=st.integers(0, 99), day=st.integers(0, 99))
@example(year=2023, month=2, day=29)
@example(year=2024, month=13, day=1)
@example(year=2024, month=4, day=31)
def test_impossible_dates_are_bad(year, month, day):
    assume(not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]))
    with pytest.raises(ValueError):
        parsers.canonical(parsers.parse_date, f"{year:04d}-{month:02d}-{day:02d}")


@given(text=any_text)
@example(text="٢٠٢٤-٠١-٠١")
@example(text="2024-1-5")
@example(text="05/01/2024")
def test_date_never_raises_and_is_iso(text):
    parsed = parsers.parse_date(pd.Series([text], dtype="object"))
    value = parsed.values.iloc[0]
    if parsed.bad.iloc[0] or not text.strip():
        assert pd.isna(value)
    else:
        assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
        date.fromisoformat(value)


# --- locales ------------------------------------------------------------------------------

@given(name=st.sampled_from(parsers.LOCALES).flatmap(_any_case), before=spaces, after=spaces)
def test_locale_names_any_case(name, before, after):
    assert parsers.canonical(parsers.parse_locale, f"{before}{name}{after}") == name.lower()


@given(major=st.integers(0, 9), minor=st.integers(0, 9))
@example(major=4, minor=1)
@example(major=1, minor=4)
@example(major=4, minor=0)
def test_nces_locale_codes(major, minor):
    code = f"{major}{minor}"
    if 1 <= major <= 4 and 1 <= minor <= 3:
        assert parsers.canonical(parsers.parse_locale, code) == ("city", "suburb", "town", "rural")[major - 1]
    else:
        with pytest.raises(ValueError):
            parsers.canonical(parsers.parse_locale, code)


@given(text=any_text)
@example(text="٤١")
def test_locale_never_raises(text):
    parsed = parsers.parse_locale(pd.Series([text], dtype="object"))
    value = parsed.values.iloc[0]
    assert pd.isna(value) if (parsed.bad.iloc[0] or not text.strip()) else value in parsers.LOCALES


# --- numbers and booleans -----------------------------------------------------------------

@given(x=st.floats(-1e9, 1e9, allow_nan=False), before=spaces)
def test_number_round_trips(x, before):
    parsed = parsers.parse_number(pd.Series([f"{before}{x!r}"], dtype="object"))
    assert not parsed.bad.iloc[0] and parsed.values.iloc[0] == x


@given(text=st.text(alphabet="abcxyz,;!", min_size=1, max_size=8))
def test_non_number_is_bad(text):
    assert _bad(parsers.parse_number, text)


@given(word=st.sampled_from(["true", "false", "yes", "no", "t", "f", "y", "n", "1", "0"]).flatmap(_any_case))
def test_bool_words(word):
    parsed = parsers.parse_bool(pd.Series([f" {word} "], dtype="object"))
    assert not parsed.bad.iloc[0]
    assert bool(parsed.values.iloc[0]) == (word.lower() in ("true", "yes", "t", "y", "1"))


@pytest.mark.parametrize("word", ["maybe", "2", "truee", "-"])
def test_bool_other_words_are_bad(word):
    assert _bad(parsers.parse_bool, word)


# --- vectorised parse agrees with the scalar helpers --------------------------------------

count_cells = st.one_of(
    st.integers(0, 10**9).map(str), suppression_marks, st.integers(-100, -1).map(str), any_text, st.just(""))
rate_cells = st.one_of(
    percent.map(_fmt), st.tuples(percent, percent).map(lambda t: f"{_fmt(min(t))}-{_fmt(max(t))}"),
    st.tuples(lower_bounds | upper_bounds, percent).map(lambda t: f"{t[0]}{_fmt(t[1])}"),
    out_of_range.map(_fmt), st.sampled_from(["PS", "*", "--", "n<10"]), any_text, st.just(""))
quarter_cells = st.one_of(
    st.tuples(st.integers(1990, 2040), st.integers(0, 6)).map(lambda t: f"{t[0]}-Q{t[1]}"), any_text, st.just(""))
year_cells = st.one_of(
    st.tuples(st.integers(1990, 2040), st.integers(-1, 3)).map(lambda t: f"{t[0]}-{(t[0] + t[1]) % 100:02d}"),
    any_text, st.just(""))
date_cells = st.one_of(st.dates().map(date.isoformat), st.tuples(
    st.integers(1990, 2040), st.integers(0, 13), st.integers(0, 32)).map(lambda t: f"{t[0]}-{t[1]:02d}-{t[2]:02d}"),
    any_text, st.just(""))
locale_cells = st.one_of(st.sampled_from(parsers.LOCALES), st.integers(0, 99).map(str), any_text, st.just(""))


def _with_repeats(cells):
    """Lists where values repeat, as real columns do (a parser may parse each distinct text once)."""
    return st.lists(cells, max_size=8).flatmap(lambda values: st.permutations(values * 3))


def _scalar_or_error(fn, text):
    try:
        return fn(text)
    except ValueError:
        return "bad"


def _missing_to_none(value):
    if isinstance(value, tuple):
        return tuple(_missing_to_none(v) for v in value)
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


@settings(max_examples=15)
@given(cells=_with_repeats(count_cells) | st.lists(count_cells, max_size=12))
def test_vectorised_counts_equal_scalar(cells):
    parsed = parsers.parse_count(pd.Series(cells, dtype="object"))
    for i, cell in enumerate(cells):
        scalar = _scalar_or_error(parsers.count_value, cell)
        vector = "bad" if parsed.bad.iloc[i] else (_missing_to_none(parsed.values.iloc[i]), bool(parsed.suppressed.iloc[i]))
        assert vector == scalar, cell


@settings(max_examples=15)
@given(cells=_with_repeats(rate_cells) | st.lists(rate_cells, max_size=12))
def test_vectorised_rates_equal_scalar(cells):
    parsed = parsers.parse_rate(pd.Series(cells, dtype="object"))
    for i, cell in enumerate(cells):
        scalar = _scalar_or_error(parsers.rate_value, cell)
        vector = "bad" if parsed.bad.iloc[i] else (
            _missing_to_none(parsed.values.iloc[i]), _missing_to_none(parsed.upper.iloc[i]), bool(parsed.suppressed.iloc[i]))
        assert vector == scalar, cell


@pytest.mark.parametrize("parser, cells", [
    (parsers.parse_quarter, quarter_cells), (parsers.parse_school_year, year_cells),
    (parsers.parse_date, date_cells), (parsers.parse_locale, locale_cells),
], ids=["quarter", "school_year", "date", "locale"])
def test_vectorised_canonical_equals_scalar(parser, cells):
    @settings(max_examples=15)
    @given(values=_with_repeats(cells) | st.lists(cells, max_size=12))
    def check(values):
        parsed = parser(pd.Series(values, dtype="object"))
        for i, cell in enumerate(values):
            scalar = _scalar_or_error(lambda t: parsers.canonical(parser, t), cell)
            vector = "bad" if parsed.bad.iloc[i] else _missing_to_none(parsed.values.iloc[i])
            assert vector == scalar, cell

    check()
