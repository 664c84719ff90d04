"""Training: `train(config)` runs the loop of docs/training.md ("Training loop").

    from polyir.train import load_train_config, train
    summary = train(load_train_config("configs/tiny-offline.yaml", ["out=runs/tiny"]))

Names are resolved lazily, so importing the configuration does not load torch.
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "train": "loop",
    "train_launched": "launch",
    "StepInfo": "loop",
    "TrainSummary": "summary",
    "TrainConfig": "train_config",
    "ModelConfig": "train_config",
    "DataConfig": "train_config",
    "DataSource": "train_config",
    "LossConfig": "train_config",
    "OptimConfig": "train_config",
    "RuntimeConfig": "train_config",
    "EvalConfig": "train_config",
    "CheckpointConfig": "train_config",
    "LoggingConfig": "train_config",
    "build_config": "train_config",
    "load_train_config": "train_config",
    "save_model": "modeling",
    "latest_checkpoint": "checkpoint",
    "list_checkpoints": "checkpoint",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
