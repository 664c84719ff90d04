"""`Batch`: one sampled batch as index arrays, and the per-rank slicing helper."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import ConfigError

BATCH_KINDS = ("mono", "cross", "mixed")
_ITEM_FIELDS = ("query_index", "passage_index", "group", "query_lang", "passage_lang", "fallback")


@dataclass(frozen=True, eq=False)
class Batch:
    """A global batch (or one rank's contiguous slice of it).

    Item ``i`` pairs the query of example ``query_index[i]`` with the positive passage of
    example ``passage_index[i]``; both examples belong to parallel group ``group[i]`` (the
    caller's group id), so the loss can mask by group.  ``query_lang`` / ``passage_lang``
    index `SamplingIndex.languages`; ``fallback[i]`` is True for an item drawn as
    cross-lingual whose group has a single language (it is then monolingual).

    kind      ``mono`` (one language, ``language``), ``cross`` (X-Y) or ``mixed``
              (items independently mono with probability ``alpha``).
    alpha     P(mono) in effect when the batch was drawn (1 for mono, 0 for cross strategies).
    epoch, position, step   epoch, index within the epoch, global step (epoch * len + position).
    offset, global_size     where this slice starts in the global batch, and its full size.
    """

    kind: str
    epoch: int
    position: int
    step: int
    dataset: int
    language: int  # the language of a mono batch; -1 otherwise
    alpha: float
    query_index: np.ndarray
    passage_index: np.ndarray
    group: np.ndarray
    query_lang: np.ndarray
    passage_lang: np.ndarray
    fallback: np.ndarray
    offset: int = 0
    global_size: int = -1

    def __post_init__(self) -> None:
        if self.kind not in BATCH_KINDS:
            raise ValueError(f"batch kind must be one of {BATCH_KINDS}, got {self.kind!r}")
        sizes = {getattr(self, name).shape for name in _ITEM_FIELDS}
        if len(sizes) != 1:
            raise ValueError(f"batch item arrays differ in shape: {sizes}")
        for name in _ITEM_FIELDS:
            getattr(self, name).flags.writeable = False
        if self.global_size < 0:
            object.__setattr__(self, "global_size", len(self))

    def __len__(self) -> int:
        return int(self.query_index.size)

    @property
    def is_cross(self) -> np.ndarray:
        """Per item: query and passage in different languages."""
        return self.query_lang != self.passage_lang

    def slice(self, rank: int, world_size: int) -> "Batch":
        return slice_for_rank(self, rank, world_size)


def slice_for_rank(batch: Batch, rank: int, world_size: int) -> Batch:
    """Rank ``rank``'s contiguous share of a global batch (all ranks get the same kind).

    The global batch size must be divisible by ``world_size``: every rank then holds the
    same number of items, which the all-gather in the loss relies on.
    """
    check_world(len(batch), world_size, rank)
    size = len(batch) // world_size
    part = slice(rank * size, (rank + 1) * size)
    items = {name: getattr(batch, name)[part] for name in _ITEM_FIELDS}
    return replace(batch, **items, offset=batch.offset + rank * size, global_size=batch.global_size)


def check_world(batch_size: int, world_size: int, rank: int) -> None:
    if not isinstance(world_size, int) or world_size < 1:
        raise ConfigError(f"world_size must be a positive integer, got {world_size!r}")
    if not isinstance(rank, int) or not 0 <= rank < world_size:
        raise ConfigError(f"rank must be in [0, {world_size}), got {rank!r}")
    if batch_size % world_size:
        raise ConfigError(f"global batch size {batch_size} is not divisible by world size {world_size}")
