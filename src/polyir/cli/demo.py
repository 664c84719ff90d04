"""``polyir demo``: synthetic data -> tiny encoder -> a sweep of batch compositions -> report.

What ``make demo`` runs: offline, a few minutes on a CPU.  With ``--data``, ``--eval`` and
``--model`` the same pipeline runs on real data and a real model.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ConfigError
from ..evaluate.eval_options import DATASET_FORMATS
from ..experiments.demo_study import DEMO_STRATEGIES, DemoOptions, run_demo
from .argtypes import positive_float, positive_int


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (f"Generate the synthetic multilingual set, initialise a tiny encoder, train "
                     f"{', '.join(DEMO_STRATEGIES[:-1])} and {DEMO_STRATEGIES[-1]} over a few seeds, evaluate them and the untrained model, and "
                     "write a report with significance tests. It is a sweep (OUT/sweep.yaml, OUT/sweep/results.db): "
                     "re-running reuses finished runs. See docs/experiments.md.")
    p.add_argument("--out", default="demo-out", help="output directory (default ./demo-out)")
    p.add_argument("--data", action="append", default=[], metavar="[NAME=]PATH",
                   help="training source instead of the synthetic set (repeatable): an XQuAD-R-format directory, "
                        "a pair file, ...; needs --eval")
    p.add_argument("--eval", dest="eval_dir", metavar="DIR", help="evaluation directory (default: the synthetic set)")
    p.add_argument("--eval-format", default="xquad-r", choices=DATASET_FORMATS,
                   help="format of --eval (default xquad-r)")
    p.add_argument("--model", help="model to fine-tune instead of a tiny from-scratch encoder (a directory)")
    p.add_argument("--strategies", nargs="+", default=None, metavar="STRATEGY",
                   help=f"default: {' '.join(DEMO_STRATEGIES)}")
    p.add_argument("--seeds", type=positive_int, default=None, help="seeds per strategy (default 2)")
    p.add_argument("--steps", type=positive_int, default=None, help="training steps per run (default 300)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="batch size (default 64)")
    p.add_argument("--lr", type=positive_float, default=None, help="learning rate (default 1e-3 from scratch, 3e-5 with --model)")
    p.add_argument("--max-queries", type=positive_int, default=None, help="evaluate only the first N questions")
    p.add_argument("--jobs", type=positive_int, default=2, help="runs at a time (default 2)")
    p.add_argument("--threads", type=positive_int, default=1, help="CPU threads per run (default 1)")
    p.add_argument("--resamples", type=positive_int, default=None, help="resamples per significance test (default 10000)")
    p.add_argument("--quick", action="store_true",
                   help="small sizes for a smoke test: 3 languages, 200 training groups, 40 questions, 30 steps of "
                        "batch 16, one seed, 1000 resamples (explicit options still win)")
    p.set_defaults(func=run, on_interrupt="finished runs are kept; re-run the same command to continue")


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
