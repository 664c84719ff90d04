"""InfoNCE over the global batch, with parallel-group false-negative masking.

Pure functions of embeddings (and integer group ids): no model, no ranks.  The
distributed gather (`polyir.distributed`) and gradient caching (`polyir.gradcache`)
wrap these functions; they never change them.

For query ``i`` with similarity ``s(a, b) = <a, b>`` (cosine for L2-normalised
embeddings), temperature ``tau``, in-batch passages ``p_1..p_N`` and shared hard
negatives ``n_1..n_M``::

    l_i = -log  exp(s(q_i, p_i)/tau) / ( sum_{j in P_i} exp(s(q_i, p_j)/tau)
                                          + sum_{m=1..M} exp(s(q_i, n_m)/tau) )

    P_i = {i} ∪ {j : group_j != group_i}       (mask_same_group=True)
    P_i = {1..N}                               (mask_same_group=False, paper-faithful)

The symmetric (passage -> query) term ranks the in-batch queries for each passage with
the same mask; the total is ``mean_i l_i + symmetric_weight * mean_j l'_j``.
See docs/training.md for the reasoning behind each default.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .errors import ConfigError

DEFAULT_TEMPERATURE = 0.05


@dataclass(frozen=True)
class ContrastiveLossOutput:
    """The loss (with graph) and statistics computed from the same logits (detached)."""

    loss: Tensor
    query_loss: Tensor  # query -> passage term
    passage_loss: Tensor | None  # passage -> query term, None when symmetric_weight == 0
    accuracy: Tensor  # fraction of queries whose positive beats every unmasked candidate
    positive_similarity: Tensor  # mean s(q_i, p_i)
    hardest_negative_similarity: Tensor  # mean over queries of the best unmasked negative (NaN if none)
    masked_per_query: Tensor  # mean number of in-batch passages removed by the group mask

    def as_floats(self) -> dict[str, float]:
        """Plain floats for logging (one device sync)."""
        names = ("loss", "query_loss", "passage_loss", "accuracy", "positive_similarity",
                 "hardest_negative_similarity", "masked_per_query")
        values = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        stacked = torch.stack([v.detach().float().reshape(()) for v in values.values()]).tolist()
        return dict(zip(values, stacked))


@dataclass(frozen=True)
class InfoNCE:
    """Configured InfoNCE loss; ``InfoNCE()(q, p, groups, negatives)``."""

    temperature: float = DEFAULT_TEMPERATURE
    symmetric_weight: float = 0.0
    mask_same_group: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ConfigError(f"loss temperature must be a positive number, got {self.temperature!r}")
        if not (math.isfinite(self.symmetric_weight) and self.symmetric_weight >= 0):
            raise ConfigError(f"symmetric loss weight must be >= 0, got {self.symmetric_weight!r}")

    def __call__(self, queries: Tensor, passages: Tensor, groups: Tensor | None = None,
                 negatives: Tensor | None = None) -> ContrastiveLossOutput:
        return info_nce(queries, passages, groups, negatives, temperature=self.temperature,
                        symmetric_weight=self.symmetric_weight, mask_same_group=self.mask_same_group)


def info_nce(queries: Tensor, passages: Tensor, groups: Tensor | None = None,
             negatives: Tensor | None = None, *, temperature: float = DEFAULT_TEMPERATURE,
             symmetric_weight: float = 0.0, mask_same_group: bool = True) -> ContrastiveLossOutput:
    """InfoNCE of ``queries[i]`` against ``passages[i]`` (formula in the module docstring).

    ``queries``, ``passages``: ``[N, d]``; ``groups``: ``[N]`` integer parallel-group ids
    (None: every example is its own group); ``negatives``: ``[M, d]`` hard negatives of
    all examples, shared by every query and never masked.  Half-precision inputs are
    scored in float32, also under an enclosing ``torch.autocast``.
    """
    _check_shapes(queries, passages, groups, negatives)
    # an enclosing autocast would run the score matmuls in half precision again
    with torch.autocast(queries.device.type, enabled=False):
        return _info_nce(queries, passages, groups, negatives, temperature, symmetric_weight, mask_same_group)


def _info_nce(queries: Tensor, passages: Tensor, groups: Tensor | None, negatives: Tensor | None,
              temperature: float, symmetric_weight: float, mask_same_group: bool) -> ContrastiveLossOutput:
    q, p = _score_dtype(queries), _score_dtype(passages)
    n = queries.shape[0]
    target = torch.arange(n, device=queries.device)
    scores = q @ p.T
    mask = false_negative_mask(groups) if (mask_same_group and groups is not None) else None
    masked_scores = scores if mask is None else scores.masked_fill(mask, float("-inf"))
    row_scores = masked_scores
    if negatives is not None and negatives.shape[0] > 0:
        row_scores = torch.cat([masked_scores, q @ _score_dtype(negatives).T], dim=1)
    query_loss = F.cross_entropy(row_scores / temperature, target)
    loss, passage_loss = query_loss, None
    if symmetric_weight > 0:
        passage_loss = F.cross_entropy(masked_scores.T / temperature, target)
        loss = query_loss + symmetric_weight * passage_loss
    return _with_stats(loss, query_loss, passage_loss, row_scores, target, mask)


def false_negative_mask(groups: Tensor) -> Tensor:
    """``[N, N]`` bool, True where ``j != i`` and ``groups[j] == groups[i]``: the
    translations of an example's positive (and of its query) are not its negatives."""
    same = groups[:, None] == groups[None, :]
    return same & ~torch.eye(groups.shape[0], dtype=torch.bool, device=groups.device)


def group_ids(keys: Sequence[str]) -> Tensor:
    """Stable int64 ids for string group keys (``Pair.group``).

    A hash rather than an enumeration, so that ranks that never see each other's keys
    still agree on the ids of the gathered global batch (collision chance ~N^2 / 2^64).
    """
    ids = [int.from_bytes(hashlib.blake2b(k.encode("utf-8"), digest_size=8).digest(), "little", signed=True)
           for k in keys]
    return torch.tensor(ids, dtype=torch.long)


def _score_dtype(t: Tensor) -> Tensor:
    # temperature 0.05 multiplies score errors by 20: bf16 scores would move the loss visibly
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def _with_stats(loss: Tensor, query_loss: Tensor, passage_loss: Tensor | None, row_scores: Tensor,
                target: Tensor, mask: Tensor | None) -> ContrastiveLossOutput:
    with torch.no_grad():
        positive = row_scores.gather(1, target[:, None]).squeeze(1)
        others = row_scores.scatter(1, target[:, None], float("-inf"))
        hardest = others.max(dim=1).values
        has_negative = torch.isfinite(hardest)
        # a masked mean without boolean indexing (which would force a device sync)
        hardest_mean = torch.where(has_negative, hardest, 0.0).sum() / has_negative.sum()
        masked = mask.sum(dim=1).float().mean() if mask is not None else positive.new_zeros(())
        return ContrastiveLossOutput(
            loss=loss, query_loss=query_loss.detach(),
            passage_loss=None if passage_loss is None else passage_loss.detach(),
            accuracy=(positive > hardest).float().mean(), positive_similarity=positive.mean(),
            hardest_negative_similarity=hardest_mean, masked_per_query=masked)


def _check_shapes(queries: Tensor, passages: Tensor, groups: Tensor | None, negatives: Tensor | None) -> None:
    if queries.ndim != 2 or passages.shape != queries.shape:
        raise ValueError(f"queries and passages must both be [N, d]; got {tuple(queries.shape)} "
                         f"and {tuple(passages.shape)}")
    if queries.shape[0] == 0:
        raise ValueError("empty batch")
    if groups is not None and (groups.shape != (queries.shape[0],) or groups.is_floating_point()):
        raise ValueError(f"groups must be an integer tensor of shape [{queries.shape[0]}]; got "
                         f"{groups.dtype} {tuple(groups.shape)}")
    if negatives is not None and (negatives.ndim != 2 or negatives.shape[1] != queries.shape[1]):
        raise ValueError(f"negatives must be [M, {queries.shape[1]}]; got {tuple(negatives.shape)}")
