"""Length buckets: cut a step's texts into forward passes that waste little compute on padding.

A padded forward pass of ``n`` texts of width ``w`` (its longest text) costs about
``n * w`` token-times-layers of compute plus a fixed cost per pass (kernel dispatch, small
matrices that use the hardware less well).  `plan_buckets` sorts the texts by length and
chooses the cut points that minimise ``Σ_buckets (n_b * w_b + overhead)`` exactly (dynamic
programming), optionally with at most ``max_tokens`` padded tokens per pass (GradCache's
memory bound).  Deterministic: the plan is a function of the lengths and the two numbers.

Every text's embedding is a function of its own tokens only (attention is masked, pooling
is masked, no batch statistics), so how texts are grouped into passes does not change the
embeddings, the loss or the gradients — only float summation order (tests: 1e-5).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

# Fixed cost of one more forward + backward pass in a training step, in padded tokens of the
# same model, on a CPU: ~32768 / hidden_size.  The training step was fastest at 512 tokens for
# the tiny preset (hidden 64) and flat around 43-170 for multilingual-e5-small (hidden 384;
# 85 marginally best); docs/benchmarks.md "Training speed".
CPU_OVERHEAD_NUMERATOR = 32768


def default_overhead(hidden_size: int | None) -> int:
    """The CPU cost of one more forward pass, in tokens, from the model's hidden size."""
    return max(8, CPU_OVERHEAD_NUMERATOR // max(hidden_size or 384, 1))


def plan_buckets(lengths: Sequence[int] | np.ndarray, *, overhead: float,
                 max_tokens: int | None = None) -> list[np.ndarray]:
    """Positions (into ``lengths``) of the texts of each forward pass, shortest texts first.

    Cuts fall only between texts of different lengths (moving a cut to the end of a run of
    equal lengths never costs more), so the search is quadratic in the number of distinct
    lengths, not of texts.  A bucket wider than ``max_tokens`` allows is split into equal
    passes, and the cost model counts them.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.size == 0:
        return []
    order = np.argsort(lengths, kind="stable")
    ordered = lengths[order]
    ends = np.flatnonzero(np.diff(ordered)) + 1
    ends = np.append(ends, ordered.size)  # end position of each run of equal lengths
    widths = ordered[ends - 1]
    starts = np.concatenate([[0], ends])  # candidate start positions, one per run (and 0)
    best = np.zeros(ends.size + 1)
    cut = np.zeros(ends.size + 1, dtype=np.int64)
    for r in range(ends.size):
        counts = ends[r] - starts[:r + 1]
        cost = best[:r + 1] + counts * widths[r] + overhead * _passes(counts, widths[r], max_tokens)
        cut[r + 1] = int(np.argmin(cost))  # first minimum: deterministic
        best[r + 1] = cost[cut[r + 1]]
    buckets: list[np.ndarray] = []
    r = ends.size
    while r > 0:
        start = starts[cut[r]]
        members = order[start:ends[r - 1]]
        passes = int(_passes(np.array([members.size]), widths[r - 1], max_tokens)[0])
        buckets[:0] = np.array_split(members, passes)
        r = cut[r]
    return buckets


def _passes(counts: np.ndarray, width: int, max_tokens: int | None) -> np.ndarray:
    """Forward passes needed for ``counts`` texts of ``width`` tokens under the token budget."""
    if max_tokens is None:
        return np.ones_like(counts)
    per_pass = max(1, max_tokens // max(int(width), 1))
    return -(-counts // per_pass)


def padded_tokens(lengths: Sequence[int] | np.ndarray, buckets: Sequence[np.ndarray]) -> int:
    """Tokens the passes process, padding included (for logs and benchmarks)."""
    lengths = np.asarray(lengths)
    return int(sum(len(b) * lengths[b].max() for b in buckets if len(b)))
