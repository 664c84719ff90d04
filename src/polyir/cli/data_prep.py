"""``polyir data import | stats | leakage | split-articles | split``: training-data preparation.

`register_data_commands` adds these to the ``polyir data`` sub-command parser.
"""
from __future__ import annotations

import argparse
import sys
from itertools import chain
from pathlib import Path

from ..data.pairs.importers.table_import import parse_mapping
from ..data.pairs.importing import FORMATS, ImportOptions, import_pairs
from ..data.pairs.leakage import LeakageIndex, filter_leakage_file
from ..data.pairs.pair_files import iter_pairs
from ..data.pairs.splits import split_pair_file, split_squad_directory
from ..data.pairs.pair_stats import collection_stats, format_stats
from ..io import atomic_write_json
from .argtypes import non_negative_int, open_fraction, positive_int


def _import(args: argparse.Namespace) -> int:
    result = import_pairs(args.format, args.inputs, args.out, options_from_args(args), exclude=args.exclude,
                          min_languages=args.min_languages, contained=args.contained)
    print(f"wrote {result.pairs} pairs to {args.out}", file=sys.stderr)
    for reason, n in sorted(result.stats.items()):
        print(f"  {reason}: {n}", file=sys.stderr)
    if result.leakage is not None:
        print(result.leakage.summary(), file=sys.stderr)
    return 0


def _stats(args: argparse.Namespace) -> int:
    stats = collection_stats(chain.from_iterable(iter_pairs(path) for path in args.files))
    print(format_stats(stats))
    if args.json:
        atomic_write_json(args.json, stats.to_dict())
    return 0


def _leakage(args: argparse.Namespace) -> int:
    index = LeakageIndex.from_path(args.eval[0])
    for path in args.eval[1:]:
        index = index | LeakageIndex.from_path(path)
    report = filter_leakage_file(args.input, args.out, index, contained=args.contained)
    print(report.summary(), file=sys.stderr)
    if args.report:
        atomic_write_json(args.report, report.to_dict())
    return 0


def _split_articles(args: argparse.Namespace) -> int:
    split = split_squad_directory(args.directory, args.train_dir, args.heldout_dir,
                                  heldout_fraction=args.fraction, seed=args.seed)
    print(f"{len(split.train_articles)} training articles, {len(split.heldout_articles)} held out "
          f"({', '.join(split.to_dict()['heldout_titles'])}); {len(split.files)} files each", file=sys.stderr)
    return 0


def _split(args: argparse.Namespace) -> int:
    n_train, n_heldout = split_pair_file(args.input, args.train_out, args.heldout_out,
                                         heldout_fraction=args.fraction, seed=args.seed)
    print(f"{n_train} training pairs, {n_heldout} held-out pairs", file=sys.stderr)
    return 0


def add_import_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("format", choices=FORMATS, help="source format")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="input files or directories, LANG=PATH where the language is not in the file")
    p.add_argument("--out", required=True, help="output pair file: .jsonl, .jsonl.gz or .parquet")
    p.add_argument("--dataset", nargs="+", default=None,
                   help="data-set name: one for all inputs or one per input (default: the output file stem)")
    p.add_argument("--lang", help="language of inputs given without LANG=")
    p.add_argument("--skip-invalid", action="store_true",
                   help="count and skip invalid records instead of stopping at the first")
    g = p.add_argument_group("squad")
    g.add_argument("--positive", choices=("sentence", "paragraph"), default="sentence",
                   help="the answer sentence (default) or the whole paragraph")
    g.add_argument("--keep-unanswerable", action="store_true", help="keep SQuAD v2 unanswerable questions")
    g = p.add_argument_group("table / triples")
    g.add_argument("--map", action="append", default=[],
                   help="column mapping, e.g. query=question,positive=answer,id=qid,lang=language")
    g.add_argument("--no-header", action="store_true", help="CSV/TSV without a header row (columns by index)")
    g.add_argument("--with-ids", action="store_true", help="triples: the first column is an id")
    g = p.add_argument_group("beir / mmarco")
    g.add_argument("--split", default="train", help="beir: qrels split (default train)")
    g.add_argument("--max-negatives", type=non_negative_int, default=1, help="negatives per pair (default 1)")
    g.add_argument("--max-groups", type=positive_int, help="mmarco: only the first N query ids")
    g.add_argument("--queries", nargs="+", default=[], metavar="LANG=PATH", help="mmarco: queries TSV per language")
    g.add_argument("--collection", nargs="+", default=[], metavar="LANG=PATH",
                   help="mmarco: collection TSV per language")
    g = p.add_argument_group("group filters (together they cost one extra pass over the inputs)")
    g.add_argument("--exclude", nargs="+", default=[], metavar="EVAL",
                   help="drop groups leaking into these evaluation sets (directory, SQuAD .json, pair file)")
    g.add_argument("--contained", action="store_true", help="with --exclude: also substring-match positives")
    g.add_argument("--min-languages", type=positive_int, default=1, help="keep groups with at least K languages")


def options_from_args(args: argparse.Namespace) -> ImportOptions:
    dataset = args.dataset or [Path(args.out).name.split(".")[0]]
    return ImportOptions(
        lang=args.lang, dataset=dataset[0] if len(dataset) == 1 else dataset, positive=args.positive,
        keep_unanswerable=args.keep_unanswerable, skip_invalid=args.skip_invalid,
        mapping=parse_mapping(args.map) if args.map else {}, header=not args.no_header, with_ids=args.with_ids,
        split=args.split, max_negatives=args.max_negatives, max_groups=args.max_groups,
        queries=args.queries, collection=args.collection)


def _add_import(sub) -> None:
    p = sub.add_parser("import", help="import training pairs from SQuAD / bitext / BEIR / mMARCO / tables",
                       description="Convert a source format into the canonical pair file "
                                   "(see docs/training-data.md).")
    add_import_arguments(p)
    p.set_defaults(func=_import)


def register_data_commands(data_subparsers) -> None:
    """Add import, stats, leakage, split-articles and split to ``polyir data``."""
    _add_import(data_subparsers)

    p = data_subparsers.add_parser("stats", help="counts, language coverage and text lengths of pair files")
    p.add_argument("files", nargs="+", help="pair files (.jsonl, .jsonl.gz, .parquet)")
    p.add_argument("--json", help="also write the statistics as JSON to this file")
    p.set_defaults(func=_stats)

    p = data_subparsers.add_parser("leakage", help="drop training groups that overlap evaluation sets")
    p.add_argument("input", help="pair file to filter")
    p.add_argument("--eval", nargs="+", required=True,
                   help="evaluation sets: XQuAD-R-style directories, SQuAD .json files or pair files")
    p.add_argument("--out", required=True, help="filtered pair file")
    p.add_argument("--contained", action="store_true",
                   help="also drop positives contained in an evaluation paragraph (slower)")
    p.add_argument("--report", help="write the per-reason / per-language counts as JSON")
    p.set_defaults(func=_leakage)

    p = data_subparsers.add_parser("split-articles", help="split an XQuAD-R-style directory by article")
    p.add_argument("directory", help="one SQuAD-format file per language, parallel articles")
    p.add_argument("--train-dir", required=True)
    p.add_argument("--heldout-dir", required=True)
    p.add_argument("--fraction", type=open_fraction, required=True, help="fraction of articles held out")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.set_defaults(func=_split_articles)

    p = data_subparsers.add_parser("split", help="split a pair file by group (hash of seed, data set, id)")
    p.add_argument("input")
    p.add_argument("--train-out", required=True)
    p.add_argument("--heldout-out", required=True)
    p.add_argument("--fraction", type=open_fraction, required=True, help="expected fraction of groups held out")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.set_defaults(func=_split)
