"""`HybridBatchSampler`: polyir's batch sampler as a sentence-transformers batch sampler.

    args = SentenceTransformerTrainingArguments(..., per_device_train_batch_size=32, seed=0,
               batch_sampler=HybridBatchSampler.using(strategy="hybrid", alpha=0.5))

The trainer calls ``batch_sampler(dataset, batch_size=, drop_last=, valid_label_columns=,
generator=, seed=)``; this class builds polyir's `polyir.sampling.BatchSampler` over the
dataset's language and group columns (`polyir.st.columns`) with ``batch_size`` and ``seed``
from the training arguments, and yields, for the global batch at (epoch, position), the row
indices ``query rows + passage rows`` (2 × batch size indices for batch size items).  A
cross-lingual item takes its query from one row and its positive from a translation's row,
which no single row holds: `HybridDataCollator` pairs them up.  The batches are exactly
polyir's own (same data, same seed): all guarantees of docs/sampling.md hold — no group
twice in a batch, exact length, a pure function of (seed, epoch, position), so resuming
from a checkpoint (the trainer skips the batches already trained) continues exactly.
"""
from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from ..errors import ConfigError
from ..sampling import DEFAULT_ALPHA, DEFAULT_STRATEGY, BatchSampler, SamplerConfig, SamplingStats, build_sampler
from .columns import DatasetColumns, index_from_dataset

try:  # sentence-transformers >= 5
    from sentence_transformers import DefaultBatchSampler
except ImportError:  # pragma: no cover - older sentence-transformers
    from sentence_transformers.sampler import DefaultBatchSampler

if TYPE_CHECKING:
    import torch
    from datasets import Dataset

log = logging.getLogger(__name__)


class HybridBatchSampler(DefaultBatchSampler):
    """X-X-mono, X-Y, hybrid(α) or mixed(α) batches over a `datasets.Dataset`.

    ``strategy``, ``alpha``, ``alpha_end``, ``language_weighting``, ``language_temperature``,
    ``dataset_temperature``: as `polyir.sampling.SamplerConfig`; ``total_steps`` is needed only
    for an α schedule (``alpha_end``).  ``drop_last`` is ignored: polyir's batches are always
    full (an epoch is the number of full batches that uses every group once, docs/sampling.md).
    Every draw comes from generators seeded by (seed, epoch, ...); ``seed`` is the training
    arguments' seed, which sentence-transformers >= 6.1 passes.  6.0 passes only ``generator``,
    seeded with it: when ``seed`` is left at 0, a seeded ``generator``'s seed is taken instead.
    ``batch_size`` (the attribute) counts dataset rows per batch, 2 × the items (``config.batch_size``).
    Under ``accelerate launch`` / ``torchrun`` each process gets whole batches in turn, the same
    number on every process (the last incomplete round is dropped).
    """

    def __init__(self, dataset: "Dataset", batch_size: int, drop_last: bool = True,
                 valid_label_columns: list[str] | None = None, generator: "torch.Generator | None" = None,
                 seed: int = 0, *, strategy: str = DEFAULT_STRATEGY.name, alpha: float = DEFAULT_ALPHA,
                 alpha_end: float | None = None, language_weighting: str = "uniform",
                 language_temperature: float = 1.0, dataset_temperature: float = 1.0, total_steps: int | None = None,
                 columns: DatasetColumns = DatasetColumns()) -> None:
        seed = seed or _seed_of(generator)
        super().__init__(dataset, batch_size=batch_size, drop_last=drop_last,
                         valid_label_columns=valid_label_columns, generator=generator, seed=seed)
        self.config = SamplerConfig(strategy, batch_size, alpha=alpha, alpha_end=alpha_end,
                                    language_weighting=language_weighting,
                                    language_temperature=language_temperature,
                                    dataset_temperature=dataset_temperature, seed=seed)
        self.columns = columns
        self.index = index_from_dataset(dataset, columns)
        self.polyir_sampler: BatchSampler = build_sampler(self.config, self.index, total_steps=total_steps)
        # what a torch BatchSampler's attributes mean, and what accelerate's per-process sharding
        # (BatchSamplerShard) checks: indices per batch, and every batch full
        self.batch_size, self.drop_last = 2 * batch_size, True

    @classmethod
    def using(cls, **options: Any) -> Callable[..., "HybridBatchSampler"]:
        """The callable for ``batch_sampler=``: this class with ``options`` (checked now, not at
        the first training step)."""
        for name, source in (("batch_size", "per_device_train_batch_size"), ("seed", "seed")):
            if name in options:
                raise ConfigError(f"{name} comes from the training arguments ({source}), not from using()")
        sampler_options = {k: v for k, v in options.items() if k not in ("total_steps", "columns")}
        SamplerConfig.from_mapping({"strategy": DEFAULT_STRATEGY.name, "batch_size": 1, **sampler_options})  # ConfigError if bad
        return functools.partial(cls, **options)

    def __len__(self) -> int:
        return len(self.polyir_sampler)

    def __iter__(self) -> Iterator[list[int]]:
        for position in range(len(self)):
            yield self.rows(position, self.epoch)

    def rows(self, position: int, epoch: int) -> list[int]:
        """Row indices of the batch at (``epoch``, ``position``): its queries' rows, then its positives' rows."""
        batch = self.polyir_sampler.batch_at(position, epoch)
        return np.concatenate([batch.query_index, batch.passage_index]).tolist()

    def composition(self, batches: int, stats: SamplingStats | None = None, start: int = 0) -> SamplingStats:
        """The realised composition of a run's batches ``start .. batches - 1`` (counted from
        epoch 0), added to ``stats``: batches are a pure function of their place in the run."""
        stats = stats if stats is not None else SamplingStats(self.index.languages, self.index.datasets)
        per_epoch = len(self)
        for step in range(start, batches):
            epoch, position = divmod(step, per_epoch)
            stats.update(self.polyir_sampler.batch_at(position, epoch))
        return stats


def _seed_of(generator: "torch.Generator | None") -> int:
    """The seed a trainer gave ``generator`` (0 when none, or when it was left unseeded)."""
    if generator is None:
        return 0
    import torch

    seed = generator.initial_seed()
    return 0 if seed == torch.Generator().initial_seed() else int(seed)
