"""`BatchSampler`: global batches as a pure function of (seed, epoch, position).

Every batch is recomputed from the epoch plan and counter-based random numbers, so the
sampler's whole state is ``(epoch, position)``: resuming, random access (`batch_at`) and
DDP (every rank draws the same global batch and keeps its slice) need no stored RNG state.
"""
from __future__ import annotations

import logging
from typing import Any, Iterator

import numpy as np

from ..errors import ConfigError
from .batch import Batch, check_world
from .sampler_config import SamplerConfig
from .index import SamplingIndex
from .plan import KIND_NAMES, TAG_ITEMS, TAG_SHUFFLE, EpochPlan, make_layout, make_plan
from .sampling_shares import SamplingStats

log = logging.getLogger(__name__)


class BatchSampler:
    """Yields this rank's slice of each global batch; ``len`` = global batches per epoch.

    ``total_steps`` (the run's length, which an α schedule needs) may instead be given as
    ``epochs``: ``epochs × len``, known once the sampler has laid out its epoch.  A configuration
    without a seed gets seed 0.
    """

    def __init__(self, config: SamplerConfig, index: SamplingIndex, *, world_size: int = 1,
                 rank: int = 0, total_steps: int | None = None, epochs: int | None = None):
        check_world(config.batch_size, world_size, rank)
        config = config.seeded(0)
        self.config, self.index = config, index
        self.layout = make_layout(index, config)
        if total_steps is None and epochs is not None:
            total_steps = epochs * self.layout.batches_per_epoch
        if config.alpha_end is not None and (not isinstance(total_steps, int) or total_steps < 1):
            raise ConfigError(f"an α schedule (alpha_end) needs total_steps >= 1, got {total_steps!r}")
        self.world_size, self.rank, self.total_steps = world_size, rank, total_steps
        self.stats = SamplingStats(index.languages, index.datasets)
        self._epoch, self._position = 0, 0
        self._plan: EpochPlan | None = None
        self._shuffled: dict[int, tuple[int, np.ndarray]] = {}  # stream -> (cycle, shuffled pool)
        for reason in self.layout.skipped:
            log.warning("sampler: %s", reason)

    def __len__(self) -> int:
        return self.layout.batches_per_epoch

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def position(self) -> int:
        """Batches of the current epoch already handed out."""
        return self._position

    def set_epoch(self, epoch: int) -> None:
        """Move to the start of ``epoch`` (do not call it after `load_state_dict`)."""
        if not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ConfigError(f"epoch must be a non-negative integer, got {epoch!r}")
        self._epoch, self._position = int(epoch), 0

    def __iter__(self) -> Iterator[Batch]:
        """The remaining batches of the current epoch; afterwards the next epoch starts."""
        epoch = self._epoch
        while self._epoch == epoch and self._position < len(self):
            batch = self.batch_at(self._position, epoch)
            self._position += 1  # counted when handed out, so state_dict() resumes after it
            self.stats.update(batch)
            yield batch.slice(self.rank, self.world_size) if self.world_size > 1 else batch
        if self._epoch == epoch:
            self._epoch, self._position = epoch + 1, 0

    def batch_at(self, position: int, epoch: int | None = None) -> Batch:
        """The global batch at ``position`` of ``epoch`` (default: the current epoch)."""
        epoch = self._epoch if epoch is None else epoch
        if not 0 <= position < len(self):
            raise IndexError(f"batch position {position} outside epoch of {len(self)} batches")
        plan = self._plan_for(epoch)
        stream = int(plan.stream[position])
        chosen = self._take(epoch, stream, int(plan.draw[position]))
        rng = np.random.default_rng([self.config.seed, epoch, TAG_ITEMS, position])
        kind, alpha = KIND_NAMES[plan.kind[position]], float(plan.alpha[position])
        language = int(plan.language[position])
        if stream >= len(self.index.datasets):  # examples of a partially covered language
            query = passage = chosen.astype(np.int64)
            groups, fallback = self.index.group_of_position(query), np.zeros(chosen.size, bool)
        elif kind == "mono":
            groups = chosen.astype(np.int64)
            query = passage = self._position_of_language(groups, language)
            fallback = np.zeros(chosen.size, bool)
        else:
            groups = chosen.astype(np.int64)
            query, passage, fallback = self._pairs(groups, rng, alpha if kind == "mixed" else 0.0)
        index = self.index
        return Batch(kind=kind, epoch=epoch, position=position, step=epoch * len(self) + position,
                     dataset=int(plan.dataset[position]), language=language, alpha=alpha,
                     query_index=index.members[query].astype(np.int64),
                     passage_index=index.members[passage].astype(np.int64),
                     group=index.group_ids[groups].astype(np.int64),
                     query_lang=index.member_lang[query].astype(np.int64),
                     passage_lang=index.member_lang[passage].astype(np.int64), fallback=fallback)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self._epoch, "position": self._position, **self._identity(), "total_steps": self.total_steps,
                "world_size": self.world_size, "stats": self.stats.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume: the next iteration yields exactly the batches the saved run had not yet yielded.

        Global batches do not depend on the world size, so a run may resume on another
        number of ranks (the batch size must divide by it).
        """
        for key, value in self._identity().items():
            if state.get(key) != value:
                raise ConfigError(f"sampler state has {key}={state.get(key)!r}, this sampler {value!r}")
        self._epoch, self._position = int(state["epoch"]), int(state["position"])
        self.stats.load_state_dict(state["stats"])

    def _identity(self) -> dict[str, Any]:
        """What a saved state must match to be resumed here (the run's length only where an α
        schedule makes the batches depend on it)."""
        schedule = {"total_steps": self.total_steps} if self.config.alpha_end is not None else {}
        return {"config": self.config.to_dict(), "batches_per_epoch": len(self), **schedule,
                "examples": self.index.n_examples, "groups": self.index.n_groups}

    def summary(self) -> dict[str, Any]:
        """Configured composition: batches per epoch, data-set and language probabilities."""
        index, layout = self.index, self.layout
        return {
            "batches_per_epoch": len(self),
            "datasets": {index.datasets[d]: {"probability": float(p), "batches_per_epoch": int(n),
                                             "mono_languages": {index.languages[lang]: float(q) for lang, q in
                                                                zip(langs, probs)}}
                         for d, p, n, langs, probs in zip(layout.datasets, layout.dataset_probability,
                                                          layout.batches_per_dataset, layout.mono_languages,
                                                          layout.language_probability)},
            "skipped": list(layout.skipped)}

    def _plan_for(self, epoch: int) -> EpochPlan:
        if self._plan is None or self._plan.epoch != epoch:
            self._plan = make_plan(self.index, self.config, self.layout, epoch, self.total_steps)
        return self._plan

    def _take(self, epoch: int, stream: int, draw: int) -> np.ndarray:
        """Entries of ``stream`` for its ``draw``-th batch of ``epoch`` (distinct within a batch)."""
        pool = self._pool(stream)
        size = self.config.batch_size
        cycle, slot = divmod(draw, pool.size // size)
        cached = self._shuffled.get(stream)
        if cached is None or cached[0] != (epoch, cycle):
            rng = np.random.default_rng([self.config.seed, epoch, TAG_SHUFFLE, stream, cycle])
            cached = ((epoch, cycle), rng.permutation(pool))
            self._shuffled[stream] = cached
        return cached[1][slot * size:(slot + 1) * size]

    def _pool(self, stream: int) -> np.ndarray:
        n_datasets = len(self.index.datasets)
        if stream < n_datasets:
            return self.index.groups_of(stream)
        dataset, lang = divmod(stream - n_datasets, len(self.index.languages))
        return self.index.pool_of(dataset, lang)

    def _position_of_language(self, groups: np.ndarray, language: int) -> np.ndarray:
        """Member position of ``language`` in each group (every group has it)."""
        start = self.index.group_offsets[groups]
        size = self.index.group_offsets[groups + 1] - start
        columns = np.arange(self.index.max_group_size)
        inside = columns < size[:, None]
        positions = start[:, None] + np.where(inside, columns, 0)
        hit = (self.index.member_lang[positions] == language) & inside
        return start + hit.argmax(axis=1)

    def _pairs(self, groups: np.ndarray, rng: np.random.Generator, mono_probability: float):
        """Query / passage member positions: two different languages of the group, except
        items made mono (probability ``mono_probability``) and one-language groups (fallback)."""
        start = self.index.group_offsets[groups]
        size = self.index.group_offsets[groups + 1] - start
        uniform = rng.random((3, groups.size))
        first = np.minimum((uniform[0] * size).astype(np.int64), size - 1)
        second = np.minimum((uniform[1] * (size - 1)).astype(np.int64), np.maximum(size - 2, 0))
        second += second >= first
        wanted_mono = uniform[2] < mono_probability
        fallback = ~wanted_mono & (size == 1)
        second = np.where(wanted_mono | fallback, first, second)
        return start + first, start + second, fallback


def build_sampler(config: SamplerConfig, index: SamplingIndex, *, world_size: int = 1, rank: int = 0,
                  total_steps: int | None = None, epochs: int | None = None) -> BatchSampler:
    """The sampler for ``config`` over ``index`` (validates world size, rank and schedule); the run
    lasts ``total_steps`` or ``epochs`` of this sampler."""
    return BatchSampler(config, index, world_size=world_size, rank=rank, total_steps=total_steps, epochs=epochs)
