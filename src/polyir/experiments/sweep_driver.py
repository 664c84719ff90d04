"""The sweep driver: plan, collect finished runs, execute the rest, record each as it finishes.

Only this process writes the results database (runs write files into their own
directories), so the database never sees concurrent writers, also when runs execute on
other machines: `collect` ingests whatever finished, wherever it ran.
"""
from __future__ import annotations

import logging
import shlex
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..dirlock import DirectoryLock
from ..errors import ConfigError, PolyirError
from ..io import output_directory
from ..sampling import Strategy
from .devices import DevicePlan, parse_devices
from .executors import RunResult, make_executor, run_command
from .grid import RunSpec, expand
from .record import RunRecord, has_record, read_record
from .run_dir import run_status, write_spec
from .store import ResultsStore
from .sweep_types import SweepSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedRun:
    spec: RunSpec
    run_dir: Path
    status: str  # done (in the database) | finished (record on disk) | partial | failed | todo

    @property
    def pending(self) -> bool:
        return self.status not in ("done", "finished")


@dataclass
class SweepOutcome:
    planned: int = 0
    already_done: int = 0
    collected: int = 0
    finished: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (hash, first line of the error)


def plan_sweep(spec: SweepSpec, store: ResultsStore | None = None, only: Sequence[str] = ()) -> list[PlannedRun]:
    """Every run of the sweep (filtered by ``only``) with its status."""
    recorded = store.hashes() if store is not None else set()
    planned = []
    for run in select_runs(expand(spec), only):
        run_dir = run.run_dir(spec.out)
        status = "done" if run.hash in recorded else run_status(run_dir)
        planned.append(PlannedRun(run, run_dir, status))
    return planned


def select_runs(runs: list[RunSpec], only: Sequence[str]) -> list[RunSpec]:
    """``only``: ``KEY=VALUE`` axis filters (the same key repeated: any of the values; different keys:
    all) or run-hash prefixes.  ``label=hybrid(0.5)``, ``strategy=mono``, ``seed=0``, ``a1b2c3``."""
    if not only:
        return runs
    by_key: dict[str, set[str]] = {}
    prefixes = []
    for item in only:
        key, sep, value = item.partition("=")
        if sep:
            if key == "label":
                value = Strategy.parse(value).label
            by_key.setdefault(key.strip(), set()).add(value.strip())
        else:
            prefixes.append(item.strip())
    known = set().union(*(r.axes for r in runs)) if runs else set()
    unknown = sorted(set(by_key) - known)
    if unknown:
        raise ConfigError(f"--only: unknown axis {unknown[0]!r} (axes: {', '.join(sorted(known))})")

    def keep(run: RunSpec) -> bool:
        if prefixes and not any(run.hash.startswith(p) for p in prefixes):
            return False
        # a baseline has no training axes (seed, batch size, data): those filters do not exclude it
        return all(str(run.axes[k]) in values for k, values in by_key.items() if k in run.axes)

    return [r for r in runs if keep(r)]


def collect(spec: SweepSpec, store: ResultsStore, echo: Callable[[str], None] | None = None) -> list[str]:
    """Record every finished run directory under ``OUT/runs`` not yet in the database (idempotent)."""
    runs_root = spec.out / "runs"
    recorded = store.hashes()
    added = []
    for run_dir in sorted(runs_root.iterdir()) if runs_root.is_dir() else []:
        if run_dir.name in recorded or not has_record(run_dir):
            continue
        record = read_record(run_dir)
        if store.record(record, run_dir=run_dir):
            added.append(record.spec.hash)
            if echo:
                echo(f"collected {record.spec.hash} {record.spec.axes.get('label')}")
    return added


def run_sweep(spec: SweepSpec, *, jobs: int | None = 1, executor: str = "local", ray_address: str | None = None,
              only: Sequence[str] = (), threads: int | None = None, cwd: str | Path = ".",
              echo: Callable[[str], None] | None = None, devices: DevicePlan | None = None,
              gpus_per_run: float | None = None, progress: bool = True) -> SweepOutcome:
    """Execute every pending run; each finished run is recorded at once.  Finished runs are
    skipped, interrupted ones resume; a failed run is reported and the others go on.

    Local executor: ``devices`` (default: the visible GPUs, `parse_devices`) gives each concurrent
    run its own GPU slot; ``jobs=None`` runs one per slot.  Ray: ``gpus_per_run`` per task.
    ``progress``: False starts the runs with ``-q`` (no progress bars in their ``run.log``)."""
    execute, jobs, placement = executor_setup(executor, jobs, devices, gpus_per_run, ray_address)
    echo = _locked(echo or _stderr)
    outcome = SweepOutcome()
    output_directory(spec.out)
    with DirectoryLock(spec.out, "sweep directory"), ResultsStore(spec.db_path) as store:
        store.set_meta("reference", spec.reference.label)
        outcome.collected = len(collect(spec, store, echo))
        planned = plan_sweep(spec, store, only)
        outcome.planned = len(planned)
        pending = [p for p in planned if p.pending]
        outcome.already_done = outcome.planned - len(pending)
        echo(f"sweep {spec.name}: {outcome.planned} runs, {outcome.already_done} done, {len(pending)} to run "
             f"-> {spec.db_path}")
        for p in pending:
            write_spec(p.run_dir, p.spec)
        by_hash = {p.run_dir.name: p for p in pending}
        counter = {"started": 0}
        total = len(pending)

        def on_start(run_dir: Path) -> None:
            counter["started"] += 1
            p = by_hash[Path(run_dir).name]
            resumed = " (resuming)" if p.status in ("partial", "failed") else ""
            echo(f"[{counter['started']}/{total}] start {p.spec.hash} {_describe(p.spec)}{resumed}")

        results = execute([p.run_dir for p in pending], jobs=jobs, cwd=cwd, threads=threads, on_start=on_start,
                          quiet=not progress, **placement)
        for done, result in enumerate(results, 1):
            _finish(store, by_hash[Path(result.run_dir).name], result, outcome, echo, f"[{done}/{total}]")
    return outcome


def executor_setup(executor: str, jobs: int | None, devices: DevicePlan | None, gpus_per_run: float | None,
                   ray_address: str | None) -> tuple[Callable, int, dict]:
    """The executor function, the number of concurrent runs and the placement options it takes."""
    execute = make_executor(executor)
    if executor == "ray":
        if devices is not None:
            raise ConfigError("--devices / --runs-per-device place runs of the local executor; with --executor ray "
                              "use --gpus-per-run (Ray assigns the GPUs)")
        return execute, jobs or 1, {"address": ray_address, "gpus_per_run": gpus_per_run}
    if gpus_per_run is not None:
        raise ConfigError("--gpus-per-run is for --executor ray; the local executor takes --devices and "
                          "--runs-per-device")
    plan, jobs = (devices if devices is not None else parse_devices(None)).for_jobs(jobs)
    return execute, jobs, {"devices": plan}


def _finish(store: ResultsStore, planned: PlannedRun, result: RunResult, outcome: SweepOutcome,
            echo: Callable[[str], None], counter: str) -> None:
    if not result.ok or not has_record(planned.run_dir):
        outcome.failed.append((planned.spec.hash, result.error()))
        echo(f"{counter} FAILED {planned.spec.hash} {_describe(planned.spec)}: {result.error()} "
             f"(log: {planned.run_dir / 'run.log'})")
        return
    record = read_record(planned.run_dir)
    store.record(record, run_dir=planned.run_dir)
    outcome.finished.append(planned.spec.hash)
    echo(f"{counter} done  {planned.spec.hash} {_describe(planned.spec)}: {key_metrics(record)} "
         f"({result.seconds:.0f} s)")


def key_metrics(record: RunRecord, measure: str = "AP") -> str:
    parts = []
    for eval_set in dict.fromkeys(r["eval_set"] for r in record.metrics):
        summary = record.summary(eval_set, measure)
        values = " ".join(f"{k} {summary[k]:.3f}" for k in ("mono", "cross", "multi") if k in summary)
        distance = f" rank-distance {summary['rank_distance']:.1f}" if "rank_distance" in summary else ""
        parts.append(f"{eval_set}: {measure} {values}{distance}")
    return "; ".join(parts)


def _describe(run: RunSpec) -> str:
    axes = run.axes
    rest = " ".join(f"{k}={v}" for k, v in axes.items() if k not in ("strategy", "alpha", "label") and v is not None)
    return f"{axes.get('label')} {rest}"


def run_commands(planned: Sequence[PlannedRun]) -> list[str]:
    """One shell command per pending run (for SLURM or any scheduler); specs are written first."""
    lines = []
    for p in planned:
        if p.pending:
            write_spec(p.run_dir, p.spec)
            lines.append(shlex.join(["polyir", *run_command(p.run_dir)[3:]]))
    return lines


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _locked(echo: Callable[[str], None]) -> Callable[[str], None]:
    lock = threading.Lock()

    def locked(line: str) -> None:
        with lock:
            echo(line)

    return locked


def ensure_finished(outcome: SweepOutcome) -> None:
    if outcome.failed:
        first = outcome.failed[0]
        raise SweepFailed(f"{len(outcome.failed)} run(s) failed, e.g. {first[0]}: {first[1]} "
                          "(their run.log has the details; re-run the same command to retry)")


class SweepFailed(PolyirError):
    exit_code = 1


