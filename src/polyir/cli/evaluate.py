"""``polyir evaluate``: encode an evaluation set once and report every mono / cross /
multilingual setting, language bias, a markdown report and a heatmap."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import evaluate as polyir_evaluate  # the scoring kernels (torch, numba) load when a command runs
from ..device_checks import single_process_device
from ..embcache import EmbeddingCache
from ..encode import PRECISIONS
from ..errors import ConfigError
from ..evaluate.eval_options import DATASET_FORMATS, EvalData, EvalOptions
from ..io import atomic_write_json, output_directory
from ..languages import normalise_language
from ..model_loading import load_model
from ..types import CANDIDATE_TEXT_MODES
from .argtypes import positive_float, positive_int


def add_encoding_arguments(parser: argparse.ArgumentParser) -> None:
    """Encoding options shared by `evaluate` and other commands that encode."""
    g = parser.add_argument_group("encoding")
    g.add_argument("--candidate-text", choices=CANDIDATE_TEXT_MODES, default="sentence",
                   help="encode the candidate sentence alone (default) or sentence + its paragraph (LAReQA)")
    g.add_argument("--prompts", default=None, metavar="PRESET",
                   help="prompt preset: model (default: the model's own), e5 ('query: '/'passage: '), "
                        "paper ('Query: '/'Passage: '), none")
    g.add_argument("--query-prompt", default=None, help="explicit query prefix (overrides the preset)")
    g.add_argument("--passage-prompt", default=None, help="explicit passage prefix (overrides the preset)")
    g.add_argument("--batch-size", type=positive_int, default=32, help="texts per forward pass (default 32)")
    g.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1, mps")
    g.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32",
                   help="dtype the weights are loaded in (float16 only on GPU)")
    g.add_argument("--precision", choices=PRECISIONS, default="fp32",
                   help="inference precision: fp32 (default) or bf16 / fp16 autocast (fp16 only on GPU); "
                        "see docs/encoding.md for its effect on the metrics")
    g.add_argument("--max-seq-length", type=positive_int, default=None, help="truncate texts to this many tokens")
    cache = g.add_mutually_exclusive_group()
    cache.add_argument("--cache-dir", default=None, help="embedding cache (default $POLYIR_CACHE_DIR or ~/.cache/polyir)")
    cache.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Encode queries and candidates of every language once, then compute every monolingual "
                     "(X->X), cross-lingual (X->Y) and multilingual (X->all) setting, language-bias measures, "
                     "OUT/metrics.json, OUT/report.md, OUT/heatmap.png and OUT/per_query.tsv.gz.")
    p.add_argument("--model", required=True, help="sentence-transformers / Hugging Face model directory or hub name")
    p.add_argument("--dataset", choices=DATASET_FORMATS, required=True,
                   help="format of --data-dir: xquad-r / mlqa-r / lareqa (one SQuAD+sentences JSON per "
                        "language) or beir (corpus.jsonl, queries.jsonl, qrels/; or one such directory per language)")
    p.add_argument("--data-dir", required=True, help="evaluation data directory")
    p.add_argument("--languages", nargs="+", default=None, help="languages to load (default: all found)")
    p.add_argument("--max-queries", type=positive_int, default=None,
                   help="evaluate only the first N questions (all their translations; pools stay complete)")
    p.add_argument("--split", default="test", help="BEIR qrels split (default test)")
    p.add_argument("--translation", action="append", default=[], metavar="LANG=DIR",
                   help="beir: a translation of --data-dir (same ids, e.g. made by polyir translate); evaluates "
                        "original, translation and both cross-lingual variants, and the change against the "
                        "original with a paired test over queries (OUT/translation.json; repeatable)")
    p.add_argument("--out", required=True, help="output directory")
    g = p.add_argument_group("scoring")
    g.add_argument("--measures", nargs="+", default=None,
                   help="measures (AP, RR, R@k, P@k, nDCG@k, AP@k; default AP RR R@1 R@10 nDCG@10, "
                        "for beir nDCG@10 R@100 AP RR, as BEIR reports)")
    g.add_argument("--resamples", type=positive_int, default=10_000,
                   help="with --translation: resamples of the paired tests (default 10000)")
    g.add_argument("--depth", type=positive_int, default=None, help="count ranks beyond this as not retrieved (default: full)")
    g.add_argument("--bias-k", type=positive_int, default=10, help="top-k of the same-language preference (default 10)")
    g.add_argument("--backend", choices=("torch", "faiss"), default="torch", help="top-k backend for run files")
    g.add_argument("--save-runs", action="store_true", help="write TREC run files (OUT/runs) and qrels (OUT/qrels)")
    g.add_argument("--run-depth", type=positive_int, default=None, help="run file depth (default 100 with --save-runs)")
    g.add_argument("--memory-mb", type=positive_float, default=1024, help="memory bound of one block of scores (MB)")
    g.add_argument("--stream-corpus", action="store_true",
                   help="beir, one language: stream the corpus from disk (never all passages in memory), exact "
                        "top-k (k = --run-depth, default 100) and the measures at that depth; writes metrics.json, "
                        "per_query.tsv.gz and, with --save-runs, run.trec (docs/evaluation.md)")
    add_encoding_arguments(p)
    p.set_defaults(func=run, on_interrupt=cache_kept)


def encoding_options(args: argparse.Namespace, **scoring):
    return EvalOptions(candidate_text=args.candidate_text, prompts=args.prompts, query_prompt=args.query_prompt,
                       passage_prompt=args.passage_prompt, batch_size=args.batch_size,
                       precision=args.precision, **scoring)


def cache_kept(args: argparse.Namespace) -> str:
    """What an interrupted encoding keeps (`polyir.cli.main` prints it)."""
    if args.no_cache:
        return "nothing was written (--no-cache); re-run the same command to start again"
    return "encoded batches are in the embedding cache; re-run the same command to continue from there"


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
