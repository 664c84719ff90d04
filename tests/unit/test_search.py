"""Rank counting, exact top-k with trec_eval tie-breaking, bounded-memory blocks, FAISS parity."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from polyir.search import TILE_ROWS, block_rows, rank_counts, score_blocks, search, tie_keys, topk


def naive_beats(scores, keys, c, r):
    return scores[c] > scores[r] or (scores[c] == scores[r] and keys[c] > keys[r])


def test_tie_keys_follow_byte_order_of_ids():
    ids = ["b", "a", "c", "ab", "B", "é"]
    keys = tie_keys(ids)
    assert [ids[i] for i in np.argsort(keys)] == sorted(ids, key=lambda s: s.encode("utf-8"))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(2, 40), st.integers(1, 4), st.integers(0, 2**31 - 1), st.booleans())
def test_rank_counts_match_a_naive_count(n_queries, n_cand, n_seg, seed, many_relevant):
    rng = np.random.default_rng(seed)
    scores = (rng.integers(0, 5, size=(n_queries, n_cand)) / 4).astype(np.float32)  # many ties
    segment = np.sort(rng.integers(0, n_seg, size=n_cand))  # segments are contiguous column ranges
    bounds = np.searchsorted(segment, np.arange(n_seg + 1))
    keys = rng.permutation(n_cand).astype(np.int64)
    width = min(n_cand, 20 if many_relevant else 4)  # > 16 relevant items takes the binary-search path
    n_rel = rng.integers(0, width + 1, size=n_queries)
    rel = np.zeros((n_queries, width), dtype=np.int64)
    for q in range(n_queries):
        rel[q, :n_rel[q]] = rng.choice(n_cand, size=n_rel[q], replace=False)
    counts = rank_counts(scores, rel, n_rel, bounds, keys)
    for q in range(n_queries):
        for j in range(n_rel[q]):
            for s in range(n_seg):
                expected = sum(naive_beats(scores[q], keys, c, rel[q, j]) for c in range(n_cand) if segment[c] == s)
                assert counts[q, j, s] == expected


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


def test_rank_counts_rejects_bounds_that_do_not_cover_the_pool():
    with pytest.raises(ValueError, match="bounds"):
        rank_counts(np.zeros((1, 4), np.float32), np.zeros((1, 1), np.int64), np.ones(1), np.array([0, 3]),
                    np.arange(4))


def test_block_rows_bound_memory():
    rows = block_rows(13_014, 1024)
    assert rows % TILE_ROWS == 0 and rows * 8 * 13_014 <= 2**30 < (rows + TILE_ROWS) * 8 * 13_014
    assert block_rows(10**9, 1) == 1  # a huge pool still makes progress, one row at a time


def test_score_blocks_cover_all_rows_within_budget():
    q, c = torch.randn(37, 8), torch.randn(50, 8)
    blocks = list(score_blocks(q, c, memory_mb=8 * 50 * 10 / 2**20))
    assert [b.shape[0] for _, _, b in blocks] == [10, 10, 10, 7]
    assert [(start, stop) for start, stop, _ in blocks] == [(0, 10), (10, 20), (20, 30), (30, 37)]
    torch.testing.assert_close(torch.cat([b for _, _, b in blocks]), q @ c.T)


def test_scores_are_bitwise_the_same_for_every_memory_budget():
    # BLAS results depend on the product's shape; fixed-size tiles make them budget-independent
    rng = np.random.default_rng(3)
    q = torch.from_numpy(rng.normal(size=(300, 384)).astype(np.float32))
    c = torch.from_numpy(rng.normal(size=(257, 384)).astype(np.float32))
    mb_per_row = 8 * 257 / 2**20
    full = torch.cat([b for _, _, b in score_blocks(q, c, memory_mb=1024)])
    for rows in (64, 192):
        blocks = list(score_blocks(q, c, memory_mb=rows * mb_per_row))
        assert blocks[0][2].shape[0] == rows
        assert torch.equal(torch.cat([b for _, _, b in blocks]), full)
    torch.testing.assert_close(full, q @ c.T)
    shifted = torch.cat([b for _, _, b in score_blocks(q[5:], c, memory_mb=1024)])
    assert torch.equal(shifted, full[5:])  # a query's scores do not depend on the other queries


def test_search_top_k_is_the_brute_force_order():
    rng = np.random.default_rng(3)
    q = rng.normal(size=(23, 16)).astype(np.float32)
    c = rng.normal(size=(101, 16)).astype(np.float32)
    scores, indices = search(q, c, 7, candidate_ids=[f"d{i}" for i in range(101)], memory_mb=1)
    np.testing.assert_array_equal(indices, np.argsort(-(q @ c.T), axis=1, kind="stable")[:, :7])
    np.testing.assert_allclose(scores, np.take_along_axis(q @ c.T, indices, axis=1), rtol=1e-5)


def test_faiss_backend_gives_the_torch_rankings():
    pytest.importorskip("faiss")
    rng = np.random.default_rng(5)
    q = rng.normal(size=(40, 32)).astype(np.float32)
    c = rng.normal(size=(300, 32)).astype(np.float32)
    scores = q @ c.T
    top = -np.sort(-scores, axis=1)[:, :11]
    assert (top[:, :-1] - top[:, 1:]).min() > 1e-4  # no near-ties in this random draw
    t_scores, t_idx = search(q, c, 10, backend="torch")
    f_scores, f_idx = search(q, c, 10, backend="faiss")
    np.testing.assert_array_equal(t_idx, f_idx)
    np.testing.assert_allclose(t_scores, f_scores, atol=1e-5)


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


def test_rank_counts_leaves_torch_thread_count_alone():
    import numpy as np
    import torch

    from polyir.search import rank_counts

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        scores = np.random.default_rng(0).random((8, 20), dtype=np.float32)
        rank_counts(scores, np.zeros((8, 1), np.int64), np.ones(8, np.int64), np.array([0, 10, 20]),
                    np.arange(20))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
