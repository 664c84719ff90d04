"""`EvaluationResult`: computed once, rendered as JSON (`metrics.json`), TSV, TREC files, report.

The JSON schema ``polyir.metrics/1`` is documented in docs/evaluation.md.
"""
from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..io import atomic_write_bytes, open_text
from .bias import LanguageBias
from .measures import Measure
from .scoring import MULTI, RunLists
from .settings import KINDS, PerQuery, Setting

SCHEMA = "polyir.metrics/1"
TIE_BREAKING = "score descending, then candidate id descending (byte-wise), as trec_eval"


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Everything one evaluation measured; aggregates are derived on demand, never stored twice."""

    dataset: str
    measures: tuple[Measure, ...]
    depth: int | None
    query_languages: tuple[str, ...]
    candidate_languages: tuple[str, ...]
    n_queries: Mapping[str, int]  # per query language (all queries of the set)
    n_candidates: Mapping[str, int]  # per candidate language
    n_queries_without_relevant: int  # queries with no relevant item at all (never evaluated)
    settings: Mapping[str, Setting]
    per_query: PerQuery
    bias: LanguageBias | None
    runs: RunLists | None = None

    @property
    def measure_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.measures)

    def setting(self, query_lang: str, pool: str) -> Setting | None:
        return self.settings.get(f"{query_lang}-{pool}")

    def pair_matrix(self, measure: str | Measure) -> np.ndarray:
        """``[query language, candidate language]`` setting means (NaN: setting skipped)."""
        name = str(measure)
        out = np.full((len(self.query_languages), len(self.candidate_languages)), np.nan)
        for i, x in enumerate(self.query_languages):
            for j, y in enumerate(self.candidate_languages):
                s = self.setting(x, y)
                if s is not None:
                    out[i, j] = s.means[name]
        return out

    def kind_mean(self, kind: str, measure: str | Measure, query_lang: str | None = None) -> float | None:
        """Mean over the settings of ``kind`` (optionally of one query language) of their means."""
        values = [s.means[str(measure)] for s in self.settings.values()
                  if s.kind == kind and (query_lang is None or s.query_lang == query_lang)]
        return float(np.mean(values)) if values else None

    def summary(self) -> dict[str, object]:
        """Table 1: ``{kind: {measure: macro mean}}`` plus the macro rank distance."""
        out: dict[str, object] = {kind: {m: self.kind_mean(kind, m) for m in self.measure_names} for kind in KINDS}
        out["rank_distance"] = self.bias.macro()["rank_distance"] if self.bias else None
        return out

    def per_language(self) -> dict[str, dict[str, object]]:
        """Per query language: mono, mean over its cross settings, multi; and its rank distance."""
        bias = self.bias.per_language() if self.bias else {}
        table = {}
        for lang in self.query_languages:
            row: dict[str, object] = {"n_queries": self.n_queries[lang]}
            for kind in KINDS:
                means = {m: self.kind_mean(kind, m, lang) for m in self.measure_names}
                row[kind] = means if any(v is not None for v in means.values()) else None
            row["rank_distance"] = bias.get(lang, {}).get("rank_distance")
            table[lang] = row
        return table

    def question_matrix(self, measure: str | Measure, kind: str) -> tuple[list[str], list[str], np.ndarray]:
        """``(settings, question ids, values[setting, question])`` with NaN where absent.

        The input of `polyir.evaluate.significance` (paired tests resample questions, i.e. shared
        query ids, because the translations of a question are correlated).
        """
        names, questions, rows, row_of, col = self._kind_layout(kind)
        out = np.full((len(names), len(questions)), np.nan)
        out[row_of, col] = self.per_query.values[str(measure)][rows]
        return list(names), list(questions), out

    def _kind_layout(self, kind: str):
        """Where each per-query row of ``kind`` goes in `question_matrix` (the same for every
        measure: computed once per kind, with integer codes rather than string comparisons)."""
        layouts = self.__dict__.setdefault("_kind_layouts", {})  # frozen dataclass: a private cache
        if kind not in layouts:
            names = [s.name for s in self.settings.values() if s.kind == kind]
            index = {n: i for i, n in enumerate(names)}
            pq = self.per_query
            code = np.fromiter((index.get(s, -1) for s in pq.setting), dtype=np.int64, count=len(pq.setting))
            rows = np.flatnonzero(code >= 0)
            questions, col = np.unique(pq.query_id[rows].astype(str), return_inverse=True)
            layouts[kind] = (tuple(names), tuple(questions.tolist()), rows, code[rows], col)
        return layouts[kind]

    def to_dict(self) -> dict[str, object]:
        """The ``metrics.json`` document (schema ``polyir.metrics/1``, docs/evaluation.md)."""
        return _clean({
            "schema": SCHEMA,
            "dataset": self.dataset,
            "measures": list(self.measure_names),
            "trec_names": {m.name: m.trec_name for m in self.measures},
            "depth": self.depth,
            "tie_breaking": TIE_BREAKING,
            "languages": {"query": list(self.query_languages), "candidate": list(self.candidate_languages)},
            "counts": {
                "queries": dict(self.n_queries), "candidates": dict(self.n_candidates),
                "total_queries": int(sum(self.n_queries.values())),
                "total_candidates": int(sum(self.n_candidates.values())),
                "queries_without_relevant": self.n_queries_without_relevant,
            },
            "summary": self.summary(),
            "settings": {name: _setting_dict(s) for name, s in self.settings.items()},
            "pairs": self._pairs_dict(),
            "per_language": self.per_language(),
            "bias": None if self.bias is None else {
                "k": self.bias.k, "per_language": self.bias.per_language(), "macro": self.bias.macro()},
        })

    def _pairs_dict(self) -> dict[str, dict[str, dict[str, float]]]:
        out: dict[str, dict[str, dict[str, float]]] = {}
        for m in self.measure_names:
            out[m] = {}
            for s in self.settings.values():
                if s.pool != MULTI:
                    out[m].setdefault(s.query_lang, {})[s.pool] = s.means[m]
        return out


def _setting_dict(s: Setting) -> dict[str, object]:
    return {"kind": s.kind, "query_lang": s.query_lang, "pool": s.pool, "n_queries": s.n_queries,
            "n_skipped": s.n_skipped, **dict(s.means)}


def _clean(obj):
    """JSON-safe: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    return obj


BIAS_COLUMNS = ("rank_distance", "same_language_share", "strongly_aligned")


def write_per_query(result: EvaluationResult, path) -> None:
    """One row per (setting, query): ``per_query.tsv.gz`` (columns: docs/evaluation.md).

    The bias columns are filled on the multilingual rows only (empty elsewhere).
    """
    pq = result.per_query
    bias_by_query = _bias_by_query(result)
    header = ["setting", "kind", "query_lang", "pool", "query_id", *result.measure_names, *BIAS_COLUMNS]
    lines = ["\t".join(header)]
    columns = [pq.values[m].tolist() for m in result.measure_names]
    for i, (setting, qindex, qid, qlang, pool) in enumerate(
            zip(pq.setting, pq.query_index.tolist(), pq.query_id, pq.query_lang, pq.pool)):
        kind = result.settings[setting].kind
        bias = bias_by_query.get(qindex, ("", "", "")) if pool == MULTI else ("", "", "")
        lines.append("\t".join([setting, kind, qlang, pool, qid, *(repr(c[i]) for c in columns), *bias]))
    atomic_write_bytes(path, gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))


def _bias_by_query(result: EvaluationResult) -> dict[int, tuple[str, str, str]]:
    if result.bias is None:
        return {}
    b = result.bias
    fmt = lambda v: "" if np.isnan(v) else repr(float(v))  # noqa: E731
    return {int(q): (fmt(d), fmt(s), fmt(a)) for q, d, s, a in
            zip(b.query_index, b.rank_distance, b.same_language_share, b.strongly_aligned)}


def read_per_query(path) -> list[dict[str, object]]:
    """Rows of a ``per_query.tsv.gz`` as dicts (numbers as floats, empty cells as None)."""
    with open_text(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = []
        for line in f:
            cells = line.rstrip("\n").split("\t")
            row: dict[str, object] = dict(zip(header[:5], cells[:5]))
            row.update({h: (float(c) if c else None) for h, c in zip(header[5:], cells[5:])})
            rows.append(row)
    return rows
