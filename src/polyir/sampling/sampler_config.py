"""`SamplerConfig`: what a batch sampler draws, validated once; and the α schedule.

It is also the ``sampler`` section of a training configuration (`polyir.train.TrainConfig`), so its
fields are the YAML keys users write and its defaults are the training defaults (the paper's).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

import numpy as np

from ..errors import ConfigError
from .batch_strategy import DEFAULT_ALPHA, DEFAULT_STRATEGY, STRATEGIES, WITH_ALPHA, Strategy

LANGUAGE_WEIGHTINGS = ("uniform", "size")
DEFAULT_BATCH_SIZE = 100  # the paper's


@dataclass(frozen=True)
class SamplerConfig:
    """How global batches are composed (see docs/sampling.md for the exact probabilities).

    strategy             ``mono`` (X-X-mono), ``cross`` (X-Y), ``hybrid`` (each batch mono
                         with probability α, else cross) or ``mixed`` (each item mono with
                         probability α, else cross).
    batch_size           global batch size (all ranks together); every batch is full.
    alpha                P(mono) for ``hybrid`` (per batch) and ``mixed`` (per item).
    alpha_end            None: α is constant.  Otherwise α moves linearly from ``alpha``
                         at step 0 to ``alpha_end`` at step ``total_steps - 1``.
    language_weighting   language of a mono batch: ``uniform`` over the data set's
                         languages (the paper), or ``size``: p_L ∝ n_L^(1/language_temperature).
    dataset_temperature  source data set of a batch: p_d ∝ G_d^(1/T), G_d its number of groups.
    seed                 with the epoch, determines every batch.  None: the seed of the run the
                         sampler belongs to (`TrainConfig.seed`), or 0 for a sampler built alone.

    The strategy and its α as one value: `batch_strategy` (``strategy`` and ``alpha`` stay two
    fields, the keys of the YAML files users write).
    """

    strategy: str = DEFAULT_STRATEGY.name
    batch_size: int = DEFAULT_BATCH_SIZE
    alpha: float = DEFAULT_ALPHA
    alpha_end: float | None = None
    language_weighting: str = "uniform"
    language_temperature: float = 1.0
    dataset_temperature: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"sampler strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if not _is_int(self.batch_size) or self.batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        _check_probability("alpha", self.alpha)
        if self.alpha_end is not None:
            _check_probability("alpha_end", self.alpha_end)
            if self.strategy not in WITH_ALPHA:
                raise ConfigError(f"alpha_end (an α schedule) needs strategy {' or '.join(map(repr, WITH_ALPHA))}, "
                                  f"not {self.strategy!r}")
        if self.language_weighting not in LANGUAGE_WEIGHTINGS:
            raise ConfigError(f"language_weighting must be one of {LANGUAGE_WEIGHTINGS}, "
                              f"got {self.language_weighting!r}")
        _check_temperature("language_temperature", self.language_temperature)
        _check_temperature("dataset_temperature", self.dataset_temperature)
        if self.seed is not None and (not _is_int(self.seed) or self.seed < 0):
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "SamplerConfig":
        """Build from a parsed YAML/JSON mapping; unknown keys are an error, not ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown sampler option(s) {unknown}; known: {sorted(known)}")
        if "strategy" not in values or "batch_size" not in values:
            raise ConfigError("sampler options need 'strategy' and 'batch_size'")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def batch_strategy(self) -> Strategy:
        """The strategy with its α (none for mono and cross, whose ``alpha`` is unused)."""
        return Strategy.of(self.strategy, self.alpha)

    @property
    def label(self) -> str:
        """``X-X-mono``, ``X-Y``, ``hybrid(0.5)``, ``mixed(0.3)``; a schedule ``hybrid(0.2->0.8)``."""
        return self.batch_strategy.scheduled_label(self.alpha_end)

    @property
    def mono_probability(self) -> float:
        """α as the strategies use it: mono is α = 1, cross is α = 0."""
        return self.batch_strategy.mono_probability

    def seeded(self, run_seed: int) -> "SamplerConfig":
        """This configuration with ``run_seed`` where its own seed is None (the run's seed)."""
        return self if self.seed is not None else dataclasses.replace(self, seed=run_seed)


def alpha_at(config: SamplerConfig, steps: np.ndarray, total_steps: int | None) -> np.ndarray:
    """α in effect at each global step (0-based): constant, or linear to ``alpha_end``.

    The linear schedule reaches ``alpha_end`` at step ``total_steps - 1`` and stays there.
    """
    steps = np.asarray(steps, dtype=np.float64)
    if config.alpha_end is None:
        return np.full(steps.shape, config.mono_probability)
    if total_steps is None:
        raise ConfigError("an α schedule (alpha_end) needs total_steps")
    fraction = np.minimum(steps / (total_steps - 1), 1.0) if total_steps > 1 else np.ones(steps.shape)
    return config.alpha + (config.alpha_end - config.alpha) * fraction


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_probability(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be a probability in [0, 1], got {value!r}")


def _check_temperature(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            value > 0 and math.isfinite(value)):
        raise ConfigError(f"{name} must be a positive finite number, got {value!r}")
