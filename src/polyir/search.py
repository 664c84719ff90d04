"""Exact inner-product search in bounded memory: rank counting, top-k, and a FAISS backend.

Ordering everywhere is trec_eval's: score descending, then candidate id descending in
byte-wise (code-point) order.  A candidate's *tie key* is its position in the sorted list
of candidate ids, so "ranks above" is a plain lexicographic comparison of
``(score, tie key)`` and never depends on the order in which candidates are stored.

Nothing here sorts a score matrix.  `rank_counts` counts, per language segment of the
pool, how many candidates rank above each relevant item of a query (all full-depth
metrics need only that); `topk` selects the best ``k`` per row with `torch.topk` and then
repairs ties at the cut so the selection equals trec_eval's order exactly.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np
import torch
from numba import njit, prange

BACKENDS = ("torch", "faiss")
_SCORE_BYTES_PER_CELL = 8  # float32 score + room for the temporaries of torch.topk on the block
# BLAS sums in an order that depends on the shape of the product, so the same query can get
# scores differing in the last bit from blocks of different sizes.  Every product is
# therefore taken on a tile of exactly TILE_ROWS query rows (the last one zero-padded):
# scores, hence rankings and ties, do not depend on the memory budget or the query count.
TILE_ROWS = 64


def tie_keys(candidate_ids: Sequence[str]) -> np.ndarray:
    """Position of each id in the sorted id list: a larger key wins a tie (trec_eval order).

    Python's string order is code-point order, which equals UTF-8 byte order (trec_eval's
    ``strcmp``).
    """
    order = sorted(range(len(candidate_ids)), key=candidate_ids.__getitem__)
    keys = np.empty(len(candidate_ids), dtype=np.int64)
    keys[np.asarray(order, dtype=np.int64)] = np.arange(len(candidate_ids), dtype=np.int64)
    return keys


def block_rows(n_candidates: int, memory_mb: float) -> int:
    """Query rows per scoring block so that one block of scores stays within ``memory_mb``.

    A multiple of `TILE_ROWS` whenever the budget allows one tile (see `score_blocks`).
    """
    budget = int(memory_mb * 2**20)
    rows = max(1, budget // max(1, _SCORE_BYTES_PER_CELL * n_candidates))
    return rows - rows % TILE_ROWS if rows >= TILE_ROWS else rows


def as_float32_tensor(emb, name: str) -> torch.Tensor:
    """A contiguous 2-D float32 CPU tensor sharing memory with ``emb`` where possible."""
    if isinstance(emb, torch.Tensor):
        tensor = emb.detach().cpu()
    else:
        array = np.asarray(emb)
        if not array.flags.writeable or not array.dtype.isnative:  # e.g. a read-only memory map
            array = np.array(array, dtype=np.float32)
        tensor = torch.from_numpy(array)
    if tensor.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {tuple(tensor.shape)}")
    tensor = tensor.to(torch.float32).contiguous()
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return tensor


def score_blocks(queries: torch.Tensor, candidates: torch.Tensor, memory_mb: float
                 ) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Yield ``(start, stop, scores)`` with ``scores = queries[start:stop] @ candidates.T``."""
    if queries.shape[1] != candidates.shape[1]:
        raise ValueError(f"query dim {queries.shape[1]} != candidate dim {candidates.shape[1]}")
    rows = block_rows(candidates.shape[0], memory_mb)
    tile = min(rows, TILE_ROWS)
    cand_t = candidates.T
    for start in range(0, queries.shape[0], rows):
        stop = min(start + rows, queries.shape[0])
        block = torch.empty((stop - start, candidates.shape[0]), dtype=torch.float32)
        for lo in range(0, stop - start, tile):
            hi = min(lo + tile, stop - start)
            if hi - lo == tile:
                torch.mm(queries[start + lo:start + hi], cand_t, out=block[lo:hi])
            else:
                padded = torch.zeros((tile, queries.shape[1]), dtype=torch.float32)
                padded[:hi - lo] = queries[start + lo:start + hi]
                block[lo:hi] = torch.mm(padded, cand_t)[:hi - lo]
        yield start, stop, block


@njit(cache=True)
def _sorted_thresholds(row, rel, m, tiekey):
    """The query's relevant items ordered by (score, tie key) ascending."""
    scores = np.empty(m, np.float32)
    keys = np.empty(m, np.int64)
    for r in range(m):
        scores[r] = row[rel[r]]
        keys[r] = tiekey[rel[r]]
    by_key = np.argsort(keys, kind="mergesort")
    order = by_key[np.argsort(scores[by_key], kind="mergesort")]
    return order, scores[order], keys[order]


@njit(cache=True)
def _beaten(s, k, th, kk, m):
    """How many of the ascending thresholds the candidate (s, k) ranks above."""
    if m <= 16:
        b = 0
        while b < m and (s > th[b] or (s == th[b] and k > kk[b])):
            b += 1
        return b
    lo, hi = 0, m  # binary search: first threshold the candidate does not beat
    while lo < hi:
        mid = (lo + hi) // 2
        if s > th[mid] or (s == th[mid] and k > kk[mid]):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(parallel=True, cache=True)
def _rank_counts(scores, rel_idx, n_rel, bounds, tiekey):
    n_queries = scores.shape[0]
    n_seg = bounds.shape[0] - 1
    out = np.zeros((n_queries, rel_idx.shape[1], n_seg), np.int32)
    for q in prange(n_queries):
        m = n_rel[q]
        if m == 0:
            continue
        row = scores[q]
        order, th, kk = _sorted_thresholds(row, rel_idx[q], m, tiekey)
        lowest = th[0]
        hist = np.zeros(m + 1, np.int32)
        for sg in range(n_seg):
            hist[:] = 0
            for c in range(bounds[sg], bounds[sg + 1]):
                # most candidates rank below every relevant item: they are never counted
                if row[c] >= lowest:
                    hist[_beaten(row[c], tiekey[c], th, kk, m)] += 1
            above = 0
            for b in range(m, 0, -1):
                above += hist[b]
                out[q, order[b - 1], sg] = above
    return out


def rank_counts(scores: np.ndarray, rel_idx: np.ndarray, n_rel: np.ndarray, bounds: np.ndarray,
                tiekey: np.ndarray) -> np.ndarray:
    """``out[q, r, s]`` = candidates of segment ``s`` ranked above relevant item ``rel_idx[q, r]``.

    ``scores`` is ``(queries, candidates)`` with the candidates of segment ``s`` in columns
    ``bounds[s]:bounds[s + 1]``; ``rel_idx[q, :n_rel[q]]`` are column indices of the query's
    relevant items (padding is ignored).  The relevant items' own scores are read from
    ``scores``, so each item is compared with exactly the numbers it competes against.
    Rank of ``r`` in a pool made of segments ``S`` = 1 + sum over ``S``.

    Per query the relevant items are sorted by (score, tie key); each candidate is put in
    the bucket of how many of them it beats (a walk from the lowest, usually zero steps; a
    binary search beyond 16 relevant items); suffix sums of the buckets give the counts.
    Cost O(candidates) per query, no sort of the score row.
    """
    bounds = np.ascontiguousarray(bounds, dtype=np.int64)
    if bounds[0] != 0 or bounds[-1] != scores.shape[1] or (np.diff(bounds) < 0).any():
        raise ValueError("bounds must rise from 0 to the number of candidates")
    # numba's OpenMP threading layer shares (and resets) the thread count torch uses: run the
    # kernel on torch's count and give torch its count back, or training after an evaluation
    # silently runs on a different number of threads
    import numba

    threads = torch.get_num_threads()
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        return _rank_counts(np.ascontiguousarray(scores, dtype=np.float32),
                            np.ascontiguousarray(rel_idx, dtype=np.int64),
                            np.ascontiguousarray(n_rel, dtype=np.int64), bounds,
                            np.ascontiguousarray(tiekey, dtype=np.int64))
    finally:
        torch.set_num_threads(threads)


def order_by_trec(values: torch.Tensor, indices: torch.Tensor, tiekey: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Sort each row's selection by score descending, then tie key descending."""
    by_key = torch.argsort(tiekey[indices], dim=1, descending=True, stable=True)
    values, indices = values.gather(1, by_key), indices.gather(1, by_key)
    by_score = torch.argsort(values, dim=1, descending=True, stable=True)
    return values.gather(1, by_score), indices.gather(1, by_score)


def topk(scores: torch.Tensor, k: int, tiekey: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The best ``k`` columns of each row in trec_eval order: ``(values, indices)``, ``k`` clipped.

    One extra element is selected to detect rows whose ``k``-th score ties with a score
    left out; only those rows (exact float ties, rare) are repaired by tie key.
    """
    k = min(k, scores.shape[1])
    if k == 0 or k == scores.shape[1]:
        values, indices = torch.topk(scores, k, dim=1, largest=True, sorted=False)
        return order_by_trec(values, indices, tiekey)
    values, indices = torch.topk(scores, k + 1, dim=1, largest=True, sorted=True)
    straddle = torch.nonzero(values[:, k - 1] == values[:, k]).flatten().tolist()
    values, indices = values[:, :k].clone(), indices[:, :k].clone()
    for row in straddle:
        values[row], indices[row] = _repair_cut(scores[row], values[row, k - 1], k, tiekey)
    return order_by_trec(values, indices, tiekey)


def _repair_cut(row: torch.Tensor, cut: torch.Tensor, k: int, tiekey: torch.Tensor):
    """Ties straddle the cut: keep those with the largest tie keys, as trec_eval would."""
    above = torch.nonzero(row > cut).flatten()
    tied = torch.nonzero(row == cut).flatten()
    tied = tied[torch.argsort(tiekey[tied], descending=True)][: k - above.numel()]
    indices = torch.cat([above, tied])
    return row[indices], indices


def search(query_emb, cand_emb, k: int, *, candidate_ids: Sequence[str] | None = None,
           backend: str = "torch", memory_mb: float = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` by inner product: ``(scores, indices)``, each ``(queries, k)``.

    Ties are broken by candidate id descending when ``candidate_ids`` is given (trec_eval),
    else by the lower candidate index first.  ``backend="faiss"`` uses `faiss.IndexFlatIP`
    (exact; its float sums may differ from torch's in the last bit, which matters only for
    near-ties).
    """
    queries, cands = as_float32_tensor(query_emb, "query_emb"), as_float32_tensor(cand_emb, "cand_emb")
    keys = torch.from_numpy(tie_keys(candidate_ids) if candidate_ids is not None
                            else -np.arange(cands.shape[0], dtype=np.int64))
    if backend == "faiss":
        values, indices = faiss_topk(queries, cands, k)
        values, indices = order_by_trec(values, indices, keys)
        return values.numpy(), indices.numpy()
    if backend != "torch":
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    parts = [topk(block, k, keys) for _, _, block in score_blocks(queries, cands, memory_mb)]
    return (torch.cat([p[0] for p in parts]).numpy(), torch.cat([p[1] for p in parts]).numpy())


def faiss_topk(queries: torch.Tensor, candidates: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` by inner product with an exact FAISS flat index (imported lazily)."""
    try:
        import faiss
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("the FAISS backend needs faiss-cpu: pip install 'polyir[faiss]'") from err
    k = min(k, candidates.shape[0])
    index = faiss.IndexFlatIP(candidates.shape[1])
    index.add(candidates.numpy())
    values, indices = index.search(queries.numpy(), k)
    return torch.from_numpy(values), torch.from_numpy(indices.astype(np.int64))
