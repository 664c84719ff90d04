"""``polyir sweep --dry-run --calibrate``: pairs per second measured by a few real training steps of
each model × batch size, for the cost estimates of `polyir.experiments.cost`."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

from ..config_io import set_dotted
from ..train.train_config import build_config
from ..train.loop import train

CALIBRATION_STEPS = 10


def calibrate(runs: Sequence, *, steps: int = CALIBRATION_STEPS) -> dict[tuple[str, int], float]:
    """Train ``steps`` steps (no evaluation, no checkpoints) of the first run of each model ×
    batch size in a temporary directory and measure pairs per second."""
    measured: dict[tuple[str, int], float] = {}
    for run in runs:
        key = (run.axes.get("model"), run.axes.get("batch_size"))
        if run.kind != "train" or key in measured:
            continue
        with tempfile.TemporaryDirectory(prefix="polyir-calibrate-") as tmp:
            data = run.train
            for dotted, value in (("out", str(Path(tmp) / "run")), ("optim.pairs", None), ("optim.steps", steps), ("eval.dev", None),
                                  ("eval.loss_data", []), ("checkpoint.every", 0), ("checkpoint.save_best", False),
                                  ("optim.warmup_steps", 0)):
                data = set_dotted(data, dotted, value)
            summary = train(build_config(data, where="calibration"), progress=False)
        measured[key] = summary.pairs_per_second
    return measured
