"""``polyir data``'s sub-commands and their options (what they do: `polyir.cli.data_synthetic`,
`polyir.cli.data_filter` and `polyir.cli.data_prep`, the one that runs imported when it runs), in
the order ``polyir data --help`` lists them."""
from __future__ import annotations

import argparse

from ..data.pairs.importers import FORMATS
from .argtypes import non_negative_int, open_fraction, positive_int
from .translate_options import add_filter_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)
    register_data_commands(commands)


def _add_synthetic(subparsers) -> None:
    parser = subparsers.add_parser(
        "synthetic", help="generate a synthetic multilingual parallel QA collection (XQuAD-R format)",
        description="Write OUT/eval/<lang>.json and OUT/train/<lang>.json (XQuAD-R format, parallel question ids, "
                    "disjoint articles) plus OUT/README.md and OUT/manifest.json. Languages are qaa, qab, ... "
                    "(ISO 639 private use). Deterministic for a seed.")
    parser.add_argument("--languages", type=positive_int, default=4, metavar="N", help="number of languages (default 4)")
    parser.add_argument("--groups", type=positive_int, default=1500, metavar="M",
                        help="training question groups, each in every language (default 1500)")
    parser.add_argument("--eval-questions", type=positive_int, default=300, metavar="K",
                        help="evaluation questions per language (default 300)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--partial", action="store_true",
                        help="MLQA-R shape for eval: each question in 2-4 languages, unequal candidate pools")
    parser.add_argument("--out", required=True, help="output directory")
    parser.set_defaults(handler="data_synthetic:run")


def _add_filter(subparsers) -> None:
    p = subparsers.add_parser("filter", help="drop bad machine translations (empty, untranslated, loops, length, language)",
                              description="Check every pair not in the source language against its group's "
                                          "source-language pair (see docs/translation.md).")
    p.add_argument("input", help="pair file")
    p.add_argument("--out", required=True, help="filtered pair file")
    p.add_argument("--source", default="en", help="language the others were translated from (default en)")
    p.add_argument("--report", help="write the per-language counts as JSON")
    add_filter_arguments(p, optional=False)
    p.set_defaults(handler="data_filter:run")


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


def _add_import(sub) -> None:
    p = sub.add_parser("import", help="import training pairs from SQuAD / bitext / BEIR / mMARCO / tables",
                       description="Convert a source format into the canonical pair file "
                                   "(see docs/training-data.md).")
    add_import_arguments(p)
    p.set_defaults(handler="data_prep:_import")


def register_data_commands(data_subparsers) -> None:
    """Add synthetic, filter, import, stats, leakage, split-articles and split to ``polyir data``."""
    _add_synthetic(data_subparsers)
    _add_filter(data_subparsers)
    _add_import(data_subparsers)

    p = data_subparsers.add_parser("stats", help="counts, language coverage and text lengths of pair files")
    p.add_argument("files", nargs="+", help="pair files (.jsonl, .jsonl.gz, .parquet)")
    p.add_argument("--json", help="also write the statistics as JSON to this file")
    p.set_defaults(handler="data_prep:_stats")

    p = data_subparsers.add_parser("leakage", help="drop training groups that overlap evaluation sets")
    p.add_argument("input", help="pair file to filter")
    p.add_argument("--eval", nargs="+", required=True,
                   help="evaluation sets: XQuAD-R-style directories, SQuAD .json files or pair files")
    p.add_argument("--out", required=True, help="filtered pair file")
    p.add_argument("--contained", action="store_true",
                   help="also drop positives contained in an evaluation paragraph (slower)")
    p.add_argument("--report", help="write the per-reason / per-language counts as JSON")
    p.set_defaults(handler="data_prep:_leakage")

    p = data_subparsers.add_parser("split-articles", help="split an XQuAD-R-style directory by article")
    p.add_argument("directory", help="one SQuAD-format file per language, parallel articles")
    p.add_argument("--train-dir", required=True)
    p.add_argument("--heldout-dir", required=True)
    p.add_argument("--fraction", type=open_fraction, required=True, help="fraction of articles held out")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.set_defaults(handler="data_prep:_split_articles")

    p = data_subparsers.add_parser("split", help="split a pair file by group (hash of seed, data set, id)")
    p.add_argument("input")
    p.add_argument("--train-out", required=True)
    p.add_argument("--heldout-out", required=True)
    p.add_argument("--fraction", type=open_fraction, required=True, help="expected fraction of groups held out")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.set_defaults(handler="data_prep:_split")
