"""``polyir data filter``: the translation quality filters on any pair file."""
from __future__ import annotations

import argparse
import sys

from ..io import atomic_write_json
from ..languages import normalise_language
from ..translate.filter_pairs import filter_pair_file
from .translate_options import add_filter_arguments, filter_config_from_args, print_filter_report


def _filter(args: argparse.Namespace) -> int:
    report = filter_pair_file(args.input, args.out, normalise_language(args.source), filter_config_from_args(args))
    print_filter_report(report)
    print(f"kept {sum(report.kept.values())} of {sum(report.checked.values())} checked pairs; wrote {args.out}",
          file=sys.stderr)
    if args.report:
        atomic_write_json(args.report, report.to_dict())
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("filter", help="drop bad machine translations (empty, untranslated, loops, length, language)",
                              description="Check every pair not in the source language against its group's "
                                          "source-language pair (see docs/translation.md).")
    p.add_argument("input", help="pair file")
    p.add_argument("--out", required=True, help="filtered pair file")
    p.add_argument("--source", default="en", help="language the others were translated from (default en)")
    p.add_argument("--report", help="write the per-language counts as JSON")
    add_filter_arguments(p, optional=False)
    p.set_defaults(func=_filter)
