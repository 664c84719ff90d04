"""`Strategy`: a batch-composition strategy and its α, the one value used from a configuration to
a report (``X-X-mono``, ``X-Y``, ``hybrid(0.5)``, ``mixed(0.3)``; the untrained model of a sweep
is the ``untrained`` strategy).

The list of strategies, the paper's names of the two end points and the default α are written
here and nowhere else; labels parse back to the same value (`Strategy.parse`), so one spelling
works in configurations, on the command line and in table headers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

STRATEGIES = ("mono", "cross", "hybrid", "mixed")  # what a sampler draws
WITH_ALPHA = ("hybrid", "mixed")  # the strategies that take α = P(mono)
PAPER_NAMES = {"mono": "X-X-mono", "cross": "X-Y"}  # the paper's names of the two end points
MONO_PROBABILITY = {"mono": 1.0, "cross": 0.0}  # the end points as α
UNTRAINED = "untrained"  # a sweep's untrained model: a system of the report, not a sampler strategy
DEFAULT_ALPHA = 0.5  # the paper's
DESCRIPTIONS = {
    "mono": "X-X-mono: every batch monolingual, in one language",
    "cross": "X-Y: every item pairs a query with its positive in another language",
    "hybrid": "each batch monolingual with probability α, else cross-lingual (X-Y)",
    "mixed": "each item monolingual with probability α, else cross-lingual",
}
_ORDER = (UNTRAINED, *STRATEGIES)  # the order of a report's rows
_WITHOUT_ALPHA = tuple(name for name in _ORDER if name not in WITH_ALPHA)
_WITH_VALUE = re.compile(rf"^({'|'.join(WITH_ALPHA)})\s*[(:=]\s*([0-9.eE+-]+)\s*\)?$")


@dataclass(frozen=True)
class Strategy:
    """``name``: one of `STRATEGIES` (or `UNTRAINED`); ``alpha``: P(mono) of hybrid (per batch) and
    mixed (per item); None for the others, which have no α."""

    name: str
    alpha: float | None = None

    def __post_init__(self) -> None:
        if self.name not in _ORDER:
            raise ConfigError(f"unknown strategy {self.name!r}: use one of {', '.join(_ORDER)}")
        if self.name not in WITH_ALPHA:
            if self.alpha is not None:
                raise ConfigError(f"strategy {self.name!r} has no α (only {' and '.join(WITH_ALPHA)} take one)")
            return
        if self.alpha is None:
            raise ConfigError(f"strategy {self.name!r} needs its α: {self.name}(ALPHA)")
        object.__setattr__(self, "alpha", check_alpha(self.alpha, f"strategy {self.name}"))

    @classmethod
    def of(cls, name: str, alpha: float | None) -> "Strategy":
        """From a sampler's fields or a results row: the α of a strategy that has none is ignored."""
        return cls(name, alpha if name in WITH_ALPHA else None)

    @classmethod
    def parse(cls, text: str) -> "Strategy":
        """``mono`` / ``X-X-mono``, ``cross`` / ``X-Y`` (any case), ``hybrid(0.5)``, ``mixed:0.3``,
        ``mixed=0.3``, ``untrained``.  A bare ``hybrid`` or ``mixed`` is refused: which α it means
        depends on where it is written (a sweep's grid takes its base's α, `polyir.experiments.spec`)."""
        value = str(text).strip()
        for name in _WITHOUT_ALPHA:
            if value.lower() in (name, PAPER_NAMES.get(name, name).lower()):
                return cls(name)
        match = _WITH_VALUE.match(value)
        try:
            return cls(match.group(1), float(match.group(2)))
        except (AttributeError, ValueError):  # no match, or not a number
            raise ConfigError(f"unknown strategy {text!r}: use mono, cross, hybrid(ALPHA), mixed(ALPHA) "
                              f"or {UNTRAINED}") from None

    @property
    def label(self) -> str:
        """``X-X-mono``, ``X-Y``, ``hybrid(0.5)``, ``mixed(0.3)``, ``untrained``: the name in reports."""
        if self.alpha is None:
            return PAPER_NAMES.get(self.name, self.name)
        return f"{self.name}({self.alpha:g})"

    def scheduled_label(self, alpha_end: float | None) -> str:
        """The label of an α that moves to ``alpha_end`` during training: ``hybrid(0.2->0.8)``."""
        if alpha_end is None or self.alpha is None:
            return self.label
        return f"{self.name}({self.alpha:g}->{alpha_end:g})"

    def __str__(self) -> str:
        return self.label

    @property
    def trains(self) -> bool:
        """False for the untrained model."""
        return self.name != UNTRAINED

    @property
    def mono_probability(self) -> float:
        """α as the sampler uses it: mono is α = 1, cross is α = 0."""
        if not self.trains:
            raise ConfigError(f"{UNTRAINED!r} is not a sampler strategy")
        return MONO_PROBABILITY.get(self.name, self.alpha)

    @property
    def sort_key(self) -> tuple:
        """Report order: untrained, X-X-mono, X-Y, then hybrid and mixed by decreasing α."""
        return _ORDER.index(self.name), -(self.alpha or 0.0), self.label

    def sampler_fields(self) -> dict[str, Any]:
        """``strategy`` and ``alpha`` of a sampler configuration (`DEFAULT_ALPHA` where α does not apply,
        so that configurations of one strategy do not differ by an unused value)."""
        return {"strategy": self.name, "alpha": DEFAULT_ALPHA if self.alpha is None else self.alpha}


def check_alpha(value: Any, where: str) -> float:
    """α as a float in [0, 1]; `ConfigError` naming ``where`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{where}: α must be a number in [0, 1], got {value!r}")
    return float(value)


DEFAULT_STRATEGY = Strategy("hybrid", DEFAULT_ALPHA)  # the paper's proposal
