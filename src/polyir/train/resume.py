"""Resuming: refuse to mix two runs in one directory, and restore a checkpoint's state.

A run resumes only with the configuration it was started with, except for options that
do not change the trajectory of the weights: ``out``, ``logging``, ``checkpoint``,
``eval`` (what is measured, how often, patience), ``runtime.threads`` and
``data.token_cache``.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ..config_io import load_yaml
from ..errors import ConfigError
from .checkpoint import Checkpoint, list_checkpoints, restore_rng_states
from .train_config import TrainConfig
from .summary import TrainSummary

log = logging.getLogger(__name__)

MAY_CHANGE = ("out", "logging", "checkpoint", "eval", "runtime.threads", "data.token_cache")


def check_resumable(out: Path, config: TrainConfig, *, resume: bool) -> None:
    """`ConfigError` when ``out`` holds another run (or this one, without ``resume``)."""
    saved = out / "config.yaml"
    if not resume:
        if saved.exists() or list_checkpoints(out):
            raise ConfigError(f"{out} already holds a training run; pass --resume to continue it, "
                              "or choose another --out")
        return
    if not saved.exists():
        return
    difference = first_difference(_comparable(load_yaml(saved)), _comparable(config.to_dict()))
    if difference:
        key, before, now = difference
        raise ConfigError(f"cannot resume {out}: {key} was {before!r} in the saved run and is {now!r} now "
                          f"(only {', '.join(MAY_CHANGE)} may change on resume)")


def _comparable(data: dict) -> dict:
    data = dict(data)
    for dotted in MAY_CHANGE:
        head, _, tail = dotted.partition(".")
        if not tail:
            data.pop(head, None)
        elif isinstance(data.get(head), dict):
            data[head] = {k: v for k, v in data[head].items() if k != tail}
    return data


def first_difference(before: Any, now: Any, prefix: str = "") -> tuple[str, Any, Any] | None:
    if isinstance(before, dict) and isinstance(now, dict):
        for key in list(before) + [k for k in now if k not in before]:
            found = first_difference(before.get(key), now.get(key), f"{prefix}{key}.")
            if found:
                return found
        return None
    return None if before == now else (prefix.rstrip("."), before, now)


def finished_run(out: Path):
    """The summary of a run in ``out`` that ended (completed or stopped early), else None."""
    path = out / "summary.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("stopped") not in ("completed", "early_stopping") or not (out / "final").is_dir():
        return None
    return TrainSummary.from_dict(data)


def restore(checkpoint: Checkpoint, *, optimizer, scheduler, sampler, selection) -> int:
    """Load optimizer, scheduler, sampler, selection and RNG states; returns the step."""
    state = checkpoint.load_state()
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    sampler.load_state_dict(state["sampler"])
    progress = state["progress"]
    selection.load_state_dict(progress)
    restore_rng_states(state["rng"])
    log.info("resumed from %s (step %d)", checkpoint.path, state["step"])
    return int(state["step"])
