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
from .translate_beir import translate_beir_directory
from .translate_settings import decoding_settings, filter_config_from_args, model_choice, print_filter_report


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


def run(args: argparse.Namespace) -> int:
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


