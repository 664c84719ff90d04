"""Per-query measures from the ranks of the relevant items (trec_eval definitions).

Input: ``ranks[q, j]`` the 1-based rank of the query's ``j``-th relevant item in the pool
(``inf``: relevant and in the pool but not retrieved; ``nan``: not part of this pool, or
padding) and ``gains[q, j]`` its grade (> 0).  With
``R`` = number of relevant items in the pool, ``rank_i`` the rank of the ``i``-th relevant
item in ranking order and ``D`` the evaluation depth (``inf`` unless given; an item ranked
below ``D`` counts as not retrieved):

* AP     = (1/R) Σ_{i: rank_i ≤ D} i / rank_i                       (trec ``map``)
* AP@k   = (1/R) Σ_{i: rank_i ≤ min(k, D)} i / rank_i               (``map_cut_k``)
* RR     = 1 / rank_1 if rank_1 ≤ D else 0                          (``recip_rank``)
* R@k    = #{i: rank_i ≤ min(k, D)} / R                             (``recall_k``)
* P@k    = #{i: rank_i ≤ min(k, D)} / k                             (``P_k``)
* nDCG@k = Σ_{rank_i ≤ min(k, D)} g_i / log2(rank_i + 1) / IDCG@k   (``ndcg_cut_k``), with
  IDCG@k = Σ_{j=1}^{min(k, R)} g_(j) / log2(j + 1) over the grades sorted descending;
  ``nDCG`` without cutoff uses k = ∞ (``ndcg``).

Queries with ``R = 0`` have no value (NaN): trec_eval skips them too, because they do not
appear in its qrels.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .measures import Measure


def measure_values(ranks: np.ndarray, gains: np.ndarray, measures: Sequence[Measure],
                   depth: int | None = None) -> dict[str, np.ndarray]:
    """``{measure name: per-query values}`` (float64, NaN where the query has no relevant item)."""
    ranks, gains = _sorted_in_pool(np.asarray(ranks, dtype=np.float64), np.asarray(gains, dtype=np.float64))
    in_pool = ~np.isnan(ranks)
    n_rel = in_pool.sum(axis=1)
    limit = np.inf if depth is None else float(depth)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {m.name: _one(m, ranks, gains, in_pool, n_rel, limit) for m in measures}
    missing = n_rel == 0
    for arr in values.values():
        arr[missing] = np.nan
    return values


def _sorted_in_pool(ranks: np.ndarray, gains: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ranks in the pool, ascending, first; the columns no row needs are dropped.

    A per-language pool often holds one relevant item per query: then no sort is needed."""
    in_pool = ~np.isnan(ranks)
    width = int(in_pool.sum(axis=1).max(initial=0))
    if width == 0:
        return ranks[:, :0], gains[:, :0]
    if width == 1:
        column = np.argmax(in_pool, axis=1)[:, None]  # the one in the pool (any, when none is)
        return np.take_along_axis(ranks, column, axis=1), np.take_along_axis(gains, column, axis=1)
    order = np.argsort(ranks, axis=1, kind="stable")  # NaN (not in the pool) last
    return (np.take_along_axis(ranks, order, axis=1)[:, :width], np.take_along_axis(gains, order, axis=1)[:, :width])


def _one(m: Measure, ranks, gains, in_pool, n_rel, limit) -> np.ndarray:
    cut = min(limit, m.cutoff if m.cutoff is not None else np.inf)
    hit = ranks <= cut
    if m.family == "ap":
        position = np.arange(1, ranks.shape[1] + 1, dtype=np.float64)
        return np.where(hit, position / ranks, 0.0).sum(axis=1) / n_rel
    if m.family == "rr":
        first = ranks[:, 0] if ranks.shape[1] else np.full(ranks.shape[0], np.nan)
        return np.where(first <= cut, 1.0 / first, 0.0)
    if m.family == "r":
        return hit.sum(axis=1) / n_rel
    if m.family == "p":
        return hit.sum(axis=1) / float(m.cutoff)
    if m.family == "ndcg":
        return _ndcg(ranks, gains, in_pool, hit, m.cutoff)
    raise ValueError(f"unsupported measure family {m.family!r}")


def _ndcg(ranks, gains, in_pool, hit, cutoff) -> np.ndarray:
    dcg = np.where(hit, gains / np.log2(ranks + 1.0), 0.0).sum(axis=1)
    ideal = -np.sort(-np.where(in_pool, gains, 0.0), axis=1)
    discount = 1.0 / np.log2(np.arange(2, ideal.shape[1] + 2, dtype=np.float64))
    if cutoff is not None:
        discount[cutoff:] = 0.0
    idcg = (ideal * discount).sum(axis=1)
    return np.where(idcg > 0, dcg / idcg, 0.0)
