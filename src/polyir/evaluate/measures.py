"""Measure names: parsed once, the same name in CLI, config, JSON keys and table headers.

Names follow ir_measures: ``AP``, ``RR``, ``R@10``, ``nDCG@10``, ``AP@100``, ``P@1``
(``nDCG`` without a cutoff is full-depth nDCG; ``RR@10`` is MRR@10, ir_measures' RR with a cutoff).  Each maps to its pytrec_eval / trec_eval
name (``map``, ``recip_rank``, ``recall_10``, ``ndcg_cut_10``, ``map_cut_100``, ``P_1``,
``ndcg``), and those trec names parse back to the same measure, as do ``mAP``/``MAP``
(the paper's name for AP) and ``MRR``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from ..errors import ConfigError

DEFAULT_MEASURES = ("AP", "RR", "R@1", "R@10", "nDCG@10")

# family -> (canonical prefix, trec prefix without cutoff, trec prefix with cutoff, cutoff rule)
_FAMILIES = {
    "ap": ("AP", "map", "map_cut_", "optional"),
    "rr": ("RR", "recip_rank", None, "optional"),  # trec_eval has no cutoff: RR@k = recip_rank of the run cut at k
    "r": ("R", None, "recall_", "required"),
    "ndcg": ("nDCG", "ndcg", "ndcg_cut_", "optional"),
    "p": ("P", None, "P_", "required"),
}
_ALIASES = {"map": "ap", "mrr": "rr", "recall": "r", "precision": "p"}
_IRM = re.compile(r"^([A-Za-z]+)(?:@(\d+))?$")
_TREC = re.compile(r"^(map_cut|recall|ndcg_cut|p)_(\d+)$")
_TREC_FAMILY = {"map_cut": "ap", "recall": "r", "ndcg_cut": "ndcg", "p": "p"}
_HELP = "expected AP, RR[@k], R@k, nDCG[@k], AP@k, P@k (or the trec_eval names map, recip_rank, recall_k, ...)"


@dataclass(frozen=True, order=True)
class Measure:
    """One retrieval measure: a family (ap, rr, r, ndcg, p) and an optional rank cutoff."""

    family: str
    cutoff: int | None = None

    @property
    def name(self) -> str:
        prefix = _FAMILIES[self.family][0]
        return prefix if self.cutoff is None else f"{prefix}@{self.cutoff}"

    @property
    def trec_name(self) -> str:
        _, plain, cut, _ = _FAMILIES[self.family]
        if self.cutoff is None:
            return plain
        return f"{cut}{self.cutoff}" if cut else f"{plain} (run cut at depth {self.cutoff})"

    def __str__(self) -> str:
        return self.name


def parse_measure(text: str | Measure) -> Measure:
    """Parse an ir_measures-style or trec_eval name; raise `ConfigError` for anything else."""
    if isinstance(text, Measure):
        return text
    raw = str(text).strip()
    low = raw.lower()
    trec = _TREC.match(low)
    if trec:
        family, cutoff = _TREC_FAMILY[trec.group(1)], int(trec.group(2))
    elif low == "recip_rank":
        family, cutoff = "rr", None
    else:
        match = _IRM.match(raw)
        if not match:
            raise ConfigError(f"unknown measure {raw!r}: {_HELP}")
        family = _ALIASES.get(match.group(1).lower(), match.group(1).lower())
        cutoff = int(match.group(2)) if match.group(2) is not None else None
    return _checked(raw, family, cutoff)


def _checked(raw: str, family: str, cutoff: int | None) -> Measure:
    if family not in _FAMILIES:
        raise ConfigError(f"unknown measure {raw!r}: {_HELP}")
    rule = _FAMILIES[family][3]
    if rule == "required" and cutoff is None:
        raise ConfigError(f"measure {raw!r} needs a cutoff, e.g. {_FAMILIES[family][0]}@10")
    if rule == "none" and cutoff is not None:
        raise ConfigError(f"measure {raw!r} takes no cutoff (trec_eval has none for {family.upper()})")
    if cutoff is not None and cutoff < 1:
        raise ConfigError(f"measure {raw!r}: the cutoff must be >= 1")
    return Measure(family, cutoff)


def parse_measures(names: Iterable[str | Measure] | str | None = None) -> tuple[Measure, ...]:
    """Parse a list (or a comma-separated string) of names, keeping order, dropping repeats."""
    if names is None:
        names = DEFAULT_MEASURES
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    parsed: list[Measure] = []
    for name in names:
        measure = parse_measure(name)
        if measure not in parsed:
            parsed.append(measure)
    if not parsed:
        raise ConfigError(f"no measures given: {_HELP}")
    return tuple(parsed)
