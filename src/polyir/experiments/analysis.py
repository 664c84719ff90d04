"""Aggregation over seeds and paired significance tests between strategies.

Runs are grouped into *conditions* (same model, training data, batch size and any other
grid axis) and, within a condition, *systems*: `polyir.sampling.Strategy` values (``X-X-mono``,
``X-Y``, ``hybrid(0.5)``, ...), read from the results database's ``strategy`` and ``alpha``
columns; the untrained model is the ``untrained`` system of every condition with its model.  Per system and evaluation set:

* each macro value (mono / cross / multi of a measure, rank distance) is summarised over
  seeds as mean ± sample std, with a t-interval across seeds;
* a system is compared with the reference on the same questions: each question's values
  are first averaged over the system's seeds, then `polyir.evaluate.significance.compare` runs the
  paired cluster bootstrap (CI of the difference) and the randomisation test (p) over
  question ids; Holm's correction is applied within each table (docs/metrics.md).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from ..errors import ConfigError
from ..evaluate.measures import parse_measures
from ..evaluate.significance import Comparison, compare, holm
from ..sampling import DEFAULT_STRATEGY, UNTRAINED, Strategy
from .record import MACRO, Matrix
from .store import ResultsStore

KINDS = ("mono", "cross", "multi")
RANK_DISTANCE = ("bias", "rank_distance")  # (kind, measure) of the language-bias statistic
LOWER_IS_BETTER = {"rank_distance"}
STANDARD_AXES = ("model", "data", "batch_size", "seed", "strategy", "alpha", "label")


@dataclass(frozen=True, order=True)
class Condition:
    """Everything but the strategy and the seed."""

    model: str
    data: str = ""
    batch_size: int = 0
    extra: tuple[tuple[str, str], ...] = ()

    def describe(self, shown: Iterable[str] = ("model", "data", "batch_size", "extra")) -> str:
        shown = set(shown)
        parts = [f"model {self.model}"] if "model" in shown else []
        parts += [f"data {self.data}"] if "data" in shown and self.data else []
        parts += [f"batch {self.batch_size}"] if "batch_size" in shown and self.batch_size else []
        parts += [f"{k}={v}" for k, v in self.extra] if "extra" in shown else []
        return ", ".join(parts) or "all runs"


@dataclass(frozen=True)
class Cell:
    """One macro value of one system over its seeds."""

    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values)) if self.values else math.nan

    @property
    def std(self) -> float:
        return float(np.std(self.values, ddof=1)) if self.n > 1 else 0.0

    def interval(self, confidence: float = 0.95) -> tuple[float, float] | None:
        """Student-t interval of the mean over seeds (None for a single seed)."""
        if self.n < 2:
            return None
        from scipy.stats import t

        half = float(t.ppf(0.5 + confidence / 2, self.n - 1)) * self.std / math.sqrt(self.n)
        return self.mean - half, self.mean + half


@dataclass(frozen=True)
class Test:
    """``system`` − ``reference`` on one macro statistic, with its Holm-adjusted p-value."""

    condition: Condition
    eval_set: str
    kind: str
    measure: str
    system: Strategy
    reference: Strategy
    result: Comparison
    p_holm: float
    family: tuple

    def significant(self, level: float = 0.05) -> bool:
        return self.p_holm < level

    @property
    def better(self) -> bool:
        """The system is better than the reference (direction of the measure respected)."""
        return (self.result.delta < 0) if self.measure in LOWER_IS_BETTER else (self.result.delta > 0)


@dataclass
class Analysis:
    runs: list[dict]
    conditions: list[Condition]
    systems: dict[Condition, list[Strategy]]
    eval_sets: list[str]
    measures: list[str]
    reference: Strategy
    cells: dict[tuple, Cell] = field(default_factory=dict)  # (condition, system, eval_set, kind, measure)
    tests: list[Test] = field(default_factory=list)  # each system vs the reference
    pair_tests: list[Test] = field(default_factory=list)  # every pair (all_pairs=True)
    n_resamples: int = 10_000
    level: float = 0.05  # significance level of the marks (α in statistics; here α is the strategy's P(mono))
    _test_index: dict = field(default_factory=dict, repr=False)

    def cell(self, condition, system, eval_set, kind, measure) -> Cell | None:
        return self.cells.get((condition, system, eval_set, kind, measure))

    def test(self, condition, system, eval_set, kind, measure) -> Test | None:
        """The test of ``system`` against the reference (None: not tested)."""
        if len(self._test_index) != len(self.tests):
            self._test_index = {(t.condition, t.system, t.eval_set, t.kind, t.measure): t for t in self.tests}
        return self._test_index.get((condition, system, eval_set, kind, measure))

    def varying(self) -> set[str]:
        """Condition fields that differ between conditions (shown in labels)."""
        out = {name for name in ("model", "data", "batch_size")
               if len({getattr(c, name) for c in self.conditions}) > 1}
        return out | ({"extra"} if len({c.extra for c in self.conditions}) > 1 else set())


def system_of(run: dict) -> Strategy:
    """A run's strategy and α as the results database records them (its label is never parsed)."""
    return Strategy.of(run["strategy"], run["alpha"])


def condition_of(run: dict) -> Condition:
    extra = tuple(sorted((k, str(v)) for k, v in run["axes"].items() if k not in STANDARD_AXES))
    return Condition(str(run["model"]), str(run["data"] or ""), int(run["batch_size"] or 0), extra)


def analyse(store: ResultsStore, *, reference: Strategy = DEFAULT_STRATEGY, measures: Iterable[str] = ("AP",),
            n_resamples: int = 10_000, seed: int = 0, all_pairs: bool = False, level: float = 0.05) -> Analysis:
    """Cells and tests for every condition, evaluation set and measure in ``store``."""
    if not 0.0 < level < 1.0:
        raise ConfigError(f"the significance level must be in (0, 1), got {level}")
    if n_resamples < 1000:
        raise ConfigError(f"use at least 1000 resamples for the tests, got {n_resamples}")
    runs = store.runs()
    if not runs:
        raise ConfigError(f"{store.path}: no finished runs recorded yet")
    trained = [r for r in runs if r["kind"] == "train"]
    conditions = sorted({condition_of(r) for r in trained})
    members = {c: [r for r in trained if condition_of(r) == c] for c in conditions}
    for c in conditions:  # the untrained model joins every condition with its model
        members[c] += [r for r in runs if r["kind"] == "baseline" and r["model"] == c.model
                       and all(dict(c.extra).get(k) == str(v) for k, v in r["axes"].items() if k.startswith("model."))]
    systems = {c: sorted({system_of(r) for r in members[c]}, key=lambda s: s.sort_key) for c in conditions}
    if not any(reference in s for s in systems.values()):
        available = sorted({s for v in systems.values() for s in v}, key=lambda s: s.sort_key)
        raise ConfigError(f"reference {reference.label!r} is not among the recorded strategies: "
                          f"{', '.join(s.label for s in available)}")
    macro = _macro_values(store)
    eval_sets = sorted({k[1] for k in macro})
    measures = recorded_measures(macro, measures, store.path)
    analysis = Analysis(runs, conditions, systems, eval_sets, list(measures), reference,
                        n_resamples=n_resamples, level=level)
    statistics = [(kind, m) for m in measures for kind in KINDS] + [RANK_DISTANCE]
    for c in conditions:
        for system in systems[c]:
            ids = [r["run_id"] for r in members[c] if system_of(r) == system]
            for eval_set in eval_sets:
                for kind, m in statistics:
                    values = tuple(macro[(i, eval_set, kind, m)] for i in ids if (i, eval_set, kind, m) in macro)
                    if values:
                        analysis.cells[(c, system, eval_set, kind, m)] = Cell(values)
    analysis.tests = _run_tests(store, analysis, members, statistics, seed, pairs=False)
    if all_pairs:
        analysis.pair_tests = _run_tests(store, analysis, members, statistics, seed, pairs=True)
    return analysis


def recorded_measures(macro: dict[tuple, float], requested: Iterable[str], db_path) -> list[str]:
    """The requested measures by their canonical names (``map`` -> ``AP``); `ConfigError` for a
    name that is not a measure or that the database does not hold (never a silent substitute)."""
    recorded = sorted({k[3] for k in macro if k[2] != "bias"})
    names = [m.name for m in parse_measures(list(requested))]
    missing = [name for name in names if name not in recorded]
    if missing:
        raise ConfigError(f"{db_path}: measure {missing[0]} was not recorded in this database "
                          f"(recorded: {', '.join(recorded) or 'none'})")
    return names


def _macro_values(store: ResultsStore) -> dict[tuple, float]:
    out = {(r["run_id"], r["eval_set"], r["kind"], r["measure"]): r["value"] for r in store.macro()}
    for r in store.bias_rows():
        if r["query_lang"] == MACRO and r["value"] is not None:
            out[(r["run_id"], r["eval_set"], "bias", r["measure"])] = r["value"]
    return out


def _run_tests(store, analysis: Analysis, members, statistics, seed: int, *, pairs: bool) -> list[Test]:
    tests: list[Test] = []
    for c in analysis.conditions:
        trained = [s for s in analysis.systems[c] if s.trains]
        if pairs:  # every pair of strategies, and each strategy against the untrained model
            comparisons = [(a, b) for i, a in enumerate(trained) for b in trained[i + 1:]]
            untrained = Strategy(UNTRAINED)
            if untrained in analysis.systems[c]:
                comparisons += [(s, untrained) for s in trained]
        elif analysis.reference in trained:
            comparisons = [(s, analysis.reference) for s in trained if s != analysis.reference]
        else:
            continue
        loaded: dict[tuple, list[Matrix]] = {}

        def matrices(*key) -> list[Matrix]:
            if key not in loaded:
                loaded[key] = _seed_matrices(store, members[c], *key)
            return loaded[key]

        for eval_set in analysis.eval_sets:
            for kind, measure in statistics:
                family = (c, eval_set, measure, pairs)
                for system, reference in comparisons:
                    a = matrices(system, eval_set, kind, measure)
                    b = matrices(reference, eval_set, kind, measure)
                    if a and b:
                        va, vb = align(a, b)
                        result = compare(va, vb, n_resamples=analysis.n_resamples, seed=seed)
                        tests.append(Test(c, eval_set, kind, measure, system, reference, result, math.nan, family))
    return _holm_by_family(tests)


def _seed_matrices(store, runs: list[dict], system: Strategy, eval_set: str, kind: str, measure: str) -> list[Matrix]:
    found = [store.matrix(r["run_id"], eval_set, kind, measure) for r in runs if system_of(r) == system]
    return [m for m in found if m is not None]


def align(a: list[Matrix], b: list[Matrix]) -> tuple[np.ndarray, np.ndarray]:
    """Seed-averaged ``values[setting, question]`` of both systems on their common settings and
    questions, NaN wherever either system has no value (so both have the same pattern)."""
    setting_sets = [set(m.settings) for m in a + b]
    question_sets = [set(m.questions) for m in a + b]
    settings = [s for s in a[0].settings if all(s in known for known in setting_sets)]
    questions = [q for q in a[0].questions if all(q in known for known in question_sets)]

    def mean(matrices: list[Matrix]) -> np.ndarray:
        stack = []
        for m in matrices:
            rows = {s: i for i, s in enumerate(m.settings)}
            cols = {q: j for j, q in enumerate(m.questions)}
            stack.append(m.values[np.ix_([rows[s] for s in settings], [cols[q] for q in questions])])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells stay NaN
            return np.nanmean(np.asarray(stack, dtype=np.float64), axis=0)

    va, vb = mean(a), mean(b)
    missing = np.isnan(va) | np.isnan(vb)
    va[missing] = np.nan
    vb[missing] = np.nan
    return va, vb


def _holm_by_family(tests: list[Test]) -> list[Test]:
    families: dict[tuple, list[int]] = {}
    for i, t in enumerate(tests):
        families.setdefault(t.family, []).append(i)
    adjusted = [math.nan] * len(tests)
    for indices in families.values():
        for i, p in zip(indices, holm([tests[i].result.p_value for i in indices])):
            adjusted[i] = p
    return [Test(t.condition, t.eval_set, t.kind, t.measure, t.system, t.reference, t.result, p, t.family)
            for t, p in zip(tests, adjusted)]
