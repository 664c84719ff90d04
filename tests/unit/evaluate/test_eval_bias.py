"""Language-bias measures: hand-computed cases (docs/metrics.md) and a naive re-implementation."""
from __future__ import annotations

import numpy as np
import pytest

from polyir.evaluate import evaluate_embeddings

from evalfixtures import tiny_case


@pytest.fixture(scope="module")
def bias():
    return evaluate_embeddings(*tiny_case(), bias_k=2).bias


def test_rank_distance_by_hand(bias):
    # multilingual ranks of the answers: q1-en 2 and 4; q2-en 2 and 1; q1-de 2 and 3; q2-de 3 and 2;
    # q3-en has a single answer (rank 3): no distance
    per = bias.per_language()
    assert per["en"]["rank_distance"] == pytest.approx(1.5)
    assert per["en"]["rank_distance_queries"] == 2
    assert per["de"]["rank_distance"] == pytest.approx(1.0)
    assert bias.macro()["rank_distance"] == pytest.approx(1.25)


def test_same_language_preference_by_hand(bias):
    # top-2: q1-en en/c en/a (2 en), q2-en de/b en/b (1), q3-en de/b de/a (0); q1-de en/b en/a (0),
    # q2-de de/a de/b (2).  Pool: 3 en, 2 de of 5.
    per = bias.per_language()
    assert per["en"]["same_language_share"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert per["en"]["pool_share"] == pytest.approx(0.6)
    assert per["en"]["same_language_ratio"] == pytest.approx(0.5 / 0.6)
    assert per["de"]["same_language_ratio"] == pytest.approx(0.5 / 0.4)
    assert bias.macro()["same_language_ratio"] == pytest.approx((0.5 / 0.6 + 0.5 / 0.4) / 2)


def test_strong_alignment_by_hand(bias):
    # q1-en: en/c (irrelevant, English) outranks en/a -> no.  q2-en: both answers above en/c, en/a -> yes.
    # q3-en: en/c above en/a, en/b -> yes.  q1-de: de/b is last but one -> yes.  q2-de: de/a above de/b -> no.
    per = bias.per_language()
    assert per["en"]["strong_alignment"] == pytest.approx(2 / 3)
    assert per["de"]["strong_alignment"] == pytest.approx(1 / 2)
    assert bias.macro()["strong_alignment"] == pytest.approx(7 / 12)


def naive_bias(rset, qe, ce, k):
    """Full sort in trec order per query; bias by definition."""
    ids = [c.id for c in rset.candidates]
    out = []
    for qi, q in enumerate(rset.queries):
        relevant = {c for c, g in rset.qrels[q.id].items() if g > 0}
        scores = qe[qi] @ ce.T
        order = sorted(range(len(ids)), key=lambda c: (float(scores[c]), ids[c]), reverse=True)
        ranks = [r + 1 for r, c in enumerate(order) if ids[c] in relevant]
        distance = max(ranks) - min(ranks) if len(ranks) >= 2 else np.nan
        share = sum(rset.candidates[c].lang == q.lang for c in order[:k]) / min(k, len(ids))
        own_irrelevant = [r + 1 for r, c in enumerate(order)
                          if rset.candidates[c].lang == q.lang and ids[c] not in relevant]
        aligned = float(not own_irrelevant or max(ranks) < min(own_irrelevant))
        out.append((q.lang, distance, share, aligned))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_bias_equals_a_naive_full_sort(make_parallel_set, seed):
    rset, qe, ce = make_parallel_set(seed, n_questions=15)
    k = 4
    got = evaluate_embeddings(rset, qe, ce, bias_k=k).bias
    expected = naive_bias(rset, qe, ce, k)
    assert len(got.query_index) == len(expected)
    for row, qi in enumerate(got.query_index):
        lang, distance, share, aligned = expected[qi]
        assert got.query_lang[row] == lang
        np.testing.assert_equal(got.rank_distance[row], distance)
        assert got.same_language_share[row] == pytest.approx(share)
        assert got.strongly_aligned[row] == aligned
