"""Training's up-front tokenisation: one thread against `tokenizer_threads` (issue 9, per-run overhead).

    python benchmarks/tokenize_upfront.py --model models/me5-small --pairs data/study/squad-es-it.jsonl

Tokenises every query and positive of a pair file with the model's tokenizer (E5 prompts,
lengths 64 / 128) into a fresh `Featurizer`, serially and in threads, alternately, and checks
that both give the same ids.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from polyir.encode_loop import TOKENIZE_CHUNK, tokenizer_threads
from polyir.featurize import Featurizer
from polyir.model_loading import Prompts, load_model


def tokenize(module, queries, passages, workers):
    featurizer = Featurizer(module, Prompts("query: ", "passage: "), max_query_length=64, max_passage_length=128)
    started = time.perf_counter()
    featurizer.warm(queries, "query", chunk=TOKENIZE_CHUNK, workers=workers(len(queries)))
    featurizer.warm(passages, "passage", chunk=TOKENIZE_CHUNK, workers=workers(len(passages)))
    return time.perf_counter() - started, featurizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--pairs", required=True, help="a polyir pair file (JSONL)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with open(args.pairs, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    queries, passages = [r["query"] for r in records], [r["positive"] for r in records]
    module = load_model(args.model, device="cpu").module
    times = {"serial": [], "threads": []}
    for _ in range(args.repeats):
        serial, a = tokenize(module, queries, passages, lambda n: 1)
        threaded, b = tokenize(module, queries, passages, tokenizer_threads)
        times["serial"].append(serial)
        times["threads"].append(threaded)
    for kind, texts in (("query", queries), ("passage", passages)):
        assert all(np.array_equal(x[0], y[0]) for x, y in zip(a.rows(texts, kind), b.rows(texts, kind)))
    serial, threaded = float(np.median(times["serial"])), float(np.median(times["threads"]))
    print(json.dumps({"texts": len(queries) + len(passages), "threads": tokenizer_threads(len(passages)),
                      "serial_s": round(serial, 3), "threaded_s": round(threaded, 3),
                      "speedup": round(serial / threaded, 2), "same_ids": True}))


if __name__ == "__main__":
    main()
