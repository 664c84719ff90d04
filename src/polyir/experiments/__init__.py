"""Experiments: sweeps of training + evaluation runs, a SQLite results store, statistics and reports.

    from polyir.experiments import load_sweep, run_sweep, analyse, write_report
    spec = load_sweep("configs/sweeps/tiny.yaml")
    run_sweep(spec, jobs=2)
    write_report(spec.db_path, "report/")

See docs/experiments.md.  Names are resolved lazily (nothing heavy is imported up front).
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "SweepSpec": "sweep_types",
    "EvalSetSpec": "sweep_types",
    "load_sweep": "spec",
    "parse_sweep": "spec",
    "RunSpec": "grid",
    "expand": "grid",
    "run_hash": "grid",
    "RunRecord": "record",
    "read_record": "record",
    "ResultsStore": "store",
    "run_one": "runner",
    "plan_sweep": "sweep_driver",
    "run_sweep": "sweep_driver",
    "collect": "sweep_driver",
    "Analysis": "analysis",
    "analyse": "analysis",
    "write_report": "sweep_report",
    "run_demo": "demo_study",
    "calibrate": "calibration",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
