"""Run logs: ``OUT/log.jsonl`` always; TensorBoard and MLflow when configured (lazy imports).

Every record is one JSON object with an ``event`` (``start``, ``train``, ``eval``,
``checkpoint``, ``resume``, ``stop``, ``end``) and the ``step`` it belongs to.  A resumed
run first cuts the log back to its checkpoint (the records of later steps, which the
interrupted run wrote and the resumed run writes again, and a line cut short by a kill),
then appends from a ``resume`` record: every (event, step) appears once.  A run that
starts again from step 0 starts a new log.  Only the main process (rank 0) writes.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..io import atomic_write_text
from .train_config import LoggingConfig, TrainConfig

LOG_FILE = "log.jsonl"


class RunLogger:
    """``resume_step``: the step of the checkpoint a resumed run continues from (None: a run
    that starts at step 0, which replaces any earlier log in ``out``)."""

    def __init__(self, out: Path, config: LoggingConfig, *, enabled: bool = True, resume_step: int | None = None):
        self.enabled = enabled
        self._file = None
        self._tensorboard = None
        self._mlflow = None
        if not enabled:
            return
        out.mkdir(parents=True, exist_ok=True)
        path = out / LOG_FILE
        if resume_step is None:
            path.unlink(missing_ok=True)
        else:
            truncate_log(path, resume_step)
        self._file = open(path, "a", encoding="utf-8")
        if config.tensorboard:
            self._tensorboard = _tensorboard_writer(out / "tensorboard", resume_step)
        if config.mlflow:
            self._mlflow = _mlflow_run(config, out)

    def log(self, event: str, step: int, values: dict[str, Any] | None = None) -> None:
        if not self.enabled:
            return
        record = {"event": event, "step": step, "time": round(time.time(), 3), **(values or {})}
        self._file.write(json.dumps(record, default=_plain, allow_nan=True) + "\n")
        self._file.flush()
        numbers = {k: float(v) for k, v in (values or {}).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
        if self._tensorboard is not None and event in ("train", "eval"):
            for key, value in numbers.items():
                self._tensorboard.add_scalar(f"{event}/{key}", value, step)
        if self._mlflow is not None and event in ("train", "eval"):
            self._mlflow.log_metrics({f"{event}.{_mlflow_key(k)}": v for k, v in numbers.items()}, step=step)

    def log_config(self, config: TrainConfig) -> None:
        if self._mlflow is not None:
            flat = _flatten(config.to_dict())
            self._mlflow.log_params({k: str(v)[:500] for k, v in flat.items()})
        if self._tensorboard is not None:
            self._tensorboard.add_text("config", "```\n" + config.to_yaml() + "\n```", 0)

    def close(self, status: str = "FINISHED") -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._tensorboard is not None:
            self._tensorboard.close()
            self._tensorboard = None
        if self._mlflow is not None:
            self._mlflow.end_run(status=status)
            self._mlflow = None


def truncate_log(path: Path, step: int) -> int:
    """Keep the records up to the checkpoint at ``step`` (not an earlier ``resume`` from it),
    atomically; returns how many records were dropped."""
    if not path.is_file():
        return 0
    kept, dropped = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
            keep = record["step"] < step or (record["step"] == step and record["event"] != "resume")
        except (ValueError, KeyError, TypeError):  # a line cut short by a kill, or not ours
            keep = False
        kept += [line] if keep else []
        dropped += 0 if keep else 1
    if dropped:
        atomic_write_text(path, "".join(f"{line}\n" for line in kept))
    return dropped


def _tensorboard_writer(path: Path, resume_step: int | None):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("logging.tensorboard needs the tensorboard package: pip install 'polyir[tensorboard]'") from None
    # purge_step: TensorBoard hides the interrupted run's events after the checkpoint, as log.jsonl drops them
    return SummaryWriter(str(path), purge_step=None if resume_step is None else resume_step + 1)


def _mlflow_run(config: LoggingConfig, out: Path):
    try:
        import mlflow
    except ImportError:
        raise ConfigError("logging.mlflow needs the mlflow package: pip install 'polyir[mlflow]'") from None
    if config.mlflow_tracking_uri:
        mlflow.set_tracking_uri(config.mlflow_tracking_uri)
    mlflow.set_experiment(config.mlflow_experiment)
    mlflow.start_run(run_name=config.run_name or out.name)
    return mlflow


def _mlflow_key(key: str) -> str:
    # MLflow allows alphanumerics, _ - . / and space
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in key)


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
