"""What translation costs: a BEIR collection against its machine translations, query by query.

The comparison BEIR-PL and BEIR-NL report, from one evaluation of the parallel collection
(`polyir.data.evalsets.beir_parallel`): for the original language O and each translation T,

=========================  ==========  ====================================================
role                       setting     question it answers
=========================  ==========  ====================================================
original                   O→O         the benchmark as published
translated                 T→T         the translated benchmark (BEIR-NL's "drop")
original queries           O→T         original queries against the translated corpus
translated queries         T→O         translated queries against the original corpus
=========================  ==========  ====================================================

Every non-original setting is compared with O→O on the queries both evaluate (a query
missing from a translation, e.g. dropped by the quality filters, is left out of that
comparison only).  ``delta`` = setting − original, so a loss is negative.  The test is
`stats.compare`: the paired randomisation (sign-flip) p-value and the paired bootstrap 95%
CI, queries being the resampling unit; ``p_holm`` corrects for all rows and measures at once.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .result import EvaluationResult
from .significance import compare, holm

ROLES = ("original", "translated", "original queries", "translated queries")
SCHEMA = "polyir.translation-gap/1"


@dataclass(frozen=True)
class GapRow:
    role: str
    setting: str  # "de-en": queries in de, corpus in en
    measure: str
    n_queries: int  # queries compared (all of the setting's for the original row)
    value: float  # the setting's mean over those queries
    original: float  # the original's mean over the same queries
    delta: float  # value - original (NaN on the original row)
    ci_low: float
    ci_high: float
    p_value: float  # paired randomisation test
    p_holm: float  # Holm-adjusted over every compared row and measure


@dataclass(frozen=True)
class TranslationGap:
    original_lang: str
    translations: tuple[str, ...]
    rows: tuple[GapRow, ...]
    n_resamples: int
    seed: int

    def to_dict(self) -> dict:
        clean = lambda v: None if isinstance(v, float) and math.isnan(v) else v  # noqa: E731
        return {"schema": SCHEMA, "original_language": self.original_lang, "translations": list(self.translations),
                "test": f"paired randomisation over queries ({self.n_resamples} resamples, seed {self.seed}); "
                        f"95% CI: paired bootstrap; p_holm: Holm over all compared rows and measures",
                "rows": [{k: clean(v) for k, v in asdict(row).items()} for row in self.rows]}

    def markdown(self) -> str:
        header = ["role", "setting", "measure", "queries", "value", "original", "delta", "95% CI", "p", "p (Holm)"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for r in self.rows:
            compared = not math.isnan(r.delta)
            cells = [r.role, r.setting, r.measure, str(r.n_queries), f"{r.value:.3f}", f"{r.original:.3f}",
                     f"{r.delta:+.3f}" if compared else "", f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}]" if compared else "",
                     _p(r.p_value) if compared else "", _p(r.p_holm) if compared else ""]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _p(value: float) -> str:
    return f"{value:.4f}" if value >= 1e-4 else f"{value:.1e}"


def translation_gap(result: EvaluationResult, original_lang: str, *, n_resamples: int = 10_000,
                    seed: int = 0) -> TranslationGap:
    """The rows of the module's table for every translation and measure of ``result``."""
    translations = tuple(lang for lang in result.query_languages if lang != original_lang)
    base = f"{original_lang}-{original_lang}"
    rows, compared = [], []
    for measure in result.measure_names:
        original = _values(result, base, measure)
        mean = float(np.mean(list(original.values()))) if original else math.nan
        rows.append(GapRow("original", base, measure, len(original), mean, mean, *([math.nan] * 5)))
        for tlang in translations:
            for role, setting in zip(ROLES[1:], (f"{tlang}-{tlang}", f"{original_lang}-{tlang}",
                                                 f"{tlang}-{original_lang}")):
                if setting in result.settings:
                    row = _compare(role, setting, measure, _values(result, setting, measure), original,
                                   n_resamples, seed)
                    compared += [len(rows)] if row.n_queries else []
                    rows.append(row)
    adjusted = holm([rows[i].p_value for i in compared]) if compared else []
    for i, p in zip(compared, adjusted):
        rows[i] = GapRow(**{**asdict(rows[i]), "p_holm": p})
    return TranslationGap(original_lang, translations, tuple(rows), n_resamples, seed)


def _values(result: EvaluationResult, setting: str, measure: str) -> dict[str, float]:
    """``{query id: value}`` of one setting."""
    pq = result.per_query
    rows = np.flatnonzero(pq.setting == setting)
    return dict(zip(pq.query_id[rows].astype(str).tolist(), pq.values[measure][rows].tolist()))


def _compare(role: str, setting: str, measure: str, values: dict[str, float], original: dict[str, float],
             n_resamples: int, seed: int) -> GapRow:
    common = [qid for qid in values if qid in original]
    if not common:
        return GapRow(role, setting, measure, 0, *([math.nan] * 7))
    a = np.asarray([values[q] for q in common])[None, :]
    b = np.asarray([original[q] for q in common])[None, :]
    c = compare(a, b, n_resamples=n_resamples, seed=seed)
    return GapRow(role, setting, measure, len(common), c.mean_a, c.mean_b, c.delta, c.ci_low, c.ci_high,
                  c.p_value, math.nan)
