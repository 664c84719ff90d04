"""All settings from one pass: a hand-computed tiny set, and pytrec_eval on full runs of random sets."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from polyir.errors import ConfigError, InputError
from polyir.evaluate import evaluate_embeddings
from polyir.types import Candidate, Query, RetrievalSet

from evalfixtures import tiny_case

pytrec_eval = pytest.importorskip("pytrec_eval")

@pytest.fixture(scope="module")
def tiny():
    rset, scores, cand_emb = tiny_case()
    return evaluate_embeddings(rset, scores, cand_emb, measures=["AP", "RR", "R@1", "R@10"], bias_k=2)


def test_hand_computed_settings(tiny):
    ap = {name: s.means["AP"] for name, s in tiny.settings.items()}
    assert ap == pytest.approx({"en-en": 2.5 / 3, "en-de": 0.75, "en-multi": (0.5 + 1 + 1 / 3) / 3,
                                "de-en": 0.75, "de-de": 0.75, "de-multi": 7 / 12})
    assert [s.kind for s in tiny.settings.values()] == ["mono", "cross", "multi", "cross", "mono", "multi"]
    en_de = tiny.setting("en", "de")
    assert (en_de.n_queries, en_de.n_skipped) == (2, 1)  # q3 has no German answer
    assert tiny.setting("en", "multi").means["RR"] == pytest.approx((0.5 + 1 + 1 / 3) / 3)
    # R@1 in the pool: q1 0 (rank 2), q2 1/2 (ranks 1 and 2 of two answers), q3 0 (rank 3)
    assert tiny.setting("en", "multi").means["R@1"] == pytest.approx(1 / 6)
    assert tiny.setting("en", "multi").means["R@10"] == pytest.approx(1.0)


def test_hand_computed_summary_and_tables(tiny):
    summary = tiny.summary()
    assert summary["mono"]["AP"] == pytest.approx((2.5 / 3 + 0.75) / 2)
    assert summary["cross"]["AP"] == pytest.approx(0.75)
    assert summary["multi"]["AP"] == pytest.approx(((0.5 + 1 + 1 / 3) / 3 + 7 / 12) / 2)
    assert summary["rank_distance"] == pytest.approx((1.5 + 1.0) / 2)
    np.testing.assert_allclose(tiny.pair_matrix("AP"), [[2.5 / 3, 0.75], [0.75, 0.75]])
    assert tiny.per_language()["en"]["cross"]["AP"] == pytest.approx(0.75)
    assert tiny.per_language()["de"]["rank_distance"] == pytest.approx(1.0)


def test_per_query_values_keep_ids_languages_and_settings(tiny):
    pq = tiny.per_query
    rows = {(s, q): pq.values["AP"][i] for i, (s, q) in enumerate(zip(pq.setting, pq.query_id))}
    assert rows[("de-multi", "q1")] == pytest.approx(7 / 12)  # the tie: en/b, en/a, de/a
    assert rows[("de-en", "q1")] == pytest.approx(0.5)
    assert ("en-de", "q3") not in rows
    assert len(pq) == sum(s.n_queries for s in tiny.settings.values())
    names, questions, matrix = tiny.question_matrix("AP", "cross")
    assert names == ["en-de", "de-en"] and questions == ["q1", "q2"]
    np.testing.assert_allclose(matrix, [[0.5, 1.0], [0.5, 1.0]])


def full_run_means(rset, query_emb, cand_emb, pool_lang, query_lang, trec_names):
    """pytrec_eval on the complete ranking of one setting (what trec_eval users would run)."""
    scores = query_emb @ cand_emb.T
    cols = [i for i, c in enumerate(rset.candidates) if pool_lang in ("multi", c.lang)]
    pool_ids = {rset.candidates[i].id for i in cols}
    rows = [i for i, q in enumerate(rset.queries) if q.lang == query_lang]
    run = {rset.queries[i].id: {rset.candidates[c].id: float(scores[i, c]) for c in cols} for i in rows}
    qrels = {qid: {c: g for c, g in rel.items() if c in pool_ids and g > 0} for qid, rel in rset.qrels.items()}
    qrels = {qid: rel for qid, rel in qrels.items() if rel}
    return pytrec_eval.RelevanceEvaluator(qrels, set(trec_names)).evaluate(run)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("integer", [True, False])
def test_every_setting_equals_pytrec_eval_on_full_runs(make_parallel_set, seed, integer):
    rset, qe, ce = make_parallel_set(seed, integer_embeddings=integer)
    check_against_pytrec_eval(rset, qe, ce)


@pytest.mark.parametrize("seed", range(3))
def test_mlqa_r_shape_equals_pytrec_eval(make_parallel_set, seed):
    """Questions in 2-4 of 4 languages (2-4 answers each), unequal pools, some tied scores."""
    rset, qe, ce = make_parallel_set(seed, langs=("ar", "de", "en", "es"), n_questions=25, min_languages=2)
    answers = {len(rel) for rel in rset.qrels.values()}
    assert answers <= {2, 3, 4} and len(answers) > 1
    assert len({sum(c.lang == lang for c in rset.candidates) for lang in rset.languages}) > 1
    result = check_against_pytrec_eval(rset, qe, ce)
    assert any(s.n_skipped for s in result.settings.values())  # questions missing in some languages


def check_against_pytrec_eval(rset, qe, ce):
    measures = ["AP", "RR", "R@1", "R@10", "nDCG@10", "AP@5", "P@3"]
    result = evaluate_embeddings(rset, qe, ce, measures=measures)
    trec = {m.name: m.trec_name for m in result.measures}
    expected_settings = 0
    for x in rset.query_languages:
        for pool in (*rset.candidate_languages, "multi"):
            expected = full_run_means(rset, qe, ce, pool, x, trec.values())
            setting = result.setting(x, pool)
            if not expected:
                assert setting is None
                continue
            expected_settings += 1
            assert setting.n_queries == len(expected)
            rows = np.flatnonzero(result.per_query.setting == setting.name)
            for name, trec_name in trec.items():
                mean = np.mean([v[trec_name] for v in expected.values()])
                assert setting.means[name] == pytest.approx(mean, abs=1e-9), (x, pool, name)
                per_query = [expected[qid][trec_name] for qid in result.per_query.query_id[rows]]
                np.testing.assert_allclose(result.per_query.values[name][rows], per_query, rtol=0, atol=1e-9)
    assert len(result.settings) == expected_settings
    return result


def with_near_ties(ce, seed=0):
    """Candidates copied onto others (exact ties) and copied with a last-bit nudge (near-ties)."""
    rng = np.random.default_rng(seed)
    ce = np.array(ce, dtype=np.float32)
    source = rng.choice(len(ce), size=len(ce) // 3, replace=False)
    target = rng.permutation(len(ce))[:len(source)]
    ce[target] = ce[source]
    nudged = target[: len(target) // 2]
    ce[nudged] = np.nextafter(ce[nudged], np.float32(np.inf)) * (rng.random(ce[nudged].shape) < 0.2) + \
        ce[nudged] * (rng.random(ce[nudged].shape) >= 0.2)
    return ce


def same_results(a, b):
    assert a.to_dict() == b.to_dict()
    for name in a.per_query.values:
        np.testing.assert_array_equal(a.per_query.values[name], b.per_query.values[name])
    for pool in a.runs.indices:
        np.testing.assert_array_equal(a.runs.indices[pool], b.runs.indices[pool])
        np.testing.assert_array_equal(a.runs.scores[pool], b.runs.scores[pool])


def test_results_do_not_depend_on_the_memory_budget(make_parallel_set):
    rset, qe, ce = make_parallel_set(7, n_questions=60, integer_embeddings=False, dim=32, max_distractors=40)
    ce = with_near_ties(ce)
    row_mb = 8 * len(rset.candidates) / 2**20
    big = evaluate_embeddings(rset, qe, ce, run_depth=5)
    for rows in (1, 3, 64):  # blocks of 1, 3 and 64 queries: other product shapes, other last bits
        same_results(big, evaluate_embeddings(rset, qe, ce, run_depth=5, memory_mb=rows * row_mb))


def test_results_are_the_same_whatever_the_fast_product_returns(make_parallel_set, monkeypatch):
    # any BLAS (or GPU) returns each score somewhere within the slack of the canonical score:
    # move every fast score by up to half the slack, at random, and nothing may change
    from polyir.evaluate import scoring
    from polyir.evaluate.search.topk_search import score_vectors

    rset, qe, ce = make_parallel_set(9, n_questions=120, integer_embeddings=False, dim=32, max_distractors=40)
    ce = with_near_ties(ce, seed=1)
    reference = evaluate_embeddings(rset, qe, ce, run_depth=8)
    exact_blocks, rng = scoring.score_blocks, np.random.default_rng(0)

    def noisy_blocks(queries, cands, memory_mb):
        slack = score_vectors(queries, cands, queries.device).slack
        for start, stop, block in exact_blocks(queries, cands, memory_mb):
            noise = rng.uniform(-0.5, 0.5, size=tuple(block.shape)) * slack[start:stop, None]
            yield start, stop, torch.from_numpy((block.numpy() + noise).astype(np.float32))

    monkeypatch.setattr(scoring, "score_blocks", noisy_blocks)
    same_results(reference, evaluate_embeddings(rset, qe, ce, run_depth=8))


def test_single_language_set_has_only_mono_and_no_bias(make_parallel_set):
    rset, qe, ce = make_parallel_set(1, langs=("en",), partial=False)
    result = evaluate_embeddings(rset, qe, ce)
    assert list(result.settings) == ["en-en"]
    assert result.bias is None
    assert result.summary()["cross"]["AP"] is None and result.summary()["rank_distance"] is None


def test_bad_options_raise_config_error(make_parallel_set):
    rset, qe, ce = make_parallel_set(0)
    for kwargs in ({"depth": 0}, {"bias_k": 0}, {"backend": "annoy"}, {"run_depth": 0}, {"measures": ["XYZ"]},
                   {"memory_mb": 0}):
        with pytest.raises(ConfigError):
            evaluate_embeddings(rset, qe, ce, **kwargs)
    with pytest.raises(ValueError, match="do not match"):
        evaluate_embeddings(rset, qe[:-1], ce)
    empty = RetrievalSet("empty", (), rset.candidates, {}, rset.languages)
    with pytest.raises(InputError, match="empty: no queries"):
        evaluate_embeddings(empty, qe[:0], ce)


def test_queries_without_any_relevant_item_are_counted_and_skipped():
    rset = RetrievalSet("t", (Query("q1", "en", "x"), Query("q9", "en", "y")),
                        (Candidate("en/a", "en", "a"), Candidate("en/b", "en", "b")), {"q1": {"en/a": 1}}, ("en",))
    result = evaluate_embeddings(rset, np.eye(2, dtype=np.float32), np.eye(2, dtype=np.float32))
    assert result.n_queries_without_relevant == 1
    assert result.setting("en", "en").n_queries == 1 and result.setting("en", "en").n_skipped == 1
    assert math.isclose(result.setting("en", "en").means["AP"], 1.0)
