"""``polyir data filter``: the translation quality filters on any pair file."""
from __future__ import annotations

import argparse
import sys

from ..io import atomic_write_json
from ..languages import normalise_language
from ..translate.filter_pairs import filter_pair_file
from .translate_settings import filter_config_from_args, print_filter_report


def run(args: argparse.Namespace) -> int:
    report = filter_pair_file(args.input, args.out, normalise_language(args.source), filter_config_from_args(args))
    print_filter_report(report)
    print(f"kept {sum(report.kept.values())} of {sum(report.checked.values())} checked pairs; wrote {args.out}",
          file=sys.stderr)
    if args.report:
        atomic_write_json(args.report, report.to_dict())
    return 0


