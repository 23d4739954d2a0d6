"""Global audit of a suppression decision: which protected values could an attacker work out?

Local complementary suppression (domain/suppression.py) looks at one relation at a time. An
attacker can combine them all: every shown value and every relation that holds between cells
(a region's groups add up to its all students; pooled regions add up to their totals). Chains
of relations can then fix a value that every single relation leaves open, e.g. through a
pooled total that leaves out a value suppressed at source, or through shown zeros.

A hidden value is worked out exactly when the relations, with the shown values put in, fix it:
when its unit vector lies in the row space of the relations over the hidden cells, i.e. every
vector of their null space is 0 there. A random vector projected onto the null space (a sparse
least-squares solve) is non-zero, almost surely, wherever that is not so; two projections
decide every hidden cell at once, in milliseconds at state scale. (What the relations leave
open, bounds can still close: hidden values that must all be 1. The local rules handle that
within one relation; the property tests check the rest with an exact integer program.)
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import lsqr

_PROJECTIONS = 2
_ZERO = 1e-7


def determined_cells(matrix: csr_matrix, hidden: np.ndarray, protected: np.ndarray) -> np.ndarray:
    """Protected hidden cells whose value the relations and the shown values fix.

    `matrix` has one row per relation (coefficients over cells, `row @ true values == 0`),
    `hidden` marks what is not shown and `protected` what must not be worked out (small counts
    and values suppressed at source; a complement that can be worked out was hidden to protect
    another and gives no one away). Returns a boolean mask over cells."""
    determined = np.zeros(len(hidden), dtype=bool)
    variables = np.flatnonzero(hidden)
    if not len(variables) or matrix.shape[0] == 0:
        return determined
    a = matrix[:, variables].tocsr()
    a = a[np.diff(a.indptr) > 0]
    checked = (np.bincount(a.indices, minlength=len(variables)) > 0) & protected[variables]
    if not checked.any():
        return determined
    transposed = a.T.tocsr()
    random = np.random.default_rng(0)
    fixed = np.ones(len(variables), dtype=bool)
    for _ in range(_PROJECTIONS):
        direction = random.standard_normal(len(variables))
        # The least-squares fit of `direction` by the relations' row space; what is left over
        # is its projection onto their null space.
        fit = lsqr(transposed, direction, atol=1e-14, btol=1e-14, iter_lim=20 * len(variables) + 1000)[0]
        fixed &= np.abs(direction - transposed @ fit) < _ZERO
    determined[variables[fixed & checked]] = True
    return determined
