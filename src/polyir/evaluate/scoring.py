"""The one scoring pass: every query against the whole pool, block by block, never sorted.

For each block of queries one matrix product gives the scores against all candidates;
`polyir.evaluate.search.topk_search.rank_counts` turns it into ``counts[q, r, segment]`` (candidates of each
language ranked above each relevant item), and `polyir.evaluate.search.topk_search.topk` takes the best ``k``
of the multilingual pool (for same-language preference) and, when run files are asked
for, of every language's pool.  Everything the settings, measures and bias need is
derived from these arrays afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..progress import progress
from .search.exact_scores import ScoreVectors
from .search.topk_search import (as_float32_tensor, faiss_topk, product_device, rank_counts, score_blocks, score_vectors,
                      selection_width, settle, tie_keys, topk)
from ..types import RetrievalSet

MULTI = "multi"  # name of the multilingual pool (all candidate languages)


@dataclass(frozen=True, eq=False)
class Layout:
    """Candidates grouped into contiguous language segments, and each query's relevant items.

    Internal candidate position ``i`` is ``rset.candidates[cand_order[i]]``.  ``rel_pos[q, j]``
    (``j < n_rel[q]``) are internal positions of query ``q``'s relevant items (grade > 0),
    ``rel_gain`` their grades, ``rel_seg`` their segments (-1 for padding).
    """

    cand_langs: tuple[str, ...]
    cand_order: np.ndarray
    cand_ids: np.ndarray
    bounds: np.ndarray
    segment: np.ndarray
    tiekey: np.ndarray
    query_langs: tuple[str, ...]
    query_ids: np.ndarray
    query_lang_idx: np.ndarray
    rel_pos: np.ndarray
    rel_gain: np.ndarray
    rel_seg: np.ndarray
    n_rel: np.ndarray

    def segment_of(self, lang: str) -> int:
        return self.cand_langs.index(lang) if lang in self.cand_langs else -1

    def n_candidates(self, lang: str) -> int:
        s = self.segment_of(lang)
        return int(self.bounds[s + 1] - self.bounds[s]) if s >= 0 else 0


def build_layout(rset: RetrievalSet) -> Layout:
    cand_langs = rset.candidate_languages
    lang_rank = {lang: i for i, lang in enumerate(cand_langs)}
    cand_lang = np.fromiter((lang_rank[c.lang] for c in rset.candidates), np.int64, len(rset.candidates))
    cand_order = np.argsort(cand_lang, kind="stable")
    cand_ids = np.asarray([c.id for c in rset.candidates], dtype=object)[cand_order]
    segment = cand_lang[cand_order]
    bounds = np.searchsorted(segment, np.arange(len(cand_langs) + 1), side="left").astype(np.int64)
    query_langs = rset.query_languages
    query_rank = {lang: i for i, lang in enumerate(query_langs)}
    query_lang_idx = np.fromiter((query_rank[q.lang] for q in rset.queries), np.int64, len(rset.queries))
    rel_pos, rel_gain, n_rel = _relevant_items(rset, dict(zip(cand_ids.tolist(), range(len(cand_ids)))))
    rel_seg = np.where(np.arange(rel_pos.shape[1])[None, :] < n_rel[:, None], segment[rel_pos], -1)
    return Layout(cand_langs, cand_order, cand_ids, bounds, segment, tie_keys(cand_ids.tolist()), query_langs,
                  np.asarray([q.id for q in rset.queries], dtype=object), query_lang_idx,
                  rel_pos, rel_gain, rel_seg, n_rel)


def _relevant_items(rset: RetrievalSet, position: dict[str, int]):
    """Per query: sorted internal positions and grades of its relevant (grade > 0) candidates.

    Translations share their query id, so the lists are built once per id and indexed."""
    of_id: dict[str, int] = {}
    id_index = np.fromiter((of_id.setdefault(q.id, len(of_id)) for q in rset.queries), np.int64, len(rset.queries))
    per_id = [sorted((position[cid], float(g)) for cid, g in rset.qrels.get(qid, {}).items() if g > 0)
              for qid in of_id]
    width = max((len(items) for items in per_id), default=0)
    rel_pos = np.zeros((len(per_id), width), dtype=np.int64)
    rel_gain = np.zeros((len(per_id), width), dtype=np.float64)
    for i, items in enumerate(per_id):
        if items:
            rel_pos[i, :len(items)] = [p for p, _ in items]
            rel_gain[i, :len(items)] = [g for _, g in items]
    n_rel = np.asarray([len(items) for items in per_id], dtype=np.int64)
    return rel_pos[id_index], rel_gain[id_index], n_rel[id_index]


@dataclass(frozen=True, eq=False)
class RunLists:
    """Top-``depth`` lists per pool (each candidate language; ``"multi"`` if several), trec order.

    ``indices[pool][q]`` are internal candidate positions (``-1`` never occurs: lists are
    clipped to the pool size), ``scores[pool][q]`` the float32 scores.
    """

    depth: int
    indices: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]
    query_ids: np.ndarray  # per query (rset order)
    query_langs: np.ndarray  # per query
    cand_ids: np.ndarray  # per internal candidate position


@dataclass(frozen=True, eq=False)
class ScoringPass:
    counts: np.ndarray  # [queries, relevant, segments] int32
    own_language_in_topk: np.ndarray  # [queries] query-language candidates in the multi top-k
    bias_k: int
    runs: RunLists | None


def score_pass(layout: Layout, query_emb, cand_emb, *, bias_k: int = 10, run_depth: int | None = None,
               backend: str = "torch", memory_mb: float = 1024) -> ScoringPass:
    """Score every query against the pool once; ``cand_emb`` rows follow ``rset.candidates``.

    The products run on the GPU when the embeddings are CUDA tensors; counts and top-k
    lists are exact by canonical scores either way (`polyir.evaluate.search.rank_counting`).
    """
    device = product_device(query_emb, cand_emb)
    queries = as_float32_tensor(query_emb, "query_emb")
    cands = as_float32_tensor(cand_emb, "cand_emb")
    if queries.shape[0] != len(layout.query_ids) or cands.shape[0] != len(layout.cand_ids):
        raise ValueError(f"embeddings {tuple(queries.shape)} / {tuple(cands.shape)} do not match "
                         f"{len(layout.query_ids)} queries / {len(layout.cand_ids)} candidates")
    cands = cands[torch.from_numpy(layout.cand_order)].contiguous()
    vectors = score_vectors(queries, cands, device)
    keys = torch.from_numpy(layout.tiekey)
    own_seg = np.asarray([layout.segment_of(lang) for lang in layout.query_langs], dtype=np.int64)[
        layout.query_lang_idx]
    counts = np.zeros((len(layout.query_ids), layout.rel_pos.shape[1], len(layout.cand_langs)), np.int32)
    own = np.zeros(len(layout.query_ids), dtype=np.int32)
    # same-language preference needs several languages
    top_k = min(bias_k, cands.shape[0]) if len(layout.cand_langs) > 1 else 0
    runs = _empty_runs(layout, run_depth) if run_depth else None
    blocks = score_blocks(queries.to(device), cands.to(device), memory_mb)
    with progress(total=len(layout.query_ids), desc="scoring", unit="query") as bar:
        for start, stop, block in blocks:
            rows = vectors.rows(start, stop)
            counts[start:stop], top = rank_counts(block.numpy(), layout.rel_pos[start:stop],
                                                  layout.n_rel[start:stop], layout.bounds, layout.tiekey, rows,
                                                  top_k=top_k)
            own[start:stop] = (layout.segment[top] == own_seg[start:stop, None]).sum(axis=1)
            if runs is not None and backend == "torch":
                _fill_runs(runs, layout, block, keys, start, stop, rows)
            bar.update(stop - start)
    if runs is not None and backend == "faiss":
        _fill_runs_faiss(runs, layout, queries, cands, keys, vectors)
    return ScoringPass(counts, own, bias_k, runs)


def _pools(layout: Layout) -> list[tuple[str, int, int]]:
    pools = [(lang, int(layout.bounds[s]), int(layout.bounds[s + 1])) for s, lang in enumerate(layout.cand_langs)]
    return pools + ([(MULTI, 0, int(layout.bounds[-1]))] if len(pools) > 1 else [])


def _empty_runs(layout: Layout, depth: int) -> RunLists:
    n = len(layout.query_ids)
    sizes = {pool: min(depth, stop - start) for pool, start, stop in _pools(layout)}
    return RunLists(depth, {p: np.zeros((n, k), np.int32) for p, k in sizes.items()},
                    {p: np.zeros((n, k), np.float32) for p, k in sizes.items()},
                    layout.query_ids, np.asarray(layout.query_langs, dtype=object)[layout.query_lang_idx],
                    layout.cand_ids)


def _fill_runs(runs: RunLists, layout: Layout, block: torch.Tensor, keys: torch.Tensor, start: int, stop: int,
               vectors: ScoreVectors):
    for pool, lo, hi in _pools(layout):
        values, idx = topk(block[:, lo:hi], runs.depth, keys[lo:hi], vectors.columns(lo, hi))
        runs.indices[pool][start:stop] = idx.numpy() + lo
        runs.scores[pool][start:stop] = values.numpy()


def _fill_runs_faiss(runs: RunLists, layout: Layout, queries: torch.Tensor, cands: torch.Tensor,
                     keys: torch.Tensor, vectors: ScoreVectors):
    """FAISS's fast scores, near-ties settled canonically: the same lists as the torch backend."""
    for pool, lo, hi in _pools(layout):
        pool_cands, k = cands[lo:hi], runs.indices[pool].shape[1]
        values, idx = faiss_topk(queries, pool_cands, selection_width(k, hi - lo))
        values, idx = settle(values, idx, k, hi - lo, keys[lo:hi].numpy(), vectors.columns(lo, hi),
                             lambda row: (queries[row] @ pool_cands.T).numpy())
        runs.indices[pool][:] = idx.numpy() + lo
        runs.scores[pool][:] = values.numpy()
