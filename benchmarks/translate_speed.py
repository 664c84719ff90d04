"""Translation throughput, cold (empty cache) and cached (the same run again), in segments/s.

With no ``--model``, a tiny random Marian model is built offline (its output is meaningless;
it measures the pipeline: sentence splitting, length sorting, batching, the cache) — and
since a random model rarely emits </s>, every segment decodes to ``--max-length`` tokens,
the worst case.  With ``--model`` (a Hugging Face or CTranslate2 directory, or a hub id
already downloaded), the same measurement for a real model.  Prints a markdown table.

    python benchmarks/translate_speed.py --pairs 200 --targets de fr
    python benchmarks/translate_speed.py --model Helsinki-NLP/opus-mt-en-de --targets de --device cuda
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from polyir.progress import show_progress

show_progress(False)  # as `polyir -q`


def toy_pairs(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(2000)]
    sentence = lambda end: " ".join(rng.choice(words) for _ in range(rng.randint(5, 20))).capitalize() + end
    return [{"id": f"b{i}", "lang": "en", "query": sentence("?"),
             "positive": " ".join(sentence(".") for _ in range(rng.randint(1, 4))), "dataset": "bench"}
            for i in range(n)]


def timed_run(src: Path, out: Path, cache_path: Path, args) -> tuple[float, object]:
    from polyir.translate.backends import DecodingSettings, ModelChoice, TranslatorPool
    from polyir.translate.cache import TranslationCache
    from polyir.translate.filters import FilterConfig
    from polyir.translate.pairs_pipeline import TranslateOptions, translate_file

    settings = DecodingSettings(backend=args.backend, num_beams=args.num_beams, max_length=args.max_length,
                                device=args.device, dtype=args.dtype)
    options = TranslateOptions(source="en", targets=tuple(args.targets), batch_size=args.batch_size,
                               filters=FilterConfig(quality=False))
    started = time.perf_counter()
    with TranslationCache(cache_path) as cache:
        report = translate_file(src, out, options, TranslatorPool(ModelChoice(args.model), settings), cache)
    return time.perf_counter() - started, report


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="model (default: a tiny random Marian model built here)")
    p.add_argument("--input", help="pair file to translate (default: --pairs synthetic English pairs)")
    p.add_argument("--pairs", type=int, default=200)
    p.add_argument("--targets", nargs="+", default=["de"])
    p.add_argument("--backend", default="transformers")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--num-beams", type=int, default=1)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--json", help="also write the numbers as JSON")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        records = toy_pairs(args.pairs)
        src = Path(args.input) if args.input else tmp / "in.jsonl"
        if not args.input:
            src.write_text("".join(json.dumps(r) + "\n" for r in records))
        label = args.model or "tiny random Marian (d_model 32)"
        runs = [(args.backend, args)]
        if not args.model:
            from polyir.translate.tiny import build_tiny_translation_model

            texts = [f"{r['query']} {r['positive']}" for r in records[:500]]
            args.model = str(build_tiny_translation_model(tmp / "tiny", texts, vocab_size=2000))
            runs += _ctranslate2_conversion(args, tmp)
        rows = []
        for backend, run_args in runs:
            cold_s, cold = timed_run(src, tmp / f"cold-{backend}.jsonl", tmp / f"{backend}.sqlite", run_args)
            warm_s, warm = timed_run(src, tmp / f"warm-{backend}.jsonl", tmp / f"{backend}.sqlite", run_args)
            step = sum(d.seconds for d in cold.directions.values())
            rows += [(backend, "cold (empty cache)", cold_s, cold.model_calls, step),
                     (backend, "cached (re-run)", warm_s, warm.model_calls, None)]
    segments = sum(d.segments for d in cold.directions.values())
    print(f"model: {label}; device {args.device}; beams {args.num_beams}; max length {args.max_length}; "
          f"batch {args.batch_size}; {cold.source_pairs} pairs -> {', '.join(args.targets)}; {segments} segments\n")
    print("| backend | run | wall s | segments/s (wall) | model calls | segments/s (translation step) |")
    print("|---|---|---|---|---|---|")
    for backend, name, seconds, calls, step in rows:
        rate = f"{segments / step:,.1f}" if step else "—"
        print(f"| {backend} | {name} | {seconds:.2f} | {segments / seconds:,.1f} | {calls} | {rate} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"segments": segments, "rows": rows}, indent=1))
    sys.stdout.flush()


def _ctranslate2_conversion(args, tmp: Path) -> list:
    """The tiny model converted to CTranslate2, when it is installed."""
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError:
        print("(ctranslate2 not installed: no CTranslate2 row)", file=sys.stderr)
        return []
    converted = TransformersConverter(args.model, copy_files=["tokenizer.json", "tokenizer_config.json"]) \
        .convert(str(tmp / "tiny-ct2"), force=True)
    return [("ctranslate2", argparse.Namespace(**{**vars(args), "model": converted, "backend": "ctranslate2"}))]


if __name__ == "__main__":
    main()
