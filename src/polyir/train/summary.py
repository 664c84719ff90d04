"""Model selection on a dev metric (best checkpoint, early stopping) and the run summary."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .train_config import metric_direction


@dataclass
class Selection:
    """Tracks the best value of ``metric`` and the evaluations since it last improved."""

    metric: str
    patience: int | None = None
    best_value: float | None = None
    best_step: int | None = None
    bad_evals: int = 0
    last_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def direction(self) -> str:
        return metric_direction(self.metric)

    def update(self, metrics: dict[str, float], step: int) -> bool:
        """Record an evaluation; True when it is the best so far."""
        if self.metric not in metrics:
            raise ConfigError(f"eval.metric {self.metric!r} was not computed; available: {', '.join(sorted(metrics))}")
        self.last_metrics = dict(metrics)
        value = metrics[self.metric]
        better = math.isfinite(value) and (
            self.best_value is None
            or (value > self.best_value if self.direction == "max" else value < self.best_value))
        if better:
            self.best_value, self.best_step, self.bad_evals = value, step, 0
        else:
            self.bad_evals += 1
        return better

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.bad_evals >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best_value": self.best_value, "best_step": self.best_step, "bad_evals": self.bad_evals,
                "last_metrics": dict(self.last_metrics)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_value, self.best_step = state["best_value"], state["best_step"]
        self.bad_evals, self.last_metrics = int(state["bad_evals"]), dict(state["last_metrics"])


@dataclass(frozen=True)
class TrainSummary:
    """What `polyir.train.train` did (also written to ``OUT/summary.json``)."""

    out: Path
    final_model: Path | None  # OUT/final (None when the run was stopped by the callback)
    best_model: Path | None  # OUT/best (None without evaluation or with checkpoint.save_best off)
    steps: int  # optimizer steps completed (in total, across resumptions)
    total_steps: int  # steps the run was configured for
    batches_per_epoch: int
    stopped: str  # completed | early_stopping | callback
    metric: str  # the selection metric
    best_metric: float | None
    best_step: int | None
    last_metrics: dict[str, float]  # the last evaluation's metrics
    sampling: dict[str, Any]  # realised composition (SamplingStats.summary()) over all steps
    language_pairs: dict[str, int]  # items per query-passage language pair
    data: dict[str, Any]  # pairs, groups, languages, data sets, leakage-guard counts
    parameters: dict[str, int]  # total and trainable
    resumed_from: int | None  # checkpoint step this call started from
    seconds: float  # wall time of this call
    train_seconds: float  # time in training steps during this call (no evaluation, no saving)
    pairs_per_second: float  # global batch x steps / train_seconds, this call
    stage_seconds: dict[str, float] = field(default_factory=dict)  # this call, by stage (polyir.stages)
    precision: str = ""  # what the steps ran in (runtime.precision resolved on the device): bf16 | fp32
    device: str = ""  # the device the steps ran on (cpu, cuda:0, ...)

    @property
    def epochs(self) -> float:
        return self.steps / self.batches_per_epoch

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainSummary":
        values = {k: v for k, v in data.items() if k != "epochs"}
        for key in ("out", "final_model", "best_model"):
            values[key] = Path(values[key]) if values[key] is not None else None
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("out", "final_model", "best_model"):
            out[key] = str(out[key]) if out[key] is not None else None
        out["epochs"] = self.epochs
        return out
