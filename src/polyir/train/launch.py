"""`train` as a launched process runs it: under ``torchrun`` / ``accelerate launch`` every process
trains, then leaves the process group; only rank 0 reports (docs/cli-train.md)."""
from __future__ import annotations

from ..distributed import destroy_distributed, launched_rank
from .train_config import TrainConfig
from .loop import train
from .summary import TrainSummary


def train_launched(config: TrainConfig, *, resume: bool = False, progress: bool = True) -> TrainSummary | None:
    """`train`, then the process group destroyed (also on errors); the summary on rank 0, None elsewhere."""
    try:
        summary = train(config, resume=resume, progress=progress)
    finally:
        destroy_distributed()
    return summary if launched_rank() == 0 else None
