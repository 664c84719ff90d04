"""How many comparisons the fast scores leave undecided (docs/design.md, "canonical score").

    PYTHONPATH=src python benchmarks/near_ties.py   # synthetic XQuAD-R-shaped embeddings

`run(rset, query_emb, cand_emb)` is called by `benchmarks/eval_speed.py` on real XQuAD-R
embeddings.  Per query, over all its relevant items: the candidates within the fast window
(±2 slacks around the item's fast score) and within one slack of its canonical score,
besides the item itself; the share of candidates at or above the lowest relevant item's
window (what the kernel compacts the row to); and how many candidates a bfloat16 product's
rigorous window (2 × the bf16 error bound) would hold.
"""
from __future__ import annotations

import numpy as np


def run(rset, query_emb, cand_emb, *, block: int = 1000) -> dict[str, float]:
    import torch

    from polyir.evaluate.scoring import build_layout
    from polyir.evaluate.search.exact_scores import REDUCED_INPUT_UNIT, ScoreVectors, canonical_scores, product_error_unit

    layout = build_layout(rset)
    cands = np.ascontiguousarray(np.asarray(cand_emb, np.float32)[layout.cand_order])
    queries = np.ascontiguousarray(query_emb, np.float32)
    vectors = ScoreVectors.build(queries, cands)
    bf16_slack = product_error_unit(queries.shape[1], REDUCED_INPUT_UNIT) * vectors.slack / product_error_unit(
        queries.shape[1])
    totals = dict.fromkeys(("fast_window", "canonical_window", "compacted", "bf16_window"), 0.0)
    for start in range(0, len(queries), block):
        stop = min(start + block, len(queries))
        fast = (torch.from_numpy(queries[start:stop]) @ torch.from_numpy(cands).T).numpy().astype(np.float64)
        rel, n_rel = layout.rel_pos[start:stop], layout.n_rel[start:stop]
        valid = np.arange(rel.shape[1])[None, :] < n_rel[:, None]
        rows = np.repeat(np.arange(stop - start), rel.shape[1])[valid.ravel()]
        canonical = np.full(rel.shape, np.nan)
        canonical[valid] = canonical_scores(queries[start:stop], cands, rows, rel[valid])
        item_fast = np.take_along_axis(fast, rel, axis=1)
        slack = vectors.slack[start:stop, None]
        for j in range(rel.shape[1]):
            on = valid[:, j]
            own = on.sum()  # each item is in its own windows
            totals["fast_window"] += (np.abs(fast - item_fast[:, j:j + 1]) <= 2 * slack)[on].sum() - own
            totals["canonical_window"] += (np.abs(fast - canonical[:, j:j + 1]) <= slack)[on].sum() - own
            totals["bf16_window"] += (np.abs(fast - item_fast[:, j:j + 1]) <= 2 * bf16_slack[start:stop, None])[on].sum()
        lowest = np.where(valid, item_fast, np.inf).min(axis=1, initial=np.inf)
        totals["compacted"] += (fast >= lowest[:, None] - 2 * slack).mean(axis=1)[n_rel > 0].sum()
    queries_with = float((layout.n_rel > 0).sum())
    return {"queries": len(queries), "candidates": len(cands), "relevant_per_query": float(layout.n_rel.mean()),
            "slack_unit_vectors": float(product_error_unit(queries.shape[1])),
            "near_ties_fast_window_per_query": totals["fast_window"] / queries_with,
            "near_ties_within_one_slack_per_query": totals["canonical_window"] / queries_with,
            "share_compacted": totals["compacted"] / queries_with,
            "bf16_window_per_query_and_item": totals["bf16_window"] / float(layout.n_rel.sum())}


def main() -> None:
    import metrics_speed

    rset, qe, ce = metrics_speed.xquad_shaped()
    for key, value in run(rset, qe, ce).items():
        print(f"{key}: {value:.4g}")


if __name__ == "__main__":
    main()
