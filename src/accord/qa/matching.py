"""Optimal one-to-one matching: the linear assignment problem, without scipy.

:func:`linear_sum_assignment` solves the rectangular linear assignment problem
with the shortest-augmenting-path method of Jonker & Volgenant as laid out for
rectangular matrices by Crouse, so it runs in ``O(n² m)`` for an ``n × m``
matrix (``n ≤ m``) and returns the same optimum as
``scipy.optimize.linear_sum_assignment``:

* Jonker, R., & Volgenant, A. (1987). A shortest augmenting path algorithm for
  dense and sparse linear assignment problems. *Computing*, 38(4), 325–340.
* Crouse, D. F. (2016). On implementing 2D rectangular assignment algorithms.
  *IEEE Transactions on Aerospace and Electronic Systems*, 52(4), 1679–1696.

:func:`match_by_score` builds on it: the one-to-one pairing of two sets that
maximises the total score (an IoU, say) among pairs whose score reaches a
threshold. Everything here is pure numpy.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from accord.errors import ShapeError, ValidationError

__all__ = ["linear_sum_assignment", "match_by_score"]


def linear_sum_assignment(
    cost: ArrayLike, *, maximize: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the optimal assignment of a (rectangular) cost matrix.

    Finds ``rows, cols`` (each of length ``min(n, m)``, ``rows`` increasing)
    minimising — or with ``maximize=True`` maximising — ``cost[rows, cols].sum()``
    with every row and column used at most once. Entries must be finite.
    Reference: Crouse (2016), *On implementing 2D rectangular assignment
    algorithms* (the algorithm behind scipy's function of the same name).
    """
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2:
        raise ShapeError("cost", "a 2-D matrix", f"an array with shape {c.shape}")
    if not np.isfinite(c).all():
        raise ValidationError("cost", "finite numbers only", "NaN or infinite entries")
    n, m = c.shape
    if n == 0 or m == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty.copy()
    transposed = n > m
    if transposed:
        c = c.T
        n, m = m, n
    if maximize:
        c = -c
    # shift so every entry is >= 0: the reduced costs below stay non-negative
    c = c - c.min()
    col4row, _ = _shortest_augmenting_paths(c)
    rows = np.arange(n, dtype=np.intp)
    cols = col4row.astype(np.intp)
    if transposed:
        order = np.argsort(cols)
        return cols[order], rows[order]
    return rows, cols


def _shortest_augmenting_paths(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Core of the Jonker–Volgenant / Crouse method for ``n <= m``."""
    n, m = c.shape
    u = np.zeros(n)
    v = np.zeros(m)
    col4row = np.full(n, -1, dtype=np.intp)
    row4col = np.full(m, -1, dtype=np.intp)
    path = np.full(m, -1, dtype=np.intp)
    for cur_row in range(n):
        shortest = np.full(m, np.inf)
        remaining = np.ones(m, dtype=bool)
        visited_rows = np.zeros(n, dtype=bool)
        min_val = 0.0
        i = cur_row
        sink = -1
        while sink < 0:
            visited_rows[i] = True
            idx = np.flatnonzero(remaining)
            reduced = min_val + c[i, idx] - u[i] - v[idx]
            better = reduced < shortest[idx]
            if better.any():
                upd = idx[better]
                shortest[upd] = reduced[better]
                path[upd] = i
            costs = shortest[idx]
            lowest = costs.min()
            ties = idx[costs == lowest]
            free = ties[row4col[ties] < 0]
            j = int(free[0]) if len(free) else int(ties[0])
            min_val = float(lowest)
            remaining[j] = False
            if row4col[j] < 0:
                sink = j
            else:
                i = int(row4col[j])
        # update the dual variables
        u[cur_row] += min_val
        others = np.flatnonzero(visited_rows)
        others = others[others != cur_row]
        if len(others):
            u[others] += min_val - shortest[col4row[others]]
        done = ~remaining
        v[done] -= min_val - shortest[done]
        # augment along the path back to cur_row
        j = sink
        while True:
            i = int(path[j])
            row4col[j] = i
            col4row[i], j = j, int(col4row[i])
            if i == cur_row:
                break
    return col4row, row4col


def match_by_score(
    scores: ArrayLike, threshold: float, *, where: str = "scores"
) -> tuple[np.ndarray, np.ndarray]:
    """The one-to-one matching that maximises the total score above ``threshold``.

    ``scores[i, j]`` rates pairing item ``i`` of the first set with item ``j`` of
    the second (an IoU, for instance). Only pairs with ``score >= threshold``
    (and ``score > 0``) may be matched; among all such matchings the one with
    the largest total score is returned as ``pairs`` (``(k, 2)`` integer array
    of ``(i, j)``, sorted by ``i``) and their ``scores`` (``(k,)``).
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ShapeError(where, "a 2-D matrix", f"an array with shape {s.shape}")
    if not np.isfinite(s).all():
        raise ValidationError(where, "finite scores", "NaN or infinite entries")
    if not np.isfinite(threshold):
        raise ValidationError("threshold", "a finite number", threshold)
    allowed = (s >= threshold) & (s > 0)
    if not allowed.any():
        return np.zeros((0, 2), dtype=np.intp), np.zeros(0)
    # solve each connected component of the graph of admissible pairs on its own:
    # far-apart items never compete, and small problems are much cheaper than one big one
    found = []
    for ri, ci in _components(allowed):
        sub = np.where(allowed[np.ix_(ri, ci)], s[np.ix_(ri, ci)], 0.0)
        rows, cols = linear_sum_assignment(sub, maximize=True)
        keep = allowed[ri[rows], ci[cols]]
        found.append(np.stack([ri[rows][keep], ci[cols][keep]], axis=1))
    pairs = np.concatenate(found).astype(np.intp)
    pairs = pairs[np.argsort(pairs[:, 0], kind="stable")]
    return pairs, s[pairs[:, 0], pairs[:, 1]]


def _components(allowed: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Connected components (rows, columns) of the bipartite graph ``allowed``."""
    n, m = allowed.shape
    parent = np.arange(n + m)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return int(root)

    for i, j in np.argwhere(allowed):
        a, b = find(int(i)), find(n + int(j))
        if a != b:
            parent[b] = a
    roots = np.array([find(x) for x in range(n + m)])
    used_rows = allowed.any(axis=1)
    used_cols = allowed.any(axis=0)
    out = []
    for r in np.unique(roots[:n][used_rows]):
        rows = np.flatnonzero(used_rows & (roots[:n] == r))
        cols = np.flatnonzero(used_cols & (roots[n:] == r))
        out.append((rows, cols))
    return out
