"""All retrieval settings from the rank counts of one scoring pass.

A *setting* is a query language X and a pool: a candidate language Y (monolingual when
Y = X, cross-lingual otherwise) or ``multi``, the pool of all candidate languages.  The
rank of a relevant item in the pool of language Y is ``1 + counts[q, r, Y]``; in the
multilingual pool ``1 + Σ_Y counts[q, r, Y]``.  A query enters a setting only if at least
one of its relevant items is in the pool (trec_eval skips queries absent from its qrels);
a setting with no such query is left out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .measures import Measure
from .metrics import measure_values
from .scoring import MULTI, Layout

KINDS = ("mono", "cross", "multi")


@dataclass(frozen=True)
class Setting:
    """One query language against one pool, with the mean of each measure over its queries."""

    name: str  # "de-en", "de-de", "de-multi"
    kind: str  # mono | cross | multi
    query_lang: str
    pool: str  # a candidate language, or "multi"
    n_queries: int  # queries evaluated (with a relevant item in the pool)
    n_skipped: int  # queries of query_lang without a relevant item in the pool
    means: Mapping[str, float]


def setting_name(query_lang: str, pool: str) -> str:
    return f"{query_lang}-{pool}"


def setting_kind(query_lang: str, pool: str) -> str:
    return "multi" if pool == MULTI else ("mono" if pool == query_lang else "cross")


def pool_ranks(layout: Layout, counts: np.ndarray, pool: str) -> np.ndarray:
    """``ranks[q, j]`` of each relevant item in ``pool`` (1-based, full depth); NaN if not in it."""
    if pool == MULTI:
        in_pool = layout.rel_seg >= 0
        above = counts.sum(axis=2, dtype=np.int64)
    else:
        seg = layout.segment_of(pool)
        in_pool = layout.rel_seg == seg
        above = counts[:, :, seg].astype(np.int64)
    return np.where(in_pool, above + 1.0, np.nan)


def pool_values(layout: Layout, counts: np.ndarray, measures: Sequence[Measure], depth: int | None
                ) -> dict[str, dict[str, np.ndarray]]:
    """``{pool: {measure: per-query values}}`` for every pool, over all queries (NaN: skipped)."""
    pools = list(layout.cand_langs) + ([MULTI] if len(layout.cand_langs) > 1 else [])
    return {pool: measure_values(pool_ranks(layout, counts, pool), layout.rel_gain, measures, depth)
            for pool in pools}


@dataclass(frozen=True, eq=False)
class PerQuery:
    """Long table: one row per (setting, query) evaluated; ``values[measure][row]``."""

    setting: np.ndarray  # setting names (object)
    query_index: np.ndarray  # row in rset.queries
    query_id: np.ndarray
    query_lang: np.ndarray
    pool: np.ndarray
    values: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.setting)


def split_settings(layout: Layout, values: Mapping[str, Mapping[str, np.ndarray]],
                   measures: Sequence[Measure]) -> tuple[dict[str, Setting], PerQuery]:
    """Group per-query values by (query language, pool) into settings and the long table."""
    settings: dict[str, Setting] = {}
    rows: list[np.ndarray] = []
    labels: list[tuple[str, str, str]] = []
    first = measures[0].name
    for qi, qlang in enumerate(layout.query_langs):
        of_lang = layout.query_lang_idx == qi
        for pool, per_measure in values.items():
            evaluated = of_lang & ~np.isnan(per_measure[first])
            if not evaluated.any():
                continue
            name = setting_name(qlang, pool)
            means = {m.name: float(per_measure[m.name][evaluated].mean()) for m in measures}
            settings[name] = Setting(name, setting_kind(qlang, pool), qlang, pool, int(evaluated.sum()),
                                     int(of_lang.sum() - evaluated.sum()), means)
            rows.append(np.flatnonzero(evaluated))
            labels.append((name, qlang, pool))
    return settings, _long_table(layout, values, measures, rows, labels)


def _long_table(layout, values, measures, rows, labels) -> PerQuery:
    sizes = [len(r) for r in rows]
    index = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)

    def repeat(column: int) -> np.ndarray:
        return np.repeat(np.asarray([lab[column] for lab in labels], dtype=object), sizes)

    per_measure = {m.name: (np.concatenate([values[lab[2]][m.name][r] for lab, r in zip(labels, rows)])
                            if rows else np.zeros(0)) for m in measures}
    return PerQuery(repeat(0), index, layout.query_ids[index], repeat(1), repeat(2), per_measure)
