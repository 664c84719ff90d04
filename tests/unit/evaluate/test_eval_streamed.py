"""Streamed BEIR evaluation: chunked encoding equals one encoding, chunked search equals one
search (ties in trec_eval order across chunk borders), FAISS gives the same lists, and metrics
from the top-k lists equal `evaluate_embeddings` at that depth."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from polyir.data import load_beir
from polyir.encode import encode
from polyir.errors import InputError
from polyir.evaluate import evaluate_embeddings
from polyir.evaluate.streamed import EncodedCorpus, encode_corpus, run_metrics, search_corpus
from polyir.evaluate.search.topk_search import search
from polyir.types import Candidate, Query, RetrievalSet, candidate_text


def _corpus(seed: int = 0, n: int = 60, dim: int = 8):
    """Random unit vectors with exact duplicates (ties), ids in an order unrelated to the rows."""
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, dim)).astype(np.float32)
    emb[10] = emb[40] = emb[3]  # a three-way tie, spread over chunks
    emb[25] = emb[7]
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    ids = [f"d{i}" for i in rng.permutation(n)]
    queries = np.concatenate([emb[[3, 7]], rng.standard_normal((6, dim)).astype(np.float32)])
    return EncodedCorpus(np.asarray([i.encode() for i in ids]), emb), ids, queries


@pytest.mark.parametrize("chunk", [7, 16, 1000])
def test_chunked_search_equals_one_search_in_trec_order(chunk, monkeypatch):
    from polyir.evaluate import streamed

    monkeypatch.setattr(streamed, "MERGE_ROWS", 3)  # queries merged in several slices
    corpus, ids, queries = _corpus()
    scores, rows = search_corpus(queries, corpus, 12, chunk=chunk)
    whole_scores, whole_rows = search(queries, corpus.embeddings, 12, candidate_ids=ids)
    np.testing.assert_array_equal(rows, whole_rows)
    # a product over fewer columns may sum in another order: the last bit of a score can differ
    np.testing.assert_allclose(scores, whole_scores, rtol=0, atol=4 * np.finfo(np.float32).eps)
    tied = [ids[r] for r in rows[0, :3]]
    assert tied == sorted([ids[3], ids[10], ids[40]], reverse=True)  # equal scores: larger id first


def test_faiss_gives_the_same_lists():
    pytest.importorskip("faiss")
    corpus, _, queries = _corpus(1, n=200, dim=16)
    torch_scores, torch_rows = search_corpus(queries, corpus, 20, chunk=32)
    faiss_scores, faiss_rows = search_corpus(queries, corpus, 20, chunk=32, backend="faiss")
    np.testing.assert_array_equal(faiss_rows, torch_rows)
    np.testing.assert_allclose(faiss_scores, torch_scores, atol=1e-6)


def test_metrics_from_top_k_lists_equal_evaluate_embeddings_at_that_depth():
    corpus, ids, queries = _corpus(2, n=80)
    rng = random.Random(0)
    qids = [f"q{i}" for i in range(len(queries))]
    qrels = {q: {rng.choice(ids): rng.choice([1, 2]) for _ in range(rng.randint(1, 4))} for q in qids}
    qrels["q0"][ids[5]] = 0  # judged, not relevant
    rset = RetrievalSet("s", tuple(Query(q, "sw", "x") for q in qids),
                        tuple(Candidate(i, "sw", "x") for i in ids), qrels, ("sw",))
    measures = ["AP", "RR", "R@5", "R@10", "nDCG@10", "P@5"]
    _, rows = search_corpus(queries, corpus, 10, chunk=9)
    streamed = run_metrics(rows, qids, qrels, corpus, measures)
    full = evaluate_embeddings(rset, queries, corpus.embeddings, measures=measures, depth=10)
    setting = next(iter(full.settings.values()))
    for m in measures:
        assert np.nanmean(streamed[m]) == pytest.approx(setting.means[m], abs=1e-12), m
    with pytest.raises(InputError, match="not in the corpus"):
        run_metrics(rows, ["q0"], {"q0": {"nope": 1}}, corpus, measures)


def _beir(root, passages):
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text("".join(json.dumps(p) + "\n" for p in passages))
    (root / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "abc"}) + "\n")
    (root / "qrels" / "test.tsv").write_text(f"q1\t{passages[0]['_id']}\t1\n")
    return root


def test_encode_corpus_in_chunks_equals_one_encoding(tmp_path, tiny_model_dir):
    from polyir.model_loading import load_model

    rng = random.Random(4)
    words = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 6))) for _ in range(50)]
    passages = [{"_id": f"p{i}", "title": rng.choice(["", "A title"]),
                 "text": " ".join(rng.choice(words) for _ in range(rng.randint(1, 20)))} for i in range(23)]
    passages.append({"_id": "t", "title": "only a title", "text": ""})
    root = _beir(tmp_path / "b", passages)
    model = load_model(tiny_model_dir, device="cpu")
    corpus = encode_corpus(model, root, "sw", chunk=5, progress=False)
    loaded = load_beir(root, "sw")
    assert [i.decode() for i in corpus.ids] == [c.id for c in loaded.candidates]
    expected = encode(model, [candidate_text(c) for c in loaded.candidates], kind="passage", progress=False)
    np.testing.assert_allclose(corpus.embeddings, expected, atol=1e-6)
    duplicated = _beir(tmp_path / "d", passages + [dict(passages[3])])
    with pytest.raises(InputError, match="duplicate _id 'p3'"):
        encode_corpus(model, duplicated, "sw", chunk=5, progress=False)
