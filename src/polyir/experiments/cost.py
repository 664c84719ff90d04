"""Cost estimates for ``polyir sweep --dry-run``.

training seconds = steps × batch size / pairs per second, with pairs per second (and the
evaluation time) taken, in order of preference, from: a calibration (``--calibrate``:
a few real training steps of each model × batch size), finished runs of the same model
(and batch size) in the results database, or ``DEFAULT_PAIRS_PER_SECOND``.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Sequence

from ..train.train_config import pair_budget_steps

# a deliberately rough guess used only when nothing was measured: a base-size encoder on one
# modern GPU (the paper's setting); a CPU is 10-100x slower.  Calibrate to replace it.
DEFAULT_PAIRS_PER_SECOND = 200.0


@dataclass(frozen=True)
class Estimate:
    steps: int | None
    pairs_per_second: float | None
    source: str  # calibrated | database | default | none
    train_seconds: float | None
    eval_seconds: float | None

    @property
    def seconds(self) -> float | None:
        if self.train_seconds is None and self.eval_seconds is None:
            return None
        return (self.train_seconds or 0.0) + (self.eval_seconds or 0.0)


def estimate(run, finished: Sequence[dict[str, Any]], calibrated: dict[tuple[str, int], float] | None = None,
             default_pps: float = DEFAULT_PAIRS_PER_SECOND) -> Estimate:
    """The cost of ``run`` (a `RunSpec`) from ``finished`` database rows (`ResultsStore.runs`)."""
    model = run.axes.get("model")
    same_model = [r for r in finished if r["model"] == model]
    eval_times = [r["eval_seconds"] for r in same_model if r["eval_seconds"]]
    eval_seconds = statistics.median(eval_times) if eval_times else None
    if run.kind == "baseline":
        return Estimate(None, None, "none", None, eval_seconds)
    batch_size = run.axes["batch_size"]
    optim = run.train["optim"]
    steps = (optim["steps"] or pair_budget_steps(optim.get("pairs"), batch_size)
             or _steps_from_epochs(run, finished))
    pps, source = _pairs_per_second(model, batch_size, same_model, calibrated or {})
    if pps is None:
        pps, source = default_pps, "default"
    train_seconds = steps * batch_size / pps if steps else None
    return Estimate(steps, pps, source, train_seconds, eval_seconds)


def _pairs_per_second(model: str, batch_size: int, same_model: list[dict], calibrated: dict) -> tuple[float | None, str]:
    if (model, batch_size) in calibrated:
        return calibrated[model, batch_size], "calibrated"
    measured = [r for r in same_model if r["pairs_per_second"]]
    same_batch = [r["pairs_per_second"] for r in measured if r["batch_size"] == batch_size]
    values = same_batch or [r["pairs_per_second"] for r in measured]
    return (statistics.median(values), "database") if values else (None, "none")


def _steps_from_epochs(run, finished: Sequence[dict[str, Any]]) -> int | None:
    """``epochs × batches per epoch`` of a finished run on the same data and batch size."""
    for r in finished:
        summary = r.get("train_summary") or {}
        if r["data"] == run.axes.get("data") and r["batch_size"] == run.axes["batch_size"] and summary:
            return run.train["optim"]["epochs"] * summary["batches_per_epoch"]
    return None


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
