"""Training: `train(config)` runs the loop of docs/training.md ("Training loop").

    from polyir.train import load_train_config, train
    summary = train(load_train_config("configs/tiny-offline.yaml", ["out=runs/tiny"]))

Names are resolved lazily, so importing the configuration does not load torch.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "train": "loop",
    "StepInfo": "loop",
    "TrainSummary": "summary",
    "TrainConfig": "config",
    "ModelConfig": "config",
    "DataConfig": "config",
    "DataSource": "config",
    "SamplingOptions": "config",
    "LossConfig": "config",
    "OptimConfig": "config",
    "RuntimeConfig": "config",
    "EvalConfig": "config",
    "CheckpointConfig": "config",
    "LoggingConfig": "config",
    "build_config": "config",
    "load_train_config": "config",
    "save_model": "modeling",
    "latest_checkpoint": "checkpoint",
    "list_checkpoints": "checkpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
