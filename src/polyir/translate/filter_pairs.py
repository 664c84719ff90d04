"""Apply the translation filters to pairs, count what is dropped per language and reason.

A translated pair is dropped when its query or positive fails a check (only that language
of the group: the other languages keep their pairs).  A failing negative is removed from
the pair's negatives and counted separately; the pair stays.  The source pair of a
translation is the group's pair in the source language; when a file has none for a group,
the checks that need the source (``untranslated``, ``length_ratio``) are skipped.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from ..data.pairs.pair_files import iter_pairs, write_pairs
from ..types import Pair
from .filters import REASONS, FilterConfig, TranslationFilter
from .langid import LanguageIdentifier


@dataclass
class FilterReport:
    checked: Counter = field(default_factory=Counter)  # translated pairs checked, per language
    kept: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)  # pairs, per (language, reason)
    negatives_dropped: Counter = field(default_factory=Counter)  # per (language, reason)
    without_source: Counter = field(default_factory=Counter)  # pairs checked without a source pair

    def languages(self) -> list[str]:
        return sorted(self.checked)

    def to_dict(self) -> dict:
        per_language = {}
        for lang in self.languages():
            per_language[lang] = {
                "checked": self.checked[lang], "kept": self.kept[lang],
                "dropped": {r: self.dropped[(lang, r)] for r in REASONS if self.dropped[(lang, r)]},
                "negatives_dropped": {r: self.negatives_dropped[(lang, r)] for r in REASONS
                                      if self.negatives_dropped[(lang, r)]},
                "without_source": self.without_source[lang]}
        return {"checked": sum(self.checked.values()), "kept": sum(self.kept.values()),
                "dropped": sum(self.dropped.values()), "per_language": per_language}

    def format_table(self) -> str:
        header = ["lang", "checked", "kept", *REASONS, "neg. dropped"]
        rows = [[lang, self.checked[lang], self.kept[lang], *(self.dropped[(lang, r)] for r in REASONS),
                 sum(n for (lg, _), n in self.negatives_dropped.items() if lg == lang)] for lang in self.languages()]
        rows.append(["all", sum(self.checked.values()), sum(self.kept.values()),
                     *(sum(n for (_, r), n in self.dropped.items() if r == reason) for reason in REASONS),
                     sum(self.negatives_dropped.values())])
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        return "\n".join("  ".join(str(v).rjust(w) if i else str(v).ljust(w) for i, (v, w) in
                                   enumerate(zip(row, widths))) for row in [header, *rows])


def filter_pair(checker: TranslationFilter, pair: Pair, source: Pair | None, report: FilterReport) -> Pair | None:
    """``pair`` (a translation of ``source``) if it passes, with failing negatives removed; else None."""
    lang, src = pair.lang, source.lang if source else None
    report.checked[lang] += 1
    if source is None:
        report.without_source[lang] += 1
    for name in ("query", "positive"):
        reason = checker.check(getattr(pair, name), lang, getattr(source, name) if source else None, src)
        if reason:
            report.dropped[(lang, reason)] += 1
            return None
    aligned = source is not None and len(source.negatives) == len(pair.negatives)
    negatives = []
    for i, negative in enumerate(pair.negatives):
        reason = checker.check(negative, lang, source.negatives[i] if aligned else None, src)
        if reason:
            report.negatives_dropped[(lang, reason)] += 1
        else:
            negatives.append(negative)
    report.kept[lang] += 1
    return pair if len(negatives) == len(pair.negatives) else replace(pair, negatives=tuple(negatives))


def filter_pairs(pairs, sources: dict[tuple[str, str], Pair], source_lang: str, checker: TranslationFilter,
                 report: FilterReport) -> Iterator[Pair]:
    """Stream ``pairs``: source-language pairs pass unchanged, the others are checked."""
    for pair in pairs:
        if pair.lang == source_lang:
            yield pair
            continue
        kept = filter_pair(checker, pair, sources.get((pair.dataset, pair.group)), report)
        if kept is not None:
            yield kept


def filter_pair_file(source_file: str | Path, out: str | Path, source_lang: str,
                     config: FilterConfig = FilterConfig()) -> FilterReport:
    """Stand-alone filtering of a pair file: two streaming passes (source pairs, then filter and
    write).  Memory: the source-language pairs."""
    sources, languages = {}, set()
    for pair in iter_pairs(source_file):
        languages.add(pair.lang)
        if pair.lang == source_lang:
            sources[(pair.dataset, pair.group)] = pair
    identifier = LanguageIdentifier(languages | {source_lang}) if config.quality and config.langid else None
    checker = TranslationFilter(config, identifier)
    report = FilterReport()
    write_pairs(filter_pairs(iter_pairs(source_file), sources, source_lang, checker, report), out)
    return report
