"""Rank counts and top-k sets are exact by canonical score whatever the fast scores' errors.

The vectors are built so that canonical scores are known exactly (query ``i`` is the unit
vector ``e_i``, candidate ``j`` holds its scores in column ``j``), and the fast scores the
kernel reads are those scores moved by up to the slack in either direction: what any BLAS
or block shape could return.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polyir.evaluate.search.exact_scores import ScoreVectors
from polyir.evaluate.search.rank_counting import rank_counts


def naive_beats(scores, keys, c, r):
    return scores[c] > scores[r] or (scores[c] == scores[r] and keys[c] > keys[r])


def exact_problem(rng, n_queries, n_cand, slack):
    """(vectors, canonical scores, fast scores): many exact ties, noise within the slack."""
    canonical = (rng.integers(0, 5, size=(n_queries, n_cand)) / 4).astype(np.float32)
    vectors = ScoreVectors(np.eye(n_queries, dtype=np.float32), np.ascontiguousarray(canonical.T),
                           np.full(n_queries, slack))
    noise = rng.uniform(-1, 1, size=canonical.shape) * slack * 0.999
    noise[rng.random(canonical.shape) < 0.3] = 0.0  # some scores exact, as a BLAS often gets them
    return vectors, canonical, (canonical + noise).astype(np.float32)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(2, 60), st.integers(1, 4), st.integers(0, 2**31 - 1),
       st.sampled_from([0.0, 0.1, 0.3]), st.booleans(), st.integers(0, 12))
def test_counts_and_top_sets_equal_a_naive_count_on_canonical_scores(n_queries, n_cand, n_seg, seed, slack,
                                                                     many_relevant, top_k):
    rng = np.random.default_rng(seed)
    vectors, canonical, fast = exact_problem(rng, n_queries, n_cand, slack)
    segment = np.sort(rng.integers(0, n_seg, size=n_cand))  # segments are contiguous column ranges
    bounds = np.searchsorted(segment, np.arange(n_seg + 1))
    keys = rng.permutation(n_cand).astype(np.int64)
    width = min(n_cand, 40 if many_relevant else 4)  # > 32 relevant items takes the bucket path
    n_rel = rng.integers(0, width + 1, size=n_queries)
    rel = np.zeros((n_queries, width), dtype=np.int64)
    for q in range(n_queries):
        rel[q, :n_rel[q]] = rng.choice(n_cand, size=n_rel[q], replace=False)
    counts, top = rank_counts(fast, rel, n_rel, bounds, keys, vectors, top_k=top_k)
    for q in range(n_queries):
        for j in range(n_rel[q]):
            for s in range(n_seg):
                expected = sum(naive_beats(canonical[q], keys, c, rel[q, j]) for c in range(n_cand) if segment[c] == s)
                assert counts[q, j, s] == expected
        best = sorted(range(n_cand), key=lambda c: (float(canonical[q, c]), int(keys[c])), reverse=True)[:top_k]
        assert sorted(top[q][top[q] >= 0].tolist()) == sorted(best)
        assert (top[q] >= 0).sum() == min(top_k, n_cand)


def test_a_relevant_item_with_many_near_ties_in_every_segment():
    # 200 candidates all within the slack of each other: every comparison is settled canonically
    rng = np.random.default_rng(7)
    vectors, canonical, fast = exact_problem(rng, 3, 200, 1.0)
    keys = rng.permutation(200).astype(np.int64)
    rel = np.array([[0, 50, 199], [10, 11, 12], [5, 6, 7]])
    counts, top = rank_counts(fast, rel, np.array([3, 2, 0]), np.array([0, 100, 200]), keys, vectors, top_k=5)
    for q, r in ((0, 0), (0, 1), (0, 2), (1, 0), (1, 1)):
        above = [naive_beats(canonical[q], keys, c, rel[q, r]) for c in range(200)]
        assert counts[q, r].tolist() == [sum(above[:100]), sum(above[100:])]
    assert (counts[2] == 0).all()


def test_rank_counts_rejects_bounds_that_do_not_cover_the_pool():
    vectors = ScoreVectors(np.eye(1, dtype=np.float32), np.zeros((4, 1), np.float32), np.zeros(1))
    with pytest.raises(ValueError, match="bounds"):
        rank_counts(np.zeros((1, 4), np.float32), np.zeros((1, 1), np.int64), np.ones(1), np.array([0, 3]),
                    np.arange(4), vectors)
    with pytest.raises(ValueError, match="do not match"):
        rank_counts(np.zeros((2, 4), np.float32), np.zeros((2, 1), np.int64), np.ones(2), np.array([0, 4]),
                    np.arange(4), vectors)


def test_rank_counts_leaves_torch_thread_count_alone():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        scores = np.random.default_rng(0).random((8, 20), dtype=np.float32)
        vectors = ScoreVectors(np.eye(8, dtype=np.float32), np.ascontiguousarray(scores.T), np.zeros(8))
        rank_counts(scores, np.zeros((8, 1), np.int64), np.ones(8, np.int64), np.array([0, 10, 20]),
                    np.arange(20), vectors, top_k=3)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
