"""The interval audit (domain/audit.py): how closely an outsider can pin each protected count.

Ranges are checked against linear programs written here, over the table as an outsider sees it
(not the audit's own system)."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings, strategies as st
from scipy.sparse import csr_matrix

from data.rollup import protected_cube
from domain import audit
from domain.audit import Knowledge, audited, cell_ranges, narrow_cells
from domain.suppression import protection_width, threshold
from tests.properties import examples
from tests.ranges import outsider_range

pytestmark = pytest.mark.privacy



def table_relations(rows: int, columns: int) -> csr_matrix:
    """A rows x columns table with its row and column totals: cell (i, j) is i*columns + j,
    row total i is rows*columns + i, column total j is rows*columns + rows + j."""
    n = rows * columns + rows + columns
    relations = []
    for i in range(rows):
        relation = np.zeros(n)
        relation[[i * columns + j for j in range(columns)]] = -1
        relation[rows * columns + i] = 1
        relations.append(relation)
    for j in range(columns):
        relation = np.zeros(n)
        relation[[i * columns + j for i in range(rows)]] = -1
        relation[rows * columns + rows + j] = 1
        relations.append(relation)
    return csr_matrix(np.array(relations))


def table(cells: np.ndarray) -> np.ndarray:
    """Cell values followed by their row and column totals (the layout of table_relations)."""
    return np.concatenate([cells.ravel(), cells.sum(axis=1), cells.sum(axis=0)]).astype(float)


def knowledge_of(matrix: csr_matrix, values: np.ndarray, small: np.ndarray | None = None, limit: int = 10) -> Knowledge:
    n = matrix.shape[1]
    upper = np.where(small, limit - 1.0, np.inf) if small is not None else np.full(n, np.inf)
    return Knowledge(matrix, np.ones(matrix.shape[0], dtype=bool), np.zeros(matrix.shape[0], dtype=bool), values,
                     np.ones(n, dtype=bool), np.ones(n), upper)


def test_bounds_narrow_what_linear_algebra_leaves_open():
    """Two hidden cells in a row whose shown total leaves 3 for them: neither is determined
    (they trade with the cells below them), but being at least 1 each, both lie within 1..2."""
    cells = np.array([[1, 2, 40], [30, 30, 40]])
    values = table(cells)
    matrix = table_relations(2, 3)
    hidden = np.zeros(len(values), dtype=bool)
    hidden[[0, 1, 3, 4]] = True
    protected = np.zeros_like(hidden)
    protected[[0, 1]] = True
    knowledge = knowledge_of(matrix, values, small=protected)
    assert narrow_cells(knowledge, hidden, protected, 5)[[0, 1]].all()
    low, high = cell_ranges(knowledge, hidden, np.array([0, 1]))
    assert low.tolist() == [1, 1] and high.tolist() == [2, 2]
    out = audited(knowledge, hidden, protected, 5, close_within=lambda cells: lambda local: local)
    assert (out & hidden).sum() == hidden.sum() and out.sum() > hidden.sum()  # only ever more
    for cell in (0, 1):
        low, high = outsider_range(matrix.toarray(), values, out, cell)
        assert high - low >= 5


def test_a_wide_range_needs_nothing_more():
    cells = np.array([[3, 40, 40], [30, 30, 40]])
    values = table(cells)
    matrix = table_relations(2, 3)
    hidden = np.zeros(len(values), dtype=bool)
    hidden[[0, 1, 3, 4]] = True
    protected = np.zeros_like(hidden)
    protected[0] = True
    knowledge = knowledge_of(matrix, values, small=protected)
    assert not narrow_cells(knowledge, hidden, protected, 5).any()
    assert (audited(knowledge, hidden, protected, 5, lambda cells: lambda local: local) == hidden).all()


def test_a_cell_between_two_cycles_is_pinned_and_then_protected():
    """Every line has two hidden cells, yet the cell bridging two rectangles is fixed (rows 0-1
    add up to their totals, columns 0-1 to theirs): the audit widens it."""
    cells = np.arange(1, 17).reshape(4, 4) * 7
    values = table(cells)
    matrix = table_relations(4, 4)
    hidden = np.zeros(len(values), dtype=bool)
    for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        hidden[i * 4 + j] = True
    protected = hidden.copy()
    knowledge = knowledge_of(matrix, values)
    low, high = cell_ranges(knowledge, hidden, np.array([6]))
    assert low[0] == high[0] == values[6]
    assert narrow_cells(knowledge, hidden, protected, 5)[6]
    out = audited(knowledge, hidden, protected, 5, lambda cells: lambda local: local)
    for cell in np.flatnonzero(protected):
        low, high = outsider_range(matrix.toarray(), values, out, cell)
        assert high - low >= 5, cell


@st.composite
def small_systems(draw):
    """A table of 2-3 rows and 2-4 columns with totals, some cells hidden."""
    rows, columns = draw(st.integers(2, 3)), draw(st.integers(2, 4))
    cells = np.array(draw(st.lists(st.integers(0, 30), min_size=rows * columns, max_size=rows * columns)))
    values = table(cells.reshape(rows, columns))
    hidden = np.array(draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))) & (values > 0)
    return table_relations(rows, columns), values, hidden


@settings(max_examples=examples(25))
@given(case=small_systems(), width=st.integers(1, 8))
@example(case=(table_relations(2, 2), table(np.array([[1, 2], [3, 4]])), np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)),
         width=3)
def test_what_the_audit_proves_agrees_with_linear_programs(case, width):
    """Propagated bounds enclose the exact range; trades never claim more than it; and the
    audit's verdict is the exact one (these systems are small enough for it to be exact)."""
    matrix, values, hidden = case
    protected = hidden.copy()
    knowledge = knowledge_of(matrix, values)
    narrow = narrow_cells(knowledge, hidden, protected, width)
    system = audit._system(knowledge, hidden)
    outer_low, outer_high = audit._propagate(system)
    inner_low, inner_high = audit._closed_form(system, np.diff(system.a.tocsc().indptr))
    merged, of_class, _, _ = audit._merged(system)
    twins = audit._twins(merged)
    for k, cell in enumerate(system.cells):
        low, high = outsider_range(matrix.toarray(), values, hidden, cell)
        assert outer_low[k] <= low and high <= outer_high[k]
        if not np.isnan(inner_low[k]) and inner_high[k] >= inner_low[k]:
            assert low <= inner_low[k] and inner_high[k] <= high
        assert twins[of_class[k]] <= high - low
        assert narrow[cell] == (high - low < width), (cell, low, high)


# --- the outcome cube: the counterexample of issue 14 -------------------------------------

GROUPS = ("all", "econ_disadvantaged", "not_econ_disadvantaged", "female", "male")
PAIRS = (("all", "econ_disadvantaged", "not_econ_disadvantaged"), ("all", "female", "male"))


def cube_outsider_ranges(cells: pd.DataFrame, cube: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """What an outsider can work out from the cube as shown: every hidden cell's range, from
    (per region) all students = each pair of groups, and (per group) the pooled rural and
    non-rural regions = their totals, rural + non-rural = the alliance; a cell suppressed at
    source is in no pooled total; hidden counts at least 1 (zeros are shown), values suppressed
    at source at least 0."""
    truth = {(r.region_id, r.student_group): r.true for r in cells.itertuples()}
    at_source = {(r.region_id, r.student_group) for r in cells.itertuples() if r.source_suppressed}
    rural = dict(zip(cells["region_id"], cells["rural"]))
    shown = {(r.region_id, r.student_group) for r in cube.itertuples() if not r.suppressed}
    keys = [(r.region_id, r.student_group) for r in cube.itertuples()]
    pooled = {key: value for key, value in truth.items() if key not in at_source}
    for area in ("locale:rural", "locale:nonrural", "__alliance__"):
        for group in GROUPS:
            truth[(area, group)] = sum(value for (region, g), value in pooled.items() if g == group and
                                       (area == "__alliance__" or rural[region] == (area == "locale:rural")))
    keys = sorted(set(keys) | {key for key in truth if key[0] in ("locale:rural", "locale:nonrural", "__alliance__")})
    index = {key: k for k, key in enumerate(keys)}
    equations = []
    for region in rural:
        for total, *parts in PAIRS:
            if all((region, g) in index for g in (total, *parts)):
                equations.append([(region, total, 1.0), *[(region, g, -1.0) for g in parts]])
    for group in GROUPS:
        for area, wanted in (("locale:rural", True), ("locale:nonrural", False)):
            members = [r for r in rural if rural[r] == wanted and (r, group) in index and (r, group) not in at_source]
            equations.append([(area, group, 1.0), *[(r, group, -1.0) for r in members]])
        equations.append([("__alliance__", group, 1.0), ("locale:rural", group, -1.0), ("locale:nonrural", group, -1.0)])
    matrix = np.zeros((len(equations), len(keys)))
    for row, equation in enumerate(equations):
        for area, group, coefficient in equation:
            matrix[row, index[(area, group)]] = coefficient
    values = np.array([truth.get(key, 0.0) for key in keys], dtype=float)
    hidden = np.array([key not in shown for key in keys])
    lower = np.array([0.0 if key in at_source or truth.get(key, 0.0) == 0 else 1.0 for key in keys])
    return {key: outsider_range(matrix, values, hidden, index[key], lower) for key in keys if hidden[index[key]]}


def outcome_cells(rows, at_source: set[tuple[str, str]]) -> pd.DataFrame:
    cells = pd.DataFrame([{"indicator_id": "grad4", "school_year": "2024-25", "region_id": region, "student_group": group,
                           "true": float(value), "source_suppressed": (region, group) in at_source, "rural": rural}
                          for region, rural, counts in rows for group, value in zip(GROUPS, counts)])
    cells["denominator"] = cells["true"].where(~cells["source_suppressed"])
    return cells


ISSUE_14 = [("R0", False, (1, 0, 1, 0, 1)), ("R1", True, (10, 0, 10, 8, 2)), ("R2", True, (10, 10, 0, 0, 10))]


def test_issue_14_counterexample_is_protected():
    """Issue 14's table: with R0's all students suppressed at source, alliance not-econ. = 11,
    alliance male = 13, rural all students = 20 and the zeros pinned R0 all = 1, R1 male = 2
    and R1 female = 8. Now every protected count's range is at least the protection width."""
    cells = outcome_cells(ISSUE_14, {("R0", "all")})
    limit = 10
    cube = protected_cube(cells.drop(columns="true"), limit)
    ranges = cube_outsider_ranges(cells, cube)
    protected = cube.loc[cube["primary"], ["region_id", "student_group"]].itertuples(index=False)
    protected = [tuple(key) for key in protected]
    assert {("R0", "all"), ("R0", "not_econ_disadvantaged"), ("R0", "male"), ("R1", "female"), ("R1", "male")} <= set(protected)
    for key in protected:
        low, high = ranges[key]
        assert high - low >= protection_width(limit), (key, low, high)


def test_protection_width_setting(monkeypatch):
    monkeypatch.delenv("PROTECTION_WIDTH", raising=False)
    monkeypatch.delenv("SUPPRESSION_THRESHOLD", raising=False)
    assert protection_width() == threshold() // 2 == 5
    assert protection_width(20) == 10
    monkeypatch.setenv("PROTECTION_WIDTH", "3")
    assert protection_width() == 3
    monkeypatch.setenv("PROTECTION_WIDTH", "not a number")
    assert protection_width(10) == 5


def test_without_a_protection_width_the_counterexample_comes_back(monkeypatch):
    """PROTECTION_WIDTH=0 switches the audit off (the local rules alone): issue 14's table then
    leaves protected counts pinned, which the default width does not."""
    cells = outcome_cells(ISSUE_14, {("R0", "all")})
    monkeypatch.setenv("PROTECTION_WIDTH", "0")
    local_only = protected_cube(cells.drop(columns="true"), 10)
    ranges = cube_outsider_ranges(cells, local_only)
    assert all(high - low < 5 for low, high in (ranges[("R1", "male")], ranges[("R0", "all")]))
    monkeypatch.delenv("PROTECTION_WIDTH")
    audited_cube = protected_cube(cells.drop(columns="true"), 10)
    assert audited_cube["suppressed"].sum() > local_only["suppressed"].sum()
