"""Value parsers for the data package contract.

Every parser works on a whole pandas Series of raw text at once (imports run to millions of
rows) and returns the parsed values plus a boolean mask of cells that could not be parsed.
The scalar helpers at the bottom run the same code on one value, for tests and callers that
hold a single string.

Blank cells are "missing" (NaN / None) and never an error here: whether a column may be
blank is the validation schema's decision, not the parser's.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.vocabulary import LOCALES

# Suppression marks seen in real report-card files. `<10`, `n<10` and friends carry the
# threshold, which varies by state, so any number is accepted after the `<`.
_SUPPRESSED_COUNT = re.compile(r"^(\*|ps|--|n?\s*<\s*\d+)$", re.IGNORECASE | re.ASCII)
_SUPPRESSED_RATE = re.compile(r"^(\*|ps|--|n\s*<\s*\d+)$", re.IGNORECASE | re.ASCII)
# ASCII digits only (a Unicode \d would let Arabic-Indic digits through to a crash), and at most
# 18 significant digits so that every accepted count fits int64 exactly.
_INTEGER = re.compile(r"^\+?0*(\d{1,18})(?:\.0+)?$", re.ASCII)
_NUMBER = r"\d+(?:\.\d+)?"
_RATE_EXACT = re.compile(rf"^({_NUMBER})\s*%?$", re.ASCII)
_RATE_RANGE = re.compile(rf"^({_NUMBER})\s*%?\s*[-–]\s*({_NUMBER})\s*%?$", re.ASCII)
_RATE_BOUND = re.compile(rf"^(GE|GT|LE|LT|>=|>|<=|<)\s*({_NUMBER})\s*%?$", re.IGNORECASE | re.ASCII)
_QUARTER = re.compile(r"^(\d{4})\s*[-\s]?\s*Q([1-4])$", re.IGNORECASE | re.ASCII)
_SCHOOL_YEAR = re.compile(r"^(\d{4})\s*[-–/]\s*(\d{2}|\d{4})$", re.ASCII)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)

# NCES locale codes: 11-13 city, 21-23 suburb, 31-33 town, 41-43 rural.
_LOCALE_CODES = {f"{major}{minor}": LOCALES[major - 1] for major in range(1, 5) for minor in range(1, 4)}

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def clean_text(raw: pd.Series) -> pd.Series:
    """Strip surrounding spaces; blank becomes NA. Keeps identifiers exactly as written."""
    text = raw.astype("string").str.strip()
    return text.mask(text == "")


@dataclass(frozen=True)
class Parsed:
    """Result of parsing a column: values, which cells were bad, and extra parts."""

    values: pd.Series
    bad: pd.Series
    suppressed: pd.Series | None = None
    upper: pd.Series | None = None


# Columns of a package repeat a few texts millions of times (quarters, school years, small
# counts, suppression marks), so the column parsers below parse each distinct text once and
# spread the results back over the rows. Every parser works cell by cell, so the result is the
# same as parsing every cell; only text columns take this path (an object column holding 5 and
# 5.0 would make them one distinct value).
def _per_distinct_text(parser):
    @functools.wraps(parser)
    def parse_distinct(raw: pd.Series) -> Parsed:
        if len(raw) < 2 or not _is_text(raw):
            return parser(raw)
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        if len(uniques) > len(raw) // 2:
            return parser(raw)
        distinct = pd.Series(uniques, dtype=raw.dtype, name=raw.name)
        missing = codes < 0
        if missing.any():  # keep the column's own missing value (None, NaN or NA)
            distinct = pd.concat([distinct, raw[missing].iloc[:1]], ignore_index=True)
            codes = np.where(missing, len(distinct) - 1, codes)
        parsed = parser(distinct)

        def spread(part):
            return None if part is None else part.iloc[codes].set_axis(raw.index)

        return Parsed(values=spread(parsed.values), bad=spread(parsed.bad),
                      suppressed=spread(parsed.suppressed), upper=spread(parsed.upper))

    return parse_distinct


def _is_text(raw: pd.Series) -> bool:
    if isinstance(raw.dtype, pd.StringDtype):
        return True
    return raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty")


@_per_distinct_text
def parse_count(raw: pd.Series) -> Parsed:
    """Non-negative integer counts, or a suppression mark.

    Returns values as nullable Int64 (NA when blank or suppressed) and a `suppressed` mask.
    Negative numbers and fractions are bad, never rounded.
    """
    text = clean_text(raw)
    present = text.notna()
    suppressed = present & text.str.match(_SUPPRESSED_COUNT).fillna(False).astype(bool)
    integer = present & text.str.match(_INTEGER).fillna(False).astype(bool)
    values = pd.Series(pd.NA, index=raw.index, dtype="Int64")
    if integer.any():
        values[integer] = pd.to_numeric(text[integer].str.extract(_INTEGER)[0]).astype("int64")
    bad = present & ~suppressed & ~integer
    return Parsed(values=values, bad=bad, suppressed=suppressed)


@_per_distinct_text
def parse_rate(raw: pd.Series) -> Parsed:
    """Percent rates: exact (`91`, `90.5`), ranges (`90-94`) or bounds (`GE95`, `<50`).

    Returns the lower limit as `values`, the upper limit as `upper` (equal for an exact rate)
    and a `suppressed` mask. Bounds become ranges within 0-100: `GE95` is 95-100, `LT50` is
    0-50. Anything outside 0-100, or a range whose ends are reversed, is bad.
    """
    text = clean_text(raw)
    present = text.notna()
    suppressed = present & text.str.match(_SUPPRESSED_RATE).fillna(False).astype(bool)
    low = pd.Series(np.nan, index=raw.index, dtype="float64")
    high = pd.Series(np.nan, index=raw.index, dtype="float64")

    exact = text.str.extract(_RATE_EXACT)[0]
    is_exact = present & exact.notna()
    low[is_exact] = exact[is_exact].astype(float)
    high[is_exact] = low[is_exact]

    ranged = text.str.extract(_RATE_RANGE)
    is_range = present & ranged[0].notna()
    low[is_range] = ranged[0][is_range].astype(float)
    high[is_range] = ranged[1][is_range].astype(float)

    bound = text.str.extract(_RATE_BOUND)
    is_bound = present & bound[0].notna()
    if is_bound.any():
        op = bound[0][is_bound].str.upper().map(
            {"GE": "ge", ">=": "ge", "GT": "ge", ">": "ge", "LE": "le", "<=": "le", "LT": "le", "<": "le"}
        )
        limit = bound[1][is_bound].astype(float)
        low[is_bound] = np.where(op == "ge", limit, 0.0)
        high[is_bound] = np.where(op == "ge", 100.0, limit)

    parsed = is_exact | is_range | is_bound
    in_range = (low >= 0) & (high <= 100) & (low <= high)
    bad = present & ~suppressed & ~(parsed & in_range.fillna(False))
    low[bad | suppressed] = np.nan
    high[bad | suppressed] = np.nan
    return Parsed(values=low, bad=bad, suppressed=suppressed, upper=high)


@_per_distinct_text
def parse_number(raw: pd.Series) -> Parsed:
    """Plain decimal numbers (percentages, targets, coordinates)."""
    text = clean_text(raw)
    values = pd.to_numeric(text.str.rstrip("%"), errors="coerce").astype("float64")
    bad = text.notna() & ~np.isfinite(values)  # blank, "nan" and "inf" are not numbers
    return Parsed(values=values, bad=bad)


@_per_distinct_text
def parse_quarter(raw: pd.Series) -> Parsed:
    """Calendar quarters, canonical form `2025-Q3` (also reads `2025 Q3`, `2025q3`)."""
    text = clean_text(raw)
    parts = text.str.extract(_QUARTER)
    ok = parts[0].notna()
    values = (parts[0] + "-Q" + parts[1]).where(ok)
    return Parsed(values=values.astype("string"), bad=text.notna() & ~ok)


@_per_distinct_text
def parse_school_year(raw: pd.Series) -> Parsed:
    """School years, canonical form `2024-25` (also reads `2024–25`, `2024-2025`)."""
    text = clean_text(raw)
    parts = text.str.extract(_SCHOOL_YEAR)
    start = pd.to_numeric(parts[0], errors="coerce").astype("float64")
    end = pd.to_numeric(parts[1], errors="coerce").astype("float64")
    four_digit_end = (parts[1].str.len() == 4).fillna(False).to_numpy(dtype=bool)
    expected_end = np.where(four_digit_end, start + 1, (start + 1) % 100)
    ok = parts[0].notna() & (end == expected_end)
    next_year = ((start + 1) % 100).astype("Int64").astype("string").str.zfill(2)
    values = (parts[0] + "-" + next_year).where(ok)
    return Parsed(values=values.astype("string"), bad=text.notna() & ~ok)


@_per_distinct_text
def parse_date(raw: pd.Series) -> Parsed:
    """ISO dates `YYYY-MM-DD`, checked for being real calendar days."""
    text = clean_text(raw)
    shaped = text.str.match(_DATE).fillna(False).astype(bool)
    dates = pd.to_datetime(text.where(shaped), format="%Y-%m-%d", errors="coerce")
    ok = dates.notna()
    values = dates.dt.strftime("%Y-%m-%d").where(ok).astype("string")
    return Parsed(values=values, bad=text.notna() & ~ok)


@_per_distinct_text
def parse_bool(raw: pd.Series) -> Parsed:
    text = clean_text(raw).str.lower()
    values = text.map(lambda v: True if v in _TRUE else False if v in _FALSE else pd.NA)
    return Parsed(values=values.astype("boolean"), bad=text.notna() & values.isna())


@_per_distinct_text
def parse_locale(raw: pd.Series) -> Parsed:
    """NCES locale categories by name, or 2-digit NCES codes 11-43 mapped to their category."""
    text = clean_text(raw).str.lower()
    values = text.where(text.isin(LOCALES), text.map(_LOCALE_CODES))
    return Parsed(values=values.astype("string"), bad=text.notna() & values.isna())


def _scalar(parser, value):
    return parser(pd.Series([value], dtype="object"))


def count_value(text: str) -> tuple[int | None, bool]:
    """(count, suppressed) for one cell; raises ValueError when the cell is not a count."""
    parsed = _scalar(parse_count, text)
    if parsed.bad.iloc[0]:
        raise ValueError(f"not a count: {text!r}")
    value = parsed.values.iloc[0]
    return (None if pd.isna(value) else int(value)), bool(parsed.suppressed.iloc[0])


def rate_value(text: str) -> tuple[float | None, float | None, bool]:
    """(lower, upper, suppressed) percent for one cell; raises ValueError when not a rate."""
    parsed = _scalar(parse_rate, text)
    if parsed.bad.iloc[0]:
        raise ValueError(f"not a rate: {text!r}")
    low, high = parsed.values.iloc[0], parsed.upper.iloc[0]
    return (None if np.isnan(low) else float(low)), (None if np.isnan(high) else float(high)), bool(
        parsed.suppressed.iloc[0]
    )


def canonical(parser, text: str) -> str | None:
    """Canonical form of one quarter / school year / date / locale; ValueError when bad."""
    parsed = _scalar(parser, text)
    if parsed.bad.iloc[0]:
        raise ValueError(f"cannot read {text!r}")
    value = parsed.values.iloc[0]
    return None if pd.isna(value) else str(value)
