"""All XQuAD-R settings + bias with polyir vs the same metrics through pytrec_eval.

    PYTHONPATH=src python benchmarks/metrics_speed.py [--quick] [--dim 384] [--seed 0]

Builds an XQuAD-R-shaped problem (11 languages, 1190 parallel questions, pools of the real
sizes, synthetic embeddings whose answers score high but not always first), then times

* polyir: `evaluate_embeddings` — 132 settings (11 mono, 110 cross, 11 multi), the default
  measures, rank distance, same-language preference and strong alignment, from the
  embeddings (the matrix products are included), median of the repeats;
* one plain fp32 product of the same size (`q @ c.T`), the floor;
* pytrec_eval on depth-1000 runs of every setting: building its input dicts and
  `RelevanceEvaluator(...).evaluate()`, timed separately.  The top-1000 lists themselves are
  produced beforehand by `polyir.evaluate.search.topk_search.search` and not counted.

It asserts that polyir with ``depth=1000`` equals pytrec_eval on every query of every
setting (to 1e-6), and prints a markdown table.  `run(rset, query_emb, cand_emb)` is the
reusable entry point (e.g. for real XQuAD-R embeddings).
"""
from __future__ import annotations

import argparse
import time
from statistics import median

import numpy as np

XQUAD_R_POOLS = {"ar": 1222, "de": 1276, "el": 1234, "en": 1180, "es": 1215, "hi": 1244, "ru": 1219,
                 "th": 852, "tr": 1167, "vi": 1209, "zh": 1196}
RUN_DEPTH = 1000


def xquad_shaped(seed: int = 0, dim: int = 384, n_questions: int = 1190, scale: float = 1.0):
    """Synthetic XQuAD-R-shaped set: (RetrievalSet, query embeddings, candidate embeddings)."""
    from polyir.types import Candidate, Query, RetrievalSet

    rng = np.random.default_rng(seed)
    langs = tuple(XQUAD_R_POOLS)
    meaning = rng.normal(size=(n_questions, dim)).astype(np.float32)
    accent = {lang: rng.normal(scale=0.6, size=dim).astype(np.float32) for lang in langs}
    queries, candidates, qrels = [], [], {f"q{i}": {} for i in range(n_questions)}
    cand_vecs, query_vecs = [], []
    for lang in langs:
        size = max(2, int(XQUAD_R_POOLS[lang] * scale))
        answers = rng.integers(0, size, size=n_questions)  # several questions share an answer sentence
        topic = rng.normal(size=(size, dim)).astype(np.float32)
        for i, j in enumerate(answers):
            topic[j] = meaning[i]
        cand_vecs.append(topic + accent[lang] + rng.normal(scale=0.9, size=(size, dim)).astype(np.float32))
        candidates += [Candidate(f"{lang}/{j}", lang, "s") for j in range(size)]
        for i, j in enumerate(answers):
            qrels[f"q{i}"][f"{lang}/{j}"] = 1
        queries += [Query(f"q{i}", lang, "q") for i in range(n_questions)]
        query_vecs.append(meaning + accent[lang] + rng.normal(scale=0.9, size=(n_questions, dim)).astype(np.float32))
    qe, ce = np.concatenate(query_vecs), np.concatenate(cand_vecs)
    qe /= np.linalg.norm(qe, axis=1, keepdims=True)
    ce /= np.linalg.norm(ce, axis=1, keepdims=True)
    return RetrievalSet("xquad-r-shaped", tuple(queries), tuple(candidates), qrels, langs), qe, ce


def _time_matmul(qe, ce, repeats: int) -> float:
    """One plain fp32 product of the same size (median), the floor polyir is measured against."""
    import torch

    q, c = torch.from_numpy(qe), torch.from_numpy(ce)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        product = q @ c.T
        times.append(time.perf_counter() - start)
        del product
    return median(times)


def _time_polyir(rset, qe, ce, repeats: int):
    from polyir.evaluate import evaluate_embeddings

    evaluate_embeddings(rset, qe, ce, depth=RUN_DEPTH)  # loads the numba kernels from their cache
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = evaluate_embeddings(rset, qe, ce, depth=RUN_DEPTH)
        times.append(time.perf_counter() - start)
    return median(times), result


def _pytrec_setting(rset, qe, ce, qlang, pool, trec_names, run_lists):
    import pytrec_eval

    rows = [i for i, q in enumerate(rset.queries) if q.lang == qlang]
    cols = [i for i, c in enumerate(rset.candidates) if pool in ("multi", c.lang)]
    scores, indices = run_lists(qe[rows], ce[cols], [rset.candidates[c].id for c in cols])
    start = time.perf_counter()
    ids = [rset.candidates[c].id for c in cols]
    run = {rset.queries[r].id: {ids[c]: s for c, s in zip(idx, sc)}
           for r, idx, sc in zip(rows, indices.tolist(), scores.tolist())}
    pool_ids = set(ids)
    qrels = {qid: {c: g for c, g in rel.items() if c in pool_ids and g > 0} for qid, rel in rset.qrels.items()}
    qrels = {qid: rel for qid, rel in qrels.items() if rel}
    built = time.perf_counter()
    values = pytrec_eval.RelevanceEvaluator(qrels, set(trec_names)).evaluate(run)
    return values, built - start, time.perf_counter() - built


def run(rset, query_emb, cand_emb, *, repeats: int = 2, check: bool = True) -> dict[str, float]:
    """Time polyir and pytrec_eval on every setting of ``rset``; assert equal values."""
    from polyir.evaluate.search.topk_search import search

    from polyir.progress import show_progress

    show_progress(False)  # as `polyir -q`
    polyir_s, result = _time_polyir(rset, query_emb, cand_emb, repeats)
    matmul_s = _time_matmul(np.ascontiguousarray(query_emb, np.float32), np.ascontiguousarray(cand_emb, np.float32),
                            repeats)
    trec = {m.name: m.trec_name for m in result.measures}
    lists = lambda q, c, ids: search(q, c, RUN_DEPTH, candidate_ids=ids)  # noqa: E731
    build_s = eval_s = 0.0
    checked = 0
    pq = result.per_query
    for setting in result.settings.values():
        values, build, evaluate = _pytrec_setting(rset, query_emb, cand_emb, setting.query_lang, setting.pool,
                                                  trec.values(), lists)
        build_s, eval_s = build_s + build, eval_s + evaluate
        if check:
            rows = np.flatnonzero(pq.setting == setting.name)
            assert len(rows) == len(values), setting.name
            for name, trec_name in trec.items():
                expected = np.asarray([values[qid][trec_name] for qid in pq.query_id[rows]])
                np.testing.assert_allclose(pq.values[name][rows], expected, rtol=0, atol=1e-6)
                checked += len(rows)
    return {"settings": len(result.settings), "queries": len(rset.queries), "candidates": len(rset.candidates),
            "polyir_s": polyir_s, "matmul_s": matmul_s, "pytrec_build_s": build_s, "pytrec_evaluate_s": eval_s,
            "speedup_vs_evaluate": eval_s / polyir_s, "speedup_vs_build_and_evaluate": (build_s + eval_s) / polyir_s,
            "values_checked": checked}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="120 questions and 1/10 pools (a smoke run)")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n, scale = (120, 0.1) if args.quick else (1190, 1.0)
    rset, qe, ce = xquad_shaped(args.seed, args.dim, n, scale)
    timings = run(rset, qe, ce)
    print(f"XQuAD-R-shaped: {timings['queries']} queries, {timings['candidates']} candidates, dim {args.dim}, "
          f"{timings['settings']} settings, depth {RUN_DEPTH}; all {timings['values_checked']} per-query values "
          "equal pytrec_eval (1e-6)\n")
    print("| step | seconds |\n|---|---|")
    print(f"| polyir: all settings + bias, from embeddings | {timings['polyir_s']:.2f} |")
    print(f"| one plain fp32 product of the same size (q @ c.T) | {timings['matmul_s']:.2f} |")
    print(f"| ratio polyir / plain product | {timings['polyir_s'] / timings['matmul_s']:.2f}x |")
    print(f"| pytrec_eval: build run/qrels dicts | {timings['pytrec_build_s']:.2f} |")
    print(f"| pytrec_eval: evaluate() | {timings['pytrec_evaluate_s']:.2f} |")
    print(f"| ratio pytrec_eval evaluate / polyir | {timings['speedup_vs_evaluate']:.1f}x |")
    print(f"| ratio pytrec_eval build+evaluate / polyir | {timings['speedup_vs_build_and_evaluate']:.1f}x |")


if __name__ == "__main__":
    main()
