"""Encoding throughput: `polyir.encode.encode` vs `SentenceTransformer.encode`.

Same model object, same texts, same batch size, same prompt, same thread count; the two
are timed alternately (the order flips every repeat) and the medians are reported, so
drift on a shared machine hits both.  Also reported: the time of a run that fills an
empty embedding cache, of the cached re-run (zero forward passes), the padding each
sorting produces, the fingerprint cost, and the largest difference between the two
implementations' embeddings.

    PYTHONPATH=src python benchmarks/encode_speed.py --limit 1000
    PYTHONPATH=src python benchmarks/encode_speed.py --model DIR --batch-size 64 --out speed.json
    PYTHONPATH=src python benchmarks/encode_speed.py --device cuda --batch-size 256 --precision bf16

``--precision bf16`` runs both under `torch.autocast` (what polyir's ``precision`` does; a
user of sentence-transformers would wrap ``encode`` the same way).

Texts: the XQuAD-R questions and candidate sentences of all 11 languages
(../shared/data/xquad-r; 13,090 questions + 13,014 sentences, 26,021 distinct) when present, else
synthetic text.  ``--limit N`` takes a seeded random sample of N (representative lengths).
Duplicates are removed first so both implementations encode the same number of texts.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_MODEL = Path("/work/models/me5-small")
XQUAD_R = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad-r"


def load_texts(limit: int | None = None, seed: int = 0) -> list[str]:
    """XQuAD-R questions + sentences (all languages), or synthetic text when absent."""
    texts: list[str] = []
    for path in sorted(XQUAD_R.glob("*.json")):
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                texts.extend(qa["question"] for qa in paragraph["qas"])
                texts.extend(paragraph["sentences"])
    if not texts:
        rng = random.Random(seed)
        words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
                 for _ in range(5000)]
        texts = [" ".join(rng.choice(words) for _ in range(int(rng.lognormvariate(2.6, 0.6)) + 1))
                 for _ in range(26000)]
    texts = list(dict.fromkeys(t for t in texts if t.strip()))
    if limit is not None and limit < len(texts):
        texts = random.Random(seed).sample(texts, limit)
    return texts


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def alternate(functions: list, repeats: int) -> list[tuple[list[float], object]]:
    """(times, last result) per function, run in turn; the order flips every repeat."""
    times: list[list[float]] = [[] for _ in functions]
    results: list[object] = [None] * len(functions)
    for repeat in range(repeats):
        order = range(len(functions)) if repeat % 2 == 0 else reversed(range(len(functions)))
        for i in order:
            seconds, results[i] = _timed(functions[i])
            times[i].append(seconds)
    return list(zip(times, results))


def _padded_tokens(lengths, order, batch_size: int) -> int:
    ordered = [lengths[i] for i in order]
    return sum(max(ordered[s:s + batch_size]) * len(ordered[s:s + batch_size])
               for s in range(0, len(ordered), batch_size))


def padding(model, texts: list[str], prompt: str, batch_size: int) -> dict:
    """Padded tokens per real token under character-length sorting (SentenceTransformer)
    and token-length sorting (polyir)."""
    from polyir.encode import token_lengths

    lengths = token_lengths(model, texts, prompt).tolist()
    by_chars = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    by_tokens = sorted(range(len(texts)), key=lambda i: -lengths[i])
    real = sum(lengths)
    return {"tokens": real,
            "padded_tokens_char_sort": _padded_tokens(lengths, by_chars, batch_size),
            "padded_tokens_token_sort": _padded_tokens(lengths, by_tokens, batch_size),
            "padding_overhead_char_sort": _padded_tokens(lengths, by_chars, batch_size) / real - 1,
            "padding_overhead_token_sort": _padded_tokens(lengths, by_tokens, batch_size) / real - 1}


def run(model_path: str | Path, texts: list[str], batch_size: int, *, repeats: int = 3, threads: int = 2,
        device: str = "cpu", precision: str = "fp32") -> dict:
    """Time both implementations on ``texts`` and return the numbers as a dict."""
    import contextlib

    import numpy as np
    import torch

    from polyir.embcache import EmbeddingCache
    from polyir.encode import EncodeStats, encode
    from polyir.fingerprint import directory_digest
    from polyir.model_loading import load_model

    torch.set_num_threads(threads)
    texts = list(dict.fromkeys(texts))
    loaded = load_model(model_path, device=device)
    model, prompt = loaded.module, loaded.prompts.query
    fingerprint_s, _ = _timed(lambda: directory_digest(model_path))
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)

    def with_st(subset=texts):
        with torch.autocast(loaded.module.device.type, dtype=dtype) if dtype else contextlib.nullcontext():
            return model.encode(subset, prompt=prompt, batch_size=batch_size, normalize_embeddings=True,
                                show_progress_bar=False, convert_to_numpy=True)

    def with_polyir(subset=texts):
        return encode(loaded, subset, kind="query", batch_size=batch_size, progress=False, precision=precision)

    with_st(texts[:batch_size * 2]), with_polyir(texts[:batch_size * 2])  # warm-up: allocator, kernels
    (st_times, st_out), (polyir_times, polyir_out) = alternate([with_st, with_polyir], repeats)
    with tempfile.TemporaryDirectory() as tmp, EmbeddingCache(tmp) as cache:
        fill_s, _ = _timed(lambda: encode(loaded, texts, batch_size=batch_size, cache=cache, progress=False,
                                          precision=precision))
        stats = EncodeStats()
        rerun_s, _ = _timed(lambda: encode(loaded, texts, batch_size=batch_size, cache=cache, stats=stats,
                                           progress=False, precision=precision))
    st_s, polyir_s = statistics.median(st_times), statistics.median(polyir_times)
    return {"model": str(model_path), "texts": len(texts), "batch_size": batch_size, "threads": threads,
            "device": str(loaded.module.device), "precision": precision, "repeats": repeats, "sentence_transformers_s": st_s, "polyir_s": polyir_s,
            "sentence_transformers_texts_per_s": len(texts) / st_s, "polyir_texts_per_s": len(texts) / polyir_s,
            "speedup": st_s / polyir_s, "all_times_st": st_times, "all_times_polyir": polyir_times,
            "cache_fill_s": fill_s, "cached_rerun_s": rerun_s, "cached_rerun_forward_batches": stats.forward_batches,
            "fingerprint_s": fingerprint_s, "max_abs_diff": float(np.abs(st_out - polyir_out).max()),
            **padding(model, texts, prompt, batch_size)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--limit", type=int, default=None, help="encode a seeded sample of this many texts")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, ... (default cpu)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    parser.add_argument("--out", type=Path, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    result = run(args.model, load_texts(args.limit), args.batch_size, repeats=args.repeats, threads=args.threads,
                 device=args.device, precision=args.precision)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        from polyir.io import atomic_write_text

        atomic_write_text(args.out, text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
