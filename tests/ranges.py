"""An outsider's linear program, written apart from the audit (domain/audit.py) so that tests
check it against an independent computation."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linprog


def outsider_range(matrix: np.ndarray, values: np.ndarray, hidden: np.ndarray, cell: int,
                   lower: np.ndarray | float = 1.0) -> tuple[float, float]:
    """The least and greatest value of `cell` given the shown values, `matrix @ x == 0` and
    hidden values >= lower: a linear program over the hidden cells, rounded to whole numbers."""
    variables = np.flatnonzero(hidden)
    a = matrix[:, variables]
    b = -matrix[:, ~hidden] @ values[~hidden]
    lows = np.broadcast_to(lower, values.shape)[variables]
    c = (variables == cell).astype(float)
    low = linprog(c, A_eq=a, b_eq=b, bounds=[(lo, None) for lo in lows], method="highs")
    high = linprog(-c, A_eq=a, b_eq=b, bounds=[(lo, None) for lo in lows], method="highs")
    assert low.status == 0 and high.status in (0, 3), "the true table must be a solution"
    return np.ceil(low.fun - 1e-6), (np.inf if high.status == 3 else np.floor(-high.fun + 1e-6))
