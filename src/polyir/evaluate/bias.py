"""Language-bias measures in the multilingual pool (formulas and examples: docs/metrics.md).

* Rank distance (Huang et al. 2023, as used by the hybrid-batching paper): per query,
  max rank − min rank over its relevant items in the multilingual pool (full depth);
  mean per query language, then the mean over query languages.  Queries with fewer
  than two relevant items in the pool have no rank distance.
* Same-language preference: the share of the multilingual top-k in the query's language,
  against that language's share of the pool; ratio = observed / pool share (1 = no
  preference).
* Strong alignment (LAReQA): a query is strongly aligned when every relevant item, in
  every language, ranks above every irrelevant candidate of the query's own language.

All three use the queries of the multilingual setting (at least one relevant item in the
pool).  Per-language values are means over queries; "macro" values are means over query
languages (the ratio's macro value is the mean of the per-language ratios).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .scoring import MULTI, Layout, ScoringPass
from .settings import pool_ranks


@dataclass(frozen=True, eq=False)
class LanguageBias:
    """Per-query bias values (NaN where undefined) and their per-language aggregation."""

    k: int
    query_index: np.ndarray  # rows of rset.queries in the multilingual setting
    query_lang: np.ndarray
    rank_distance: np.ndarray
    same_language_share: np.ndarray  # share of the top-k in the query's language
    strongly_aligned: np.ndarray  # 1.0 / 0.0, NaN when the query's language has no candidates
    pool_share: Mapping[str, float]  # candidates of the language / all candidates
    languages: tuple[str, ...]  # query languages, table order

    def per_language(self) -> dict[str, dict[str, float | int | None]]:
        table = {}
        for lang in self.languages:
            rows = self.query_lang == lang
            share = _mean(self.same_language_share[rows])
            pool = self.pool_share.get(lang, 0.0)
            table[lang] = {
                "n_queries": int(rows.sum()),
                "rank_distance": _mean(self.rank_distance[rows]),
                "rank_distance_queries": int(np.count_nonzero(~np.isnan(self.rank_distance[rows]))),
                "same_language_share": share,
                "pool_share": pool if pool > 0 else None,
                "same_language_ratio": share / pool if share is not None and pool > 0 else None,
                "strong_alignment": _mean(self.strongly_aligned[rows]),
            }
        return table

    def macro(self) -> dict[str, float | None]:
        table = self.per_language().values()
        keys = ("rank_distance", "same_language_share", "pool_share", "same_language_ratio", "strong_alignment")
        return {key: _mean(np.asarray([row[key] for row in table if row[key] is not None], dtype=np.float64))
                for key in keys}


def _mean(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else None


def language_bias(layout: Layout, scored: ScoringPass) -> LanguageBias | None:
    """Bias measures; ``None`` when the pool has a single language (nothing to prefer)."""
    if len(layout.cand_langs) < 2:
        return None
    ranks = pool_ranks(layout, scored.counts, MULTI)
    rows = np.flatnonzero(layout.n_rel > 0)
    n_pool = int(layout.bounds[-1])
    own_seg = np.asarray([layout.segment_of(lang) for lang in layout.query_langs])[layout.query_lang_idx[rows]]
    k = min(scored.bias_k, n_pool)
    share = np.where(own_seg >= 0, scored.own_language_in_topk[rows] / k, 0.0)
    return LanguageBias(
        k=scored.bias_k,
        query_index=rows,
        query_lang=np.asarray(layout.query_langs, dtype=object)[layout.query_lang_idx[rows]],
        rank_distance=_rank_distance(ranks[rows]),
        same_language_share=share,
        strongly_aligned=_strongly_aligned(layout, scored.counts, ranks, rows, own_seg),
        pool_share={lang: layout.n_candidates(lang) / n_pool for lang in layout.query_langs},
        languages=layout.query_langs,
    )


def _rank_distance(ranks: np.ndarray) -> np.ndarray:
    present = ~np.isnan(ranks)
    n = present.sum(axis=1)
    high = np.where(present, ranks, -np.inf).max(axis=1, initial=-np.inf)
    low = np.where(present, ranks, np.inf).min(axis=1, initial=np.inf)
    return np.where(n >= 2, high - low, np.nan)


def _strongly_aligned(layout: Layout, counts, ranks, rows, own_seg) -> np.ndarray:
    """The lowest-ranked relevant item has only relevant own-language candidates above it."""
    last = np.nanargmax(ranks[rows], axis=1)
    rel_seg = layout.rel_seg[rows]
    own_relevant = (rel_seg == own_seg[:, None]).sum(axis=1)
    last_is_own = rel_seg[np.arange(len(rows)), last] == own_seg
    above = counts[rows, last, np.maximum(own_seg, 0)]
    return np.where(own_seg >= 0, (above == own_relevant - last_is_own).astype(np.float64), np.nan)
