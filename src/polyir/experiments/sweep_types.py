"""The types a sweep is made of: `SweepSpec` (what `polyir.experiments.spec` parses from YAML and
`polyir.experiments.grid` expands into runs), its axis values and evaluation sets; the values of
its strategy axis are `polyir.sampling.Strategy`.

They live apart from the parser so that the parser and the grid both import them, one way.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..config_io import from_dict, to_dict
from ..evaluate.eval_options import EvalData, EvalOptions
from ..sampling import DEFAULT_STRATEGY, Strategy


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
    strategies: tuple[Strategy, ...]
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
    reference: Strategy = DEFAULT_STRATEGY  # the report's default reference strategy
    guard_leakage: bool = True  # add every evaluation directory to data.exclude
    source: str = "sweep"  # where it came from (for messages)

    @property
    def db_path(self) -> Path:
        return self.out / "results.db"
