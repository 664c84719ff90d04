"""Per-language and per-language-pair values of a system, averaged over its seeds (report input)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..sampling import Strategy
from .analysis import Analysis, Condition, condition_of, system_of
from .record import MACRO
from .store import ResultsStore


class SeedTables:
    """Metric rows of one results database, indexed for the report."""

    def __init__(self, store: ResultsStore, analysis: Analysis):
        self.analysis = analysis
        self.run_ids: dict[tuple[Condition, Strategy], list[int]] = defaultdict(list)
        for run in analysis.runs:
            for c in self._conditions(run):
                self.run_ids[(c, system_of(run))].append(run["run_id"])
        self.metrics: dict[tuple, float] = {}
        self.by_run: dict[tuple, list[tuple[str, str, str, float]]] = defaultdict(list)
        self.kinds: dict[tuple[str, str, str], str] = {}
        for r in store.metric_rows():
            self.metrics[(r["run_id"], r["eval_set"], r["query_lang"], r["pool"], r["measure"])] = r["value"]
            self.by_run[(r["run_id"], r["eval_set"], r["measure"])].append(
                (r["query_lang"], r["pool"], r["kind"], r["value"]))
            self.kinds[(r["eval_set"], r["query_lang"], r["pool"])] = r["kind"]
        self.bias: dict[tuple, float] = {(r["run_id"], r["eval_set"], r["query_lang"], r["measure"]): r["value"]
                                         for r in store.bias_rows() if r["value"] is not None}

    def _conditions(self, run: dict) -> list[Condition]:
        if run["kind"] == "train":
            return [condition_of(run)]
        return [c for c in self.analysis.conditions if c.model == run["model"]]

    def languages(self, eval_set: str) -> tuple[list[str], list[str]]:
        """Query languages and candidate languages (pools other than ``multi``)."""
        keys = [k for k in self.kinds if k[0] == eval_set]
        queries = sorted({k[1] for k in keys})
        pools = sorted({k[2] for k in keys if k[2] != "multi"})
        return queries, pools

    def pair_matrix(self, condition: Condition, system: Strategy, eval_set: str, measure: str) -> np.ndarray:
        """``[query language, candidate language + multi]`` mean over seeds (NaN: no such setting)."""
        queries, pools = self.languages(eval_set)
        ids = self.run_ids[(condition, system)]
        out = np.full((len(queries), len(pools) + 1), np.nan)
        for i, x in enumerate(queries):
            for j, y in enumerate([*pools, "multi"]):
                values = [self.metrics[k] for k in ((r, eval_set, x, y, measure) for r in ids) if k in self.metrics]
                if values:
                    out[i, j] = float(np.mean(values))
        return out

    def per_language(self, condition: Condition, system: Strategy, eval_set: str, measure: str) -> dict[str, dict]:
        """Per query language: mono, mean of its cross settings, multi (of ``measure``) and rank
        distance, each averaged over seeds."""
        queries, _ = self.languages(eval_set)
        ids = self.run_ids[(condition, system)]
        table = {}
        for x in queries:
            row: dict[str, float | None] = {}
            for kind in ("mono", "cross", "multi"):
                per_seed = []
                for r in ids:
                    values = [v for q, _, k, v in self.by_run[(r, eval_set, measure)] if q == x and k == kind]
                    if values:
                        per_seed.append(float(np.mean(values)))
                row[kind] = float(np.mean(per_seed)) if per_seed else None
            distances = [self.bias[k] for k in ((r, eval_set, x, "rank_distance") for r in ids) if k in self.bias]
            row["rank_distance"] = float(np.mean(distances)) if distances else None
            table[x] = row
        return table

    def macro_bias(self, condition: Condition, system: Strategy, eval_set: str, measure: str) -> float | None:
        ids = self.run_ids[(condition, system)]
        values = [self.bias[k] for k in ((r, eval_set, MACRO, measure) for r in ids) if k in self.bias]
        return float(np.mean(values)) if values else None
