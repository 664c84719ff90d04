"""``polyir report``: tables, figures, significance tests and a summary from a results database."""
from __future__ import annotations

import argparse
import sys

from ..experiments.sweep_report import write_report


def run(args: argparse.Namespace) -> int:
    report = write_report(args.db, args.out, reference=args.reference, measures=tuple(args.measure),
                          n_resamples=args.resamples, seed=args.seed, all_pairs=args.all_pairs, level=args.level,
                          title=args.title)
    print(report.table)
    if report.summary:
        print("\n" + "\n".join(f"- {line}" for line in report.summary))
    print(f"\nwrote {report.markdown}, {report.html} and {len(report.figures)} figures", file=sys.stderr)
    return 0


