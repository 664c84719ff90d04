"""Collate: the texts of a sampled `Batch`, the loss's mask groups, and the encoder's forward passes.

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
from .buckets import plan_buckets
from ..featurize import Featurizer

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
    """One forward pass: ``features`` of the texts at ``rows`` of the rank's text list
    (queries, then passages, then negatives)."""

    task: str
    features: dict
    rows: np.ndarray


@dataclass(frozen=True)
class ForwardPlan:
    """The forward passes of one step and how to put their embeddings back in text order."""

    batches: list[SubBatch]
    counts: tuple[int, int, int]  # queries, passages, negatives
    tokens: int = 0  # real tokens of the step's texts
    padded_tokens: int = 0  # tokens the passes process, padding included

    def stats(self) -> dict[str, float]:
        """For the training log: passes per step and the share of processed tokens that are padding."""
        return {"forward_passes": float(len(self.batches)),
                "padding": 1.0 - self.tokens / self.padded_tokens if self.padded_tokens else 0.0}

    def split(self, embeddings: torch.Tensor) -> list[torch.Tensor | None]:
        """Queries, passages, negatives (None: no rows) from the concatenated embeddings of
        the passes, in the order of the rank's texts."""
        rows = np.concatenate([b.rows for b in self.batches]) if self.batches else np.zeros(0, np.int64)
        if not np.array_equal(rows, np.arange(rows.size)):
            inverse = np.empty_like(rows)
            inverse[rows] = np.arange(rows.size)
            embeddings = embeddings.index_select(0, torch.from_numpy(inverse).to(embeddings.device))
        return [t if t.shape[0] else None for t in embeddings.split(list(self.counts))]


@dataclass(frozen=True)
class Bucketing:
    """Length buckets (`polyir.train.buckets`): ``overhead`` = the cost of one more forward
    pass in padded tokens; None: the unbucketed step (kinds in one pass when padding allows)."""

    overhead: float | None = None


def sub_batches(featurizer: Featurizer, texts: BatchTexts, chunk: int | None, device,
                bucketing: Bucketing = Bucketing()) -> ForwardPlan:
    """The rank's texts as forward passes.

    With ``bucketing.overhead``: all texts sorted by length and cut into passes that minimise
    padded tokens plus ``overhead`` per pass (`plan_buckets`); kinds share passes when the
    model allows it (`Featurizer.mixes`).  ``chunk`` (GradCache) then bounds a pass to
    ``chunk`` × the step's longest text in padded tokens.  Without: passes of at most ``chunk``
    texts of each kind (None: all at once), all kinds in one padded batch when that adds at
    most 15% padding (`Featurizer.joint_features`), else one pass per kind.
    """
    parts = [(texts.queries, "query"), (texts.passages, "passage"), (texts.negatives, "passage")]
    counts = tuple(len(t) for t, _ in parts)
    batches = None
    if bucketing.overhead is not None:
        batches = _bucketed(featurizer, parts, chunk, bucketing.overhead)
    if batches is None:
        batches = _chunked(featurizer, parts, chunk)
    from sentence_transformers.util import batch_to_device

    masks = [b.features["attention_mask"] for b in batches if "attention_mask" in b.features]
    return ForwardPlan([SubBatch(b.task, batch_to_device(b.features, device), b.rows) for b in batches], counts,
                       tokens=int(sum(int(m.sum()) for m in masks)), padded_tokens=sum(m.numel() for m in masks))


def _bucketed(featurizer: Featurizer, parts, chunk: int | None, overhead: float) -> list[SubBatch] | None:
    rows = [featurizer.rows(t, kind) if t else [] for t, kind in parts]
    if any(r is None for r in rows):
        return None  # no token cache: lengths unknown before tokenising
    kinds = [kind for (t, kind) in parts for _ in t]
    flat = [row for part in rows for row in part]
    lengths = np.fromiter((featurizer.length(r) for r in flat), dtype=np.int64, count=len(flat))
    max_tokens = chunk * int(lengths.max()) if chunk and flat else None
    positions = np.arange(len(flat))
    pools = ([positions] if featurizer.mixes(set(kinds)) else
             [positions[np.array(kinds) == kind] for kind in ("query", "passage")])
    out = []
    for pool in pools:
        for bucket in plan_buckets(lengths[pool], overhead=overhead, max_tokens=max_tokens):
            members = pool[bucket]
            present = {kinds[i] for i in members}
            task = featurizer.task(next(iter(present)) if len(present) == 1 else "query")
            out.append(SubBatch(task, featurizer.padded([flat[i] for i in members], present), members))
    return out


def _chunked(featurizer: Featurizer, parts, chunk: int | None) -> list[SubBatch]:
    offsets = np.cumsum([0] + [len(t) for t, _ in parts])
    size = chunk or max(len(parts[0][0]), len(parts[2][0]), 1)
    out = []
    for start in range(0, max(len(parts[0][0]), len(parts[2][0])), size):
        pieces = [(t[start:start + size], kind, np.arange(offset + start, offset + min(start + size, len(t))))
                  for (t, kind), offset in zip(parts, offsets)]
        joint = featurizer.joint_features([(t, kind) for t, kind, _ in pieces])
        if joint is not None:
            out.append(SubBatch("query", joint, np.concatenate([r for _, _, r in pieces])))
            continue
        out.extend(SubBatch(featurizer.task(kind), featurizer.features(t, kind), r) for t, kind, r in pieces if t)
    return out
