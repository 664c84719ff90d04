"""``polyir report``'s options (what the command does: `polyir.cli.report`, imported when it runs)."""
from __future__ import annotations

import argparse

from ..errors import ConfigError
from ..sampling import DEFAULT_STRATEGY, Strategy
from .argtypes import non_negative_int, open_fraction, positive_int


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Aggregate a sweep's results database over seeds (mean ± std), compare every strategy with a "
                     "reference on the same questions (paired cluster bootstrap CI + randomisation test, Holm-"
                     "corrected per table), and write OUT/report.md, OUT/report.html and PNG figures. See "
                     "docs/experiments.md and docs/metrics.md.")
    p.add_argument("db", metavar="RESULTS.db", help="results database written by polyir sweep / polyir demo")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--reference", type=_strategy, default=None,
                   help="reference strategy, e.g. hybrid(0.5), X-Y, X-X-mono, mixed(0.3) "
                        f"(default: the sweep's 'reference', else {DEFAULT_STRATEGY.label})")
    p.add_argument("--measure", nargs="+", default=["AP"],
                   help="measures to tabulate and test (default AP; the first one drives figures and summary)")
    p.add_argument("--resamples", type=positive_int, default=10_000,
                   help="bootstrap and randomisation resamples per test (default 10000, at least 1000)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the resampling (default 0)")
    p.add_argument("--level", type=open_fraction, default=0.05,
                   help="significance level of the marks (default 0.05; α names the strategies' P(mono))")
    p.add_argument("--all-pairs", action="store_true",
                   help="also test every pair of strategies, and each strategy against the untrained model")
    p.add_argument("--title", default=None, help="report title")
    p.set_defaults(handler="report:run")


def _strategy(text: str) -> Strategy:
    """`Strategy.parse`, its error a usage error (before the database is read)."""
    try:
        return Strategy.parse(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
