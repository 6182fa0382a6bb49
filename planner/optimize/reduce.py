"""Exact reductions of covering models, computed on the sparse structure.

All reductions here preserve the optimum value of the model they are applied to; each function
states the rule it applies and why it is exact.

* :func:`as_bool_csr` checks and normalises a coverage matrix (demand × sites).
* :func:`merge_identical_rows` merges demand rows with the same coverage set (weights summed).
* :func:`dominated_columns` finds candidate sites dominated by another site (superset of rows,
  no more cost, no less private weight).
* :func:`dominated_rows` finds covering rows implied by another row (set cover only).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def as_bool_csr(coverage: sp.spmatrix | sp.sparray | np.ndarray, *, name: str = "coverage") -> sp.csr_matrix:
    """Return ``coverage`` as a canonical CSR matrix with ``int8`` ones (explicit zeros removed).

    Parameters
    ----------
    coverage
        Demand × sites coverage; any nonzero means "site serves demand".
    name
        Name used in error messages.
    """
    if isinstance(coverage, np.ndarray):
        if coverage.ndim != 2:
            raise ValueError(f"{name} must be 2-D (demand × sites), got shape {coverage.shape}")
        A = sp.csr_matrix(coverage != 0)
    elif sp.issparse(coverage):
        A = sp.csr_matrix(coverage)
    else:
        raise TypeError(
            f"{name} must be a scipy.sparse matrix (demand × sites), got {type(coverage).__name__}"
        )
    A.eliminate_zeros()
    A.sum_duplicates()
    A.sort_indices()
    out = sp.csr_matrix(
        (np.ones(A.nnz, dtype=np.int8), A.indices.astype(np.int32, copy=False), A.indptr.astype(np.int64)),
        shape=A.shape,
    )
    out.has_sorted_indices = True
    return out


def merge_identical_rows(
    A: sp.csr_matrix, weight: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Merge rows with identical coverage sets, summing their weights.

    Exact for every model where a demand row enters only through "is it covered" times its
    weight (LSCP, MCLP, phased cover): rows with the same set are covered together.

    Parameters
    ----------
    A
        Canonical CSR (see :func:`as_bool_csr`), sorted indices.
    weight
        Weight per row.

    Returns
    -------
    merged, merged_weight, row_map
        ``row_map[i]`` is the merged row of original row ``i``.
    """
    m = A.shape[0]
    keys: dict[bytes, int] = {}
    row_map = np.empty(m, dtype=np.int64)
    indptr, indices = A.indptr, A.indices
    first: list[int] = []
    for i in range(m):
        key = indices[indptr[i] : indptr[i + 1]].tobytes()
        g = keys.get(key)
        if g is None:
            g = len(first)
            keys[key] = g
            first.append(i)
        row_map[i] = g
    merged = A[np.asarray(first, dtype=np.int64)]
    merged_weight = np.bincount(row_map, weights=np.asarray(weight, dtype=np.float64), minlength=len(first))
    return sp.csr_matrix(merged), merged_weight, row_map


def dominated_columns(
    A: sp.csr_matrix,
    cost: np.ndarray,
    *,
    private: np.ndarray | None = None,
) -> np.ndarray:
    """Bool mask of columns dominated by another column.

    Column ``k`` dominates column ``j`` when ``rows(j) ⊆ rows(k)``, ``cost[k] <= cost[j]``,
    ``j`` earns no private weight (private rows belong to ``j`` alone, so ``k`` cannot cover them)
    and ``k`` precedes ``j`` in the order (cost, -private, -|rows|, index). The relation is a strict
    partial order, so every dominated column has an undominated dominator and all dominated columns
    can be dropped at once: any plan using ``j`` can swap it for that dominator (or just close it,
    when the dominator is open) without losing coverage, count or budget. Valid for set cover
    with costs, and for max coverage under a count and/or a money budget with non-negative weights.

    Parameters
    ----------
    A
        Rows × columns 0/1 CSR.
    cost
        Cost per column (pass zeros for a count-only model).
    private
        Weight per column that only this column earns (e.g. folded singleton rows); default 0.
    """
    n = A.shape[1]
    cost = np.asarray(cost, dtype=np.float64)
    priv = np.zeros(n) if private is None else np.asarray(private, dtype=np.float64)
    At = sp.csr_matrix(A.T, dtype=np.int32)
    size = np.diff(At.indptr)
    C = (At @ At.T).tocoo()
    j, k, inter = C.row, C.col, C.data
    cand = (j != k) & (inter == size[j]) & (cost[k] <= cost[j]) & (priv[j] <= 0)
    j, k = j[cand], k[cand]
    # strict precedence of k over j in (cost, -private, -size, index)
    ck, cj = cost[k], cost[j]
    pk, pj = priv[k], priv[j]
    sk, sj = size[k], size[j]
    before = (ck < cj) | ((ck == cj) & ((pk > pj) | ((pk == pj) & ((sk > sj) | ((sk == sj) & (k < j))))))
    dominated = np.zeros(n, dtype=bool)
    dominated[j[before]] = True
    # columns that cover nothing and earn nothing are dominated by "not opening"
    dominated |= (size == 0) & (priv <= 0)
    return dominated


def dominated_rows(A: sp.csr_matrix) -> np.ndarray:
    """Bool mask of covering rows implied by another row (set cover ``A x >= 1`` only).

    Row ``k`` is implied by row ``i`` when ``cols(i) ⊂ cols(k)``: covering ``i`` covers ``k``. Rows
    must be distinct (merge identical rows first). Dropping every implied row at once is exact:
    strict inclusion is a partial order, so every dropped row contains a kept minimal row.

    For each row ``i`` only the rows through its rarest column are candidates; their containment
    of ``cols(i)`` is counted in one vectorised gather, so the work is far below the all-pairs
    row-overlap product.

    Parameters
    ----------
    A
        Rows × columns 0/1 CSR with distinct rows and sorted indices.
    """
    m, n = A.shape
    out = np.zeros(m, dtype=bool)
    if m < 2:
        return out
    csc = sp.csc_matrix(A)
    colcount = np.diff(csc.indptr)
    size = np.diff(A.indptr)
    indptr, indices = A.indptr, A.indices
    mark = np.zeros(n, dtype=bool)
    for i in np.argsort(size, kind="stable"):
        cols = indices[indptr[i] : indptr[i + 1]]
        if cols.size == 0:
            continue
        j = cols[np.argmin(colcount[cols])]
        cands = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        cands = cands[(size[cands] > size[i]) & ~out[cands]]
        if cands.size == 0:
            continue
        lens = size[cands]
        offs = np.concatenate([[0], np.cumsum(lens)[:-1]])
        pos = np.repeat(indptr[cands] - offs, lens) + np.arange(int(lens.sum()))
        mark[cols] = True
        cnt = np.add.reduceat(mark[indices[pos]].astype(np.int32), offs)
        mark[cols] = False
        out[cands[cnt == cols.size]] = True
    return out
