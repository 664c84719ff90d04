"""Leakage guard: drop training groups that overlap an evaluation set.

A training group (``(dataset, group id)``, all its languages) is dropped when any of its
pairs matches the evaluation set by

1. ``id``       — the group id is an evaluation question id.  This catches *translated*
   leakage that no text comparison can: XQuAD's questions come from the SQuAD v1.1 dev
   set, and machine-translated SQuAD dev sets (squad-es, squad-it) keep the SQuAD ids;
2. ``question`` — the normalised query equals a normalised evaluation question;
3. ``passage``  — the normalised positive equals a normalised evaluation paragraph or
   sentence;
4. ``contained`` (only with ``contained=True``) — the normalised positive, at least
   ``CONTAINED_MIN_CHARS`` (30) characters long, occurs inside a normalised evaluation
   paragraph of the same language, or of unknown language (e.g. a sentence cut by another
   sentence splitter).  Shorter strings are
   skipped: on Tatoeba, 22 everyday sentences ("I am here.", "How are you?") occur inside
   XQuAD-R paragraphs by chance.

The group's reason is the first that matches, in that order, so counts add up.
Normalisation: Unicode NFKC, case folding, punctuation (Unicode category P*) removed,
whitespace runs collapsed to one space, ends stripped.  Normalised texts shorter than
``min_chars`` (default 5) are not compared: they are too short to identify a passage.
Negatives are not checked (an evaluation passage used as a negative leaks no answer).
"""
from __future__ import annotations

import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from ...errors import InputError
from ...languages import is_valid_language, normalise_language
from ...types import Pair, RetrievalSet
from .importers.squad_import import iter_squad_articles
from .pair_files import iter_pairs, write_pairs

REASONS = ("id", "question", "passage", "contained")
MIN_CHARS = 5
CONTAINED_MIN_CHARS = 30


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[int, None]:
    return {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)).startswith("P")}


def normalise_text(text: str) -> str:
    """NFKC, casefold, punctuation removed, whitespace collapsed (see module doc)."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_punctuation_table())
    return " ".join(text.split())


def _normalised_set(texts: Iterable[str], min_chars: int) -> frozenset[str]:
    return frozenset(n for n in (normalise_text(t) for t in texts if t) if len(n) >= min_chars)


def _language_of_file(path: Path) -> str:
    """XQuAD-R / MLQA-R files are named by language (``de.json``); "" when the name is not a code."""
    stem = path.name.split(".")[0]
    return normalise_language(stem) if len(stem) == 2 and is_valid_language(stem) else ""


@dataclass(frozen=True)
class LeakageIndex:
    """What an evaluation set contains: question ids, normalised questions and passages."""

    ids: frozenset[str] = frozenset()
    questions: frozenset[str] = frozenset()
    passages: frozenset[str] = frozenset()  # paragraphs and sentences
    paragraphs: frozenset[tuple[str, str]] = frozenset()  # (lang or "", normalised) for `contained`
    min_chars: int = MIN_CHARS

    @classmethod
    def from_texts(cls, *, ids: Iterable[str] = (), questions: Iterable[str] = (), passages: Iterable[str] = (),
                   paragraphs: Iterable[str | tuple[str, str]] = (), min_chars: int = MIN_CHARS) -> "LeakageIndex":
        """``paragraphs``: texts, or ``(lang, text)`` so that `contained` scans one language only."""
        tagged = {(p if isinstance(p, tuple) else ("", p)) for p in paragraphs}
        normalised = frozenset((lang, n) for lang, n in ((lang, normalise_text(t)) for lang, t in tagged if t)
                               if len(n) >= min_chars)
        return cls(ids=frozenset(ids), questions=_normalised_set(questions, min_chars),
                   passages=_normalised_set(passages, min_chars) | {n for _, n in normalised},
                   paragraphs=normalised, min_chars=min_chars)

    @classmethod
    def from_retrieval_set(cls, evaluation: RetrievalSet, min_chars: int = MIN_CHARS) -> "LeakageIndex":
        return cls.from_texts(ids=(q.id for q in evaluation.queries), questions=(q.text for q in evaluation.queries),
                              passages=(c.text for c in evaluation.candidates),
                              paragraphs=((c.lang, c.context or c.text) for c in evaluation.candidates),
                              min_chars=min_chars)

    @classmethod
    def from_squad_files(cls, paths: Iterable[str | Path], min_chars: int = MIN_CHARS) -> "LeakageIndex":
        """SQuAD / XQuAD-R / MLQA-R files: question ids and texts, contexts and their ``sentences``."""
        ids, questions, sentences, paragraphs = set(), [], [], []
        for path in paths:
            lang = _language_of_file(Path(path))
            for _, article in iter_squad_articles(path):
                for paragraph in article.get("paragraphs") or []:
                    paragraphs.append((lang, paragraph.get("context") or ""))
                    sentences.extend(s for s in paragraph.get("sentences") or [] if isinstance(s, str))
                    for qa in paragraph.get("qas") or []:
                        ids.add(str(qa.get("id", "")))
                        questions.append(qa.get("question") or "")
        ids.discard("")
        return cls.from_texts(ids=ids, questions=questions, passages=sentences, paragraphs=paragraphs,
                              min_chars=min_chars)

    @classmethod
    def from_pair_file(cls, path: str | Path, min_chars: int = MIN_CHARS) -> "LeakageIndex":
        pairs = list(iter_pairs(path))
        return cls.from_texts(ids=(p.group for p in pairs), questions=(p.query for p in pairs),
                              paragraphs=((p.lang, p.positive) for p in pairs), min_chars=min_chars)

    @classmethod
    def from_path(cls, path: str | Path, min_chars: int = MIN_CHARS) -> "LeakageIndex":
        """A directory of SQuAD-format files (XQuAD-R), one SQuAD-format file, or a pair file."""
        path = Path(path)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.name.endswith((".json", ".json.gz")))
            if not files:
                raise InputError("no .json files in the evaluation directory", path=path)
            return cls.from_squad_files(files, min_chars)
        if path.name.endswith((".jsonl", ".jsonl.gz", ".parquet")):
            return cls.from_pair_file(path, min_chars)
        if path.name.endswith((".json", ".json.gz")):
            return cls.from_squad_files([path], min_chars)
        raise InputError("evaluation set must be a directory, a SQuAD .json file or a pair file", path=path)

    def __or__(self, other: "LeakageIndex") -> "LeakageIndex":
        return LeakageIndex(ids=self.ids | other.ids, questions=self.questions | other.questions,
                            passages=self.passages | other.passages,
                            paragraphs=self.paragraphs | other.paragraphs,
                            min_chars=min(self.min_chars, other.min_chars))

    def leak_reason(self, pair: Pair, *, contained: bool = False) -> str | None:
        """The first reason (``REASONS`` order) why ``pair`` leaks, or None."""
        if pair.group in self.ids:
            return "id"
        if normalise_text(pair.query) in self.questions:
            return "question"
        positive = normalise_text(pair.positive)
        if positive in self.passages:
            return "passage"
        if contained and len(positive) >= CONTAINED_MIN_CHARS:
            haystacks = self._haystacks
            if positive in haystacks.get(pair.lang, "") or positive in haystacks.get("", ""):
                return "contained"
        return None

    @cached_property
    def _haystacks(self) -> dict[str, str]:
        """Per language, the normalised paragraphs joined by NUL: a substring test is one C-level scan."""
        by_lang: dict[str, list[str]] = {}
        for lang, text in sorted(self.paragraphs):
            by_lang.setdefault(lang, []).append(text)
        return {lang: "\0".join(texts) for lang, texts in by_lang.items()}


@dataclass
class LeakageReport:
    kept_pairs: int = 0
    dropped_pairs: int = 0
    groups_by_reason: Counter = field(default_factory=Counter)  # dropped groups per reason
    pairs_by_language: Counter = field(default_factory=Counter)  # dropped pairs per (reason, lang)

    @property
    def dropped_groups(self) -> int:
        return sum(self.groups_by_reason.values())

    def summary(self) -> str:
        lines = [f"leakage guard: dropped {self.dropped_groups} groups ({self.dropped_pairs} pairs), "
                 f"kept {self.kept_pairs} pairs"]
        for reason in REASONS:
            if self.groups_by_reason[reason]:
                langs = sorted((lang, n) for (r, lang), n in self.pairs_by_language.items() if r == reason)
                per_lang = ", ".join(f"{lang} {n}" for lang, n in langs)
                lines.append(f"  {reason}: {self.groups_by_reason[reason]} groups; pairs per language: {per_lang}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"kept_pairs": self.kept_pairs, "dropped_pairs": self.dropped_pairs,
                "dropped_groups": self.dropped_groups, "groups_by_reason": dict(self.groups_by_reason),
                "pairs_by_reason_language": {f"{r}/{lang}": n for (r, lang), n in sorted(self.pairs_by_language.items())}}


def find_leaks(pairs: Iterable[Pair], index: LeakageIndex, *, contained: bool = False) -> dict[tuple[str, str], str]:
    """``{(dataset, group): reason}`` for every group with a leaking pair (first reason in order)."""
    leaks: dict[tuple[str, str], str] = {}
    for pair in pairs:
        reason = index.leak_reason(pair, contained=contained)
        key = (pair.dataset, pair.group)
        if reason and (key not in leaks or REASONS.index(reason) < REASONS.index(leaks[key])):
            leaks[key] = reason
    return leaks


def drop_leaks(pairs: Iterable[Pair], leaks: dict[tuple[str, str], str], report: LeakageReport) -> Iterator[Pair]:
    """Stream ``pairs`` without the leaking groups, counting into ``report``."""
    counted: set[tuple[str, str]] = set()
    for pair in pairs:
        key = (pair.dataset, pair.group)
        reason = leaks.get(key)
        if reason is None:
            report.kept_pairs += 1
            yield pair
            continue
        report.dropped_pairs += 1
        report.pairs_by_language[(reason, pair.lang)] += 1
        if key not in counted:
            counted.add(key)
            report.groups_by_reason[reason] += 1


def filter_leakage(pairs: Iterable[Pair], index: LeakageIndex, *,
                   contained: bool = False) -> tuple[list[Pair], LeakageReport]:
    """In memory: the pairs of non-leaking groups, and the report."""
    pairs = list(pairs)
    report = LeakageReport()
    kept = list(drop_leaks(pairs, find_leaks(pairs, index, contained=contained), report))
    return kept, report


def filter_leakage_file(source: str | Path, out: str | Path, index: LeakageIndex, *,
                        contained: bool = False) -> LeakageReport:
    """Streaming, two passes over a pair file: find leaking groups, then write the rest to ``out``."""
    leaks = find_leaks(iter_pairs(source), index, contained=contained)
    report = LeakageReport()
    write_pairs(drop_leaks(iter_pairs(source), leaks, report), out)
    return report
