"""One pass over a block of fast scores: ranks of the relevant items, and the best ``k``.

For each query row the kernel counts, per language segment of the pool, the candidates
ranked above each relevant item (all full-depth metrics need only that), and selects the
row's best ``k`` candidates (same-language preference), both in trec_eval's order of
*canonical* scores (`polyir.evaluate.search.exact_scores`): score descending, then tie key descending.

The fast scores decide every comparison they can: a candidate whose fast score is more
than the row's slack away from a threshold is on the same side of it canonically.  The few
that are not (near-ties) get their canonical score computed, so counts and selections are
exact and do not depend on how the fast scores were computed (BLAS, block shape, device).
No sort of the row: it is compacted once (branch-free) to the candidates near or above its
lowest relevant item, and what is left is counted per item and segment.  The best ``k``
come from the same list (`polyir.evaluate.search.top_selection`).

The kernels pass slices and index them from 0: numba wraps negative indices, and a loop
from an arbitrary start is not vectorised because the index cannot be proved non-negative.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .exact_scores import ScoreVectors, canonical_dot
from .top_selection import PARALLEL_FROM_ROWS, canonical_order, count_at_least, float32_above, float32_below, on_torch_threads, select_top

# up to this many relevant items a query's counts come from compacting the row to the
# candidates near or above each item (lowest first) and counting what is left; beyond, one
# pass buckets each candidate by binary search over the items sorted by canonical score
_FEW_RELEVANT = 32
_ROWS_PER_TASK = 16  # query rows per parallel task (work arrays are allocated per task)


@njit(cache=True)
def _compact_row(row, gate, bounds, vals, idx, ends):
    """Copy the scores ``>= gate`` and their columns to the front of ``vals``/``idx``, in order;
    segment ``s`` of the row ends up in ``[ends[s], ends[s + 1])``.

    Branch-free: every element is written and the write position advances only for kept ones
    (about twice as fast as a branch when the choice is unpredictable)."""
    n = 0
    ends[0] = 0
    for sg in range(bounds.shape[0] - 1):
        seg = row[bounds[sg]:bounds[sg + 1]]
        for i in range(seg.shape[0]):
            x = seg[i]
            vals[n] = x
            idx[n] = bounds[sg] + i
            n += x >= gate
        ends[sg + 1] = n


@njit(cache=True)
def _compact(vals, idx, ends, gate):
    """`_compact_row` in place over the list (the write position never passes the read)."""
    kept = 0
    start = ends[0]
    for sg in range(ends.shape[0] - 1):
        stop = ends[sg + 1]
        for i in range(start, stop):
            x = vals[i]
            vals[kept] = x
            idx[kept] = idx[i]
            kept += x >= gate
        start = stop
        ends[sg + 1] = kept


@njit(cache=True)
def _settled_above(vals, idx, high, t_window, item, qvec, cands, tiekey, scratch):
    """Entries below ``high`` (the rest of the fast window) that rank above the item: those
    above its canonical window surely do, those inside are compared by canonical score and key."""
    t_low, t_high = t_window
    above = 0
    for i in range(vals.shape[0]):
        x = vals[i]
        if x >= high or x < t_low:
            continue
        if x >= t_high:
            above += 1
        else:
            c = idx[i]
            s = canonical_dot(qvec, cands[c], scratch)
            above += s > item[0] or (s == item[0] and tiekey[c] > item[1])
    return above


@njit(cache=True)
def _counts_by_compaction(qvec, cands, slack, rel, fast, bounds, tiekey, counts, vals, idx, ends, scratch):
    """Few relevant items.  ``vals``/``idx`` up to ``ends[-1]``: the row compacted to the
    candidates at or above the lowest item's fast window, by segment (`_compact_row`).  Items are taken from the lowest
    fast score up; for each, the list is compacted further to its window and above, counted
    per segment (a vectorised pass over what is left) and the window's members, if any besides
    the item itself, are settled.

    The fast window is ±2 slacks around the item's fast score ``x_r``: a candidate above it
    has a canonical score > x_r + slack >= the item's canonical score ``t``, one below it a
    canonical score < ``t``.  ``t`` is computed only when a window has other members, and then
    only those within ±1 slack of ``t`` need their own canonical score.
    """
    for r in np.argsort(fast):
        x_r = np.float64(fast[r])
        _compact(vals, idx, ends, float32_below(x_r - 2 * slack))  # below the window: surely below
        high = float32_above(x_r + 2 * slack)  # at or above: surely ranked above
        t = np.float32(np.nan)
        for sg in range(bounds.shape[0] - 1):
            seg = vals[ends[sg]:ends[sg + 1]]
            above = count_at_least(seg, high)
            own = 1 if bounds[sg] <= rel[r] < bounds[sg + 1] else 0  # in its own window, not above itself
            if seg.shape[0] - above > own:
                if np.isnan(t):
                    t = canonical_dot(qvec, cands[rel[r]], scratch)
                t_window = (float32_below(np.float64(t) - slack), float32_above(np.float64(t) + slack))
                above += _settled_above(seg, idx[ends[sg]:ends[sg + 1]], high, t_window, (t, tiekey[rel[r]]),
                                        qvec, cands, tiekey, scratch)
            counts[r, sg] = above


@njit(cache=True)
def _sorted_thresholds(qvec, cands, rel, m, tiekey, scratch):
    """The query's relevant items ordered by (canonical score, tie key) ascending."""
    order, scores, keys = canonical_order(qvec, cands, tiekey, rel[:m], scratch)
    return order, scores[order], keys[order]


@njit(cache=True)
def _count_below(th, v):
    """How many ascending thresholds are < ``v`` (binary search)."""
    lo, hi = 0, th.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if th[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _beaten(s, k, th, kk):
    """How many of the ascending (score, key) thresholds the candidate (s, k) ranks above."""
    lo, hi = 0, th.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if s > th[mid] or (s == th[mid] and k > kk[mid]):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _counts_by_bucket(row, qvec, cands, slack, rel, m, bounds, tiekey, counts, scratch):
    """Many relevant items: sort them once by canonical score, put each candidate in the
    bucket of how many it beats (binary search; canonical only when one lies within a slack),
    suffix sums of the buckets per segment."""
    order, th, kk = _sorted_thresholds(qvec, cands, rel, m, tiekey, scratch)
    gate = float32_below(np.float64(th[0]) - slack)  # below it: ranked below every relevant item
    hist = np.zeros(m + 1, np.int64)
    for sg in range(bounds.shape[0] - 1):
        hist[:] = 0
        seg = row[bounds[sg]:bounds[sg + 1]]
        for i in range(seg.shape[0]):
            x = np.float64(seg[i])
            if seg[i] < gate:
                continue
            b = _count_below(th, x - slack)  # thresholds below the whole interval: beaten
            if b < m and th[b] <= x + slack:  # one inside the interval: the canonical score decides
                c = bounds[sg] + i
                b = _beaten(canonical_dot(qvec, cands[c], scratch), tiekey[c], th, kk)
            hist[b] += 1
        above = 0
        for b in range(m, 0, -1):
            above += hist[b]
            counts[order[b - 1], sg] = above


@njit(cache=True)
def _rank_row(row, qvec, cands, slack, rel, m, bounds, tiekey, counts, top, top_val, vals, idx, scratch):
    """Counts and top set of one query row (see `rank_counts`)."""
    done = False
    if 0 < m <= _FEW_RELEVANT:
        fast = np.empty(m, np.float32)
        for r in range(m):
            fast[r] = row[rel[r]]
        floor = float32_below(np.float64(fast.min()) - 2 * slack)
        ends = np.empty(bounds.shape[0], np.int64)
        _compact_row(row, floor, bounds, vals, idx, ends)
        n = ends[-1]
        if top.shape[0]:  # usually within the compacted candidates: below the lowest relevant item
            done = select_top(vals[:n], idx[:n], floor, qvec, cands, slack, tiekey, top, top_val, scratch)
        # after the top k: the counts compact vals/idx further
        _counts_by_compaction(qvec, cands, slack, rel, fast, bounds, tiekey, counts, vals, idx, ends, scratch)
    elif m > _FEW_RELEVANT:
        _counts_by_bucket(row, qvec, cands, slack, rel, m, bounds, tiekey, counts, scratch)
    if top.shape[0] and not done:
        for i in range(row.shape[0]):
            idx[i] = i
        select_top(row, idx, np.float32(-np.inf), qvec, cands, slack, tiekey, top, top_val, scratch)


@njit(cache=True)
def _rank_group(g, scores, queries, cands, slack, rel_idx, n_rel, bounds, tiekey, row_order, counts, top, top_val):
    """Rows ``row_order[g * _ROWS_PER_TASK:(g + 1) * _ROWS_PER_TASK]``, with work arrays of their own."""
    vals = np.empty(scores.shape[1], np.float32)
    idx = np.empty(scores.shape[1], np.int32)
    scratch = np.empty(queries.shape[1], np.float64)
    for q in row_order[g * _ROWS_PER_TASK:(g + 1) * _ROWS_PER_TASK]:
        _rank_row(scores[q], queries[q], cands, slack[q], rel_idx[q], n_rel[q], bounds, tiekey, counts[q],
                  top[q], top_val[q], vals, idx, scratch)


@njit(cache=True)
def _outputs(n_queries, width, n_segments, k):
    return (np.zeros((n_queries, width, n_segments), np.int32), np.full((n_queries, k), -1, np.int64),
            np.empty((n_queries, k), np.float32))


@njit(cache=True)
def _rank_counts_serial(scores, queries, cands, slack, rel_idx, n_rel, bounds, tiekey, k, row_order):
    counts, top, top_val = _outputs(scores.shape[0], rel_idx.shape[1], bounds.shape[0] - 1, k)
    for g in range((scores.shape[0] + _ROWS_PER_TASK - 1) // _ROWS_PER_TASK):
        _rank_group(g, scores, queries, cands, slack, rel_idx, n_rel, bounds, tiekey, row_order, counts, top, top_val)
    return counts, top


@njit(parallel=True, cache=True)
def _rank_counts_parallel(scores, queries, cands, slack, rel_idx, n_rel, bounds, tiekey, k, row_order):
    counts, top, top_val = _outputs(scores.shape[0], rel_idx.shape[1], bounds.shape[0] - 1, k)
    for g in prange((scores.shape[0] + _ROWS_PER_TASK - 1) // _ROWS_PER_TASK):
        _rank_group(g, scores, queries, cands, slack, rel_idx, n_rel, bounds, tiekey, row_order, counts, top, top_val)
    return counts, top


def rank_counts(scores: np.ndarray, rel_idx: np.ndarray, n_rel: np.ndarray, bounds: np.ndarray,
                tiekey: np.ndarray, vectors: ScoreVectors, *, top_k: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, top)``: ``counts[q, r, s]`` = candidates of segment ``s`` ranked above relevant
    item ``rel_idx[q, r]``, ``top[q]`` = the set of the row's best ``top_k`` candidates (in no
    particular order).

    ``scores`` is ``(queries, candidates)`` fast scores of ``vectors`` (its rows' queries
    against all its candidates), the candidates of segment ``s`` in columns
    ``bounds[s]:bounds[s + 1]``; ``rel_idx[q, :n_rel[q]]`` are column indices of the
    query's relevant items (padding is ignored).  Ranking is by canonical score, then tie
    key (larger first); rank of ``r`` in a pool made of segments ``S`` = 1 + sum over ``S``.
    ``top`` is padded with -1 when a row has fewer than ``top_k`` candidates.
    ``vectors.slack`` must bound the error of the fast scores (`polyir.evaluate.search.exact_scores`).
    """
    bounds = np.ascontiguousarray(bounds, dtype=np.int64)
    if bounds[0] != 0 or bounds[-1] != scores.shape[1] or (np.diff(bounds) < 0).any():
        raise ValueError("bounds must rise from 0 to the number of candidates")
    if vectors.queries.shape[0] != scores.shape[0] or vectors.candidates.shape[0] != scores.shape[1]:
        raise ValueError(f"scores {scores.shape} do not match the vectors {vectors.queries.shape} / "
                         f"{vectors.candidates.shape}")
    rel_idx = np.ascontiguousarray(rel_idx, dtype=np.int64)
    # rows sharing relevant items (translations of one question) one after the other: the
    # candidate vectors their near-ties need are then still in the cache
    row_order = np.argsort(rel_idx[:, 0] if rel_idx.shape[1] else np.zeros(len(rel_idx), np.int64), kind="stable")
    kernel = _rank_counts_parallel if len(scores) >= PARALLEL_FROM_ROWS else _rank_counts_serial
    return on_torch_threads(kernel, np.ascontiguousarray(scores, dtype=np.float32), vectors.queries,
                            vectors.candidates, np.ascontiguousarray(vectors.slack, dtype=np.float64), rel_idx,
                            np.ascontiguousarray(n_rel, dtype=np.int64), bounds,
                            np.ascontiguousarray(tiekey, dtype=np.int64), int(top_k), row_order)
