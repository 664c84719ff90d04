"""``polyir sweep``: run a grid of training + evaluation runs, resumably, into a results database.

    polyir sweep CONFIG.yaml [--jobs N] [--executor local|ray] [--only KEY=VALUE ...]
                 [--devices 0,1,2,3 --runs-per-device 2 | --executor ray --gpus-per-run 0.5]
    polyir sweep CONFIG.yaml --dry-run [--calibrate]     the plan, statuses and estimated cost
    polyir sweep CONFIG.yaml --print-commands            one command per pending run (SLURM, ...)
    polyir sweep CONFIG.yaml --collect                   record finished run directories
    polyir sweep --run-one OUT/runs/HASH                 one run (what every executor starts)
"""
from __future__ import annotations

import argparse
import sys

from .. import experiments  # `calibrate` and `run_one` train: torch loads when they run
from ..dirlock import DirectoryLock
from ..errors import ConfigError
from ..experiments.analysis import STANDARD_AXES
from ..experiments.cost import DEFAULT_PAIRS_PER_SECOND, estimate, format_seconds
from ..experiments.devices import parse_devices
from ..experiments.parent_watch import exit_with_parent
from ..experiments.spec import load_sweep
from ..experiments.store import ResultsStore
from ..experiments.sweep_driver import collect, ensure_finished, key_metrics, plan_sweep, run_commands, run_sweep
from .argtypes import non_negative_float, positive_float, positive_int


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Expand the grid of a sweep file (strategy / alpha, batch size, seed, model, data, any option), "
                     "train and evaluate every run in its own process and directory (OUT/runs/HASH), and record "
                     "each finished run in OUT/results.db. Re-running skips finished runs and resumes interrupted "
                     "ones. See docs/experiments.md.")
    p.add_argument("config", nargs="?", metavar="CONFIG.yaml", help="sweep file (see configs/sweeps/*.yaml)")
    p.add_argument("--out", help="sweep directory (overrides 'out' in the file)")
    p.add_argument("--only", action="append", default=[], metavar="KEY=VALUE|HASH",
                   help="restrict to runs whose axis KEY has VALUE (e.g. label=hybrid(0.5), seed=0, batch_size=64; "
                        "repeat a key for alternatives) or whose hash starts with HASH; repeatable")
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="runs at a time (default: one per GPU slot, see --devices; 1 without GPUs)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads per run process (OMP/MKL/NUMBA_NUM_THREADS); default: the library defaults")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: subprocesses on this machine; ray: Ray tasks (pip install 'polyir[ray]')")
    p.add_argument("--ray-address", default=None, help="Ray cluster address (default: start a local Ray instance)")
    g = p.add_argument_group("GPUs")
    g.add_argument("--devices", default=None, metavar="IDS",
                   help="local executor: GPUs to place runs on, e.g. 0,1,2,3 (each run sees only its own: "
                        "CUDA_VISIBLE_DEVICES); 'none': runs see no GPU; default: the visible GPUs")
    g.add_argument("--runs-per-device", type=positive_int, default=1, metavar="N",
                   help="local executor: runs sharing one GPU at a time (default 1)")
    g.add_argument("--gpus-per-run", type=non_negative_float, default=None, metavar="G",
                   help="Ray executor: GPUs each run asks Ray for (0.5: two runs per GPU; default: 1 when the "
                        "cluster has GPUs, else 0)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the plan (hash, axes, status, estimated cost)")
    mode.add_argument("--print-commands", action="store_true",
                      help="print one shell command per pending run (and write their spec.json)")
    mode.add_argument("--collect", action="store_true", help="record finished run directories in the database")
    mode.add_argument("--run-one", metavar="RUN_DIR", help="train + evaluate one run directory (spec.json)")
    p.add_argument("--parent-pid", type=positive_int, default=None, help=argparse.SUPPRESS)  # set by the executors
    p.add_argument("--calibrate", action="store_true",
                   help="with --dry-run: time a few training steps per model and batch size for the estimate")
    p.add_argument("--pairs-per-second", type=positive_float, default=None,
                   help="with --dry-run: training speed assumed when nothing was measured")
    p.set_defaults(func=run, on_interrupt="finished runs are recorded; interrupted runs continue from their last "
                                        "checkpoint when you re-run the same command")


def run(args: argparse.Namespace) -> int:
    if args.run_one:
        return _run_one(args.run_one, args.parent_pid, progress=not args.quiet)
    if not args.config:
        raise ConfigError("give a sweep file (polyir sweep CONFIG.yaml), or --run-one RUN_DIR")

    spec = load_sweep(args.config, out=args.out)
    if args.dry_run:
        return _dry_run(spec, args)
    if args.print_commands:
        return _print_commands(spec, args)
    if args.collect:
        return _collect(spec)

    if args.executor == "ray" and (args.devices is not None or args.runs_per_device != 1):
        raise ConfigError("--devices / --runs-per-device place the runs of the local executor; with --executor ray "
                          "use --gpus-per-run (Ray assigns the GPUs)")
    devices = parse_devices(args.devices, args.runs_per_device) if args.executor == "local" else None
    outcome = run_sweep(spec, jobs=args.jobs, executor=args.executor, ray_address=args.ray_address,
                        only=args.only, threads=args.threads, devices=devices, gpus_per_run=args.gpus_per_run,
                        progress=not args.quiet)
    print(f"{len(outcome.finished)} finished, {outcome.already_done} already done, {len(outcome.failed)} failed; "
          f"results: {spec.db_path}; report: polyir report {spec.db_path} --out {spec.out / 'report'}",
          file=sys.stderr)
    ensure_finished(outcome)
    return 0


def _run_one(run_dir: str, parent_pid: int | None, *, progress: bool) -> int:
    if parent_pid is not None:  # started by a sweep: stop with it (no orphan left on its run directory)
        exit_with_parent(parent_pid)

    record = experiments.run_one(run_dir, progress=progress)
    print(f"{record.spec.hash}: {key_metrics(record)}", file=sys.stderr)
    return 0


def _dry_run(spec, args: argparse.Namespace) -> int:
    store = ResultsStore(spec.db_path, create=False) if spec.db_path.exists() else None
    try:
        planned = plan_sweep(spec, store, args.only)
        finished = store.runs() if store is not None else []
    finally:
        if store is not None:
            store.close()
    pending = [p for p in planned if p.pending]
    calibrated = experiments.calibrate([p.spec for p in pending]) if args.calibrate else None
    default = args.pairs_per_second or DEFAULT_PAIRS_PER_SECOND
    header = ["hash", "status", "strategy", "model", "data", "batch", "seed", "steps", "pairs/s", "estimate"]
    rows, total, sources = [], 0.0, set()
    for p in planned:
        axes = p.spec.axes
        cost = estimate(p.spec, finished, calibrated, default)
        if p.pending:
            total += cost.seconds or 0.0
            sources.add(cost.source)
        pps = f"{cost.pairs_per_second:.0f} ({cost.source})" if cost.pairs_per_second else "-"
        rows.append([p.spec.hash, p.status, str(axes.get("label")), str(axes.get("model")), str(axes.get("data", "-")),
                     str(axes.get("batch_size", "-")), str(axes.get("seed", "-")), str(cost.steps or "-"), pps,
                     format_seconds(cost.seconds) if p.pending else "-"])
    other = [", ".join(f"{k}={v}" for k, v in p.spec.axes.items() if k not in STANDARD_AXES) for p in planned]
    if any(other):  # variants and `set` axes
        header.insert(5, "axes")
        for row, text in zip(rows, other):
            row.insert(5, text or "-")
    print(_columns(header, rows))
    counts = {s: sum(p.status == s for p in planned) for s in ("done", "finished", "partial", "failed", "todo")}
    print(f"\n{len(planned)} runs: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
          + f"; pending cost ≈ {format_seconds(total)} of training + evaluation on one worker"
          + (" (speed not measured for some runs: default assumed; use --calibrate)" if "default" in sources else ""))
    return 0


def _columns(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _print_commands(spec, args: argparse.Namespace) -> int:
    with DirectoryLock(spec.out, "sweep directory"), ResultsStore(spec.db_path) as store:
        collect(spec, store)
        planned = plan_sweep(spec, store, args.only)
        commands = run_commands(planned)  # writes the runs' spec.json: under the lock
    for line in commands:
        print(line)
    print(f"then: polyir sweep {args.config} --collect", file=sys.stderr)
    return 0


def _collect(spec) -> int:
    with DirectoryLock(spec.out, "sweep directory"), ResultsStore(spec.db_path) as store:
        added = collect(spec, store, lambda line: print(line, file=sys.stderr))
        planned = plan_sweep(spec, store)
    pending = sum(p.pending for p in planned)
    print(f"collected {len(added)} run(s); {len(planned) - pending} of {len(planned)} runs in {spec.db_path}",
          file=sys.stderr)
    return 0
