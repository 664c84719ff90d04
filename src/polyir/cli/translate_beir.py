"""``polyir translate BEIR_DIR --out OUT --source de --targets en``: a BEIR data set into other
languages, one BEIR directory per target (``OUT/<lang>/``).  Part of the ``translate`` command
(`cli.translate` hands a directory input over to `translate_beir_directory`)."""
from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError
from ..io import atomic_write_json
from ..translate.backends import TranslatorPool
from ..translate.beir_pipeline import BeirTranslateOptions, translate_beir
from ..translate.cache import TranslationCache
from .translate_settings import decoding_settings, filter_config_from_args, model_choice

PAIR_ONLY = (("--translations-only", "translations_only"), ("--exclude", "exclude"), ("--contained", "contained"))


def translate_beir_directory(args: argparse.Namespace) -> int:
    given = [flag for flag, name in PAIR_ONLY if getattr(args, name)]
    if given:
        raise ConfigError(f"{', '.join(given)}: only for pair files, not a BEIR directory")
    options = BeirTranslateOptions(source=args.source, targets=tuple(args.targets), batch_size=args.batch_size,
                                   chunk_size=1000 if args.chunk_size is None else args.chunk_size, split_passages=not args.no_split,
                                   filters=filter_config_from_args(args), on_reject=args.on_reject or "source")
    pool = TranslatorPool(model_choice(args.model or []), decoding_settings(args))
    with TranslationCache(":memory:" if args.no_cache else args.cache) as cache:
        reports = translate_beir(args.input, args.out, options, pool, cache)
    for report in reports:
        _print_summary(report)
    if args.report:
        atomic_write_json(args.report, {r.target: r.manifest() for r in reports})
    return 0


def _print_summary(report) -> None:
    for kind, file_report in report.files.items():
        seg = file_report.segments
        rate = f", {seg.translated / seg.seconds:.1f} segments/s" if seg.translated and seg.seconds else ""
        print(f"{report.target} {kind}: {file_report.records} records, {file_report.written} written; "
              f"{seg.segments} segments, {seg.cached} cached, {seg.translated} translated in {seg.seconds:.1f}s{rate}"
              + (f"; {seg.truncated} longer than --max-length (truncated)" if seg.truncated else ""), file=sys.stderr)
    print(f"{report.target}: quality filters (rejected fields per file, field and reason; "
          f"{report.rejections} in {report.out_dir}/polyir-translation-rejects.jsonl):", file=sys.stderr)
    print(report.format_table(), file=sys.stderr)
    removed = sum(q["removed"] for q in report.qrels.values())
    qrels = "copied unchanged" if not removed else f"rewritten without {removed} judgements of dropped records"
    print(f"{report.target}: model calls {report.model_calls}; qrels {qrels}; wrote {report.out_dir}", file=sys.stderr)
