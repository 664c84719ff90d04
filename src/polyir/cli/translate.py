"""``polyir translate``: machine-translate a pair file's source language into target languages."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ConfigError
from ..io import atomic_write_json
from ..translate.backends import TranslatorPool
from ..translate.cache import TranslationCache
from ..translate.pairs_pipeline import TranslateOptions, translate_file
from .argtypes import positive_int
from .translate_beir import translate_beir_directory
from .translate_options import (
    DEFAULT_MODEL,
    add_filter_arguments,
    decoding_settings,
    filter_config_from_args,
    model_choice,
    print_filter_report,
)


def _print_summary(report) -> None:
    for tgt, d in report.directions.items():
        rate = f", {d.translated / d.seconds:.1f} segments/s" if d.translated and d.seconds else ""
        print(f"{tgt}: {d.segments} segments, {d.cached} cached, {d.translated} translated in {d.seconds:.1f}s{rate}"
              + (f"; {d.truncated} longer than --max-length (truncated)" if d.truncated else "")
              + (f"; {d.already_present} groups already had {tgt}" if d.already_present else ""), file=sys.stderr)
    print(f"model calls {report.model_calls}, models loaded {report.models_loaded}", file=sys.stderr)
    for name, leakage in (("before translation", report.leakage), ("in the translations", report.leakage_after)):
        if leakage is not None:
            print(f"{leakage.summary()} ({name})", file=sys.stderr)
    print_filter_report(report.filters)


def _cache_kept(args: argparse.Namespace) -> str:
    if args.no_cache:
        return "nothing was written (--no-cache); re-run the same command to start again"
    return "finished batches are in the translation cache; re-run the same command to continue from there"


def _translate(args: argparse.Namespace) -> int:
    if Path(args.input).is_dir():
        return translate_beir_directory(args)
    given = [flag for flag, value in (("--chunk-size", args.chunk_size), ("--on-reject", args.on_reject))
             if value is not None]
    if given:
        raise ConfigError(f"{', '.join(given)}: only for a BEIR directory, not a pair file")
    return _translate_pairs(args)


def _translate_pairs(args: argparse.Namespace) -> int:
    settings = decoding_settings(args)
    options = TranslateOptions(source=args.source, targets=tuple(args.targets), batch_size=args.batch_size,
                               split_passages=not args.no_split, include_input=not args.translations_only,
                               filters=filter_config_from_args(args), exclude=tuple(args.exclude),
                               contained=args.contained)
    pool = TranslatorPool(model_choice(args.model or []), settings)
    with TranslationCache(":memory:" if args.no_cache else args.cache) as cache:
        report = translate_file(args.input, args.out, options, pool, cache)
    _print_summary(report)
    print(f"wrote {report.written_pairs} pairs to {args.out}", file=sys.stderr)
    if args.report:
        atomic_write_json(args.report, report.to_dict())
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Translate the source-language pairs of a pair file into target languages (translations keep "
                     "their group id), or a BEIR directory into one BEIR directory per target language (same ids "
                     "and qrels); see docs/translation.md.")
    p.add_argument("input", help="pair file (.jsonl, .jsonl.gz, .parquet), or BEIR directory "
                                 "(corpus.jsonl, queries.jsonl, qrels/)")
    p.add_argument("--out", required=True, help="output pair file; for a BEIR directory, the directory that "
                                                "receives one BEIR directory per target (OUT/<lang>/)")
    p.add_argument("--source", default="en", help="language to translate from (default en)")
    p.add_argument("--targets", nargs="+", required=True, metavar="LANG", help="languages to translate into")
    p.add_argument("--model", action="append", metavar="MODEL",
                   help=f"model name or directory; {{src}}/{{tgt}} are filled in per language pair "
                        f"(default {DEFAULT_MODEL}); LANG=MODEL for one target (repeatable)")
    g = p.add_argument_group("decoding")
    g.add_argument("--backend", choices=("transformers", "ctranslate2"), default="transformers")
    g.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps (default cpu)")
    g.add_argument("--batch-size", type=positive_int, default=32, help="segments per model call (default 32)")
    g.add_argument("--max-length", type=positive_int, default=256, help="tokens kept per input and generated per output (default 256)")
    g.add_argument("--num-beams", type=positive_int, default=4, help="beam size; 1 is greedy (default 4)")
    g.add_argument("--dtype", default="float32", help="transformers: float32, float16, bfloat16 (default float32)")
    g.add_argument("--compute-type", default="default", help="ctranslate2: int8, float16, int8_float16, ... (default: the model's)")
    g.add_argument("--tokenizer", help="ctranslate2: tokenizer directory or hub id, if not in the model directory")
    g = p.add_argument_group("data")
    g.add_argument("--no-split", action="store_true", help="translate passages whole instead of sentence by sentence")
    g.add_argument("--translations-only", action="store_true", help="write only the translations, not the input pairs")
    g.add_argument("--exclude", nargs="+", default=[], metavar="EVAL",
                   help="leakage guard: drop groups overlapping these evaluation sets before translating")
    g.add_argument("--contained", action="store_true", help="with --exclude: also substring-match positives")
    cache = g.add_mutually_exclusive_group()
    cache.add_argument("--cache", help="SQLite cache file (default $POLYIR_CACHE_DIR/translations.sqlite or "
                                       "~/.cache/polyir/translations.sqlite)")
    cache.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    g.add_argument("--report", help="write the counts (cache, filters, leakage) as JSON")
    g = p.add_argument_group("BEIR directories")
    g.add_argument("--chunk-size", type=positive_int, default=None,
                   help="records read, translated and written at a time (default 1000): the memory bound")
    g.add_argument("--on-reject", choices=("source", "drop"), default=None,
                   help="a translated field that fails the quality filters: keep the source text of that field "
                        "(default: ids and qrels unchanged), or drop the record and its qrels lines")
    add_filter_arguments(p, optional=True)
    p.set_defaults(func=_translate, on_interrupt=_cache_kept)
