"""Generated multilingual retrieval sets with embeddings for the evaluation tests (no files, no models)."""
from __future__ import annotations

import numpy as np

from polyir.types import Candidate, Query, RetrievalSet


def parallel_set(seed: int, langs=("en", "de", "zh"), n_questions: int = 12, *, partial: bool = True,
                 integer_embeddings: bool = True, dim: int = 6, max_distractors: int = 8, min_languages: int = 1):
    """An MLQA-R-shaped set: each question exists in a random subset of >= ``min_languages`` languages,
    with one answer sentence per such language, and unequal pools of distractors.

    With ``integer_embeddings`` the vectors hold small integers, so many scores tie exactly
    (ties are the interesting case for trec_eval's tie-breaking).
    """
    rng = np.random.default_rng(seed)
    queries, candidates, qrels = [], [], {}
    for i in range(n_questions):
        present = list(langs)
        if partial:
            present = sorted(rng.choice(len(langs), size=int(rng.integers(min_languages, len(langs) + 1)),
                                        replace=False))
            present = [langs[j] for j in present]
        qid = f"q{i:03d}"
        qrels[qid] = {}
        for lang in present:
            queries.append(Query(qid, lang, f"question {i}"))
            cid = f"{lang}/{i}/ans"
            candidates.append(Candidate(cid, lang, f"answer {i}"))
            qrels[qid][cid] = int(rng.integers(1, 3)) if rng.random() < 0.3 else 1
    for lang in langs:
        for j in range(int(rng.integers(1, max_distractors + 1))):
            candidates.append(Candidate(f"{lang}/x{j}", lang, f"distractor {j}"))
    order = rng.permutation(len(candidates))
    candidates = [candidates[i] for i in order]
    rset = RetrievalSet("generated", tuple(queries), tuple(candidates), qrels, tuple(langs)).validate()
    return (rset, *_embeddings(rng, rset, integer_embeddings, dim))


def _embeddings(rng, rset, integer, dim):
    cand = rng.integers(-2, 3, size=(len(rset.candidates), dim)).astype(np.float32)
    index = {c.id: i for i, c in enumerate(rset.candidates)}
    query = rng.integers(-2, 3, size=(len(rset.queries), dim)).astype(np.float32)
    for qi, q in enumerate(rset.queries):  # relevant items score high but not always top
        for cid in rset.qrels[q.id]:
            query[qi] += cand[index[cid]] * rng.integers(0, 2)
    if not integer:
        cand += rng.normal(scale=0.3, size=cand.shape).astype(np.float32)
        query += rng.normal(scale=0.3, size=query.shape).astype(np.float32)
    return query, cand


CANDS = ("en/a", "en/b", "en/c", "de/a", "de/b")
# rows: q1-en, q2-en, q1-de, q2-de, q3-en; columns: CANDS.  Candidates are one-hot, so the
# score of a query for a candidate is exactly the number below.
SCORES = np.array([
    [0.9, 0.5, 0.95, 0.6, 0.7],
    [0.1, 0.8, 0.2, 0.3, 0.9],
    [0.5, 0.5, 0.1, 0.5, 0.2],  # three-way tie at 0.5: trec order en/b, en/a, de/a
    [0.0, 0.3, 0.0, 0.4, 0.35],
    [0.1, 0.2, 0.3, 0.4, 0.5],
], dtype=np.float32)


def tiny_case() -> tuple[RetrievalSet, np.ndarray, np.ndarray]:
    """Hand-checked example of docs/metrics.md: (set, query embeddings, candidate embeddings)."""
    queries = (Query("q1", "en", "a?"), Query("q2", "en", "b?"), Query("q1", "de", "a?"), Query("q2", "de", "b?"),
               Query("q3", "en", "c?"))
    candidates = tuple(Candidate(cid, cid[:2], cid) for cid in CANDS)
    qrels = {"q1": {"en/a": 1, "de/a": 1}, "q2": {"en/b": 1, "de/b": 1}, "q3": {"en/c": 1}}
    return RetrievalSet("tiny", queries, candidates, qrels, ("en", "de")), SCORES, np.eye(5, dtype=np.float32)
