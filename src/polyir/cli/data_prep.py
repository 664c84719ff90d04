"""``polyir data import | stats | leakage | split-articles | split``: training-data preparation
(their options: `polyir.cli.data_options`)."""
from __future__ import annotations

import argparse
import sys
from itertools import chain
from pathlib import Path

from ..data.pairs.importers.table_import import parse_mapping
from ..data.pairs.importing import ImportOptions, import_pairs
from ..data.pairs.leakage import LeakageIndex, filter_leakage_file
from ..data.pairs.pair_files import iter_pairs
from ..data.pairs.splits import split_pair_file, split_squad_directory
from ..data.pairs.pair_stats import collection_stats, format_stats
from ..io import atomic_write_json


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


def options_from_args(args: argparse.Namespace) -> ImportOptions:
    dataset = args.dataset or [Path(args.out).name.split(".")[0]]
    return ImportOptions(
        lang=args.lang, dataset=dataset[0] if len(dataset) == 1 else dataset, positive=args.positive,
        keep_unanswerable=args.keep_unanswerable, skip_invalid=args.skip_invalid,
        mapping=parse_mapping(args.map) if args.map else {}, header=not args.no_header, with_ids=args.with_ids,
        split=args.split, max_negatives=args.max_negatives, max_groups=args.max_groups,
        queries=args.queries, collection=args.collection)


