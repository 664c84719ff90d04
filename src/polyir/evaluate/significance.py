"""Significance tests and confidence intervals for comparing two systems on the same queries.

The statistic is always a *macro average over settings* (e.g. cross-lingual mAP = mean
over the X->Y settings of the mean over each setting's queries), computed from a matrix
``values[setting, question]`` with NaN where a question has no query in that setting.

Questions (parallel query ids) are the resampling unit: the translations of one question
appear in many settings and are strongly correlated, so treating them as independent
queries would overstate significance.  Both procedures are paired: system A and system B
are evaluated on exactly the same questions.

* Paired cluster bootstrap: resample questions with replacement (the same resample for
  A and B), recompute the macro statistic for A − B; percentile 95% CI; two-sided p from
  the shifted bootstrap distribution.
* Paired randomisation (sign-flip) test: under H0 the labels A/B are exchangeable per
  question, so each question's differences are multiplied by ±1 (all its settings
  together); p = (1 + #{|T*| >= |T|}) / (1 + n).

Both are vectorised (one matrix product per batch of resamples) and deterministic for a
seed.  Holm's step-down correction is provided for families of comparisons.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Comparison:
    """A − B on one macro-averaged measure."""

    mean_a: float
    mean_b: float
    delta: float
    ci_low: float
    ci_high: float
    p_bootstrap: float
    p_randomization: float
    n_questions: int
    n_resamples: int

    @property
    def p_value(self) -> float:
        """The randomisation p-value (exact-in-expectation under H0); the headline p."""
        return self.p_randomization


def _as_matrix(values) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError("values must be a (settings x questions) matrix")
    return arr


def macro_mean(values) -> float:
    """Mean over settings of the mean over present (non-NaN) questions; empty settings skipped."""
    arr = _as_matrix(values)
    present = ~np.isnan(arr)
    counts = present.sum(axis=1)
    sums = np.where(present, arr, 0.0).sum(axis=1)
    keep = counts > 0
    return float(np.mean(sums[keep] / counts[keep])) if keep.any() else float("nan")


def _macro_from_weights(weights: np.ndarray, filled: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Macro statistic for each row of question weights (resamples x questions)."""
    sums = weights @ filled.T  # resamples x settings
    counts = weights @ present.T
    with np.errstate(invalid="ignore", divide="ignore"):
        per_setting = sums / counts
    return np.nanmean(per_setting, axis=1)


def compare(values_a, values_b, *, n_resamples: int = 10_000, seed: int = 0,
            confidence: float = 0.95, batch: int = 1000) -> Comparison:
    """Paired cluster bootstrap CI and p-values for macro(A) − macro(B).

    ``values_a`` and ``values_b``: (settings x questions) matrices with identical NaN
    patterns (the same queries were evaluated).
    """
    a, b = _as_matrix(values_a), _as_matrix(values_b)
    if a.shape != b.shape:
        raise ValueError(f"systems evaluated on different query sets: {a.shape} vs {b.shape}")
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        raise ValueError("systems evaluated on different query sets (missing values differ)")
    present = (~np.isnan(a)).astype(np.float64)
    diff = np.where(present > 0, a - b, 0.0)
    n_q = a.shape[1]
    observed = macro_mean(a) - macro_mean(b)
    rng = np.random.default_rng(seed)

    boot, flips = [], []
    done = 0
    while done < n_resamples:
        m = min(batch, n_resamples - done)
        weights = rng.multinomial(n_q, np.full(n_q, 1.0 / n_q), size=m).astype(np.float64)
        boot.append(_macro_from_weights(weights, diff, present))
        signs = rng.integers(0, 2, size=(m, n_q)).astype(np.float64) * 2.0 - 1.0
        flips.append(_signflip_stat(signs, diff, present))
        done += m
    boot_arr = np.concatenate(boot)
    flip_arr = np.concatenate(flips)
    alpha = 1.0 - confidence
    low, high = np.nanquantile(boot_arr, [alpha / 2, 1 - alpha / 2])
    # bootstrap p: how often the bootstrap distribution, shifted to mean 0, is as extreme
    centred = boot_arr - np.nanmean(boot_arr)
    p_boot = (1 + np.sum(np.abs(centred) >= abs(observed))) / (1 + len(centred))
    p_rand = (1 + np.sum(np.abs(flip_arr) >= abs(observed) - 1e-12)) / (1 + len(flip_arr))
    return Comparison(mean_a=macro_mean(a), mean_b=macro_mean(b), delta=observed,
                      ci_low=float(low), ci_high=float(high), p_bootstrap=float(p_boot),
                      p_randomization=float(p_rand), n_questions=n_q, n_resamples=n_resamples)


def _signflip_stat(signs: np.ndarray, diff: np.ndarray, present: np.ndarray) -> np.ndarray:
    counts = present.sum(axis=1)  # per setting, fixed under sign flips
    keep = counts > 0
    per_setting = (signs @ diff.T)[:, keep] / counts[keep]
    return per_setting.mean(axis=1)


def mean_std(values) -> tuple[float, float, int]:
    """Mean and sample standard deviation (ddof=1; 0 for a single value) over seeds."""
    arr = np.asarray([v for v in values if v is not None and not np.isnan(v)], dtype=np.float64)
    if arr.size == 0:
        return float("nan"), float("nan"), 0
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return float(arr.mean()), std, int(arr.size)


def holm(p_values) -> list[float]:
    """Holm–Bonferroni adjusted p-values (same order as given)."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    m = len(p)
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        adjusted[idx] = running
    return adjusted.tolist()
