"""``polyir evaluate``: encode an evaluation set once and report every mono / cross /
multilingual setting, language bias, a markdown report and a heatmap."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import evaluate as polyir_evaluate  # the scoring kernels (torch, numba) load when a command runs
from ..device_checks import single_process_device
from ..embcache import EmbeddingCache
from ..errors import ConfigError
from ..evaluate.eval_options import EvalData, EvalOptions
from ..io import atomic_write_json, output_directory
from ..languages import normalise_language
from ..model_loading import load_model


def encoding_options(args: argparse.Namespace, **scoring):
    return EvalOptions(candidate_text=args.candidate_text, prompts=args.prompts, query_prompt=args.query_prompt,
                       passage_prompt=args.passage_prompt, batch_size=args.batch_size,
                       precision=args.precision, **scoring)


def open_cache(args: argparse.Namespace):
    return None if args.no_cache else EmbeddingCache(args.cache_dir)


BEIR_MEASURES = ("nDCG@10", "R@100", "AP", "RR")  # BEIR's headline measures first


def _translations(values: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        lang, sep, directory = value.partition("=")
        if not sep or not lang or not directory:
            raise ConfigError(f"--translation expects LANG=DIR, got {value!r}")
        pairs.append((normalise_language(lang, record="--translation"), directory))
    return tuple(pairs)


def run(args: argparse.Namespace) -> int:
    single_process_device(args.device, "--device")  # a device the machine lacks fails before any loading
    output_directory(args.out, create=False)  # before the work, not after it
    if args.stream_corpus:
        return run_streamed(args)
    run_depth = args.run_depth or (100 if args.save_runs else None)
    measures = args.measures or (BEIR_MEASURES if args.dataset == "beir" else ("AP", "RR", "R@1", "R@10", "nDCG@10"))
    options = encoding_options(args, measures=tuple(measures), depth=args.depth, bias_k=args.bias_k,
                               backend=args.backend, run_depth=run_depth, memory_mb=args.memory_mb)
    data = EvalData(dataset=args.dataset, data_dir=args.data_dir,
                    languages=tuple(args.languages) if args.languages else None,
                    max_queries=args.max_queries, split=args.split, translations=_translations(args.translation))
    rset = polyir_evaluate.load_eval_set(data)
    model = load_model(args.model, device=args.device, dtype=args.dtype, max_seq_length=args.max_seq_length)
    cache = open_cache(args)
    try:
        evaluation = polyir_evaluate.evaluate_model(model, rset, options, cache=cache, progress=not args.quiet)
    finally:
        if cache is not None:
            cache.close()
    evaluation.info["data"] = {"dataset": args.dataset, "data_dir": args.data_dir, "languages": list(rset.languages),
                               "max_queries": args.max_queries, "translations": dict(data.translations)}
    gap = _translation_gap(evaluation, rset, data, args)
    appendix = f"## Translation: change against the original\n\n{gap.markdown()}" if gap else None
    written = polyir_evaluate.write_outputs(evaluation, rset, args.out, save_runs=args.save_runs,
                            title=f"{args.model} on {rset.name}", appendix=appendix)
    print(polyir_evaluate.summary_table(evaluation.result))
    if gap is not None:
        written.append(_write_gap(gap, args.out))
        print(f"\ntranslation (original {gap.original_lang}; delta = setting - original, paired test over queries):")
        print(gap.markdown())
    enc = evaluation.info["encoding"]
    print(f"\nencoded {enc['encoded_texts']} texts in {enc['forward_batches']} forward passes "
          f"({enc['cache_hits']} from the cache); wrote {len(written)} files to {args.out}", file=sys.stderr)
    return 0


def _translation_gap(evaluation, rset, data, args):
    if not data.translations:
        return None
    if args.resamples < 1:
        raise ConfigError(f"--resamples must be >= 1, got {args.resamples}")
    return polyir_evaluate.translation_gap(evaluation.result, rset.meta["original_language"], n_resamples=args.resamples)


def _write_gap(gap, out_dir: str):
    path = Path(out_dir) / "translation.json"
    atomic_write_json(path, gap.to_dict())
    return path


def run_streamed(args: argparse.Namespace) -> int:
    if args.dataset != "beir" or (args.languages and len(args.languages) > 1) or args.translation:
        raise ConfigError("--stream-corpus evaluates one BEIR collection: --dataset beir, at most one language, "
                          "no --translation")
    if args.depth is not None and args.depth != (args.run_depth or 100):
        raise ConfigError("with --stream-corpus the measures are computed at the run depth: set --run-depth, not --depth")
    options = encoding_options(args, measures=tuple(args.measures or BEIR_MEASURES), backend=args.backend,
                               run_depth=args.run_depth or 100, memory_mb=args.memory_mb)
    model = load_model(args.model, device=args.device, dtype=args.dtype, max_seq_length=args.max_seq_length)
    cache = open_cache(args)
    try:
        evaluation = polyir_evaluate.evaluate_streamed(model, args.data_dir, args.languages[0] if args.languages else None,
                                       options=options, split=args.split, cache=cache,
                                       progress=not args.quiet)
    finally:
        if cache is not None:
            cache.close()
    written = polyir_evaluate.write_streamed(evaluation, args.out, save_run=args.save_runs)
    print("| measure | value |\n|---|---|")
    for measure, value in evaluation.summary().items():
        print(f"| {measure} (depth {evaluation.depth}) | {value:.4f} |")
    print(f"\n{len(evaluation.query_ids)} queries, {len(evaluation.doc_ids)} passages streamed; "
          f"wrote {len(written)} files to {args.out}", file=sys.stderr)
    return 0
