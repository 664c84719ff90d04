"""Summary statistics of a pair collection (``polyir data stats``), computed in one streaming pass.

Memory: one integer per group key plus a few numbers per pair (no texts are kept).
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ...types import Pair


@dataclass(frozen=True)
class LengthSummary:
    """Text length in characters."""

    mean: float
    median: float
    p95: float
    max: int

    @classmethod
    def of(cls, lengths: np.ndarray) -> "LengthSummary":
        if len(lengths) == 0:
            return cls(0.0, 0.0, 0.0, 0)
        return cls(float(lengths.mean()), float(np.median(lengths)), float(np.percentile(lengths, 95)),
                   int(lengths.max()))


@dataclass(frozen=True)
class CollectionStats:
    pairs: int
    groups: int
    languages: tuple[str, ...]
    pairs_per_language: dict[str, int]
    pairs_per_dataset: dict[str, int]
    groups_by_language_count: dict[int, int]  # k -> number of groups with exactly k languages
    coverage: np.ndarray  # [L, L]: groups having both languages (diagonal: groups having the language)
    query_chars: dict[str, LengthSummary]  # per language, plus "all"
    positive_chars: dict[str, LengthSummary]
    negatives_per_pair: float

    def to_dict(self) -> dict:
        return {"pairs": self.pairs, "groups": self.groups, "languages": list(self.languages),
                "pairs_per_language": self.pairs_per_language, "pairs_per_dataset": self.pairs_per_dataset,
                "groups_by_language_count": {str(k): v for k, v in self.groups_by_language_count.items()},
                "coverage": self.coverage.tolist(), "negatives_per_pair": self.negatives_per_pair,
                "query_chars": {k: vars(v) for k, v in self.query_chars.items()},
                "positive_chars": {k: vars(v) for k, v in self.positive_chars.items()}}


def collection_stats(pairs: Iterable[Pair]) -> CollectionStats:
    group_of: dict[tuple[str, str], int] = {}
    lang_of: dict[str, int] = {}
    datasets: dict[str, int] = {}
    pair_groups, langs, qlen, plen = array("q"), array("i"), array("q"), array("q")
    negatives = 0
    for pair in pairs:
        pair_groups.append(group_of.setdefault((pair.dataset, pair.group), len(group_of)))
        langs.append(lang_of.setdefault(pair.lang, len(lang_of)))
        qlen.append(len(pair.query))
        plen.append(len(pair.positive))
        negatives += len(pair.negatives)
        datasets[pair.dataset] = datasets.get(pair.dataset, 0) + 1
    order = sorted(lang_of, key=str)
    remap = np.array([order.index(lang) for lang in lang_of], dtype=np.int64)
    lang_index = remap[np.frombuffer(langs, dtype=np.int32)] if len(langs) else np.zeros(0, np.int64)
    group_index = np.frombuffer(pair_groups, dtype=np.int64)
    present = np.zeros((len(group_of), len(order)), dtype=np.int64)
    present[group_index, lang_index] = 1
    per_group = np.bincount(present.sum(axis=1), minlength=len(order) + 1)
    q, p = np.frombuffer(qlen, dtype=np.int64), np.frombuffer(plen, dtype=np.int64)

    def lengths(values: np.ndarray) -> dict[str, LengthSummary]:
        out = {lang: LengthSummary.of(values[lang_index == i]) for i, lang in enumerate(order)}
        out["all"] = LengthSummary.of(values)
        return out

    return CollectionStats(
        pairs=len(pair_groups), groups=len(group_of), languages=tuple(order),
        pairs_per_language={lang: int((lang_index == i).sum()) for i, lang in enumerate(order)},
        pairs_per_dataset=dict(sorted(datasets.items())),
        groups_by_language_count={k: int(n) for k, n in enumerate(per_group) if k and n},
        coverage=present.T @ present, query_chars=lengths(q), positive_chars=lengths(p),
        negatives_per_pair=negatives / len(pair_groups) if len(pair_groups) else 0.0)


def _matrix(labels: tuple[str, ...], matrix: np.ndarray) -> list[str]:
    width = max([len(str(int(matrix.max()))) if matrix.size else 1] + [len(lang) for lang in labels])
    lines = [" " * width + " " + " ".join(lang.rjust(width) for lang in labels)]
    for lang, row in zip(labels, matrix):
        lines.append(lang.rjust(width) + " " + " ".join(str(int(v)).rjust(width) for v in row))
    return lines


def format_stats(stats: CollectionStats) -> str:
    """A plain-text report: counts, the language-coverage matrix, text lengths."""
    lines = [f"pairs {stats.pairs}   groups {stats.groups}   languages {len(stats.languages)}   "
             f"negatives/pair {stats.negatives_per_pair:.2f}",
             "data sets: " + ", ".join(f"{name or '(unnamed)'} {n}" for name, n in stats.pairs_per_dataset.items()),
             "groups by number of languages: "
             + ", ".join(f"{k}: {n}" for k, n in stats.groups_by_language_count.items()),
             "", "language coverage (groups having both languages):", *_matrix(stats.languages, stats.coverage),
             "", "text length in characters (mean / median / p95 / max):",
             f"{'lang':>6} {'pairs':>9}  {'query':>26}  {'positive':>26}"]
    for lang in (*stats.languages, "all"):
        q, p = stats.query_chars[lang], stats.positive_chars[lang]
        n = stats.pairs if lang == "all" else stats.pairs_per_language[lang]
        lines.append(f"{lang:>6} {n:>9}  {q.mean:7.1f} {q.median:6.0f} {q.p95:6.0f} {q.max:5d}"
                     f"  {p.mean:7.1f} {p.median:6.0f} {p.p95:6.0f} {p.max:5d}")
    return "\n".join(lines)
