"""Evaluation speed on real XQuAD-R (all 11 languages) with a real encoder.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/eval_speed.py \
        [--model /work/models/me5-small] [--data ../shared/data/xquad-r] [--encode-sample 1000]

Measures, in one run on the same machine:

1. time after encoding: `evaluate_embeddings` on the 13,090 queries x 13,014 candidates,
   i.e. all 132 settings (11 mono, 110 cross, 11 multi) + rank distance, same-language
   preference and strong alignment, matrix products included, against one plain fp32
   product of the same size (`q @ c.T`), timed alternately in the same run (target
   <= 1.3x the product);
2. the same metrics through pytrec_eval on depth-1000 runs, and polyir with depth=1000:
   values asserted identical (1e-6), time ratio (target polyir >= 50x faster);
3. encoding throughput of `polyir.encode.encode` against `SentenceTransformer.encode`
   with the same model, batch size and texts (a seeded sample; target >= 1.0x);
4. the cached re-run: `polyir.encode.encode` on every query and candidate again, all
   served from the embedding cache (zero forward passes asserted);
5. how many comparisons the fast product leaves to canonical scores (`near_ties.py`).

The first run encodes all 26k texts into the embedding cache (tens of minutes on 2 CPU
cores); later runs read them back.  Prints a markdown table (paste into docs/benchmarks.md).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from statistics import median

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DEFAULT_MODEL = Path("/work/models/me5-small")
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "xquad-r"


def encode_all(model, rset, cache, stats):
    from polyir.encode import encode
    from polyir.types import candidate_text

    q = encode(model, [x.text for x in rset.queries], kind="query", cache=cache, stats=stats)
    c = encode(model, [candidate_text(x) for x in rset.candidates], kind="passage", cache=cache, stats=stats)
    return q, c


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--encode-sample", type=int, default=1000,
                        help="texts for the side-by-side encoding comparison (0 to skip)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache-dir", help="embedding cache directory (default: POLYIR_CACHE_DIR or ~/.cache/polyir)")
    args = parser.parse_args(argv)
    if not Path(args.data).is_dir():
        print(f"skipped: {args.data} not present", file=sys.stderr)
        return 0
    from polyir.progress import show_progress

    show_progress(False)  # as `polyir -q`
    import torch

    torch.set_num_threads(args.threads)
    import metrics_speed
    from polyir.data import load_lareqa
    from polyir.embcache import EmbeddingCache
    from polyir.encode import EncodeStats
    from polyir.evaluate import evaluate_embeddings
    from polyir.model_loading import load_model

    rset = load_lareqa(args.data)
    model = load_model(args.model, device="cpu")
    cache = EmbeddingCache(args.cache_dir)
    encode_all(model, rset, cache, EncodeStats())  # fills the cache on the first run
    stats = EncodeStats()
    started = time.perf_counter()
    q, c = encode_all(model, rset, cache, stats)
    cached_seconds = time.perf_counter() - started
    assert stats.forward_batches == 0, stats

    # side by side: one plain product of the same size, then the evaluation, alternately
    queries, candidates = torch.from_numpy(np.ascontiguousarray(q, np.float32)), \
        torch.from_numpy(np.ascontiguousarray(c, np.float32))
    times, product_times = [], []
    for _ in range(args.repeats):
        t = time.perf_counter()
        product = queries @ candidates.T
        product_times.append(time.perf_counter() - t)
        del product
        t = time.perf_counter()
        result = evaluate_embeddings(rset, q, c)
        times.append(time.perf_counter() - t)
    summary = result.summary()
    trec = metrics_speed.run(rset, q, c, repeats=args.repeats, check=True)
    evaluation_s, product_s = median(times), median(product_times)

    rows = [
        ("queries x candidates", f"{len(rset.queries)} x {len(rset.candidates)}"),
        (f"polyir: 132 settings + bias, full depth (median of {args.repeats})", f"{evaluation_s:.2f} s"),
        (f"one plain fp32 product {len(rset.queries)} x {len(rset.candidates)} x {q.shape[1]} (median of "
         f"{args.repeats}, same run)", f"{product_s:.2f} s"),
        ("evaluation / plain product", f"{evaluation_s / product_s:.2f}x"),
        ("mono / cross / multi mAP", f"{summary['mono']['AP']:.3f} / {summary['cross']['AP']:.3f} / "
                                     f"{summary['multi']['AP']:.3f}"),
        ("rank distance", f"{summary['rank_distance']:.0f}"),
    ]
    rows += [(f"depth-1000 comparison: {k}", f"{v:.2f}" if isinstance(v, float) else str(v)) for k, v in trec.items()]
    rows.append(("cached re-run: encode 26k texts from the cache", f"{cached_seconds:.2f} s (0 forward passes)"))
    import near_ties

    rows += [(f"near-ties: {k}", f"{v:.4g}") for k, v in near_ties.run(rset, q, c).items()]
    if args.encode_sample:
        import encode_speed

        texts = encode_speed.load_texts(args.encode_sample, seed=0)
        enc = encode_speed.run(args.model, texts, args.batch_size, repeats=args.repeats, threads=args.threads)
        rows += [(f"encoding ({len(texts)} texts, batch {args.batch_size}): {k}", f"{v:.3f}" if isinstance(v, float)
                  else str(v)) for k, v in enc.items()]
    print("| measurement | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
