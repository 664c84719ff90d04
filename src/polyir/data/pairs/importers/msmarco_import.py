"""MS MARCO / mMARCO id-based layout -> training pairs, one group per query id, all languages.

Files (tab-separated, no header; the layout mMARCO distributes, ids shared by all translations):

* training ids, language-independent, either
  ``triples.train.ids.small.tsv``: ``qid <TAB> positive_pid <TAB> negative_pid`` or
  ``qrels.train.tsv``: ``qid <TAB> 0 <TAB> pid <TAB> relevance`` (TREC qrels; positives only);
* per language ``queries.train.tsv`` (``{language}_queries.train.tsv``): ``qid <TAB> text``;
* per language ``collection.tsv`` (``{language}_collection.tsv``): ``pid <TAB> passage``.

The group of query ``qid`` has, in each language, the query, its first positive passage
and up to ``max_negatives`` distinct negatives (in file order).  Memory: the selected ids,
plus the texts of *one* language at a time (only the passages that are needed are kept
while the multi-GB collection streams by).  Queries or positives missing from a
language's files are counted and that language's pair is left out of the group.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from ....errors import InputError
from ....types import Pair
from ..sources import iter_lines


@dataclass
class _Selection:
    positive: dict[str, str] = field(default_factory=dict)  # qid -> first positive pid (insertion = file order)
    negatives: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class MarcoLanguage:
    """The text files of one language."""

    lang: str
    queries: Path
    collection: Path


def _fields(path: Path, lineno: int, line: str, n: int) -> list[str]:
    parts = line.split("\t") if "\t" in line else line.split()
    if len(parts) < n:
        raise InputError(f"expected {n} tab-separated columns, got {len(parts)}", path=path, record=f"line {lineno}")
    return parts


def select_training_ids(path: str | Path, *, max_negatives: int = 1, max_groups: int | None = None) -> _Selection:
    """Read a triples-ids or qrels file; the first ``max_groups`` query ids in file order."""
    path = Path(path)
    selection = _Selection()
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        parts = _fields(path, lineno, line, 3)
        if len(parts) == 4:  # TREC qrels: qid iteration pid relevance
            qid, pid, negative = parts[0], parts[2], None
            if not parts[3].lstrip("-").isdigit():
                raise InputError(f"relevance {parts[3]!r} is not an integer", path=path, record=f"line {lineno}")
            if int(parts[3]) <= 0:
                continue
        else:
            qid, pid, negative = parts[0], parts[1], parts[2]
        if qid not in selection.positive:
            if max_groups is not None and len(selection.positive) >= max_groups:
                continue
            selection.positive[qid] = pid
            selection.negatives[qid] = []
        negatives = selection.negatives[qid]
        if negative is not None and len(negatives) < max_negatives and negative not in negatives:
            negatives.append(negative)
    return selection


def _texts(path: Path, wanted: set[str]) -> dict[str, str]:
    texts: dict[str, str] = {}
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        key, _, text = line.partition("\t")
        if key in wanted:
            texts[key] = text.strip()
    return texts


def _language_pairs(language: MarcoLanguage, selection: _Selection, dataset: str, stats: Counter) -> Iterator[Pair]:
    queries = _texts(language.queries, set(selection.positive))
    needed = set(selection.positive.values())
    for negatives in selection.negatives.values():
        needed.update(negatives)
    passages = _texts(language.collection, needed)
    for qid, pid in selection.positive.items():
        query, positive = queries.get(qid), passages.get(pid)
        if not query or not positive:
            stats[f"skipped ({language.lang}): query or positive missing from its files"] += 1
            continue
        negatives = tuple(passages[n] for n in selection.negatives[qid] if passages.get(n))
        stats["negatives missing"] += len(selection.negatives[qid]) - len(negatives)
        yield Pair(group=qid, lang=language.lang, query=query, positive=positive, negatives=negatives,
                   dataset=dataset)


def iter_marco_pairs(training_ids: str | Path, languages: Sequence[MarcoLanguage], *, dataset: str = "",
                     max_negatives: int = 1, max_groups: int | None = None,
                     stats: Counter | None = None) -> Iterator[Pair]:
    """Stream the pairs of every language (language by language, groups in file order)."""
    stats = stats if stats is not None else Counter()
    selection = select_training_ids(training_ids, max_negatives=max_negatives, max_groups=max_groups)
    stats["query ids selected"] = len(selection.positive)
    for language in languages:
        yield from _language_pairs(language, selection, dataset, stats)
