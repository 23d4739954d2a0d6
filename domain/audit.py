"""Interval audit of a suppression decision: how closely could an outsider pin each protected count?

Local complementary suppression (domain/suppression.py) looks at one relation at a time. An
outsider can combine them all, and bounds with them: every shown value (zeros included), every
relation that holds between cells (a region's groups add up to its all students; pooled regions
add up to their totals; race groups never add up to more than all students), that counts are
whole numbers, that a hidden count is at least 1 (zeros are always shown; a value suppressed at
source at least 0) and, to be safe, which hidden counts are small (at most threshold-1). For
every protected cell (a small count, or one suppressed at source) the audit finds the least and
greatest value it can take under all of that (linear programs, HiGHS, rounded inwards to
whole numbers), and adds complements until that range is at least the protection width wide.

Proving a range narrow and proving it wide take different evidence:
- narrow: bounds propagated through the relations (each relation bounds each of its hidden cells
  by the others' bounds, repeated until nothing moves) enclose every possible value, so a
  propagated range narrower than the width is narrow for certain;
- wide: a range is at least as wide as the solutions one can show. With the true table as one
  solution, a cell that shares a relation only with cells in no other relation trades value
  with them; cells tied in pairs (x + y = c) move together; twins (cells in the same relations
  alike, e.g. the same group of two regions) trade with each other. What these leave open, a
  linear program for its least and one for its greatest value settles.
Systems that share no hidden cell are decided apart. Up to EXACT_VARIABLES hidden cells a system
is decided exactly so (the demo alliance's are); above that (an indicator and year of a state
network: ~10,000 hidden cells) linear programs per cell are out of reach of an import (about a
second each), and the propagated range decides.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import highspy
import numpy as np
from scipy.sparse import bmat, csc_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

_EPS = 1e-6
# Systems up to this many hidden cells get linear programs for every cell nothing else settles
# (the demo alliance: ~6,000 per import, 0.1-1 ms each re-solved warm); in larger ones the
# propagated range decides.
EXACT_VARIABLES = 400
_PROPAGATION_ROUNDS = 60


@dataclass
class Knowledge:
    """What an outsider is assumed to know, over cells.

    `relations`: one row per relation (+1 its total, -1 each part); `exact` rows hold exactly
    (total = parts), `at_least` rows only as total >= parts. `values`: the true values where
    `known` (a value suppressed at source, or derived and unknown, is not). `lower`/`upper`:
    what a hidden cell is known to lie within (1 and, for a small count, threshold-1)."""

    relations: csr_matrix
    exact: np.ndarray
    at_least: np.ndarray
    values: np.ndarray
    known: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    def restricted(self, cells: np.ndarray) -> "Knowledge":
        """The same knowledge over `cells` alone (a set no relation crosses)."""
        local = self.relations[:, cells].tocsr()
        rows = np.diff(local.indptr) > 0
        return Knowledge(local[rows], self.exact[rows], self.at_least[rows], self.values[cells], self.known[cells],
                         self.lower[cells], self.upper[cells])


@dataclass
class _System:
    """The outsider's linear system over the hidden (or unknown) cells: `a @ x == b` on `equal`
    rows, `a @ x >= b` on the others, `lower <= x <= upper`; `base` the true values (NaN where
    not known)."""

    a: csr_matrix
    b: np.ndarray
    equal: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    base: np.ndarray
    cells: np.ndarray


def _system(knowledge: Knowledge, hidden: np.ndarray) -> _System:
    variable = hidden | ~knowledge.known
    rows = knowledge.exact | knowledge.at_least
    matrix = knowledge.relations[rows].tocsc()
    shown = ~variable
    b = -(matrix[:, shown] @ knowledge.values[shown]) if shown.any() else np.zeros(matrix.shape[0])
    a = matrix[:, variable].tocsr()
    keep = np.diff(a.indptr) > 0
    cells = np.flatnonzero(variable)
    values = knowledge.values[cells]
    known = knowledge.known[cells]
    # A hidden zero (only ever a total with nothing left to hide around it) is at least itself.
    lower = np.where(known, np.minimum(knowledge.lower[cells], values), knowledge.lower[cells])
    return _System(a[keep], b[keep], knowledge.exact[rows][keep], lower, knowledge.upper[cells].astype(float),
                   np.where(known, values, np.nan), cells)


def _propagate(system: _System) -> tuple[np.ndarray, np.ndarray]:
    """Bounds that enclose every value each variable can take (outer bounds): each relation
    bounds each of its variables by the others' bounds, until nothing moves."""
    a = system.a.tocsc()
    n_rows = a.shape[0]
    col = np.repeat(np.arange(a.shape[1]), np.diff(a.indptr))
    row, coef = a.indices, a.data
    starts = a.indptr[:-1][np.diff(a.indptr) > 0]
    has = np.diff(a.indptr) > 0
    low, high = system.lower.copy(), system.upper.copy()
    equal = system.equal[row]
    b = system.b[row]
    positive = coef > 0
    for _ in range(_PROPAGATION_ROUNDS):
        term_low = np.where(positive, coef * low[col], coef * high[col])
        term_high = np.where(positive, coef * high[col], coef * low[col])
        low_inf, high_inf = np.isinf(term_low), np.isinf(term_high)
        finite_low, finite_high = np.where(low_inf, 0.0, term_low), np.where(high_inf, 0.0, term_high)
        sum_low, sum_high = np.bincount(row, finite_low, n_rows), np.bincount(row, finite_high, n_rows)
        n_low_inf, n_high_inf = np.bincount(row, low_inf, n_rows), np.bincount(row, high_inf, n_rows)
        # The others' least and greatest sum, for each entry.
        rest_low = np.where(n_low_inf[row] - low_inf > 0, -np.inf, sum_low[row] - finite_low)
        rest_high = np.where(n_high_inf[row] - high_inf > 0, np.inf, sum_high[row] - finite_high)
        # coef * x = b - rest (equal rows), coef * x >= b - rest_high (at-least rows).
        bx_low = b - rest_high
        bx_high = np.where(equal, b - rest_low, np.inf)
        x_low = np.where(positive, bx_low / coef, bx_high / coef)
        x_high = np.where(positive, bx_high / coef, bx_low / coef)
        new_low, new_high = low.copy(), high.copy()
        if len(starts):
            new_low[has] = np.maximum(low[has], np.maximum.reduceat(np.ceil(x_low - _EPS), starts))
            new_high[has] = np.minimum(high[has], np.minimum.reduceat(np.floor(x_high + _EPS), starts))
        if np.array_equal(new_low, low) and np.array_equal(new_high, high):
            break
        low, high = new_low, new_high
        if (low > high).any():
            break  # no solution: the outsider's assumptions do not hold (checked by the caller)
    return low, high


def _closed_form(system: _System, degree: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inner bounds for variables in at most one relation: one in none takes any value within
    its bounds; one whose relation's other variables that are in other relations are known
    trades value with those in no other (the true table, with them changed, is a solution)."""
    n = len(system.lower)
    low = np.where(degree == 0, system.lower, system.base)
    high = np.where(degree == 0, system.upper, system.base)
    a = system.a.tocoo()
    row, col, coef = a.row, a.col, a.data
    n_rows = system.a.shape[0]
    single = degree[col] == 1
    # K: what the singletons of a relation add up to (coefficients included), from the rest's
    # true values; only where the rest is all known.
    rest_unknown = np.bincount(row, ~single & np.isnan(system.base[col]), n_rows) > 0
    rest_sum = np.bincount(row, np.where(single, 0.0, coef * np.nan_to_num(system.base[col])), n_rows)
    k = system.b - rest_sum
    term_low = np.where(coef > 0, coef * system.lower[col], coef * system.upper[col])
    term_high = np.where(coef > 0, coef * system.upper[col], coef * system.lower[col])
    s = single
    low_inf, high_inf = np.isinf(term_low) & s, np.isinf(term_high) & s
    sum_low = np.bincount(row[s], np.where(low_inf, 0.0, term_low)[s], n_rows)
    sum_high = np.bincount(row[s], np.where(high_inf, 0.0, term_high)[s], n_rows)
    n_low_inf, n_high_inf = np.bincount(row, low_inf, n_rows), np.bincount(row, high_inf, n_rows)
    rest_low = np.where(n_low_inf[row] - low_inf > 0, -np.inf, sum_low[row] - np.where(low_inf, 0.0, term_low))
    rest_high = np.where(n_high_inf[row] - high_inf > 0, np.inf, sum_high[row] - np.where(high_inf, 0.0, term_high))
    # Only equal rows give a trade (an at-least row with a singleton: left to the programs).
    usable = s & system.equal[row] & ~rest_unknown[row]
    bx_low, bx_high = k[row] - rest_high, k[row] - rest_low
    x_low = np.where(coef > 0, bx_low / coef, bx_high / coef)
    x_high = np.where(coef > 0, bx_high / coef, bx_low / coef)
    x_low = np.maximum(np.ceil(x_low - _EPS), system.lower[col])
    x_high = np.minimum(np.floor(x_high + _EPS), system.upper[col])
    at = col[usable]
    low[at], high[at] = x_low[usable], x_high[usable]
    return low, high


def _merged(system: _System) -> tuple[_System, np.ndarray, np.ndarray, np.ndarray]:
    """The system with every pair of variables tied by a relation of two (x + y = c: a group
    and its complement beside a shown total) merged into one: x = sign * z + shift for the
    class z it joins. Returns the merged system (over classes), and for each variable its class,
    sign and shift. Ranges are kept: a class's range is each member's, moved and mirrored."""
    a = system.a
    n = a.shape[1]
    lengths = np.diff(a.indptr)
    pairs = np.flatnonzero(system.equal & (lengths == 2))
    first, second = a.indices[a.indptr[pairs]], a.indices[a.indptr[pairs] + 1]
    c_first, c_second = a.data[a.indptr[pairs]], a.data[a.indptr[pairs] + 1]
    graph = csr_matrix((np.ones(len(pairs)), (first, second)), shape=(n, n))
    label = connected_components(graph, directed=False)[1]
    # Each class's first variable is its root; the others are reached along the pairs.
    sign, shift = np.full(n, np.nan), np.full(n, np.nan)
    roots = np.unique(label, return_index=True)[1]
    sign[roots], shift[roots] = 1.0, 0.0
    used = np.zeros(len(pairs), dtype=bool)
    while True:
        # One pass each way: x_to = (b - c_from * x_from) / c_to.
        progressed = False
        for frm, to, c_frm, c_to in ((first, second, c_first, c_second), (second, first, c_second, c_first)):
            step = ~used & ~np.isnan(sign[frm]) & np.isnan(sign[to])
            if not step.any():
                continue
            edges = np.flatnonzero(step)
            edges = edges[np.unique(to[edges], return_index=True)[1]]
            sign[to[edges]] = -c_frm[edges] * sign[frm[edges]] / c_to[edges]
            shift[to[edges]] = (system.b[pairs[edges]] - c_frm[edges] * shift[frm[edges]]) / c_to[edges]
            used[edges] = True
            progressed = True
        if not progressed:
            break
    kept = np.ones(a.shape[0], dtype=bool)
    kept[pairs[used]] = False
    classes, label = np.unique(label, return_inverse=True)
    k = len(classes)
    to_class = csr_matrix((sign, (np.arange(n), label)), shape=(n, k))
    rows = a[kept]
    merged = (rows @ to_class).tocsr()
    merged.data[np.abs(merged.data) < _EPS] = 0.0
    merged.eliminate_zeros()
    b = system.b[kept] - rows @ shift
    # Member bounds moved onto the class: lower <= sign * z + shift <= upper.
    member_low = np.where(sign > 0, system.lower - shift, shift - system.upper)
    member_high = np.where(sign > 0, system.upper - shift, shift - system.lower)
    low, high = np.full(k, -np.inf), np.full(k, np.inf)
    np.maximum.at(low, label, member_low)
    np.minimum.at(high, label, member_high)
    base = np.full(k, np.nan)
    known = ~np.isnan(system.base)
    base[label[known]] = sign[known] * (system.base[known] - shift[known])
    row_keep = np.diff(merged.indptr) > 0
    merged_system = _System(merged[row_keep], b[row_keep], system.equal[kept][row_keep], low, high, base,
                            np.arange(k))
    return merged_system, label, sign, shift


def _twins(system: _System) -> np.ndarray:
    """Inner widths from trades between twins: variables in the same relations with the same
    coefficients (a region's group beside another region's, chained to their totals alike),
    so one can go up by what the other goes down."""
    by_var = system.a.tocsc()
    n = by_var.shape[1]
    width = np.zeros(n)
    degree = np.diff(by_var.indptr)
    if not n or not by_var.nnz:
        return width
    col = np.repeat(np.arange(n), degree)
    random = np.random.default_rng(0)
    weights = random.standard_normal((2, by_var.shape[0]))
    keys = np.column_stack([np.bincount(col, weights[j][by_var.indices] * by_var.data, n) for j in range(2)])
    keys = np.column_stack([np.round(keys, 6), degree])
    group = np.unique(keys, axis=0, return_inverse=True)[1].ravel()
    group = np.where(degree > 0, group, -1 - np.arange(n))  # a variable in no relation has no twin
    base = system.base
    up = np.where(np.isinf(system.upper), np.inf, np.nan_to_num(system.upper - base, nan=0.0))
    down = np.where(np.isinf(system.lower), np.inf, np.nan_to_num(base - system.lower, nan=0.0))
    up, down = np.maximum(up, 0.0), np.maximum(down, 0.0)

    def best_other(score: np.ndarray) -> np.ndarray:
        """For each variable, the best score among the other members of its group."""
        order = np.lexsort((-score, group))
        g = group[order]
        start = np.r_[True, g[1:] != g[:-1]]
        first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
        top = score[order][first]
        second_at = np.minimum(first + 1, n - 1)
        second = np.where((first + 1 < n) & (g[second_at] == g), score[order][second_at], 0.0)
        is_top = np.arange(n) == first
        out = np.empty(n)
        out[order] = np.where(is_top, second, top)
        return out

    # Up by what a twin can go down, and down by what a twin can go up.
    return np.minimum(up, best_other(down)) + np.minimum(down, best_other(up))


_SETTLED = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible)


class _Programs:
    """A system's linear programs, built once: each variable's least and greatest value. HiGHS
    re-solves from the last basis when only the objective changes (a fraction of a millisecond,
    where a fresh program costs several)."""

    def __init__(self, a: csr_matrix, b: np.ndarray, equal: np.ndarray, lower: np.ndarray, upper: np.ndarray):
        a = a.tocsc()
        infinity = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
        lp.col_cost_ = np.zeros(a.shape[1])
        lp.col_lower_ = np.where(np.isinf(lower), -infinity, lower)
        lp.col_upper_ = np.where(np.isinf(upper), infinity, upper)
        lp.row_lower_ = b.astype(float)
        lp.row_upper_ = np.where(equal, b, infinity).astype(float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)

    def range(self, target: int) -> tuple[float, float] | None:
        """The least and greatest value of `target`, rounded inwards; None if a program fails."""
        out = []
        self.highs.changeColCost(target, 1.0)
        try:
            for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
                self.highs.changeObjectiveSense(sense)
                self.highs.run()
                status = self.highs.getModelStatus()
                if status not in _SETTLED:
                    # A warm start from an unbounded program can end undecided: start afresh.
                    self.highs.clearSolver()
                    self.highs.run()
                    status = self.highs.getModelStatus()
                if status == highspy.HighsModelStatus.kOptimal:
                    out.append(self.highs.getInfo().objective_function_value)
                elif status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                    # (the true table is a solution, so never infeasible)
                    out.append(-np.inf if sense == highspy.ObjSense.kMinimize else np.inf)
                else:
                    return None
        finally:
            self.highs.changeColCost(target, 0.0)
        return float(np.ceil(out[0] - _EPS)), float(np.floor(out[1] + _EPS))


def cell_ranges(knowledge: Knowledge, hidden: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The least and greatest value of each of `cells` (hidden ones) an outsider can work out:
    linear programs over the whole system, whatever its size."""
    system = _system(knowledge, hidden)
    programs = _Programs(system.a, system.b, system.equal, system.lower, system.upper)
    position = {int(c): k for k, c in enumerate(system.cells)}
    low, high = np.full(len(cells), np.nan), np.full(len(cells), np.nan)
    for k, cell in enumerate(cells):
        found = programs.range(position[int(cell)])
        if found is not None:
            low[k], high[k] = found
    return low, high


def narrow_cells(knowledge: Knowledge, hidden: np.ndarray, protected: np.ndarray, width: int) -> np.ndarray:
    """Protected hidden cells whose possible range is narrower than `width` (a boolean mask over
    cells). In a system of up to EXACT_VARIABLES hidden cells, a cell is narrow unless proven
    wide (by a trade, or by its linear programs); in a larger one, when its propagated range is."""
    narrow = np.zeros(len(hidden), dtype=bool)
    if width <= 0 or not (protected & hidden).any():
        return narrow
    system = _system(knowledge, hidden)
    n = len(system.cells)
    # No cell needs more than its own bounds allow (a small count lies within 1..threshold-1).
    need = np.minimum(width, system.upper - system.lower)
    guarded = protected[system.cells] & (need > 0)
    if not guarded.any():
        return narrow
    outer_low, outer_high = _propagate(system)
    open_cells = guarded & ~(outer_high - outer_low < need)
    narrow[system.cells[guarded & ~open_cells]] = True
    links = csr_matrix((np.ones(system.a.nnz), system.a.indices, system.a.indptr), shape=system.a.shape)
    label = connected_components(bmat([[None, links.T], [links, None]], format="csr"), directed=False)[1][:n] \
        if system.a.shape[0] else np.arange(n)
    sizes = np.bincount(label)
    open_cells &= sizes[label] <= EXACT_VARIABLES
    if not open_cells.any():
        return narrow
    # Proven wide without a linear program where a trade shows it.
    inner_low, inner_high = _closed_form(system, np.diff(system.a.tocsc().indptr))
    with np.errstate(invalid="ignore"):
        open_cells &= ~(inner_high - inner_low >= need)
    if open_cells.any():
        merged, of_class, _, _ = _merged(system)
        merged_low, merged_high = _closed_form(merged, np.diff(merged.a.tocsc().indptr))
        with np.errstate(invalid="ignore"):
            inner = np.fmax(np.nan_to_num(merged_high - merged_low, nan=0.0), _twins(merged))
        open_cells &= ~(inner[of_class] >= need)
    by_var = system.a.tocsc()
    for component in np.unique(label[open_cells]):
        members = np.flatnonzero(label == component)
        rows = np.unique(by_var[:, members].indices)
        programs = _Programs(system.a[rows][:, members], system.b[rows], system.equal[rows], system.lower[members],
                             system.upper[members])
        for v in np.flatnonzero(open_cells[members]):
            found = programs.range(int(v))
            if found is None or found[1] - found[0] < need[members[v]]:
                narrow[system.cells[members[v]]] = True
    return narrow


def audited(knowledge: Knowledge, hidden: np.ndarray, protected: np.ndarray, width: int,
            close_within: Callable[[np.ndarray], Callable[[np.ndarray], np.ndarray]]) -> np.ndarray:
    """A suppression decision extended until every protected value's possible range is at least
    `width` wide.

    Each round, every narrow cell gets one more complement: the nearest shown non-zero cell
    around it (smallest first), then `close_within(cells)` (the local rules over a set of cells
    closed under every relation) runs again. Hiding more never narrows a range, so this ends."""
    hidden = hidden.copy()
    narrow = narrow_cells(knowledge, hidden, protected, width)
    if not narrow.any():
        return hidden  # the usual case
    n = len(hidden)
    relations = knowledge.relations
    links = csr_matrix((np.ones(relations.nnz), relations.indices, relations.indptr), shape=relations.shape)
    component = connected_components(bmat([[None, links.T], [links, None]], format="csr"), directed=False)[1][:n]
    for label in np.unique(component[narrow]):
        cells = np.flatnonzero(component == label)
        local = knowledge.restricted(cells)
        # Complements are chosen by cost, and tried (each a closing and a range), where ranges
        # are decided by linear programs; in a state network's systems as before this choice.
        small = len(cells) <= EXACT_VARIABLES
        matrix = local.relations[local.exact | local.at_least]
        by_cell = matrix.tocsc()
        close_locally = close_within(cells)
        local_hidden, local_protected, local_narrow = hidden[cells], protected[cells], narrow[cells]
        # Cells narrow even with every cell of their system hidden (e.g. five regions' counts of
        # at least 1 each under a pooled count known to be small) no complement can widen:
        # hiding for them would only hide everything around them. Stuck from the start.
        stuck = _hopeless(local, local_protected & local_narrow, width)
        while (local_narrow & ~stuck).any():
            chosen: set[int] = set()
            for cell in np.flatnonzero(local_narrow & ~stuck):
                candidates = _complements_around(matrix, by_cell, local.values, local_hidden, int(cell))
                if not small:
                    # A state network's system: the nearest smallest candidate not chosen yet,
                    # one per narrow cell, so that a round serves them all (each round costs
                    # propagation over ~10,000 cells).
                    candidates = [c for c in candidates if c not in chosen]
                    if candidates:
                        chosen.add(candidates[0])
                    else:
                        stuck[cell] = True
                elif not candidates:
                    stuck[cell] = True
                elif not chosen.intersection(candidates):
                    # One complement a round for narrow cells that share candidates: one often
                    # widens them all (cells of one relation), and the next round sees.
                    chosen.add(_cheapest_that_widens(local, matrix, by_cell, local_hidden, chosen, int(cell), candidates,
                                                     width, close_locally))
            if not chosen:
                break
            trial = local_hidden.copy()
            trial[list(chosen)] = True
            local_hidden = close_locally(trial)
            local_narrow = narrow_cells(local, local_hidden, local_protected, width)
        hidden[cells] = local_hidden
    return hidden


# How many of a narrow cell's cheapest candidates are tried (hidden, the local rules closed
# around, the cell's range found again) before the cheapest is taken untried.
_TRIED = 6


def _hopeless(local: Knowledge, cells: np.ndarray, width: int) -> np.ndarray:
    """Which of `cells` stay narrower than `width` with every cell of their system hidden (a
    system whose bounds the true table meets only as decided, not with everything hidden,
    proves nothing hopeless)."""
    everything = np.ones(len(cells), dtype=bool)
    low, high = _propagate(_system(local, everything))
    if not cells.any() or (low > high).any():
        return np.zeros(len(cells), dtype=bool)
    return narrow_cells(local, everything, cells, width)


def _cheapest_that_widens(local: Knowledge, matrix, by_cell, hidden: np.ndarray, chosen: set[int], cell: int,
                          candidates: list[int], width: int, close_locally) -> int:
    """The cheapest candidate (`_cost`) that, hidden with what this round chose already and the
    local rules closed around it, leaves `cell` wide; else the cheapest (some ranges need two
    complements: the next round adds the second; hiding more never narrows a range, so rounds
    of these end)."""
    ranked = sorted(candidates, key=lambda c: _cost(matrix, by_cell, local.values, hidden, c))
    only = np.zeros(len(hidden), dtype=bool)
    only[cell] = True
    for candidate in ranked[:_TRIED]:
        trial = hidden.copy()
        trial[[*chosen, candidate]] = True
        if not narrow_cells(local, close_locally(trial), only, width)[cell]:
            return candidate
    return ranked[0]


def _cost(matrix: csr_matrix, by_cell, values: np.ndarray, hidden: np.ndarray, cell: int) -> float:
    """What hiding `cell` costs, as classic cell suppression counts it (the total value hidden),
    looking one step ahead: its own value, plus for every relation it would open (a shown total
    whose parts it would be the only hidden one of, or itself a total with every part shown)
    the smallest value that relation would then have to hide. So a region's all students or a
    pooled total, whose hiding opens relation after relation, is taken only when nothing
    cheaper closes the range (and counts once more for each relation it is the total of)."""
    cost = abs(float(np.nan_to_num(values[cell], nan=0.0, posinf=0.0, neginf=0.0)))
    rows = by_cell.indices[by_cell.indptr[cell]:by_cell.indptr[cell + 1]]
    # A total (a region's all students, a pooled area's count) is what readers look at first:
    # it costs its value once more for every relation it is the total of.
    cost *= 1 + int((by_cell.data[by_cell.indptr[cell]:by_cell.indptr[cell + 1]] > 0).sum())
    for r in rows:
        members = matrix.indices[matrix.indptr[r]:matrix.indptr[r + 1]]
        coefs = matrix.data[matrix.indptr[r]:matrix.indptr[r + 1]]
        own = coefs[members == cell][0]
        others = members != cell
        if own < 0:  # a part: opens a shown total with no other hidden part
            total, parts = (coefs > 0) & others, (coefs < 0) & others
            opens = total.any() and not hidden[members[total]].any() and not hidden[members[parts]].any()
            rest = members[parts]
        else:  # a total: opens a relation whose parts are all shown
            rest = members[others]
            opens = not hidden[rest].any()
        if opens:
            magnitude = np.abs(np.nan_to_num(values[rest], nan=0.0, posinf=0.0, neginf=0.0))
            magnitude = magnitude[magnitude > 0]
            cost += float(magnitude.min()) if len(magnitude) else cost
    return cost


def _complements_around(matrix: csr_matrix, by_cell, values: np.ndarray, hidden: np.ndarray, cell: int,
                        per_step: int = 4, steps: int = 6) -> list[int]:
    """Shown non-zero cells to try as the complement of a narrow one: the smallest few in a
    relation with it, then the smallest few one relation further (through hidden cells), and
    so on (a chain is often broken only further away, e.g. at a region's all students).
    `by_cell` is `matrix` by column, converted once per component."""
    reached, frontier, found = {cell}, [cell], []
    for _ in range(steps):
        if not frontier:
            break
        relations = np.unique(np.concatenate([by_cell.indices[by_cell.indptr[c]:by_cell.indptr[c + 1]] for c in frontier]))
        if not len(relations):
            break
        members = np.unique(np.concatenate([matrix.indices[matrix.indptr[r]:matrix.indptr[r + 1]] for r in relations]))
        members = np.array([m for m in members if m not in reached], dtype=np.int64)
        reached.update(members.tolist())
        magnitude = np.abs(np.nan_to_num(values[members], nan=0.0, neginf=0.0, posinf=0.0))
        shown = members[~hidden[members] & (magnitude != 0)]
        found += shown[np.lexsort((shown, np.abs(values[shown])))][:per_step].tolist()
        frontier = [int(m) for m in members if hidden[m]]
    return found
