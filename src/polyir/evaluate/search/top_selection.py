"""The best ``k`` candidates of a row by canonical score, from its fast scores.

A heap of the ``k`` best fast scores gives a gate (the ``k``-th best − 2 slacks) below which
no candidate can be in the exact top ``k`` (`polyir.evaluate.search.exact_scores`: every fast score is within
one slack of the canonical one); the candidates at or above the gate are settled by
canonical score and tie key, or taken as they are when only ``k`` reach it.  Used by the
rank-counting kernel (same-language preference) and by `polyir.evaluate.search.topk_search.topk` (run files,
`search()`), which selects by `torch.topk` and settles with `settle_rows`.
"""
from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange

from .exact_scores import canonical_dot

CHUNK = 64  # candidates counted at once before a scalar look at each of them
# threads pay off on large blocks; on a few rows, waking them up costs more than the work
# (about 10 ms per parallel region on a busy machine)
PARALLEL_FROM_ROWS = 64


@njit(cache=True)
def float32_below(value):
    """The largest float32 <= ``value`` (a float64): ``x < it`` implies ``x < value``."""
    out = np.float32(value)
    if np.float64(out) > value:
        out = np.nextafter(out, np.float32(-np.inf))
    return out


@njit(cache=True)
def float32_above(value):
    """The smallest float32 > ``value`` (a float64): ``x >= it`` implies ``x > value``."""
    out = np.float32(value)
    if np.float64(out) <= value:
        out = np.nextafter(out, np.float32(np.inf))
    return out


@njit(cache=True)
def count_at_least(seg, gate):
    """``#x >= gate`` over ``seg``: one vectorised loop."""
    n = 0
    for i in range(seg.shape[0]):
        n += seg[i] >= gate
    return n


@njit(cache=True)
def _sift_down(heap, n):
    """Restore the min-heap after its root was replaced."""
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            return
        child = left + 1 if left + 1 < n and heap[left + 1] < heap[left] else left
        if heap[i] <= heap[child]:
            return
        heap[i], heap[child] = heap[child], heap[i]
        i = child


@njit(cache=True)
def _sift_up(heap, i):
    while i > 0:
        parent = (i - 1) // 2
        if heap[parent] <= heap[i]:
            return
        heap[i], heap[parent] = heap[parent], heap[i]
        i = parent


@njit(cache=True)
def _keep_at_or_above(buf, n, vals, gate):
    """Drop buffered positions whose score is below ``gate``; grow the buffer when that frees too little."""
    kept = 0
    for i in range(n):
        if vals[buf[i]] >= gate:
            buf[kept] = buf[i]
            kept += 1
    if kept > buf.shape[0] // 2:
        bigger = np.empty(2 * buf.shape[0], np.int64)
        bigger[:kept] = buf[:kept]
        return bigger, kept
    return buf, kept


@njit(cache=True)
def canonical_order(qvec, cands, tiekey, idx, scratch):
    """The candidates ``idx`` ordered by (canonical score, tie key) ascending: ``order`` (positions
    in ``idx``) and the scores and keys in ``idx``'s order."""
    n = idx.shape[0]
    vals = np.empty(n, np.float32)
    keys = np.empty(n, np.int64)
    for i in range(n):
        vals[i] = canonical_dot(qvec, cands[idx[i]], scratch)
        keys[i] = tiekey[idx[i]]
    by_key = np.argsort(keys, kind="mergesort")
    return by_key[np.argsort(vals[by_key], kind="mergesort")], vals, keys


@njit(cache=True)
def settle_top(qvec, cands, tiekey, idx, out_idx, out_val, scratch):
    """The best ``len(out_idx)`` of the candidates ``idx`` by (canonical score, tie key),
    best first, with their canonical scores.  Slots beyond ``len(idx)``: index -1, score -inf."""
    n = idx.shape[0]
    order, vals, _ = canonical_order(qvec, cands, tiekey, idx, scratch)
    for j in range(out_idx.shape[0]):
        if j < n:
            out_idx[j] = idx[order[n - 1 - j]]
            out_val[j] = vals[order[n - 1 - j]]
        else:
            out_idx[j] = -1
            out_val[j] = -np.inf


@njit(cache=True)
def _settle_row(queries, cands, tiekey, indices, n_in, out_idx, out_val, r):
    scratch = np.empty(queries.shape[1], np.float64)
    settle_top(queries[r], cands, tiekey, indices[r, :n_in[r]], out_idx[r], out_val[r], scratch)


@njit(cache=True)
def _settle_serial(queries, cands, tiekey, indices, n_in, out_idx, out_val):
    for r in range(indices.shape[0]):
        _settle_row(queries, cands, tiekey, indices, n_in, out_idx, out_val, r)


@njit(parallel=True, cache=True)
def _settle_parallel(queries, cands, tiekey, indices, n_in, out_idx, out_val):
    for r in prange(indices.shape[0]):
        _settle_row(queries, cands, tiekey, indices, n_in, out_idx, out_val, r)


@njit(cache=True)
def select_top(vals, idx, floor, qvec, cands, slack, tiekey, top, top_val, scratch):
    """The set of the best ``len(top)`` candidates by canonical score among ``vals`` (fast scores
    of the columns ``idx``, in no particular order), when they hold every candidate of the row
    at or above ``floor``; returns False (``top`` unset) when that is not enough to decide.

    A heap of the best fast scores gives a gate (k-th best - 2 slacks) below which no
    candidate can make the top; chunks with nothing at or above it are skipped after one
    vectorised count.  When only ``k`` candidates reach the final gate they are the set;
    otherwise the candidates at or above it are settled by canonical scores.
    """
    k = top.shape[0]
    heap = np.empty(k, np.float32)  # the k best fast scores so far (min-heap)
    n_heap = 0
    gate = np.float32(-np.inf)
    buf = np.empty(max(64, 4 * k), np.int64)  # positions at or above the gate when they came
    n_buf = 0
    for base in range(0, vals.shape[0], CHUNK):
        chunk = vals[base:base + CHUNK]
        if n_heap == k:
            if count_at_least(chunk, gate) == 0:
                continue
        for i in range(chunk.shape[0]):
            x = chunk[i]
            if x < gate:
                continue
            if n_heap < k or x > heap[0]:
                if n_heap < k:
                    heap[n_heap] = x
                    _sift_up(heap, n_heap)
                    n_heap += 1
                else:
                    heap[0] = x
                    _sift_down(heap, k)
                if n_heap == k:  # every member of the exact top k is within 2 slacks of the k-th best
                    gate = float32_below(np.float64(heap[0]) - 2 * slack)
            if x >= gate:
                if n_buf == buf.shape[0]:
                    buf, n_buf = _keep_at_or_above(buf, n_buf, vals, gate)
                buf[n_buf] = base + i
                n_buf += 1
    if n_heap < k and floor > -np.inf or gate < floor:
        return False  # the k-th best, or candidates within 2 slacks of it, may lie below the floor
    buf, n_buf = _keep_at_or_above(buf, n_buf, vals, gate)
    columns = idx[buf[:n_buf]]
    if n_buf == k:  # nothing else within 2 slacks below the k-th best: the fast scores decide
        top[:] = columns
    else:
        settle_top(qvec, cands, tiekey, columns, top, top_val, scratch)
    return True


def settle_rows(queries, cands, tiekey, indices, n_in, out_idx, out_val) -> None:
    """`settle_top` for each row ``r`` over its candidates ``indices[r, :n_in[r]]``."""
    kernel = _settle_parallel if len(indices) >= PARALLEL_FROM_ROWS else _settle_serial
    on_torch_threads(kernel, queries, cands, tiekey, indices, n_in, out_idx, out_val)


def on_torch_threads(kernel, *args):
    """Run a parallel numba ``kernel`` on torch's thread count, and leave that count as it was.

    numba's OpenMP threading layer shares (and resets) the thread count torch uses: without
    this, training after an evaluation silently runs on a different number of threads.
    """
    import numba

    threads = torch.get_num_threads()
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        return kernel(*args)
    finally:
        torch.set_num_threads(threads)
