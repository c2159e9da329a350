"""The optimal `Assigner`: maximum total score within every therapist's capacity, on SciPy.

Capacity expansion turns the capacitated problem into a plain rectangular assignment problem: therapist `j`
becomes `copies_j = min(capacity_j, clients allowed with j)` identical columns (more copies could never be
used), and every client gets a dummy column of score 0 ("unassigned"), so every client can always be placed
and a client stays unassigned exactly when no allowed therapist with room is worth more to the total.
Forbidden pairs (`None`) and pairs with a negative score are simply absent (never worth taking). Two solvers
answer the expanded problem exactly; `method="auto"` picks by size:

* `sparse`: `scipy.sparse.csgraph.min_weight_full_bipartite_matching` (LAPJVsp) on the allowed edges only,
  with weight `c - score` where `c = max score + 1` (it needs non-zero weights; every client is matched exactly
  once, to a copy or to their dummy, so the constant shifts every full matching's weight equally). Memory and
  time follow the number of allowed pairs, which licensing keeps small in practice.
* `dense`: `scipy.optimize.linear_sum_assignment` on the full `clients x (copies + clients)` cost matrix
  (`-score`; forbidden cells `inf`; dummy block 0). Faster when most pairs are allowed.
* `lp`: the transportation linear programme (one variable per allowed pair, `sum_j x_ij <= 1`,
  `sum_i x_ij <= capacity_j`) with HiGHS dual simplex. Its constraint matrix is totally unimodular, so the
  basic optimal solution simplex returns is integral (checked). No expansion: used when the expanded problem
  would not fit in memory (many allowed pairs and large capacities).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment, linprog
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from domain.matching.assignment import Assignment, ScoreMatrix, assignment_of, validate_problem

Method = Literal["auto", "sparse", "dense", "lp"]

DENSE_SHARE = 0.2  # auto: dense when the expanded edges fill more than this share of the dense matrix
MAX_DENSE_CELLS = 40_000_000  # about 320 MB of float64
MAX_SPARSE_EDGES = 20_000_000


class _Pairs:
    """The allowed pairs worth taking, as arrays, and each therapist's number of column copies."""

    def __init__(self, scores: ScoreMatrix, capacities: Sequence[int]) -> None:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, row in enumerate(scores):
            for j, s in enumerate(row):
                if s is not None and s >= 0 and capacities[j] > 0:
                    rows.append(i)
                    cols.append(j)
                    vals.append(float(s))
        self.n = len(scores)
        self.m = len(capacities)
        self.rows: NDArray[np.int64] = np.asarray(rows, dtype=np.int64)
        self.cols: NDArray[np.int64] = np.asarray(cols, dtype=np.int64)
        self.vals: NDArray[np.float64] = np.asarray(vals, dtype=np.float64)
        allowed_per_col = np.bincount(self.cols, minlength=self.m)
        self.copies: NDArray[np.int64] = np.minimum(np.asarray(capacities, dtype=np.int64), allowed_per_col)
        self.offsets: NDArray[np.int64] = np.concatenate(([0], np.cumsum(self.copies))).astype(np.int64)
        self.slots = int(self.offsets[-1])  # expanded therapist columns
        self.edges = int(self.copies[self.cols].sum()) if len(self.cols) else 0

    def expanded(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """(client row, expanded column, score) of every copy of every allowed pair."""
        reps = self.copies[self.cols]
        rows = np.repeat(self.rows, reps)
        first = np.repeat(self.offsets[self.cols], reps)
        within = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(reps) - reps, reps)
        return rows, first + within, np.repeat(self.vals, reps)

    def column_owner(self) -> NDArray[np.int64]:
        return np.repeat(np.arange(self.m, dtype=np.int64), self.copies)


class ScipyAssigner:
    """Maximum-total assignment within capacities (see the module docstring)."""

    def __init__(self, method: Method = "auto") -> None:
        if method not in ("auto", "sparse", "dense", "lp"):
            raise ValueError(f"unknown method {method!r}")
        self.method: Method = method
        self.last_method: Method | None = None  # which solver answered the last call (for benchmarks)

    def assign(self, scores: ScoreMatrix, capacities: Sequence[int]) -> Assignment:
        validate_problem(scores, capacities)
        pairs = _Pairs(scores, capacities)
        chosen: list[int | None] = [None] * pairs.n
        if len(pairs.rows) == 0:
            self.last_method = self.method
            return assignment_of(scores, chosen)
        method = self._choose(pairs)
        self.last_method = method
        if method == "lp":
            picked = _solve_lp(pairs, capacities)
        else:
            picked = _solve_sparse(pairs) if method == "sparse" else _solve_dense(pairs)
        for i, j in picked:
            chosen[i] = j
        return assignment_of(scores, chosen)

    def _choose(self, pairs: _Pairs) -> Method:
        if self.method != "auto":
            return self.method
        cells = pairs.n * (pairs.slots + pairs.n)
        if pairs.edges <= MAX_SPARSE_EDGES and (pairs.edges <= DENSE_SHARE * cells or cells > MAX_DENSE_CELLS):
            return "sparse"
        if cells <= MAX_DENSE_CELLS:
            return "dense"
        return "lp"


def _solve_sparse(pairs: _Pairs) -> list[tuple[int, int]]:
    n, k = pairs.n, pairs.slots
    rows, cols, vals = pairs.expanded()
    shift = float(pairs.vals.max()) + 1.0
    graph = csr_array(
        (
            np.concatenate((shift - vals, np.full(n, shift))),
            (np.concatenate((rows, np.arange(n))), np.concatenate((cols, k + np.arange(n)))),
        ),
        shape=(n, k + n),
    )
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    owner = pairs.column_owner()
    return [(int(i), int(owner[c])) for i, c in zip(row_ind, col_ind, strict=True) if c < k]


def _solve_dense(pairs: _Pairs) -> list[tuple[int, int]]:
    n, k = pairs.n, pairs.slots
    rows, cols, vals = pairs.expanded()
    cost = np.full((n, k + n), np.inf)
    cost[:, k:] = 0.0
    cost[rows, cols] = -vals
    row_ind, col_ind = linear_sum_assignment(cost)
    owner = pairs.column_owner()
    return [(int(i), int(owner[c])) for i, c in zip(row_ind, col_ind, strict=True) if c < k]


def _solve_lp(pairs: _Pairs, capacities: Sequence[int]) -> list[tuple[int, int]]:
    n, m, count = pairs.n, pairs.m, len(pairs.rows)
    index = np.arange(count)
    constraints = coo_array(
        (np.ones(2 * count), (np.concatenate((pairs.rows, n + pairs.cols)), np.concatenate((index, index)))),
        shape=(n + m, count),
    ).tocsr()
    bounds = np.concatenate((np.ones(n), np.asarray(capacities, dtype=np.float64)))
    result = linprog(-pairs.vals, A_ub=constraints, b_ub=bounds, bounds=(0, 1), method="highs-ds")
    if result.status != 0 or result.x is None:
        raise RuntimeError(f"the assignment LP did not solve: {result.message}")
    x = np.asarray(result.x)
    if np.any((x > 1e-6) & (x < 1 - 1e-6)):
        raise RuntimeError("the assignment LP returned a fractional solution")
    taken = x > 0.5
    return [(int(i), int(j)) for i, j in zip(pairs.rows[taken], pairs.cols[taken], strict=True)]
