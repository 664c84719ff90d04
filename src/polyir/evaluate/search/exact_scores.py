"""Canonical scores: the one number every ranking of polyir is decided by.

A fast product (any BLAS, any block shape, a GPU) returns scores that differ from one
another in the last bits: the order of the sums depends on the shape of the product and on
the library.  polyir ranks by the **canonical score** instead: the inner product of the
two float32 vectors accumulated in float64 in a fixed order (8 interleaved partial sums,
combined pairwise), rounded to float32.  Products of float32 numbers are exact in float64,
so the canonical score is a function of the two vectors alone: the same on every machine,
for every memory budget, batch of queries or device.

The fast product is still what is computed for every (query, candidate) pair.  Its error
is bounded (Higham, *Accuracy and Stability of Numerical Algorithms*, eq. 3.5, for any
order of summation, with or without FMA): ``|fl(q·c) - q·c| <= γ_d Σ|q_i c_i| <=
γ_d ‖q‖‖c‖`` with ``γ_d = d u / (1 - d u)``, ``u = 2^-24``.  `ScoreVectors.slack` adds
the rounding of the canonical score itself and bounds ``|fast - canonical|`` per query;
only comparisons that fall within that slack (near-ties, a handful per query) are settled
by computing canonical scores.  Everything else is decided by the fast score, which is
then provably on the same side.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

FLOAT32_UNIT = 2.0**-24  # unit roundoff of float32
REDUCED_INPUT_UNIT = 2.0**-8  # bfloat16's; TF32 (2^-11) and bf16x3 round less
# float32's smallest normal number: an operation that underflows, or a BLAS that flushes
# subnormal inputs or results to zero (FTZ/DAZ), can be off by this much times its operands
_TINY = 2.0**-126


@njit(cache=True, nogil=True)
def canonical_dot(q, c, scratch):
    """``float32(q · c)``: exact float64 products summed pairwise in a fixed tree, rounded once.

    The tree: while more than one partial sum is left, the first half gets the second half
    added elementwise (an odd one out moves to the end of the first half).  Every step is an
    elementwise loop, so it vectorises without reassociating anything: the same bits on every
    machine.  ``scratch``: a float64 work array at least as long as ``q``.
    """
    n = q.shape[0]
    for i in range(n):
        scratch[i] = np.float64(q[i]) * np.float64(c[i])
    while n > 1:
        half = n // 2
        for i in range(half):
            scratch[i] = scratch[i] + scratch[i + half]
        if n % 2:
            scratch[half] = scratch[n - 1]
            n = half + 1
        else:
            n = half
    return np.float32(scratch[0]) if q.shape[0] else np.float32(0.0)


@njit(cache=True)
def canonical_scores(queries, candidates, rows, cols):
    """``out[i] = canonical_dot(queries[rows[i]], candidates[cols[i]])``."""
    out = np.empty(rows.shape[0], np.float32)
    scratch = np.empty(queries.shape[1], np.float64)
    for i in range(rows.shape[0]):
        out[i] = canonical_dot(queries[rows[i]], candidates[cols[i]], scratch)
    return out


def product_error_unit(dim: int, input_unit: float = 0.0) -> float:
    """``e`` with ``|fast - canonical| <= e ‖q‖‖c‖`` for a float32 product of dimension ``dim``.

    ``input_unit``: the roundoff of the inputs when the product rounds them first (TF32 or
    bfloat16 matmul precision), 0 for a true float32 product.  Terms: the inputs' rounding
    ``(1 + u_in)^2 - 1``, the float32 sums ``γ_d``, the canonical score's own rounding to
    float32 (``u``) and of its float64 sums (bounded by ``γ_d`` in float64, negligible).
    """
    gamma = dim * FLOAT32_UNIT / (1 - dim * FLOAT32_UNIT)
    gamma64 = dim * 2.0**-53 / (1 - dim * 2.0**-53)
    inputs = (1 + input_unit) ** 2 - 1
    return ((1 + inputs) * (1 + gamma) - 1) + FLOAT32_UNIT * (1 + gamma64) + gamma64


def matmul_input_unit(device_type: str = "cpu") -> float:
    """The input roundoff torch's float32 matmul may use on ``device_type`` (0 = true float32).

    ``torch.set_float32_matmul_precision("high"/"medium")`` or a backend's
    ``fp32_precision = "tf32"/"bf16"`` let torch round the inputs (TF32 or bfloat16); any
    such setting counts as bfloat16, the coarsest.
    """
    import torch

    backend = torch.backends.cuda.matmul if device_type == "cuda" else torch.backends.mkldnn.matmul
    setting = getattr(backend, "fp32_precision", "none")
    if setting == "ieee":
        return 0.0
    if setting == "none" and torch.get_float32_matmul_precision() == "highest":
        return 0.0
    return REDUCED_INPUT_UNIT


@dataclass(frozen=True, eq=False)
class ScoreVectors:
    """The vectors behind a block of fast scores, and a bound on each row's error.

    ``queries`` (rows × d) and ``candidates`` (n × d) are C-contiguous float32 arrays;
    ``slack[i]`` bounds ``|fast score - canonical score|`` for every candidate of row ``i``
    (relative bound × ‖q_i‖ × max‖c‖, inflated by 1e-3 for the norms' own rounding and so that
    the float64 arithmetic of the comparisons cannot cross it, plus room for float32 underflow
    and flushed subnormals).
    """

    queries: np.ndarray
    candidates: np.ndarray
    slack: np.ndarray

    @classmethod
    def build(cls, queries: np.ndarray, candidates: np.ndarray, input_unit: float = 0.0) -> "ScoreVectors":
        import torch

        queries = np.ascontiguousarray(queries, dtype=np.float32)
        candidates = np.ascontiguousarray(candidates, dtype=np.float32)
        dim = queries.shape[1]
        # float32 norms are within γ_d (relative) of the true ones: 1e-3 more slack covers that
        q_norm = torch.linalg.vector_norm(torch.from_numpy(queries), dim=1).numpy().astype(np.float64)
        c_norm = torch.linalg.vector_norm(torch.from_numpy(candidates), dim=1)
        c_max = float(c_norm.max()) if c_norm.numel() else 0.0
        underflow = 4 * dim * _TINY * (1 + q_norm + c_max)
        slack = product_error_unit(dim, input_unit) * q_norm * c_max * (1 + 1e-3) + underflow
        return cls(queries, candidates, slack)

    def rows(self, start: int, stop: int) -> "ScoreVectors":
        return ScoreVectors(self.queries[start:stop], self.candidates, self.slack[start:stop])

    def columns(self, start: int, stop: int) -> "ScoreVectors":
        """The same queries against candidates ``start:stop`` (the slack stays a valid bound)."""
        return ScoreVectors(self.queries, self.candidates[start:stop], self.slack)
