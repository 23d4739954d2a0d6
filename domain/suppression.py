"""Small-number suppression: the one engine every query uses before data leaves `queries/`.

Rules (shared/BRIEF.md, "Small numbers are protected"):
- Primary: a count from 1 to threshold-1 is suppressed; a rate is suppressed when its
  denominator is below the threshold (its numerator and denominator with it). A zero reveals no
  one and stays visible, so "no participants at all" can still be seen on a map.
- Complementary: where parts add up to a shown total (economically disadvantaged + not = all
  students; regions add up to the alliance), a single suppressed part could be recovered by
  subtraction, so a second part is suppressed too: the smallest shown non-zero part, or the
  total when no such part exists (totals last, once hiding parts settles nothing more: a hidden
  total cascades into every relation it is a part of). A hidden total whose parts are all
  shown would be their sum, so one part is suppressed with it; and hidden parts whose sum (the
  total minus the shown parts) leaves each of them only its least possible value get another
  part hidden with them. This repeats until every relation with a shown total has no
  suppressed part or at least two, and no hidden total has all its parts shown.
- Audit: local rules can still leave a protected value (a small count, or one suppressed at
  source) that the relations and bounds together pin down or narrow (a chain through a pooled
  total that leaves out a value suppressed at source, shown zeros that make every hidden count
  at least 1). `domain.audit` finds, over every relation at once, the range each could take and
  adds complements until every range is at least the protection width wide.

Suppressed values become NaN with a `<column>_suppressed` flag set, so they can never be drawn
as zero and are told apart from missing values (NaN without the flag).

The threshold defaults to 10; a deployment sets another with SUPPRESSION_THRESHOLD (an
environment variable or a Streamlit secret). The protection width defaults to half the
threshold (rounded down); PROTECTION_WIDTH sets another the same way.

Rates (`protect_rates`, the one entry point for every rate the query layer returns): under the
default disclosure policy (`bands`, ALLIANCE_DISCLOSURE_POLICY) a rate whose numerator or
remainder (denominator minus numerator) could be from 1 to threshold-1 is shown only as a band
that holds every numerator of that small zone, so rate x students pins no small count; every
rate is published at one decimal. `counts` protects counts only (a rate beside its students
pins the number meeting it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from domain.audit import Knowledge, audited
from domain.gaps import pooled_rate
from domain.scope import ALLIANCE
from domain.settings import setting
from domain.vocabulary import BUILT_IN_GROUPS

DEFAULT_THRESHOLD = 10


def threshold() -> int:
    value = setting("SUPPRESSION_THRESHOLD")
    try:
        return max(1, int(value)) if value is not None else DEFAULT_THRESHOLD
    except ValueError:
        return DEFAULT_THRESHOLD


BANDS, COUNTS = "bands", "counts"
POLICIES = {
    BANDS: "small numerators banded: a rate whose number meeting or not meeting it is below the threshold is "
           "shown only as a range covering every such number",
    COUNTS: "counts only: group sizes below the threshold are suppressed; rates are shown beside them, so a small "
            "number meeting or not meeting a measure can be worked out",
}
DEFAULT_POLICY = BANDS
RATE_DIGITS = 1  # rates are published at one decimal, never at full precision


def disclosure_policy() -> str:
    """The disclosure policy in force (ALLIANCE_DISCLOSURE_POLICY; an unknown value falls back
    to the default, never to the weaker `counts`)."""
    value = setting("ALLIANCE_DISCLOSURE_POLICY")
    value = str(value).strip().lower() if value is not None else DEFAULT_POLICY
    return value if value in POLICIES else DEFAULT_POLICY


def protection_width(limit: int | None = None) -> int:
    """How wide the range of possible values of every protected count must be (the audit
    hides more until it is): PROTECTION_WIDTH, or half the threshold in force."""
    value = setting("PROTECTION_WIDTH")
    try:
        return max(0, int(value)) if value is not None else (limit or threshold()) // 2
    except ValueError:
        return (limit or threshold()) // 2


@dataclass(frozen=True)
class Partition:
    """Rows that share every other key column, and whose `part` values add up to the row whose
    `part` value is `total`. `parts=None` means every other value of `part`."""

    part: str
    total: str
    parts: tuple[str, ...] | None = None
    # Name of a boolean column: rows where it is False are not parts of this partition (e.g. a
    # region's value that was suppressed at source and so is not in the pooled total).
    only_if: str | None = None
    # Whether the relation holds only when every listed part is there: a student-group breakdown
    # with a part not reported at all (no row, or no value) gives nothing away by subtraction.
    # Pooled region totals are sums of the rows present, so they hold regardless.
    complete_only: bool = False
    # Name of a boolean column: rows where it is False are in no relation of this partition,
    # as parts or totals (e.g. a relation that holds for regions but not for pooled totals).
    scope: str | None = None


def _group_partitions() -> tuple[Partition, ...]:
    pairs = []
    for group in BUILT_IN_GROUPS:
        ref = group.reference_group_id
        if ref and group.group_id < ref:
            pairs.append(Partition("student_group", "all", (group.group_id, ref), complete_only=True))
    races = tuple(g.group_id for g in BUILT_IN_GROUPS if g.category == "race_ethnicity")
    return (*pairs, Partition("student_group", "all", races, complete_only=True))


# Student groups that add up to all students: each complementary pair, and the race groups.
GROUP_PARTITIONS = _group_partitions()
ALLIANCE_TOTAL = ALLIANCE.cell
# Regions add up to the alliance-wide row, whose region_id is ALLIANCE_TOTAL.
REGION_PARTITION = Partition("region_id", ALLIANCE_TOTAL)


def primary_mask(values: pd.Series, limit: int) -> pd.Series:
    """Counts from 1 to limit-1."""
    numeric = pd.to_numeric(values, errors="coerce")
    return ((numeric > 0) & (numeric < limit)).fillna(False).astype(bool)


def suppress_counts(
    frame: pd.DataFrame, column: str, keys: Sequence[str] = (), partitions: Iterable[Partition] = (),
    limit: int | None = None, also: Sequence[str] = (), width: int | None = None,
) -> pd.DataFrame:
    """Suppress a count column (primary and complementary).

    `keys` are the columns that identify a cell (e.g. region_id, student_group, quarter); rows in
    a partition share every key but the partition's `part`. Values already suppressed upstream
    (a True `<column>_suppressed` flag, e.g. `*` in the source file) stay suppressed and count
    as suppressed parts. `also` names columns hidden together with the count (e.g. a rate
    computed from it). `width`: the protection width (default: `protection_width(limit)`).
    """
    limit = limit or threshold()
    out = frame.copy()
    flag = f"{column}_suppressed"
    upstream = out[flag].fillna(False).astype(bool) if flag in out else pd.Series(False, index=out.index)
    hidden = upstream | primary_mask(out[column], limit)
    hidden = _complementary(out, column, hidden, list(keys), list(partitions), limit, width)
    out[flag] = hidden
    out.loc[hidden, column] = np.nan
    for other in also:
        out.loc[hidden, other] = np.nan
    return out


def suppress_rates(
    frame: pd.DataFrame, numerator: str = "numerator", denominator: str = "denominator",
    rate_columns: Sequence[str] = ("rate",), keys: Sequence[str] = (), partitions: Iterable[Partition] = (),
    limit: int | None = None, width: int | None = None,
) -> pd.DataFrame:
    """Suppress rates whose denominator is below the limit, with their numerator and denominator;
    then complementary suppression on the denominators, so that no hidden denominator (or the
    numerator that goes with it) can be recovered from a total and its other parts.

    Adds a `suppressed` flag column for the row.
    """
    limit = limit or threshold()
    out = frame.copy()
    den = pd.to_numeric(out[denominator], errors="coerce")
    upstream = out["suppressed"].fillna(False).astype(bool) if "suppressed" in out else pd.Series(False, index=out.index)
    # A zero denominator reveals no one (and has no rate): like a zero count, it stays visible.
    hidden = upstream | ((den > 0) & (den < limit)).fillna(False).astype(bool)
    hidden = _complementary(out, denominator, hidden, list(keys), list(partitions), limit, width)
    out["suppressed"] = hidden
    for column in (numerator, denominator, *rate_columns):
        if column in out:
            out[column] = out[column].astype("float64")
            out.loc[hidden, column] = np.nan
    return out


def complementary(frame: pd.DataFrame, column: str, hidden: pd.Series, keys: Sequence[str],
                  partitions: Iterable[Partition], limit: int | None = None, width: int | None = None,
                  protect: pd.Series | None = None) -> pd.Series:
    """The cells to hide, given those hidden already (`hidden`): complementary suppression
    alone, for callers that decide primary suppression themselves (e.g. with cells that stand
    for a derived quantity and are never shown, so have no size of their own to protect).
    `protect`: the cells whose range must be at least the protection width wide (default: those
    in `hidden`)."""
    limit = limit or threshold()
    return _complementary(frame, column, hidden, list(keys), list(partitions), limit, width, protect)


def _complementary(frame: pd.DataFrame, column: str, hidden: pd.Series, keys: list[str], partitions: list[Partition],
                   limit: int | None = None, width: int | None = None, protect: pd.Series | None = None) -> pd.Series:
    if not partitions or frame.empty:
        return hidden
    limit = limit or threshold()
    width = protection_width(limit) if width is None else width
    raw = pd.to_numeric(frame[column], errors="coerce")
    values = raw.fillna(0).to_numpy(dtype="float64")
    hidden_array = hidden.to_numpy(dtype=bool).copy()
    present = raw.notna().to_numpy(dtype=bool) | hidden_array
    groupings: dict[tuple[str, ...], tuple[np.ndarray, int]] = {}
    prepared = [_prepare(frame, keys, partition, groupings, present) for partition in partitions]
    prepared = [p for p in prepared if len(p[0])]
    least = _least(values)
    protected = hidden_array.copy() if protect is None else protect.to_numpy(dtype=bool) & hidden_array
    known = np.isfinite(raw.to_numpy(dtype="float64", na_value=np.nan))
    relations, exact, at_least = _relation_matrix(prepared, values, known)
    # An outsider is credited with knowing which hidden counts are small (at most limit-1):
    # more than they can know, so ranges found are never wider than theirs.
    small = hidden_array & known & (values >= 1) & (values < limit)
    # A value suppressed at source may be 0 (a source's rules are its own).
    knowledge = Knowledge(relations, exact, at_least, values, known, np.where(known | np.isneginf(values), least, 0.0),
                          np.where(small, limit - 1.0, np.inf))

    def close_within(cells: np.ndarray):
        local = _restricted(prepared, cells, len(values))
        return lambda local_hidden: _close_locally(values[cells], least[cells], local, local_hidden)

    hidden_array = audited(knowledge, _close_locally(values, least, prepared, hidden_array), protected, width,
                           close_within)
    return pd.Series(hidden_array, index=hidden.index)


def _close_locally(values: np.ndarray, least: np.ndarray, prepared, hidden: np.ndarray) -> np.ndarray:
    """The local rules, repeated until no relation gives a hidden value away. Totals are hidden
    only once hiding parts settles nothing more: a part hidden for another relation often closes
    the exposure too, and a hidden total cascades into every relation it is a part of (a
    region's all students into the rural, non-rural and alliance totals)."""
    hidden = hidden.copy()
    allow_totals = False
    while True:
        floor = _known_floors(values, hidden, prepared, least)
        was_hidden = hidden.copy()
        changed = False
        for rows, is_total, is_part, relation, n_relations in prepared:
            # A cell hidden during this pass is only known to be at least its least value until
            # floors are recomputed (its true value is no floor anyone can prove).
            h = hidden[rows]
            current = np.where(h & ~was_hidden[rows], least[rows], floor[rows])
            if _close_one_partition(values[rows], h, is_total, is_part, relation, n_relations, current, allow_totals):
                hidden[rows] = h
                changed = True
        if changed:
            allow_totals = False
        elif allow_totals:
            return hidden
        else:
            allow_totals = True


def _restricted(prepared, cells: np.ndarray, n: int):
    """The partitions over `cells` alone (numbered 0..len(cells)-1), for a set of cells that no
    relation crosses: the audit re-runs the local rules on one system at a time."""
    position = np.full(n, -1, dtype=np.int64)
    position[cells] = np.arange(len(cells))
    out = []
    for rows, is_total, is_part, relation, _ in prepared:
        keep = position[rows] >= 0
        if keep.any():
            local, numbered = np.unique(relation[keep], return_inverse=True)
            out.append((position[rows[keep]], is_total[keep], is_part[keep], numbered.astype(np.int64), len(local)))
    return out


def _relation_matrix(prepared, values: np.ndarray, known: np.ndarray) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
    """Every relation of the partitions as a row of coefficients over cells (+1 the total, -1
    each part; `row @ true values == 0` where it holds), which of them an attacker can rely
    on: one whose values are all known where it adds up exactly; one with values not known
    (suppressed at source, or a derived cell) where those can make up the rest; and which hold
    as total >= parts (race groups that miss a few students)."""
    n = len(values)
    entries, holding, above, offset = [], [], [], 0
    for rows, is_total, is_part, relation, n_relations in prepared:
        totals = np.bincount(relation[is_total], minlength=n_relations)
        sign = np.where(is_total, 1.0, -1.0)
        member_known = known[rows]
        residual = np.bincount(relation, weights=np.where(member_known, sign * values[rows], 0.0), minlength=n_relations)
        unknowns = np.bincount(relation, weights=(~member_known).astype(float), minlength=n_relations)
        total_known = np.bincount(relation[is_total], weights=member_known[is_total].astype(float), minlength=n_relations) > 0
        has_parts = np.bincount(relation[is_part], minlength=n_relations) > 0
        holding.append((totals == 1) & has_parts & np.where(unknowns == 0, np.abs(residual) < 1e-9, ~total_known | (residual >= -1e-9)))
        above.append((totals == 1) & has_parts & (unknowns == 0) & (residual > 1e-9))
        entries.append((relation + offset, rows, sign))
        offset += n_relations
    if not entries:
        return csr_matrix((0, n)), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    relation_rows, cells, data = (np.concatenate(part) for part in zip(*entries))
    return csr_matrix((data, (relation_rows, cells)), shape=(offset, n)), np.concatenate(holding), np.concatenate(above)


def _least(values: np.ndarray) -> np.ndarray:
    """The least value of a hidden cell anyone can count on: 1 for a count (zeros are never
    hidden for their own sake), none for a derived cell that can be negative (a remainder)."""
    return np.where(values < 0, -np.inf, 1.0)


def _known_floors(values, hidden, prepared, least, rounds: int = 20) -> np.ndarray:
    """The least value anyone can prove for each hidden cell: `_least`, or for a hidden total
    the sum of its shown parts plus its hidden parts' least values."""
    floor = np.where(hidden, least, values)
    for _ in range(rounds):
        before = floor.copy()
        for rows, is_total, is_part, relation, n_relations in prepared:
            sums = np.bincount(relation[is_part], weights=floor[rows[is_part]], minlength=n_relations)
            totals = is_total & hidden[rows]
            # Never above the true value: where parts do not add up exactly to their total (a
            # pooled total that left out a row suppressed at source, race groups that miss a
            # few students), the sum of the parts proves nothing.
            at = rows[totals]
            floor[at] = np.maximum(floor[at], np.minimum(sums[relation[totals]], values[at]))
        if np.array_equal(before, floor):
            break
    return floor


def _prepare(frame: pd.DataFrame, keys: list[str], partition: Partition, cache: dict, present=None):
    """The rows in this partition (totals or parts), their masks of totals and parts, and
    their relation numbers (rows sharing every key but the partition's part column); the
    grouping is computed once per set of fixed keys."""
    part_values = frame[partition.part]
    is_total = (part_values == partition.total).to_numpy(dtype=bool).copy()
    is_part = (part_values.isin(partition.parts) if partition.parts is not None else ~(part_values == partition.total))
    is_part = is_part.to_numpy(dtype=bool).copy()
    if partition.only_if is not None and partition.only_if in frame:
        is_part &= frame[partition.only_if].fillna(False).to_numpy(dtype=bool)
    if partition.scope is not None:
        in_scope = frame[partition.scope].fillna(False).to_numpy(dtype=bool)
        is_part &= in_scope
        is_total &= in_scope
    fixed = tuple(k for k in keys if k != partition.part)
    if fixed not in cache:
        if fixed:
            relation = frame.groupby(list(fixed), sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)
        else:
            relation = np.zeros(len(frame), dtype=np.int64)
        cache[fixed] = (relation, int(relation.max()) + 1 if len(relation) else 0)
    relation, n_relations = cache[fixed]
    if partition.complete_only and partition.parts is not None and present is not None:
        # Relations missing a part are no relation at all: leave their rows out of it.
        have = np.bincount(relation[is_part & present], minlength=n_relations)
        complete = have >= len(set(partition.parts))
        is_part = is_part & complete[relation]
        is_total = is_total & complete[relation]
    # Only this partition's rows, relations numbered afresh: work in proportion to its size.
    rows = np.flatnonzero(is_total | is_part)
    local, numbered = np.unique(relation[rows], return_inverse=True)
    return rows, is_total[rows], is_part[rows], numbered.astype(np.int64), len(local)


def _close_one_partition(values, hidden, is_total, is_part, relation, n_relations, floor=None,
                         allow_totals: bool = True) -> bool:
    """Suppress one more cell in every relation of this partition that would give a hidden
    value away: a shown total with exactly one hidden part, or a hidden total whose parts are
    all shown. Returns whether anything changed."""
    hidden_parts = np.bincount(relation[is_part & hidden], minlength=n_relations)
    shown_total = np.bincount(relation[is_total & ~hidden], minlength=n_relations) > 0
    hidden_total = np.bincount(relation[is_total & hidden], minlength=n_relations) > 0
    # What the hidden parts add up to, as anyone can work out: the total minus the shown parts.
    # If that is no more than the least values anyone can prove for them (1 each, more for a
    # hidden total with hidden parts of its own), every one of them is known.
    if floor is None:
        floor = np.where(hidden, _least(values), values)
    total_value = np.bincount(relation[is_total & ~hidden], weights=values[is_total & ~hidden], minlength=n_relations)
    shown_parts = np.bincount(relation[is_part & ~hidden], weights=values[is_part & ~hidden], minlength=n_relations)
    floors = np.bincount(relation[is_part & hidden], weights=floor[is_part & hidden], minlength=n_relations)
    all_ones = (hidden_parts >= 2) & (total_value - shown_parts <= floors)
    exposed = (shown_total & ((hidden_parts == 1) | all_ones)) | (hidden_total & ~shown_total & (hidden_parts == 0))
    if not exposed.any():
        return False
    # Non-zero: a zero reveals no one, so hiding one protects nothing. (Only a derived cell, such
    # as a remainder, can be negative.)
    rows = np.flatnonzero(exposed[relation] & is_part & ~hidden & (values != 0))
    changed = False
    if len(rows):
        # The smallest shown non-zero part of each exposed relation becomes the complement.
        order = np.lexsort((rows, np.abs(values[rows]), relation[rows]))
        rows = rows[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = relation[rows][1:] != relation[rows][:-1]
        chosen = rows[first]
        hidden[chosen] = True
        changed = True
        served = np.zeros(n_relations, dtype=bool)
        served[relation[chosen]] = True
    else:
        served = np.zeros(n_relations, dtype=bool)
    # A relation with a shown total and no shown non-zero part left: hide its total.
    without_candidate = exposed & shown_total & ~served
    if allow_totals and without_candidate.any():
        totals = is_total & ~hidden & without_candidate[relation]
        if totals.any():
            hidden[totals] = True
            changed = True
    return changed


def with_alliance_total(frame: pd.DataFrame, column: str, by: Sequence[str], region: str = "region_id") -> pd.DataFrame:
    """Append alliance-wide rows (region_id = ALLIANCE_TOTAL) summing `column` over regions, so
    that REGION_PARTITION can protect regional values against subtraction from the total."""
    totals = frame.groupby(list(by), dropna=False, as_index=False)[column].sum(min_count=1)
    totals[region] = ALLIANCE_TOTAL
    return pd.concat([frame, totals], ignore_index=True)


def numerator_band(numerator_low, numerator_high, denominator, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The numerator range to publish for each shown rate under `bands`, and whether it is a
    band. The small zones are 1..limit-1 meeting the measure and 1..limit-1 not meeting it (a
    zero reveals no one and shows, as a zero count does). A range reaching into the low zone
    becomes 0..limit-1 (or more), one reaching into the high zone denominator-limit+1..all,
    until it reaches into no zone it does not hold: the band is then the same for every
    numerator of the zone, so it tells no more than "fewer than `limit`". Below 2 x limit - 1
    students the zones meet and the band is the whole 0..denominator."""
    low = np.asarray(numerator_low, dtype="float64").copy()
    high = np.asarray(numerator_high, dtype="float64").copy()
    den = np.asarray(denominator, dtype="float64")
    banded = np.zeros(len(den), dtype=bool)
    eps = 1e-9
    with np.errstate(invalid="ignore"):
        valid = (den > 0) & np.isfinite(low) & np.isfinite(high)
        for _ in range(2):  # at most: the low zone, then the high zone it reaches (or the reverse)
            in_low = valid & (low <= limit - 1 + eps) & (high >= 1 - eps)
            in_high = valid & (high >= den - limit + 1 - eps) & (low <= den - 1 + eps)
            low = np.where(in_low, 0.0, low)
            high = np.where(in_low, np.maximum(high, np.minimum(limit - 1, den)), high)
            high = np.where(in_high, den, high)
            low = np.where(in_high, np.minimum(low, np.maximum(den - limit + 1, 0)), low)
            banded |= in_low | in_high
    return low, high, banded


def _round_out(low: np.ndarray, high: np.ndarray, exact: np.ndarray, digits: int = RATE_DIGITS):
    """Rates at `digits` decimals: an exact rate rounded, a range's ends rounded outwards (so
    the published range still holds every value it stands for)."""
    scale = 10.0 ** digits
    with np.errstate(invalid="ignore"):
        rounded = np.round(low * scale) / scale
        low_out = np.where(exact, rounded, np.floor(low * scale + 1e-6) / scale)
        high_out = np.where(exact, rounded, np.ceil(high * scale - 1e-6) / scale)
    return low_out, high_out


def protect_rates(frame: pd.DataFrame, hidden=None, limit: int | None = None, policy: str | None = None,
                  band_complements=None) -> pd.DataFrame:
    """Every pooled rate the query layer returns, protected: the one place rates are suppressed.

    `frame` holds `denominator`, `numerator_low` and `numerator_high` (sums over the rows that
    could be pooled; NaN where none could); `hidden` marks cells hidden already (suppressed at
    source, or a complement decided at import over every relation). Primary rule: a denominator
    from 1 to limit-1 is hidden, a zero denominator stays shown (it reveals no one, and the
    import's complementary suppression counts shown zeros as known) with no rate. Then, under
    `bands`, a rate whose numerator or remainder may be below the limit becomes a band
    (`banded`, its numerators hidden), and so does a band complement (`band_complements`:
    decided at import, data.rollup.decide_cells) whose rate would give a small number elsewhere
    away, as the whole 0-100%; every rate is rounded to one decimal.

    Adds rate_low, rate_high (percent), exact, suppressed and banded; hidden numbers are NaN."""
    limit = limit or threshold()
    policy = policy or disclosure_policy()
    out = frame.copy()
    den = pd.to_numeric(out["denominator"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    low = pd.to_numeric(out["numerator_low"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    high = pd.to_numeric(out["numerator_high"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    upstream = np.zeros(len(out), dtype=bool) if hidden is None else np.asarray(hidden, dtype=bool)
    with np.errstate(invalid="ignore"):
        suppressed = upstream | ((den > 0) & (den < limit))
    if policy == BANDS:
        low, high, banded = numerator_band(low, high, den, limit)
        if band_complements is not None:
            widen = np.asarray(band_complements, dtype=bool) & (den > 0)
            low, high = np.where(widen, 0.0, low), np.where(widen, den, high)
            banded |= widen
        banded &= ~suppressed
    else:
        banded = np.zeros(len(out), dtype=bool)
    with np.errstate(invalid="ignore"):
        rate_valid = ~suppressed & (den > 0)
    rate_low = np.where(rate_valid, pooled_rate(low, den).to_numpy(), np.nan)
    rate_high = np.where(rate_valid, pooled_rate(high, den).to_numpy(), np.nan)
    exact = rate_valid & ~banded & (np.abs(rate_high - rate_low) < 1e-9)
    rate_low, rate_high = _round_out(rate_low, rate_high, exact)
    out["denominator"] = np.where(suppressed, np.nan, den)
    out["numerator_low"] = np.where(suppressed | banded, np.nan, low)
    out["numerator_high"] = np.where(suppressed | banded, np.nan, high)
    out["rate_low"], out["rate_high"] = rate_low, rate_high
    out["exact"] = suppressed | np.isnan(rate_low) | (np.abs(rate_high - rate_low) < 1e-9)
    out["suppressed"] = suppressed
    out["banded"] = banded
    return out
