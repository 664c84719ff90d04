"""TREC run/qrels files reproduce polyir's depth-k numbers through pytrec_eval; per-query TSV round trip."""
from __future__ import annotations

import numpy as np
import pytest

from polyir.errors import ConfigError
from polyir.evaluate import evaluate_embeddings, read_per_query, write_per_query, write_trec_qrels, write_trec_runs
from polyir.types import Candidate, Query, RetrievalSet

pytrec_eval = pytest.importorskip("pytrec_eval")

MEASURES = ["AP", "RR", "R@1", "R@10", "nDCG@10", "AP@3", "P@2"]


@pytest.mark.parametrize("seed, integer", [(0, True), (1, False), (2, True)])
def test_trec_files_reproduce_depth_k_metrics(make_parallel_set, tmp_path, seed, integer):
    rset, qe, ce = make_parallel_set(seed, n_questions=15, integer_embeddings=integer)
    depth = 4
    result = evaluate_embeddings(rset, qe, ce, measures=MEASURES, depth=depth, run_depth=depth)
    runs = write_trec_runs(result, tmp_path)
    qrels = write_trec_qrels(rset, tmp_path)
    assert len(runs) == len(rset.query_languages) * (len(rset.candidate_languages) + 1)
    assert {p.name for p in qrels} == {f"{lang}.qrels" for lang in rset.candidate_languages} | {"multi.qrels"}
    trec = {m.name: m.trec_name for m in result.measures}
    pq = result.per_query
    checked = 0
    for setting in result.settings.values():
        with open(tmp_path / "qrels" / f"{setting.pool}.qrels") as f:
            evaluator = pytrec_eval.RelevanceEvaluator(pytrec_eval.parse_qrel(f), set(trec.values()))
        with open(tmp_path / "runs" / f"{setting.name}.trec") as f:
            expected = evaluator.evaluate(pytrec_eval.parse_run(f))
        assert len(expected) == setting.n_queries
        for row in (pq.setting == setting.name).nonzero()[0]:
            for name, trec_name in trec.items():
                assert pq.values[name][row] == pytest.approx(expected[pq.query_id[row]][trec_name], abs=1e-6)
                checked += 1
    assert checked > 100


def test_run_lines_are_in_trec_order_with_ranks_and_tag(tmp_path):
    rset = RetrievalSet("t", (Query("q1", "en", "x"),),
                        tuple(Candidate(c, "en", c) for c in ("a", "b", "c")), {"q1": {"a": 2}}, ("en",))
    result = evaluate_embeddings(rset, np.ones((1, 1), np.float32), np.ones((3, 1), np.float32), run_depth=2)
    assert [p.name for p in write_trec_runs(result, tmp_path, tag="me5")] == ["en-en.trec"]
    assert (tmp_path / "runs" / "en-en.trec").read_text().splitlines() == ["q1 Q0 c 1 1 me5", "q1 Q0 b 2 1 me5"]
    write_trec_qrels(rset, tmp_path)
    assert (tmp_path / "qrels" / "en.qrels").read_text() == "q1 0 a 2\n"
    assert not (tmp_path / "qrels" / "multi.qrels").exists()  # one language: no multilingual pool


def test_writing_runs_without_run_depth_or_with_spaces_fails(make_parallel_set, tmp_path):
    rset, qe, ce = make_parallel_set(0)
    with pytest.raises(ConfigError, match="run_depth"):
        write_trec_runs(evaluate_embeddings(rset, qe, ce), tmp_path)
    with pytest.raises(ConfigError, match="tag"):
        write_trec_runs(evaluate_embeddings(rset, qe, ce, run_depth=2), tmp_path, tag="my run")
    spaced = RetrievalSet("t", rset.queries, (Candidate("en/a b", "en", "x"),), {}, ("en",))
    with pytest.raises(ConfigError, match="whitespace"):
        write_trec_qrels(spaced, tmp_path)


def test_faiss_run_lists_match_torch(make_parallel_set):
    pytest.importorskip("faiss")
    rset, qe, ce = make_parallel_set(3, n_questions=30, integer_embeddings=False, dim=16)
    torch_runs = evaluate_embeddings(rset, qe, ce, run_depth=5).runs
    faiss_runs = evaluate_embeddings(rset, qe, ce, run_depth=5, backend="faiss").runs
    for pool, indices in torch_runs.indices.items():
        assert (faiss_runs.indices[pool] == indices).all(), pool


def test_per_query_tsv_round_trip(make_parallel_set, tmp_path):
    rset, qe, ce = make_parallel_set(4)
    result = evaluate_embeddings(rset, qe, ce)
    path = tmp_path / "per_query.tsv.gz"
    write_per_query(result, path)
    rows = read_per_query(path)
    assert len(rows) == len(result.per_query)
    for i, row in enumerate(rows):
        assert row["setting"] == result.per_query.setting[i] and row["query_id"] == result.per_query.query_id[i]
        assert row["AP"] == result.per_query.values["AP"][i]  # exact: repr round-trips
        assert (row["rank_distance"] is None) == (row["pool"] != "multi" or
                                                   sum(1 for g in rset.qrels[row["query_id"]].values() if g > 0) < 2)
    multi = [r for r in rows if r["pool"] == "multi"]
    assert all(r["same_language_share"] is not None for r in multi)
