"""Paired comparison of runs that differ in one sweep axis only (e.g. bf16 against fp32).

    python benchmarks/paired_runs.py docs/study/walk/results.db --axis variant --a E-bf16 --b E-lengths

For every run with ``AXIS = A`` it finds the run with ``AXIS = B`` and the same strategy, α, batch
size, seed and other axes (but those named by ``--ignore``), and compares the two on every recorded (evaluation set, kind,
measure) with `polyir.evaluate.significance.compare` (paired cluster bootstrap over questions,
paired randomisation test, 10,000 resamples): one markdown row per pair and statistic.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from polyir.errors import PolyirError
from polyir.evaluate.significance import compare
from polyir.experiments.store import ResultsStore


def _axes(run: dict) -> dict:
    return json.loads(run["axes"]) if isinstance(run["axes"], str) else dict(run["axes"])


def _key(run: dict, ignored: set[str]) -> tuple:
    axes = {k: v for k, v in _axes(run).items() if k not in ignored and k != "label"}
    # strategy and α, not the label: an α schedule labels its run hybrid(0.5->0)
    return run["strategy"], run["alpha"], run["batch_size"], run["seed"], json.dumps(axes, sort_keys=True)


def pairs(runs: list[dict], axis: str, a: str, b: str, ignore: tuple[str, ...] = ()) -> list[tuple[dict, dict]]:
    """(run with axis = a, run with axis = b) with everything else equal but the axes in ``ignore``."""
    ignored = {axis, *ignore}

    def value(run):
        return str(_axes(run).get(axis))
    side_b = {_key(r, ignored): r for r in runs if value(r) == b}
    return [(r, side_b[_key(r, ignored)]) for r in runs if value(r) == a and _key(r, ignored) in side_b]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--axis", required=True)
    parser.add_argument("--a", required=True, help="the axis value of the first run of each pair")
    parser.add_argument("--b", required=True, help="the axis value of the second run")
    parser.add_argument("--ignore", nargs="+", default=[], metavar="AXIS",
                        help="axes that may differ too (e.g. data, when A adds a training source)")
    parser.add_argument("--measures", nargs="+", default=["AP", "nDCG@10"])
    parser.add_argument("--resamples", type=int, default=10_000)
    args = parser.parse_args(argv)
    try:
        store = ResultsStore(args.db, create=False)
    except PolyirError as error:
        print(f"paired_runs: error: {error}", file=sys.stderr)
        return 1
    found = pairs(store.runs(), args.axis, args.a, args.b, tuple(args.ignore))
    if not found:
        print(f"paired_runs: error: no run with {args.axis}={args.a} has a partner with {args.axis}={args.b}",
              file=sys.stderr)
        return 1
    keys = sorted({(r["eval_set"], r["kind"], r["measure"]) for r in store.metric_rows()
                   if r["measure"] in args.measures})
    print(f"| strategy | batch | seed | set | statistic | {args.a} | {args.b} | Δ (95% CI) | p |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run_a, run_b in sorted(found, key=lambda p: (p[0]["label"], p[0]["seed"])):
        for eval_set, kind, measure in keys:
            ma = store.matrix(run_a["run_id"], eval_set, kind, measure)
            mb = store.matrix(run_b["run_id"], eval_set, kind, measure)
            if ma is None or mb is None:
                continue
            c = compare(ma.values, mb.values, n_resamples=args.resamples)
            print(f"| {run_a['label']} | {run_a['batch_size']} | {run_a['seed']} | {eval_set} | {kind} {measure} "
                  f"| {c.mean_a:.4f} | {c.mean_b:.4f} | {c.delta:+.4f} [{c.ci_low:+.4f}, {c.ci_high:+.4f}] "
                  f"| {c.p_randomization:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
