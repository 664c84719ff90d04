"""Exact inner-product search in bounded memory: rank counting, top-k, and a FAISS backend.

Ordering everywhere is trec_eval's: score descending, then candidate id descending in
byte-wise (code-point) order.  A candidate's *tie key* is its position in the sorted list
of candidate ids, so "ranks above" is a plain lexicographic comparison of
``(score, tie key)`` and never depends on the order in which candidates are stored.

The score that decides is the *canonical* score (`polyir.evaluate.search.exact_scores`): fast products
(one per block of queries, on the device that holds the embeddings) decide every
comparison they can, and near-ties are settled by canonical scores, so rankings, ties and
the scores returned do not depend on the memory budget, the BLAS or the device.

Nothing here sorts a score matrix.  `rank_counts` (`polyir.evaluate.search.rank_counting`) counts, per
language segment of the pool, how many candidates rank above each relevant item (all
full-depth metrics need only that); `topk` selects the best ``k`` per row with
`torch.topk` on the fast scores and then settles the selection's near-ties canonically.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np
import torch

from .exact_scores import ScoreVectors, matmul_input_unit
from .rank_counting import rank_counts
from .top_selection import settle_rows, settle_top

__all__ = ["BACKENDS", "ScoreVectors", "as_float32_tensor", "block_rows", "faiss_topk", "order_by_trec",
           "rank_counts", "score_blocks", "score_vectors", "search", "selection_width", "settle", "tie_keys", "topk"]

BACKENDS = ("torch", "faiss")
_SCORE_BYTES_PER_CELL = 8  # float32 score + room for the temporaries of torch.topk on the block


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
    """Query rows per scoring block so that one block of scores stays within ``memory_mb``."""
    budget = int(memory_mb * 2**20)
    return max(1, budget // max(1, _SCORE_BYTES_PER_CELL * n_candidates))


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


def product_device(*embeddings) -> torch.device:
    """Where the fast products run: the GPU when the embeddings arrive there as tensors."""
    for emb in embeddings:
        if isinstance(emb, torch.Tensor) and emb.device.type != "cpu":
            return emb.device
    return torch.device("cpu")


def score_vectors(queries: torch.Tensor, candidates: torch.Tensor, device: torch.device) -> ScoreVectors:
    """`ScoreVectors` for CPU float32 ``queries`` and ``candidates`` multiplied on ``device``."""
    return ScoreVectors.build(queries.numpy(), candidates.numpy(), matmul_input_unit(device.type))


def score_blocks(queries: torch.Tensor, candidates: torch.Tensor, memory_mb: float
                 ) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Yield ``(start, stop, scores)``: fast ``queries[start:stop] @ candidates.T`` on the CPU.

    One product per block, as large as ``memory_mb`` allows (large products are what BLAS
    and GPUs do fastest; the scores' last bits depend on the block shape, which the
    canonical re-checks make irrelevant).  The product runs on the inputs' device.  The
    blocks share one buffer: a block is overwritten by the next one (clone it to keep it).
    """
    if queries.shape[1] != candidates.shape[1]:
        raise ValueError(f"query dim {queries.shape[1]} != candidate dim {candidates.shape[1]}")
    n_queries, n_candidates = queries.shape[0], candidates.shape[0]
    rows = min(block_rows(n_candidates, memory_mb), max(1, n_queries))
    on_cpu = queries.device.type == "cpu"
    buffer = torch.empty((rows, n_candidates), dtype=torch.float32, pin_memory=not on_cpu)
    cand_t = candidates.T
    for start in range(0, n_queries, rows):
        stop = min(start + rows, n_queries)
        block = buffer[:stop - start]
        if on_cpu:
            torch.mm(queries[start:stop], cand_t, out=block)
        else:
            block.copy_(torch.mm(queries[start:stop], cand_t))
        yield start, stop, block


def order_by_trec(values: torch.Tensor, indices: torch.Tensor, tiekey: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Sort each row's selection by score descending, then tie key descending."""
    by_key = torch.argsort(tiekey[indices], dim=1, descending=True, stable=True)
    values, indices = values.gather(1, by_key), indices.gather(1, by_key)
    by_score = torch.argsort(values, dim=1, descending=True, stable=True)
    return values.gather(1, by_score), indices.gather(1, by_score)


def topk(scores: torch.Tensor, k: int, tiekey: torch.Tensor, vectors: ScoreVectors | None = None
         ) -> tuple[torch.Tensor, torch.Tensor]:
    """The best ``k`` columns of each row in trec_eval order: ``(values, indices)``, ``k`` clipped.

    With ``vectors``, ``scores`` are fast scores of ``vectors`` and the selection, its order
    and the values returned are canonical.  Without, the scores themselves are taken as exact:
    one extra element is selected to detect rows whose ``k``-th score ties with a score left
    out, and only those rows (exact float ties, rare) are repaired by tie key.
    """
    k = min(k, scores.shape[1])
    if vectors is not None:
        values, indices = torch.topk(scores, selection_width(k, scores.shape[1]), dim=1, largest=True, sorted=True)
        return settle(values, indices, k, scores.shape[1], tiekey.numpy(), vectors, lambda row: scores[row].numpy())
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


def selection_width(k: int, n: int) -> int:
    """How many fast scores to select for an exact top ``k``: room for the near-ties at the cut."""
    return min(n, k + max(16, k // 4))


def settle(values: torch.Tensor, indices: torch.Tensor, k: int, n: int, tiekey: np.ndarray,
           vectors: ScoreVectors, full_row) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact top ``k`` of ``n`` candidates from a fast selection sorted best first.

    ``values``/``indices``: each row's best fast scores (any width >= ``k``).  Every member
    of the exact top ``k`` has a fast score >= the ``k``-th best fast score - 2 × slack; the
    selected ones in that window get canonical scores and are ordered by (canonical score,
    tie key).  A row whose window reaches past its selection is settled from
    ``full_row(row)`` (its fast scores against all ``n`` candidates, a numpy array).
    """
    rows = values.shape[0]
    out_idx, out_val = np.empty((rows, k), np.int64), np.empty((rows, k), np.float32)
    if k and rows:
        fast = values.to(torch.float64).numpy()
        cut = fast[:, k - 1] - 2 * vectors.slack
        n_in = (fast >= cut[:, None]).sum(axis=1)
        settle_rows(vectors.queries, vectors.candidates, tiekey, np.ascontiguousarray(indices.numpy(), dtype=np.int64),
                    n_in, out_idx, out_val)
        for row in np.flatnonzero((n_in == values.shape[1]) & (values.shape[1] < n)):
            wide = np.flatnonzero(np.asarray(full_row(row), dtype=np.float64) >= cut[row])
            settle_top(vectors.queries[row], vectors.candidates, tiekey, wide, out_idx[row], out_val[row],
                       np.empty(vectors.queries.shape[1], np.float64))
    return torch.from_numpy(out_val), torch.from_numpy(out_idx)


def search(query_emb, cand_emb, k: int, *, candidate_ids: Sequence[str] | None = None,
           backend: str = "torch", memory_mb: float = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` by inner product: ``(scores, indices)``, each ``(queries, k)``.

    Ranked by canonical score (returned), then by candidate id descending when
    ``candidate_ids`` is given (trec_eval), else by the lower candidate index first.
    ``backend="faiss"`` takes the fast scores from `faiss.IndexFlatIP` instead of torch;
    near-ties are settled the same way, so both backends return the same lists and scores.
    Torch runs the products on the GPU when the embeddings are CUDA tensors.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    device = product_device(query_emb, cand_emb)
    queries, cands = as_float32_tensor(query_emb, "query_emb"), as_float32_tensor(cand_emb, "cand_emb")
    if queries.shape[1] != cands.shape[1]:
        raise ValueError(f"query dim {queries.shape[1]} != candidate dim {cands.shape[1]}")
    keys = torch.from_numpy(tie_keys(candidate_ids) if candidate_ids is not None
                            else -np.arange(cands.shape[0], dtype=np.int64))
    vectors = score_vectors(queries, cands, device if backend == "torch" else torch.device("cpu"))
    if backend == "faiss":
        n, k = cands.shape[0], min(k, cands.shape[0])
        values, indices = faiss_topk(queries, cands, selection_width(k, n))
        values, indices = settle(values, indices, k, n, keys.numpy(), vectors,
                                 lambda row: (queries[row] @ cands.T).numpy())
        return values.numpy(), indices.numpy()
    parts = [topk(block, k, keys, vectors.rows(start, stop))
             for start, stop, block in score_blocks(queries.to(device), cands.to(device), memory_mb)]
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
