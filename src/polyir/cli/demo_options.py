"""``polyir demo``'s options (what the command does: `polyir.cli.demo`, imported when it runs)."""
from __future__ import annotations

import argparse

from ..evaluate.eval_options import DATASET_FORMATS
from ..experiments.demo_settings import DEMO_STRATEGIES
from .argtypes import positive_float, positive_int


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (f"Generate the synthetic multilingual set, initialise a tiny encoder, train "
                     f"{', '.join(DEMO_STRATEGIES[:-1])} and {DEMO_STRATEGIES[-1]} over a few seeds, evaluate them "
                     "and the untrained model, and write a report with significance tests. It is a sweep "
                     "(OUT/sweep.yaml, OUT/sweep/results.db): re-running reuses finished runs. See docs/experiments.md.")
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
    p.set_defaults(handler="demo:run", on_interrupt="finished runs are kept; re-run the same command to continue")
