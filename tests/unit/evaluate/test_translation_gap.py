"""The translation gap: each setting against the original, paired over the queries both evaluate."""
import math

import numpy as np
import pytest

from polyir.evaluate import evaluate_embeddings
from polyir.evaluate.significance import compare, holm
from polyir.evaluate.translation_cost import translation_gap
from polyir.types import Candidate, Query, RetrievalSet


def parallel_case(seed=0, n=30, missing=("q3", "q7")):
    """Original 'de' and translation 'en' (which lost two queries); embeddings: the answer plus noise,
    noisier in the translation, so translation costs something."""
    rng = np.random.default_rng(seed)
    queries, candidates, qrels, q_emb, c_emb = [], [], {}, [], []
    for i in range(n):
        qid = f"q{i}"
        qrels[qid] = {f"de:d{i}": 1, f"en:d{i}": 1}
        topic = rng.normal(size=8)
        for lang, noise in (("de", 0.6), ("en", 1.2)):
            candidates.append(Candidate(f"{lang}:d{i}", lang, f"doc {i}"))
            c_emb.append(topic + noise * rng.normal(size=8))
            if not (lang == "en" and qid in missing):
                queries.append(Query(qid, lang, f"query {i}"))
                q_emb.append(topic + noise * rng.normal(size=8))
    rset = RetrievalSet("par", tuple(queries), tuple(candidates), qrels, ("de", "en"), {"original_language": "de"})
    return rset.validate(), np.asarray(q_emb, np.float32), np.asarray(c_emb, np.float32)


def per_setting(result, setting, measure):
    pq = result.per_query
    rows = np.flatnonzero(pq.setting == setting)
    return dict(zip(pq.query_id[rows].tolist(), pq.values[measure][rows].tolist()))


def test_rows_are_paired_comparisons_with_the_original():
    rset, q, c = parallel_case()
    result = evaluate_embeddings(rset, q, c, measures=["nDCG@10", "R@10"])
    gap = translation_gap(result, "de", n_resamples=500, seed=3)
    assert gap.translations == ("en",)
    assert [(r.role, r.setting, r.measure) for r in gap.rows] == [
        (role, setting, m) for m in ("nDCG@10", "R@10") for role, setting in
        (("original", "de-de"), ("translated", "en-en"), ("original queries", "de-en"), ("translated queries", "en-de"))]
    rows = {(r.setting, r.measure): r for r in gap.rows}
    original = per_setting(result, "de-de", "nDCG@10")
    assert rows["de-de", "nDCG@10"].value == pytest.approx(result.settings["de-de"].means["nDCG@10"])
    assert rows["de-de", "nDCG@10"].n_queries == 30 and math.isnan(rows["de-de", "nDCG@10"].delta)
    for setting, n in (("en-en", 28), ("de-en", 30), ("en-de", 28)):
        values = per_setting(result, setting, "nDCG@10")
        common = [qid for qid in values if qid in original]
        expected = compare(np.array([[values[x] for x in common]]), np.array([[original[x] for x in common]]),
                           n_resamples=500, seed=3)
        row = rows[setting, "nDCG@10"]
        assert row.n_queries == len(common) == n
        assert (row.value, row.original, row.delta, row.p_value) == pytest.approx(
            (expected.mean_a, expected.mean_b, expected.delta, expected.p_value))
        assert row.ci_low <= row.delta <= row.ci_high
    compared = [r for r in gap.rows if r.role != "original"]
    assert [r.p_holm for r in compared] == pytest.approx(holm([r.p_value for r in compared]))
    assert rows["en-en", "nDCG@10"].delta < 0  # the noisier translation costs


def test_to_dict_and_markdown():
    rset, q, c = parallel_case(n=12, missing=())
    gap = translation_gap(evaluate_embeddings(rset, q, c, measures=["nDCG@10"]), "de", n_resamples=200)
    doc = gap.to_dict()
    assert doc["schema"] == "polyir.translation-gap/1" and doc["original_language"] == "de"
    assert doc["rows"][0]["delta"] is None and doc["rows"][1]["n_queries"] == 12
    table = gap.markdown().splitlines()
    assert table[0].startswith("| role | setting | measure | queries |") and len(table) == 2 + 4
    assert "| translated | en-en | nDCG@10 | 12 |" in table[3]
