"""``polyir demo``: synthetic data -> tiny encoder -> a sweep of batch compositions -> report.

What ``make demo`` runs: offline, a few minutes on a CPU.  With ``--data``, ``--eval`` and
``--model`` the same pipeline runs on real data and a real model.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ConfigError
from ..experiments.demo_settings import DemoOptions
from ..experiments.demo_study import run_demo


def options_from_args(args: argparse.Namespace):
    if args.data and not args.eval_dir:
        raise ConfigError("--data needs --eval (an evaluation directory that the training data must not overlap)")
    chosen = {"out": Path(args.out), "data": tuple(args.data), "eval_dir": args.eval_dir,
              "eval_format": args.eval_format, "model": args.model, "lr": args.lr, "jobs": args.jobs,
              "threads": args.threads, "max_queries": args.max_queries}
    for name in ("seeds", "steps", "batch_size", "resamples"):
        if getattr(args, name) is not None:
            chosen[name] = getattr(args, name)
    if args.strategies:
        chosen["strategies"] = tuple(args.strategies)
    return DemoOptions.quick(**chosen) if args.quick else DemoOptions(**chosen)


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    result = run_demo(options, echo=lambda line: print(line, file=sys.stderr, flush=True), progress=not args.quiet)
    report = result.report
    print(f"\nBatch composition on {report.analysis.eval_sets[0]} ({report.analysis.measures[0]}, "
          f"mean ± std over seeds; ▲†/▼† = significantly better/worse than {report.analysis.reference}, "
          f"Holm-adjusted p < {report.analysis.level}):\n")
    print(report.table)
    if report.summary:
        print("\nSummary (paired tests over questions):")
        print("\n".join(f"- {line.split(': ', 1)[1]}" for line in report.summary))
    print(f"\nreport: {report.html} (and {report.markdown}); results: {result.db_path}")
    print(f"{result.finished} runs trained/evaluated, {result.reused} reused; {result.seconds:.0f} s", file=sys.stderr)
    return 0
