"""``polyir sweep``: run a grid of training + evaluation runs, resumably, into a results database.

Its usage and options: `polyir.cli.sweep_options`."""
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
