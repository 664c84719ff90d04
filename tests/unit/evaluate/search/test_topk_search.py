"""Exact top-k in trec_eval order by canonical score, bounded-memory blocks, FAISS parity.

The rank-counting kernel has its own tests (test_rank_counting.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from polyir.evaluate.search.exact_scores import ScoreVectors, canonical_scores
from polyir.evaluate.search.topk_search import block_rows, score_blocks, search, tie_keys, topk


def test_tie_keys_follow_byte_order_of_ids():
    ids = ["b", "a", "c", "ab", "B", "é"]
    keys = tie_keys(ids)
    assert [ids[i] for i in np.argsort(keys)] == sorted(ids, key=lambda s: s.encode("utf-8"))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 30), st.integers(1, 35), st.integers(0, 2**31 - 1))
def test_topk_is_trec_order_with_ties(n_queries, n_cand, k, seed):
    rng = np.random.default_rng(seed)
    scores = torch.from_numpy((rng.integers(0, 4, size=(n_queries, n_cand)) / 2).astype(np.float32))
    keys = torch.from_numpy(rng.permutation(n_cand).astype(np.int64))
    values, indices = topk(scores, k, keys)
    for q in range(n_queries):
        expected = sorted(range(n_cand), key=lambda c: (float(scores[q, c]), int(keys[c])), reverse=True)[:k]
        assert indices[q].tolist() == expected
        assert values[q].tolist() == [float(scores[q, c]) for c in expected]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 80), st.integers(1, 35), st.integers(0, 2**31 - 1),
       st.sampled_from([0.1, 0.6, 2.0]))
def test_topk_settles_fast_scores_into_the_canonical_order(n_queries, n_cand, k, seed, slack):
    # canonical scores known exactly (query i = e_i, candidate j = column j of the scores); the
    # fast scores are off by up to the slack; a slack of 2 puts every candidate in the window,
    # so rows are settled from their full row of fast scores
    rng = np.random.default_rng(seed)
    canonical = (rng.integers(0, 4, size=(n_queries, n_cand)) / 2).astype(np.float32)
    vectors = ScoreVectors(np.eye(n_queries, dtype=np.float32), np.ascontiguousarray(canonical.T),
                           np.full(n_queries, slack))
    fast = canonical + (rng.uniform(-1, 1, size=canonical.shape) * slack * 0.999).astype(np.float32)
    keys = rng.permutation(n_cand).astype(np.int64)
    values, indices = topk(torch.from_numpy(fast), k, torch.from_numpy(keys), vectors)
    for q in range(n_queries):
        expected = trec_order(canonical[q], keys)[:k]
        assert indices[q].tolist() == expected
        assert values[q].tolist() == [float(canonical[q, c]) for c in expected]


def test_block_rows_bound_memory():
    rows = block_rows(13_014, 1024)
    assert rows * 8 * 13_014 <= 2**30 < (rows + 1) * 8 * 13_014
    assert block_rows(10**9, 1) == 1  # a huge pool still makes progress, one row at a time


def test_score_blocks_cover_all_rows_within_budget():
    q, c = torch.randn(37, 8), torch.randn(50, 8)
    blocks = [(start, stop, b.clone()) for start, stop, b in score_blocks(q, c, memory_mb=8 * 50 * 10 / 2**20)]
    assert [b.shape[0] for _, _, b in blocks] == [10, 10, 10, 7]
    assert [(start, stop) for start, stop, _ in blocks] == [(0, 10), (10, 20), (20, 30), (30, 37)]
    torch.testing.assert_close(torch.cat([b for _, _, b in blocks]), q @ c.T)


def canonical_matrix(q, c):
    rows, cols = np.arange(len(q)).repeat(len(c)), np.tile(np.arange(len(c)), len(q))
    return canonical_scores(q, c, rows, cols).reshape(len(q), len(c))


def trec_order(scores_row, keys):
    return sorted(range(len(scores_row)), key=lambda c: (float(scores_row[c]), int(keys[c])), reverse=True)


def near_tie_pool(seed=3, n_queries=60, n_cand=400, dim=384):
    """Normalised embeddings with exact duplicates and candidates a few ulps apart."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n_queries, dim)).astype(np.float32)
    c = rng.normal(size=(n_cand, dim)).astype(np.float32)
    c[100:150] = c[:50]  # exact ties: identical vectors
    c[150:200] = c[:50] + rng.normal(scale=1e-7, size=(50, dim)).astype(np.float32)  # near-ties
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    return q, c


@pytest.mark.parametrize("memory_mb", [1024, 8 * 400 / 2**20, 8 * 400 * 7 / 2**20, 8 * 400 * 64 / 2**20])
def test_search_is_the_canonical_trec_order_for_every_memory_budget(memory_mb):
    # blocks of 60, 1, 7 and 64 queries: the fast scores differ in their last bits, the
    # lists and their (canonical) scores do not
    q, c = near_tie_pool()
    ids = [f"d{i:03d}" for i in range(len(c))]
    canonical, keys = canonical_matrix(q, c), tie_keys(ids)
    scores, indices = search(q, c, 30, candidate_ids=ids, memory_mb=memory_mb)
    for row in range(len(q)):
        expected = trec_order(canonical[row], keys)[:30]
        assert indices[row].tolist() == expected
        np.testing.assert_array_equal(scores[row], canonical[row, expected])


def test_search_top_k_is_the_brute_force_order():
    rng = np.random.default_rng(3)
    q = rng.normal(size=(23, 16)).astype(np.float32)
    c = rng.normal(size=(101, 16)).astype(np.float32)
    scores, indices = search(q, c, 7, candidate_ids=[f"d{i}" for i in range(101)], memory_mb=1)
    np.testing.assert_array_equal(indices, np.argsort(-(q @ c.T), axis=1, kind="stable")[:, :7])
    np.testing.assert_allclose(scores, np.take_along_axis(q @ c.T, indices, axis=1), rtol=1e-5)


def test_search_without_ids_breaks_ties_by_the_lower_index():
    c = np.ones((5, 4), np.float32)
    scores, indices = search(np.ones((2, 4), np.float32), c, 3)
    assert indices.tolist() == [[0, 1, 2], [0, 1, 2]]
    assert (scores == 4.0).all()


def test_faiss_backend_gives_the_torch_lists_and_scores():
    pytest.importorskip("faiss")
    q, c = near_tie_pool(seed=5)
    ids = [f"d{i:03d}" for i in range(len(c))]
    t_scores, t_idx = search(q, c, 25, candidate_ids=ids, backend="torch")
    f_scores, f_idx = search(q, c, 25, candidate_ids=ids, backend="faiss")
    np.testing.assert_array_equal(t_idx, f_idx)
    np.testing.assert_array_equal(t_scores, f_scores)


def test_search_accepts_read_only_and_float64_arrays():
    q = np.random.default_rng(0).normal(size=(3, 4))
    c = np.random.default_rng(1).normal(size=(6, 4))
    expected = search(q.astype(np.float32), c.astype(np.float32), 2)[1]
    q.flags.writeable = False
    np.testing.assert_array_equal(search(q, c, 2)[1], expected)
    np.testing.assert_array_equal(search(torch.from_numpy(q.astype(np.float32)), torch.from_numpy(c), 2)[1], expected)


def test_search_rejects_bad_input():
    with pytest.raises(ValueError, match="backend"):
        search(np.ones((2, 3), np.float32), np.ones((4, 3), np.float32), 2, backend="annoy")
    with pytest.raises(ValueError, match="NaN"):
        search(np.full((2, 3), np.nan, np.float32), np.ones((4, 3), np.float32), 2)
    with pytest.raises(ValueError, match="dim"):
        search(np.ones((2, 3), np.float32), np.ones((4, 5), np.float32), 2)


@pytest.mark.cuda
def test_products_on_the_gpu_give_the_cpu_lists_and_scores_exactly():
    # cuBLAS sums in other orders than the CPU BLAS; the canonical scores settle every
    # near-tie, so lists and scores are equal bit for bit (no tolerance needed)
    q, c = near_tie_pool(seed=11)
    ids = [f"d{i:03d}" for i in range(len(c))]
    cpu = search(q, c, 40, candidate_ids=ids, memory_mb=8 * 400 * 7 / 2**20)
    gpu = search(torch.from_numpy(q).cuda(), torch.from_numpy(c).cuda(), 40, candidate_ids=ids)
    np.testing.assert_array_equal(gpu[1], cpu[1])
    np.testing.assert_array_equal(gpu[0], cpu[0])
