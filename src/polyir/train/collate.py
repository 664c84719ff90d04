"""Collate: the texts of a sampled `Batch`, the loss's mask groups, and the encoder's sub-batches.

Item ``i`` of a rank's slice is (query of example ``query_index[i]``, positive of example
``passage_index[i]``, up to k hard negatives of that passage-language example).  The mask
groups are computed on the *global* batch (every rank has it), so no ids need gathering.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from ..types import Pair
from .featurize import Featurizer

if TYPE_CHECKING:
    from ..sampling import Batch


@dataclass(frozen=True)
class BatchTexts:
    """The texts of one rank's slice, and the mask groups of the whole global batch."""

    queries: list[str]
    passages: list[str]
    negatives: list[str]
    mask_groups: torch.Tensor  # [global batch] int64: equal ids are never each other's negatives


def batch_texts(pairs: Sequence[Pair], global_batch: "Batch", local: "Batch", *, hard_negatives: int = 0,
                mask_same_group: bool = True, mask_same_positive: bool = True,
                seed: int = 0) -> BatchTexts:
    """Texts of ``local`` (a rank's slice of ``global_batch``) and the global mask groups."""
    queries = [pairs[i].query for i in local.query_index]
    passages = [pairs[i].positive for i in local.passage_index]
    negatives = [text for i in local.passage_index
                 for text in choose_negatives(pairs[i].negatives, hard_negatives, seed, global_batch.step, int(i))]
    global_positives = [pairs[i].positive for i in global_batch.passage_index] if mask_same_positive else None
    groups = mask_groups(global_batch.group if mask_same_group else None, global_positives, len(global_batch))
    return BatchTexts(queries, passages, negatives, torch.from_numpy(groups))


def choose_negatives(negatives: Sequence[str], k: int, seed: int, step: int, example: int) -> Sequence[str]:
    """``k`` hard negatives of an example: all when it has at most ``k``, else a draw
    without replacement that depends only on (seed, step, example) (resumable, rank-independent)."""
    if k <= 0 or not negatives:
        return ()
    if len(negatives) <= k:
        return negatives
    rng = np.random.default_rng([seed, step, example, 7])
    return [negatives[j] for j in sorted(rng.choice(len(negatives), size=k, replace=False))]


def mask_groups(groups: np.ndarray | None, positives: Sequence[str] | None, n: int) -> np.ndarray:
    """Connected components of "same parallel group" or "same positive text" over the batch.

    The loss masks items with equal ids, so the relation must be transitive: if item a is a
    translation of b and b's positive is c's positive, a's positive is a translation of c's
    positive — relevant to c's query too.  Ids are the smallest member index of the component.
    """
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for keys in (groups, positives):
        if keys is None:
            continue
        first: dict = {}
        for i, key in enumerate(keys.tolist() if isinstance(keys, np.ndarray) else keys):
            j = first.setdefault(key, i)
            if j != i:
                a, b = find(i), find(j)
                parent[max(a, b)] = min(a, b)
    return np.fromiter((find(i) for i in range(n)), dtype=np.int64, count=n)


@dataclass(frozen=True)
class SubBatch:
    """One forward pass: ``features`` of ``sizes = (queries, passages, negatives)`` texts, in that order."""

    task: str
    features: dict
    sizes: tuple[int, int, int]


def sub_batches(featurizer: Featurizer, texts: BatchTexts, chunk: int | None, device) -> list[SubBatch]:
    """The rank's texts as forward passes of at most ``chunk`` texts of each kind (None: all at
    once).  A sub-batch holds all three kinds in one padded batch when the featurizer allows it
    (`Featurizer.joint_features`), else one sub-batch per kind."""
    from sentence_transformers.util import batch_to_device

    size = chunk or max(len(texts.queries), len(texts.negatives), 1)
    out = []
    for start in range(0, max(len(texts.queries), len(texts.negatives)), size):
        parts = [(texts.queries[start:start + size], "query"), (texts.passages[start:start + size], "passage"),
                 (texts.negatives[start:start + size], "passage")]
        joint = featurizer.joint_features(parts)
        if joint is not None:
            out.append(SubBatch("query", batch_to_device(joint, device), tuple(len(t) for t, _ in parts)))
            continue
        for position, (part, kind) in enumerate(parts):
            if part:
                sizes = tuple(len(part) if p == position else 0 for p in range(3))
                out.append(SubBatch(featurizer.task(kind), batch_to_device(featurizer.features(part, kind), device),
                                    sizes))
    return out


def split_embeddings(embeddings: torch.Tensor, batches: Sequence[SubBatch]) -> list[torch.Tensor | None]:
    """Queries, passages, negatives from the concatenated embeddings of ``batches`` (None: no rows)."""
    sizes = [n for b in batches for n in b.sizes]
    pieces = embeddings.split(sizes)
    kinds = [torch.cat(pieces[k::3]) for k in range(3)]
    return [t if t.shape[0] else None for t in kinds]
