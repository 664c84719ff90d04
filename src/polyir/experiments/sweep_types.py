"""The types a sweep is made of: `SweepSpec` (what `polyir.experiments.spec` parses from YAML and
`polyir.experiments.grid` expands into runs), its axis values and evaluation sets.

They live apart from the parser so that the parser and the grid both import them, one way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..config_io import from_dict, to_dict
from ..errors import ConfigError
from ..evaluate.eval_options import EvalData, EvalOptions
from ..sampling import STRATEGY_NAMES, strategy_label

_LABEL = re.compile(r"^(hybrid|mixed)\s*[(:=]\s*([0-9.]+)\s*\)?$")


@dataclass(frozen=True, order=True)
class StrategyPoint:
    """One value of the strategy axis: a sampler strategy and, for hybrid / mixed, its α."""

    strategy: str
    alpha: float | None = None

    @property
    def label(self) -> str:
        """``X-X-mono``, ``X-Y``, ``hybrid(0.5)``, ``mixed(0.3)`` (the names used in reports)."""
        return strategy_label(self.strategy, self.alpha)


def parse_strategy_label(text: str) -> StrategyPoint:
    """``mono`` / ``X-X-mono``, ``cross`` / ``X-Y``, ``hybrid(0.5)``, ``mixed:0.3``, ``untrained``."""
    value = text.strip()
    for strategy, name in STRATEGY_NAMES.items():
        if value.lower() in (strategy, name.lower()):
            return StrategyPoint(strategy)
    if value == "untrained":
        return StrategyPoint("untrained")
    match = _LABEL.match(value)
    if not match:
        raise ConfigError(f"unknown strategy {text!r}: use mono, cross, hybrid(ALPHA), mixed(ALPHA) or untrained")
    return StrategyPoint(match.group(1), check_probability(float(match.group(2)), f"strategy {text!r}"))


@dataclass(frozen=True)
class AxisValue:
    """A named point of the model / data axis: the dotted overrides it applies to ``base``."""

    label: str
    overrides: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class EvalSetSpec:
    """A named evaluation set: what to load (`EvalData`) and how to score it (`EvalOptions`)."""

    name: str
    data: EvalData
    options: EvalOptions = EvalOptions()

    def to_dict(self) -> dict:
        return {"name": self.name, "data": to_dict(self.data), "options": to_dict(self.options)}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "EvalSetSpec":
        return cls(obj["name"], from_dict(EvalData, obj["data"]), from_dict(EvalOptions, obj["options"]))


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep; `polyir.experiments.grid.expand` turns it into runs."""

    out: Path
    base: dict
    strategies: tuple[StrategyPoint, ...]
    batch_sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    models: tuple[AxisValue, ...]
    data: tuple[AxisValue, ...]
    extra_axes: tuple[tuple[str, tuple[Any, ...]], ...]
    evaluate: tuple[EvalSetSpec, ...]
    variants: tuple[AxisValue, ...] = ()  # named sets of dotted overrides (an ablation path, not a product)
    name: str = "sweep"
    baseline: bool = True  # also evaluate each untrained model (one "untrained" row per model)
    select: str = "final"  # which trained model is evaluated: final | best (by eval.metric on eval.dev)
    reference: str = "hybrid(0.5)"  # the report's default reference strategy
    guard_leakage: bool = True  # add every evaluation directory to data.exclude
    source: str = "sweep"  # where it came from (for messages)

    @property
    def db_path(self) -> Path:
        return self.out / "results.db"


def check_probability(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{where}: α must be a number in [0, 1], got {value!r}")
    return float(value)
