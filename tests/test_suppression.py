"""The suppression engine (domain/suppression.py) and the store-wide outcome cube built on it
(data/rollup.py): property tests that no shown value lets a protected count be recovered.

Attacker model: they see every shown cell of a region x student-group table together with
its totals (each region's "all students", the rural and non-rural totals, the alliance), know
every relation between them (a group and its complement add up to all students; regions add
up to their totals) and that hidden counts are at least 1 (zeros are shown; a value suppressed
at source at least 0). A linear program written here (tests/ranges.py, not the audit's code)
finds each hidden cell's least and greatest possible value; every protected count's range
must be at least the protection width wide.

The property tests run the same examples on every CI run (tests/conftest.py) and keep every
counterexample found as an @example; `make privacy` runs thousands of new ones.
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings, strategies as st

from data.rollup import ALLIANCE_CELL, NONRURAL_CELL, RURAL_CELL, SYNTHETIC_GROUPS, protected_cube
from domain.formatting import suppressed_text
from domain.suppression import (
    ALLIANCE_TOTAL, GROUP_PARTITIONS, REGION_PARTITION, Partition, _close_locally, _least, _prepare, _restricted,
    primary_mask, suppress_counts, suppress_rates, threshold, with_alliance_total,
)
from tests.properties import examples
from tests.ranges import outsider_range

LIMIT = 10
WIDTH = LIMIT // 2  # the default protection width

PAIRS = (("econ_disadvantaged", "not_econ_disadvantaged"), ("female", "male"))
GROUPS = ("all", *[g for pair in PAIRS for g in pair])
PAIR_PARTITIONS = [p for p in GROUP_PARTITIONS if p.parts and tuple(p.parts) in {tuple(sorted(x)) for x in PAIRS}]

# Counts that matter: zeros, small ones (1..9), the threshold's neighbours, and large ones.
counts = st.one_of(st.integers(0, 0), st.integers(1, 9), st.integers(10, 14), st.integers(15, 400))


@st.composite
def region_tables(draw, max_regions: int = 3):
    """Regions with consistent group counts: each complementary pair adds up to all students."""
    n = draw(st.integers(1, max_regions))
    rows = []
    for r in range(n):
        region = f"R{r}"
        rural = draw(st.booleans())
        econ, not_econ = draw(counts), draw(counts)
        total = econ + not_econ
        female = draw(st.integers(0, total))
        values = {"all": total, "econ_disadvantaged": econ, "not_econ_disadvantaged": not_econ,
                  "female": female, "male": total - female}
        for group, value in values.items():
            rows.append({"region_id": region, "student_group": group, "count": value, "rural": rural})
    return pd.DataFrame(rows)


# --- the generic engine ------------------------------------------------------------------

def relations(frame: pd.DataFrame, keys: list[str], partitions) -> list[tuple[int, list[int]]]:
    """(total row, part rows) of every relation present in the frame."""
    out = []
    for partition in partitions:
        fixed = [k for k in keys if k != partition.part]
        groups = frame.groupby(fixed if len(fixed) > 1 else fixed[0], sort=False).groups if fixed else {(): frame.index}
        for _, index in groups.items():
            sub = frame.loc[index]
            totals = sub.index[sub[partition.part] == partition.total]
            if len(totals) != 1:
                continue
            is_part = sub[partition.part].isin(partition.parts) if partition.parts is not None else sub[partition.part] != partition.total
            if partition.only_if is not None:
                is_part &= sub[partition.only_if].astype(bool)
            parts = list(sub.index[is_part])
            if parts:
                out.append((totals[0], parts))
    return out


def narrow_cells_found(values: pd.Series, hidden: pd.Series, rels: list[tuple[int, list[int]]],
                       cells: list[int], may_be_zero: pd.Series | None = None, width: int = WIDTH) -> list[int]:
    """Of `cells` (hidden ones), those whose possible range, given the shown cells and the
    relations, is narrower than `width`. Hidden cells are at least 1 (the engine never hides a
    zero) unless `may_be_zero` (a value suppressed at source, which can be anything)."""
    index = list(values.index)
    pos = {i: k for k, i in enumerate(index)}
    matrix = np.zeros((len(rels), len(index)))
    for row, (total, parts) in enumerate(rels):
        matrix[row, pos[total]] = 1
        for part in parts:
            matrix[row, pos[part]] -= 1
    lower = 1.0 if may_be_zero is None else np.where(may_be_zero, 0.0, 1.0)
    hidden_array = hidden.to_numpy(dtype=bool)
    found = []
    for cell in cells:
        low, high = outsider_range(matrix, values.to_numpy(dtype=float), hidden_array, pos[cell], lower)
        if high - low < width:
            found.append(cell)
    return found


def check_protected(frame: pd.DataFrame, column: str, hidden: pd.Series, keys, partitions, true_values: pd.Series):
    shown = true_values[~hidden]
    # 1. no shown count from 1 to threshold-1
    assert not ((shown > 0) & (shown < LIMIT)).any()
    rels = relations(frame, keys, partitions)
    for total, parts in rels:
        hidden_parts = int(hidden[parts].sum())
        # 2. a shown total never has exactly one hidden part
        if not hidden[total]:
            assert hidden_parts != 1, (total, parts)
        # 3. a hidden total never has all its parts shown (unless they are all zero)
        elif hidden_parts == 0:
            assert (true_values[parts] == 0).all(), (total, parts)
    # 4. exact: every small count's range is at least the protection width wide
    protected = list(frame.index[hidden & (true_values > 0) & (true_values < LIMIT)])
    assert narrow_cells_found(true_values, hidden, rels, protected) == []


@pytest.mark.privacy
@settings(max_examples=examples(15))
@given(table=region_tables())
def test_suppress_counts_protects_region_by_group_tables(table):
    frame = with_alliance_total(table.drop(columns="rural"), "count", by=["student_group"])
    keys = ["region_id", "student_group"]
    partitions = [*PAIR_PARTITIONS, REGION_PARTITION]
    out = suppress_counts(frame, "count", keys=keys, partitions=partitions, limit=LIMIT)
    hidden = out["count_suppressed"]
    # suppressed values are gone (NaN with the flag), never zero
    assert out.loc[hidden, "count"].isna().all()
    assert (out.loc[~hidden, "count"] == frame.loc[~hidden, "count"]).all()
    check_protected(frame, "count", hidden, keys, partitions, frame["count"])


@settings(max_examples=30)
@given(first=region_tables(), second=region_tables())
def test_local_rules_on_one_slice_alone_match_the_whole_frame(first, second):
    """The audit re-runs the local rules on one system at a time (`_restricted`): on a slice no
    relation crosses, they decide exactly what they decide over the whole frame."""
    frame = pd.concat([first.assign(year="A"), second.assign(year="B")], ignore_index=True).drop(columns="rural")
    frame = with_alliance_total(frame, "count", by=["year", "student_group"])
    keys = ["year", "region_id", "student_group"]
    values = frame["count"].to_numpy(dtype="float64")
    prepared = [_prepare(frame, keys, partition, {}) for partition in (*PAIR_PARTITIONS, REGION_PARTITION)]
    least, hidden = _least(values), primary_mask(frame["count"], LIMIT).to_numpy()
    whole = _close_locally(values, least, prepared, hidden)
    for year in ("A", "B"):
        cells = np.flatnonzero(frame["year"] == year)
        alone = _close_locally(values[cells], least[cells], _restricted(prepared, cells, len(frame)), hidden[cells])
        assert (alone == whole[cells]).all()


@st.composite
def tables_with_source(draw):
    """A region table and, for each row, whether it may be suppressed at source."""
    table = draw(region_tables())
    return table, draw(st.lists(st.booleans(), min_size=len(table), max_size=len(table)))


def _table(rows, rural=None) -> pd.DataFrame:
    groups = ("all", "econ_disadvantaged", "not_econ_disadvantaged", "female", "male")
    return pd.DataFrame([{"region_id": region, "student_group": group, "count": count,
                          "rural": bool(rural[k]) if rural else False}
                         for k, (region, counts) in enumerate(rows) for group, count in zip(groups, counts)])


# Issue 14: R0's all students (1) suppressed at source; alliance not-econ. = 11, alliance male =
# 13, rural all students = 20 and the zeros pinned R0 all = 1, R1 male = 2 and R1 female = 8.
ISSUE_14 = (_table([("R0", (1, 0, 1, 0, 1)), ("R1", (10, 0, 10, 8, 2)), ("R2", (10, 10, 0, 0, 10))],
                   rural=[False, True, True]), [True] + [False] * 14)


@pytest.mark.privacy
@settings(max_examples=examples(15))
@given(table=region_tables())
def test_outcome_cube_protects_regions_and_rural_nonrural_totals(table):
    """The store-wide decision (data/rollup.py): regions, rural and non-rural totals and the
    alliance together."""
    check_outcome_cube(table, [False] * len(table))


@pytest.mark.privacy
@settings(max_examples=examples(60))
@given(case=tables_with_source())
def test_outcome_cube_protects_values_suppressed_at_source(case):
    """A value suppressed at source is in its region's all students but in no pooled group
    total, so at pooled totals all students minus the groups is a remainder that can be that
    value: it must not be narrowed that way either."""
    check_outcome_cube(*case)


@pytest.mark.privacy
@settings(max_examples=examples(60))
@given(case=tables_with_source())
@example(case=ISSUE_14)
def test_outcome_cube_protects_all_students_suppressed_at_source(case):
    """A region's all students suppressed at source is in no pooled total either, so pooled
    all students misses it: no protected count's range may be narrower than the width."""
    check_outcome_cube(*case, all_students=True)


def check_outcome_cube(table, at_source, all_students: bool = False):
    cells = table.rename(columns={"count": "denominator"}).assign(indicator_id="grad4", school_year="2024-25")
    # Some parts (and any all students, if asked), and only non-zero ones: a source suppresses
    # small counts.
    is_all = (cells["student_group"] == "all").to_numpy()
    pattern = (np.arange(len(cells)) % 3 == 1) & ~is_all
    if all_students:
        pattern |= is_all
    cells["source_suppressed"] = np.array(at_source) & pattern & (cells["denominator"] > 0)
    truth = cells["denominator"].astype(float)
    cells["denominator"] = truth.where(~cells["source_suppressed"])
    cube = protected_cube(cells[["indicator_id", "school_year", "region_id", "student_group", "denominator",
                                 "source_suppressed", "rural"]], LIMIT).reset_index(drop=True)
    # True values of the cube: totals are pooled (source-suppressed cells are not in them).
    values = cube["denominator"].copy()
    values[:len(cells)] = truth.to_numpy()
    pooled_truth = pd.Series(np.where(cells["source_suppressed"], 0, truth), index=cells.index)
    for i, row in cube.iloc[len(cells):].iterrows():
        in_scope = cells["student_group"] == row["student_group"]
        if row["region_id"] == RURAL_CELL:
            in_scope &= cells["rural"]
        elif row["region_id"] == NONRURAL_CELL:
            in_scope &= ~cells["rural"]
        values[i] = pooled_truth[in_scope].sum()
    hidden = cube["suppressed"].astype(bool)
    assert not cube["student_group"].isin(SYNTHETIC_GROUPS).any()  # they never leave protected_cube
    assert cube.loc[hidden, "denominator"].isna().all()
    # Source-suppressed cells stay hidden; region relations use the pooled values.
    assert hidden[:len(cells)][cells["source_suppressed"].to_numpy()].all()
    rural_ids = tuple(cells.loc[cells["rural"], "region_id"].unique())
    nonrural_ids = tuple(cells.loc[~cells["rural"], "region_id"].unique())
    frame = cube.assign(pooled=cube["pooled"].astype(bool))
    keys = ["indicator_id", "school_year", "region_id", "student_group"]
    region_partitions = [
        Partition("region_id", RURAL_CELL, rural_ids, only_if="pooled"),
        Partition("region_id", NONRURAL_CELL, nonrural_ids, only_if="pooled"),
        Partition("region_id", ALLIANCE_CELL, (RURAL_CELL, NONRURAL_CELL)),
    ]
    # Within a region, a source-suppressed group is still part of all students; across regions
    # it is not in the pooled total (so its value there is 0).
    group_values = values.copy()
    region_values = values.copy()
    region_values[:len(cells)] = pooled_truth.to_numpy()
    shown = values[~hidden]
    assert not ((shown > 0) & (shown < LIMIT)).any()
    aggregates = (ALLIANCE_CELL, RURAL_CELL, NONRURAL_CELL)
    group_rels = relations(frame, keys, PAIR_PARTITIONS)
    region_group_rels = [(t, parts) for t, parts in group_rels if cube.loc[t, "region_id"] not in aggregates]
    region_rels = relations(frame, keys, region_partitions)
    for total, parts in region_group_rels + region_rels + [
            (t, parts) for t, parts in group_rels if not _remainder_possible(cube.loc[t], parts, cube, cells)]:
        if not hidden[total]:
            assert int(hidden[parts].sum()) != 1, (cube.loc[[total, *parts], ["region_id", "student_group"]])
    # Exact check, both relation systems at once: a cell's group value and pooled value are
    # the same unknown unless it was suppressed at source (then its pooled value is 0, known).
    # The attacker's identities: every region's groups add up to its all students, and pooled
    # totals are sums of the regions' pooled values. A pooled total's all students minus its
    # pooled groups (the remainder) is their consequence, so the solver uses it too.
    identities = [(t, parts) for t, parts in region_group_rels + [
        (t, [p for p in parts if not cube.loc[p, "source_suppressed"]]) for t, parts in region_rels]
        if abs(group_values[t] - group_values[parts].sum()) < 1e-9]
    # Protected: small counts and values suppressed at source. (A complement that can be worked
    # out gives no one away: it was hidden to protect another.)
    protected = list(cube.index[cube["primary"].astype(bool)])
    found = narrow_cells_found(group_values, hidden, identities, protected,
        # A pooled total can be 0 and still be hidden (the total of a relation whose only
        # hidden part is a remainder, as nothing else is left to hide).
        may_be_zero=cube["source_suppressed"].astype(bool) | (group_values == 0))
    assert found == [], ("a protected value's range is narrower than the protection width",
                         cube.loc[found, ["region_id", "student_group"]])


def test_chains_of_zeros_through_a_pooled_total_are_audited():
    """Beyond local rules (the global audit, domain/audit.py): shown zeros tie cells together
    (a region's all students equals its one non-zero group), and a chain of such ties through
    a pooled total that leaves out a value suppressed at source determined a hidden cell."""
    # Non-rural not economically disadvantaged (pooled: 1 + 2, R1's suppressed at source) is
    # the non-rural all students (14) minus R1's (11), R0's and R2's groups being zero.
    table = _table([("R0", (1, 0, 1, 0, 1)), ("R1", (11, 1, 10, 0, 11)), ("R2", (2, 0, 2, 0, 2))])
    check_outcome_cube(table, [i == 7 for i in range(len(table))])


def test_the_audit_extends_one_slice_without_touching_another(monkeypatch):
    """The audit re-runs the local rules on the system it extends alone: a school year that
    needs an audit complement is decided as if it were the only one, and another year beside it
    exactly as without the audit."""
    def cube_of(years):
        frames = []
        for year, rows in years.items():
            cells = _table(rows).rename(columns={"count": "denominator"}).assign(indicator_id="grad4", school_year=year)
            cells["source_suppressed"] = (cells.index == 7) if year == "2024-25" else False
            cells.loc[cells["source_suppressed"], "denominator"] = np.nan
            frames.append(cells)
        cells = pd.concat(frames, ignore_index=True)[["indicator_id", "school_year", "region_id", "student_group",
                                                     "denominator", "source_suppressed", "rural"]]
        return protected_cube(cells, LIMIT).set_index(["school_year", "region_id", "student_group"])["suppressed"]

    chained = {"2024-25": [("R0", (1, 0, 1, 0, 1)), ("R1", (11, 1, 10, 0, 11)), ("R2", (2, 0, 2, 0, 2))]}
    plain = {"2023-24": [("R0", (40, 5, 35, 20, 20)), ("R1", (30, 12, 18, 3, 27)), ("R2", (50, 25, 25, 25, 25))]}
    both = cube_of({**chained, **plain})
    alone = pd.concat([cube_of(chained), cube_of(plain)])
    assert both.sort_index().equals(alone.sort_index())
    # Without the audit (the local rules alone): the plain year is the same, and the chained
    # year had needed it (fewer cells hidden there).
    monkeypatch.setattr("domain.suppression.audited", lambda knowledge, hidden, *_: hidden)
    assert cube_of(plain).sort_index().equals(both.loc[["2023-24"]].sort_index())
    assert cube_of(chained).sum() < both.loc[["2024-25"]].sum()


@pytest.mark.parametrize("rows, at_source", [
    ([(1, 0, 1, 0, 1), (11, 1, 10, 0, 11), (15, 0, 15, 0, 15)], 7),
    ([(10, 0, 10, 1, 9), (1, 0, 1, 0, 1), (10, 0, 10, 0, 10)], 4),
    ([(3, 1, 2, 0, 3), (7, 7, 0, 0, 7), (3, 3, 0, 0, 3)], 1),
])
def test_a_remainder_is_never_the_second_hidden_part(rows, at_source):
    """Found by the property test: a remainder and one hidden group of a pooled total both
    came from one region, so their sum (the total minus the shown groups) was that region's
    value."""
    table = _table([(f"R{i}", counts) for i, counts in enumerate(rows)])
    check_outcome_cube(table, [i == at_source for i in range(len(table))])


def _remainder_possible(total_row, parts, cube, cells) -> bool:
    """Whether a pooled total's group relation can miss a remainder: a region pooled into it
    has a cell of the relation suppressed at source."""
    if total_row["region_id"] not in (ALLIANCE_CELL, RURAL_CELL, NONRURAL_CELL):
        return True  # region relations are checked as they are
    named = set(cube.loc[parts, "student_group"])
    groups = {total_row["student_group"], *[g for p in PAIR_PARTITIONS if named & set(p.parts) for g in p.parts]}
    scope = cells["student_group"].isin(groups)
    if total_row["region_id"] == RURAL_CELL:
        scope &= cells["rural"]
    elif total_row["region_id"] == NONRURAL_CELL:
        scope &= ~cells["rural"]
    return bool(cells.loc[scope, "source_suppressed"].any())


# --- the demo alliance ---------------------------------------------------------------------

def test_demo_alliance_wide_groups_far_above_the_threshold_are_shown(demo_store_url, monkeypatch):
    """Complementary suppression must not cascade from regions up into alliance-wide figures:
    for Black students and English learners, an alliance-wide pooled denominator of at least
    ten times the threshold is shown by the local rules, unless a value of that group's
    partition was suppressed at source in the slice (the alliance figure may then be what
    protects it). The interval audit may hide one as the nearest complement of a narrow range:
    on the demo it hides 13 of 128 (a known cost of its greedy choice, to be narrowed)."""
    from data.db import get_engine
    from data.rollup import read_cells

    with get_engine(demo_store_url).connect() as conn:
        cells = read_cells(conn)
    slice_keys = ["indicator_id", "school_year"]
    pooled = cells[cells["denominator"].notna() & ~cells["source_suppressed"]]
    pooled_den = pooled.groupby([*slice_keys, "student_group"])["denominator"].sum()

    def hidden_alliance_figures(cube):
        checked, hidden = 0, []
        for group in ("black", "english_learner"):
            partition = next(p for p in GROUP_PARTITIONS if group in p.parts)
            in_partition = cells["student_group"].isin(("all", *partition.parts))
            at_source = set(map(tuple, cells.loc[in_partition & cells["source_suppressed"], slice_keys].to_numpy()))
            alliance = cube[(cube["region_id"] == ALLIANCE_CELL) & (cube["student_group"] == group)]
            for row in alliance.itertuples():
                key = (row.indicator_id, row.school_year)
                if pooled_den.get((*key, group), 0) >= 10 * LIMIT and key not in at_source:
                    hidden += [(group, key)] if row.suppressed else []
                    checked += 1
        return checked, hidden

    monkeypatch.setenv("PROTECTION_WIDTH", "0")  # the local rules alone
    checked, hidden = hidden_alliance_figures(protected_cube(cells, LIMIT))
    assert checked > 100 and hidden == []
    monkeypatch.delenv("PROTECTION_WIDTH")
    checked, hidden = hidden_alliance_figures(protected_cube(cells, LIMIT))
    assert len(hidden) <= checked // 8, hidden


# --- examples ----------------------------------------------------------------------------

def test_primary_suppression_hides_small_counts_but_not_zero():
    frame = pd.DataFrame({"region_id": ["A", "B", "C"], "count": [0, 4, 25]})
    out = suppress_counts(frame, "count", limit=10)
    assert out["count_suppressed"].tolist() == [False, True, False]
    assert out["count"].isna().tolist() == [False, True, False]


def test_complement_is_the_smallest_shown_part():
    frame = pd.DataFrame({"student_group": ["all", "econ_disadvantaged", "not_econ_disadvantaged"], "count": [60, 4, 56]})
    out = suppress_counts(frame, "count", keys=["student_group"], partitions=GROUP_PARTITIONS, limit=10)
    assert out["count_suppressed"].tolist() == [False, True, True]


def test_hidden_total_with_shown_parts_hides_a_part():
    frame = pd.DataFrame({"student_group": ["all", "female", "male"], "count": [40, 15, 25], "count_suppressed": [True, False, False]})
    out = suppress_counts(frame, "count", keys=["student_group"], partitions=GROUP_PARTITIONS, limit=10)
    assert out["count_suppressed"].tolist() == [True, True, False]


def test_only_if_leaves_unpooled_cells_out_of_a_relation(monkeypatch):
    """Region B's value was suppressed at source, so it is not in the pooled total: A's small
    value would be total minus C, and C must be hidden too."""
    frame = pd.DataFrame({
        "region_id": ["A", "B", "C", "T"], "den": [5, np.nan, 30, 35],
        "suppressed": [False, True, False, False], "pooled": [True, False, True, True]})
    partition = Partition("region_id", "T", ("A", "B", "C"), only_if="pooled")
    out = suppress_rates(frame, denominator="den", rate_columns=(), keys=["region_id"], partitions=[partition], limit=10)
    assert out["suppressed"].tolist() == [True, True, True, False]
    without = suppress_rates(frame.assign(pooled=True), denominator="den", rate_columns=(), keys=["region_id"],
                             partitions=[Partition("region_id", "T", ("A", "B", "C"))], limit=10)
    # Without only_if the local rules stop at A and B (the unsafe answer only_if prevents); the
    # audit, taking A + B = 35 - 30 at its word, then hides C too, to keep A's range wide (A + B
    # + C = 35 with C hidden leaves A 1..9 and B 0..33: T need not be hidden as well).
    monkeypatch.setenv("PROTECTION_WIDTH", "0")
    local = suppress_rates(frame.assign(pooled=True), denominator="den", rate_columns=(), keys=["region_id"],
                           partitions=[Partition("region_id", "T", ("A", "B", "C"))], limit=10)
    assert local["suppressed"].tolist() == [True, True, False, False]
    assert without["suppressed"].tolist() == [True, True, True, False]


def test_threshold_is_configurable(monkeypatch):
    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "20")
    assert threshold() == 20
    assert suppressed_text(threshold()) == "suppressed (fewer than 20)"
    frame = pd.DataFrame({"region_id": ["A"], "count": [15]})
    assert suppress_counts(frame, "count")["count_suppressed"].tolist() == [True]
    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "not a number")
    assert threshold() == 10


def test_with_alliance_total_adds_the_total_row():
    frame = pd.DataFrame({"region_id": ["A", "B"], "student_group": ["all", "all"], "count": [12, 30]})
    out = with_alliance_total(frame, "count", by=["student_group"])
    assert out.loc[out["region_id"] == ALLIANCE_TOTAL, "count"].tolist() == [42]


@pytest.mark.slow
def test_engine_runs_on_a_large_cube():
    """A state network's outcome cube (2,000 regions x 7 groups x 10 slices): its time is
    measured by the benchmark (bench/run.py), not here."""
    rng = np.random.default_rng(1)
    n_regions, groups = 2000, ["all", "econ_disadvantaged", "not_econ_disadvantaged", "female", "male",
                               "english_learner", "not_english_learner"]
    rows = []
    for year in range(10):
        size = rng.integers(0, 400, size=n_regions)
        econ = rng.binomial(size, 0.45)
        fem = rng.binomial(size, 0.5)
        el = rng.binomial(size, 0.08)
        for group, value in zip(groups, [size, econ, size - econ, fem, size - fem, el, size - el]):
            rows.append(pd.DataFrame({"indicator_id": "x", "school_year": str(2015 + year), "region_id": [f"R{i}" for i in range(n_regions)],
                                      "student_group": group, "denominator": value.astype(float), "source_suppressed": False,
                                      "rural": np.arange(n_regions) % 3 == 0}))
    cells = pd.concat(rows, ignore_index=True)
    cube = protected_cube(cells, LIMIT)
    assert cube["suppressed"].any()
