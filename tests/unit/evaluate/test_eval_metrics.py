"""Measures from ranks equal pytrec_eval on random runs: ties, graded qrels, unretrieved items, depth cuts."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polyir.errors import ConfigError
from polyir.evaluate.measures import DEFAULT_MEASURES, parse_measure, parse_measures
from polyir.evaluate.metrics import measure_values

pytrec_eval = pytest.importorskip("pytrec_eval")

ALL = parse_measures(["AP", "RR", "R@1", "R@3", "R@10", "nDCG@3", "nDCG@10", "nDCG", "AP@2", "AP@5", "P@1", "P@5"])
# short ids over a small alphabet: many shared prefixes, so byte-wise id order matters
doc_ids = st.text(alphabet="aAbB0_z", min_size=1, max_size=3)


@st.composite
def runs(draw):
    """One query: a run with tied integer scores and qrels that include unretrieved documents."""
    docs = draw(st.lists(doc_ids, min_size=1, max_size=25, unique=True))
    scores = {d: float(draw(st.integers(0, 4))) for d in docs}
    unretrieved = draw(st.lists(doc_ids.filter(lambda d: d not in scores), max_size=3, unique=True))
    judged = draw(st.lists(st.sampled_from(docs), max_size=len(docs), unique=True)) + unretrieved
    qrels = {d: draw(st.integers(0, 3)) for d in judged}
    return scores, qrels


def trec_order(scores: dict[str, float]) -> list[str]:
    """trec_eval's order, written independently of polyir: score desc, then id desc."""
    return sorted(scores, key=lambda d: (scores[d], d), reverse=True)


def polyir_values(queries, depth):
    """Ranks of the relevant documents (inf when not in the run) -> polyir's measures."""
    ranks, gains = polyir_ranks(queries)
    return measure_values(ranks, gains, ALL, depth)


def polyir_ranks(queries):
    width = max(sum(g > 0 for g in qrels.values()) for _, qrels in queries)
    ranks = np.full((len(queries), max(width, 1)), np.nan)
    gains = np.zeros_like(ranks)
    for q, (scores, qrels) in enumerate(queries):
        position = {d: i + 1 for i, d in enumerate(trec_order(scores))}
        relevant = [(d, g) for d, g in qrels.items() if g > 0]
        for j, (d, g) in enumerate(relevant):
            ranks[q, j] = position.get(d, math.inf)
            gains[q, j] = g
    return ranks, gains


@settings(max_examples=150, deadline=None)
@given(st.lists(runs(), min_size=1, max_size=4), st.one_of(st.none(), st.integers(1, 12)))
def test_measures_equal_pytrec_eval(queries, depth):
    run, qrels = {}, {}
    for q, (scores, judged) in enumerate(queries):
        kept = trec_order(scores)[:depth] if depth else list(scores)
        run[f"q{q}"] = {d: scores[d] for d in kept}
        qrels[f"q{q}"] = judged
    expected = pytrec_eval.RelevanceEvaluator(qrels, {m.trec_name for m in ALL}).evaluate(run)
    ours = polyir_values(queries, depth)
    for q, (_, judged) in enumerate(queries):
        has_relevant = any(g > 0 for g in judged.values())
        for m in ALL:
            if has_relevant:
                assert ours[m.name][q] == pytest.approx(expected[f"q{q}"][m.trec_name], abs=1e-9), (m.name, q)
            else:  # trec_eval scores such a query 0; polyir leaves it out (NaN)
                assert math.isnan(ours[m.name][q])


def test_hand_computed_graded_example():
    # ranks 1 and 3 relevant with grades 2 and 1, a third relevant item (grade 1) not retrieved
    ranks = np.array([[3.0, 1.0, np.inf, np.nan]])
    gains = np.array([[1.0, 2.0, 1.0, 0.0]])
    v = measure_values(ranks, gains, parse_measures(["AP", "RR", "R@2", "P@2", "nDCG@3", "AP@2"]))
    assert v["AP"][0] == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert v["RR"][0] == 1.0
    assert v["R@2"][0] == pytest.approx(1 / 3)
    assert v["P@2"][0] == 0.5
    idcg = 2 + 1 / math.log2(3) + 1 / math.log2(4)
    assert v["nDCG@3"][0] == pytest.approx((2 + 1 / math.log2(4)) / idcg)
    assert v["AP@2"][0] == pytest.approx(1 / 3)
    cut = measure_values(ranks, gains, parse_measures(["AP", "RR"]), depth=2)
    assert cut["AP"][0] == pytest.approx(1 / 3)


@pytest.mark.parametrize("name, canonical, trec", [
    ("AP", "AP", "map"), ("map", "AP", "map"), ("mAP", "AP", "map"), ("RR", "RR", "recip_rank"),
    ("recip_rank", "RR", "recip_rank"), ("MRR", "RR", "recip_rank"), ("R@10", "R@10", "recall_10"),
    ("recall_100", "R@100", "recall_100"), ("nDCG@10", "nDCG@10", "ndcg_cut_10"),
    ("ndcg_cut_10", "nDCG@10", "ndcg_cut_10"), ("nDCG", "nDCG", "ndcg"), ("AP@100", "AP@100", "map_cut_100"),
    ("map_cut_100", "AP@100", "map_cut_100"), ("P@1", "P@1", "P_1"), ("P_5", "P@5", "P_5"),
])
def test_measure_names_round_trip(name, canonical, trec):
    m = parse_measure(name)
    assert (m.name, m.trec_name) == (canonical, trec)
    assert parse_measure(m.name) == m == parse_measure(m.trec_name)


@settings(max_examples=100, deadline=None)
@given(st.lists(runs(), min_size=1, max_size=4), st.integers(1, 12))
def test_rr_at_k_is_pytrec_eval_recip_rank_on_the_run_cut_at_k(queries, k):
    """RR@k (MRR@10 of MS MARCO, ir_measures' RR with a cutoff): trec_eval has no cutoff for
    recip_rank, so the reference is recip_rank on the run truncated to its first k documents."""
    run = {f"q{q}": {d: scores[d] for d in trec_order(scores)[:k]} for q, (scores, _) in enumerate(queries)}
    qrels = {f"q{q}": judged for q, (_, judged) in enumerate(queries)}
    expected = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(run)
    measure = parse_measure(f"RR@{k}")
    ours = measure_values(polyir_ranks(queries)[0], polyir_ranks(queries)[1], [measure])[measure.name]
    for q, (_, judged) in enumerate(queries):
        if any(g > 0 for g in judged.values()):
            assert ours[q] == pytest.approx(expected[f"q{q}"]["recip_rank"], abs=1e-12)
    assert measure.trec_name == f"recip_rank (run cut at depth {k})"


@pytest.mark.parametrize("bad", ["R", "P", "AP@0", "foo", "nDCG@x", "", "bpref"])
def test_bad_measure_names_raise_config_error(bad):
    with pytest.raises(ConfigError, match="measure"):
        parse_measure(bad)


def test_parse_measures_defaults_order_and_duplicates():
    assert [m.name for m in parse_measures()] == list(DEFAULT_MEASURES)
    assert [m.name for m in parse_measures("AP, map,R@10")] == ["AP", "R@10"]
