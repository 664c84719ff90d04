"""Checkpoints: everything needed to continue a run exactly where it stopped.

``OUT/checkpoints/step-00000400/``
    ``model/``        the weights, as a sentence-transformers directory (loadable on its own)
    ``trainer.pt``    optimizer and scheduler state, sampler state, random-number generator
                      states (python, numpy, torch CPU and CUDA), step and selection state
    ``state.json``    step, epoch and selection state, human-readable

A checkpoint is written under a temporary name and renamed when complete, so a killed run
never leaves a half checkpoint (a stray ``.tmp-*`` directory is ignored and removed by the
next save).  Only the newest ``keep_last`` are kept.
"""
from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InputError
from .modeling import replace_directory, save_model

FORMAT = "polyir.checkpoint/1"
_NAME = re.compile(r"step-(\d{8})")


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    def load_state(self) -> dict[str, Any]:
        try:
            return torch.load(self.path / "trainer.pt", map_location="cpu", weights_only=False)
        except (OSError, RuntimeError, EOFError) as err:
            raise InputError(f"cannot read checkpoint: {err}", path=self.path / "trainer.pt") from None


def checkpoint_dir(out: str | Path) -> Path:
    return Path(out) / "checkpoints"


def list_checkpoints(out: str | Path) -> list[Checkpoint]:
    """Complete checkpoints of a run, oldest first."""
    root = checkpoint_dir(out)
    if not root.is_dir():
        return []
    found = [Checkpoint(p, int(m.group(1))) for p in root.iterdir()
             if (m := _NAME.fullmatch(p.name)) and (p / "trainer.pt").is_file()]
    return sorted(found, key=lambda c: c.step)


def latest_checkpoint(out: str | Path) -> Checkpoint | None:
    found = list_checkpoints(out)
    return found[-1] if found else None


def rng_states() -> dict[str, Any]:
    states = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(out: str | Path, step: int, module, trainer_state: dict[str, Any], *,
                    config=None, keep_last: int = 2) -> Checkpoint:
    """Write checkpoint ``step`` atomically, then delete all but the newest ``keep_last``."""
    root = checkpoint_dir(out)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    final = root / f"step-{step:08d}"
    tmp = root / f".tmp-step-{step:08d}"
    tmp.mkdir()
    save_model(module, tmp / "model", config)
    torch.save({"format": FORMAT, "step": step, **trainer_state, "rng": rng_states()}, tmp / "trainer.pt")
    summary = {"format": FORMAT, "step": step, **{k: v for k, v in trainer_state.items() if k == "progress"}}
    (tmp / "state.json").write_text(json.dumps(summary, indent=2, default=float) + "\n", encoding="utf-8")
    replace_directory(tmp, final)
    for old in list_checkpoints(out)[:-keep_last]:
        shutil.rmtree(old.path, ignore_errors=True)
    return Checkpoint(final, step)
