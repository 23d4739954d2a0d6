"""The global audit (domain/audit.py): which hidden values the relations and shown values fix."""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from domain.audit import audited, determined_cells


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


def test_a_cycle_of_hidden_cells_fixes_none_of_them():
    matrix = table_relations(3, 3)
    hidden = np.zeros(matrix.shape[1], dtype=bool)
    hidden[[0, 1, 3, 4]] = True  # a rectangle: every line with a hidden cell has two
    assert not determined_cells(matrix, hidden, np.ones_like(hidden)).any()


def test_a_cell_between_two_cycles_is_fixed():
    """Every line has two hidden cells, yet the cell bridging two rectangles is fixed: the
    local rule (never exactly one hidden part) is not enough."""
    matrix = table_relations(4, 4)
    hidden = np.zeros(matrix.shape[1], dtype=bool)
    cell = lambda i, j: i * 4 + j  # noqa: E731
    # Rectangle one on rows 0-1, columns 0-1; rectangle two on rows 2-3, columns 2-3; (1, 2)
    # joins them: row 1 and column 2 have three hidden cells each.
    for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        hidden[cell(i, j)] = True
    found = determined_cells(matrix, hidden, np.ones_like(hidden))
    # Rows 0-1 add up to their totals, columns 0-1 to theirs: (1, 2) is what is left over.
    assert np.flatnonzero(found).tolist() == [cell(1, 2)]


def test_only_protected_cells_are_reported():
    matrix = table_relations(2, 2)
    hidden = np.zeros(matrix.shape[1], dtype=bool)
    hidden[[0, 1]] = True  # row 0's two cells: each is its column total minus the other row's
    protected = np.zeros_like(hidden)
    protected[0] = True
    assert determined_cells(matrix, hidden, protected).tolist() == [True] + [False] * (len(hidden) - 1)


def test_nothing_hidden_nothing_determined():
    matrix = table_relations(2, 2)
    assert not determined_cells(matrix, np.zeros(matrix.shape[1], dtype=bool), np.ones(matrix.shape[1], dtype=bool)).any()


def test_audited_hides_a_complement_until_nothing_protected_is_determined():
    matrix = table_relations(4, 4)
    values = np.arange(1, matrix.shape[1] + 1, dtype=float)  # stand-ins: only non-zero matters
    hidden = np.zeros(matrix.shape[1], dtype=bool)
    for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        hidden[i * 4 + j] = True
    protected = hidden.copy()
    out = audited(matrix, np.ones(matrix.shape[0], dtype=bool), values, hidden, protected,
                  close_within=lambda cells: lambda local_hidden: local_hidden)
    assert (out & hidden).sum() == hidden.sum() and out.sum() > hidden.sum()  # only ever more
    assert not determined_cells(matrix, out, protected).any()
