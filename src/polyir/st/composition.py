"""`BatchCompositionCallback`: the realised batch composition of a `SentenceTransformerTrainer` run.

Batches are a pure function of their place in the run, so the callback does not watch the
data loader (which prefetches): after each optimizer step it replays the batches trained so
far — ``batches_for_steps(global_step, ...)`` — into a `polyir.sampling.SamplingStats`, the
same statistics polyir's own trainer logs (share of mono batches, per language, per data set,
language pairs, fallbacks).  A resumed run replays the batches of its first part once.
"""
from __future__ import annotations

import logging
import math
from typing import Any

from transformers import TrainerCallback

from ..errors import ConfigError
from ..sampling import SamplingStats
from .hybrid_sampler import HybridBatchSampler

log = logging.getLogger(__name__)


def batches_for_steps(steps: int, batches_per_step: int, batches_per_epoch: int) -> int:
    """Batches consumed by ``steps`` optimizer steps of ``batches_per_step`` batches each
    (gradient accumulation × processes); the last step of an epoch takes what is left."""
    steps_per_epoch = math.ceil(batches_per_epoch / batches_per_step)
    epochs, in_epoch = divmod(steps, steps_per_epoch)
    return epochs * batches_per_epoch + min(in_epoch * batches_per_step, batches_per_epoch)


class BatchCompositionCallback(TrainerCallback):
    """``stats``: the composition of the batches trained so far (a `SamplingStats`, or None
    before the first step); at each logging step its shares are added to the logged values."""

    def __init__(self) -> None:
        self.stats: SamplingStats | None = None
        self.batches = 0
        self.sampler: HybridBatchSampler | None = None

    def on_step_end(self, args, state, control, train_dataloader=None, **kwargs: Any):
        self._update(args, state.global_step, train_dataloader)

    def on_log(self, args, state, control, logs=None, train_dataloader=None, **kwargs: Any):
        if logs is not None and self.stats is not None and "loss" in logs:
            summary = self.stats.summary()
            logs.update({key: summary[key] for key in ("share_batches_mono", "share_items_cross")})

    def on_train_end(self, args, state, control, train_dataloader=None, **kwargs: Any):
        self._update(args, state.global_step, train_dataloader)
        if self.stats is not None:
            log.info("realised composition over %d batches: %s", self.batches, self.stats.summary())

    def _update(self, args, global_step: int, train_dataloader) -> None:
        if self.sampler is None:
            self.sampler = find_hybrid_sampler(train_dataloader)
        per_step = args.gradient_accumulation_steps * max(int(args.world_size), 1)
        target = batches_for_steps(global_step, per_step, len(self.sampler))
        if self.stats is None:
            self.stats = SamplingStats(self.sampler.index.languages, self.sampler.index.datasets)
        if target > self.batches:
            self.sampler.composition(target, self.stats, start=self.batches)
            self.batches = target


def find_hybrid_sampler(loader: Any) -> HybridBatchSampler:
    """The `HybridBatchSampler` inside a (possibly accelerate-wrapped, batch-skipping) data loader."""
    seen, todo = set(), [loader]
    while todo:
        obj = todo.pop()
        if isinstance(obj, HybridBatchSampler):
            return obj
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        todo += [getattr(obj, name, None) for name in ("batch_sampler", "sampler", "base_dataloader")]
    raise ConfigError("BatchCompositionCallback: the training data loader does not draw its batches from "
                      "HybridBatchSampler (set batch_sampler=HybridBatchSampler.using(...))")
