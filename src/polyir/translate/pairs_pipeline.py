"""Translate the source-language pairs of a collection into target languages.

``translate_file(input, out, options, pool, cache)``:

1. read and validate the pair file; with ``exclude``, drop groups that leak into the
   evaluation sets (`polyir.data.pairs.leakage`) *before* anything is translated;
2. cut every source pair into segments (query whole; positive and negatives into sentences,
   `segments.Segmenter`); the unique segments per target language are what is translated,
   so a passage shared by many questions is translated once;
3. per target language: look the segments up in the cache, sort the rest by token length
   (longest first: little padding, and an out-of-memory error shows up at once), translate
   them in batches and commit each batch to the cache;
4. re-join the segments into pairs (same ``group`` id and ``dataset`` as their source pair,
   ``lang`` = target), apply the quality filters, check the translations against the
   evaluation sets again, and write the output atomically.

A run killed at any point keeps every committed batch; the re-run translates the rest in
the same batches (the order is a pure function of the uncached segments) and writes the
same file as an uninterrupted run, byte for byte.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..data.pairs.leakage import LeakageIndex, LeakageReport, drop_leaks, find_leaks
from ..data.pairs.pair_files import iter_pairs, pair_file_format, write_pairs
from ..errors import ConfigError, InputError
from ..languages import normalise_language
from ..progress import progress
from ..types import Pair
from .backends import TranslatorPool
from .cache import TranslationCache
from .filter_pairs import FilterReport, filter_pair
from .filters import FilterConfig, TranslationFilter
from .langid import LanguageIdentifier
from .segments import Segmenter, translated_fields


@dataclass(frozen=True)
class TranslateOptions:
    source: str
    targets: tuple[str, ...]
    batch_size: int = 32
    split_passages: bool = True
    include_input: bool = True  # write the input pairs (all languages) before their translations
    filters: FilterConfig = field(default_factory=FilterConfig)  # quality=False: only empty outputs dropped
    exclude: tuple[str, ...] = ()  # evaluation sets for the leakage guard
    contained: bool = False  # leakage guard: also substring matches


@dataclass
class DirectionStats:
    """One target language: unique segments needed, found in the cache, translated now."""

    segments: int = 0
    cached: int = 0
    translated: int = 0
    truncated: int = 0  # segments longer than max_length tokens (cut by the tokenizer)
    already_present: int = 0  # groups that had the target language in the input
    seconds: float = 0.0


@dataclass
class TranslationReport:
    input_pairs: int = 0
    source_pairs: int = 0
    written_pairs: int = 0
    directions: dict[str, DirectionStats] = field(default_factory=dict)
    model_calls: int = 0
    models_loaded: int = 0
    leakage: LeakageReport | None = None
    leakage_after: LeakageReport | None = None
    filters: FilterReport | None = None

    def to_dict(self) -> dict:
        out = {"input_pairs": self.input_pairs, "source_pairs": self.source_pairs,
               "written_pairs": self.written_pairs, "model_calls": self.model_calls,
               "models_loaded": self.models_loaded,
               "directions": {tgt: dict(d.__dict__) for tgt, d in self.directions.items()}}
        for name in ("leakage", "leakage_after", "filters"):
            value = getattr(self, name)
            out[name] = value.to_dict() if value is not None else None
        return out


def resolve_languages(options) -> tuple[str, tuple[str, ...]]:
    """The normalised source and targets of ``options`` (any object with ``source``, ``targets``,
    ``batch_size``); `ConfigError` for an unknown code, no target, or the source among them."""
    try:
        source = normalise_language(options.source)
        targets = tuple(dict.fromkeys(normalise_language(t) for t in options.targets))
    except InputError as err:
        raise ConfigError(err.message) from None
    if not targets:
        raise ConfigError("no target languages")
    if source in targets:
        raise ConfigError(f"the source language {source!r} is also a target")
    if options.batch_size < 1:
        raise ConfigError("batch size must be positive")
    return source, targets


def _leakage_index(paths: Sequence[str]) -> LeakageIndex:
    index = LeakageIndex.from_path(paths[0])
    for path in paths[1:]:
        index = index | LeakageIndex.from_path(path)
    return index


@dataclass
class _Direction:
    """The work for one target language: the segments, and those already translated."""

    tgt: str
    fingerprint: str
    segments: list[str]
    done: dict[str, str]

    @property
    def todo(self) -> list[str]:
        return [s for s in self.segments if s not in self.done]


def plan_direction(segments: list[str], src: str, tgt: str, pool: TranslatorPool, cache: TranslationCache,
                   stats: DirectionStats) -> _Direction:
    """Look ``segments`` up in the cache; if some are missing, load the model and check that
    it knows both languages (so a bad target fails before any other is translated)."""
    fingerprint = pool.fingerprint(src, tgt)
    direction = _Direction(tgt, fingerprint, segments, cache.lookup(fingerprint, src, tgt, segments))
    stats.segments, stats.cached = len(segments), len(direction.done)
    if direction.todo:
        pool.get(src, tgt)
    return direction


def run_direction(direction: _Direction, src: str, pool: TranslatorPool, cache: TranslationCache,
                  batch_size: int, stats: DirectionStats, *, leave: bool = True) -> dict[str, str]:
    """Translate what is not cached, longest first, in batches committed to the cache one by one.
    ``leave=False``: the progress bar disappears when done (one bar per chunk of a long file)."""
    started = time.perf_counter()
    tgt, todo = direction.tgt, direction.todo
    stats.translated = len(todo)
    if todo:
        translator = pool.get(src, tgt)
        lengths = translator.token_lengths(todo, src, tgt)
        stats.truncated = sum(n > pool.settings.max_length for n in lengths)
        order = sorted(range(len(todo)), key=lambda i: (-lengths[i], todo[i]))
        name = pool.choice.name_for(src, tgt)
        with progress(total=len(todo), desc=f"translate {src}->{tgt}", unit="sent", leave=leave) as bar:
            for start in range(0, len(order), batch_size):
                batch = [todo[i] for i in order[start:start + batch_size]]
                result = dict(zip(batch, translator.translate(batch, src, tgt)))
                cache.store(direction.fingerprint, src, tgt, result, name=name)
                direction.done.update(result)
                bar.update(len(batch))
    stats.seconds = time.perf_counter() - started
    return direction.done


def translate_pairs(pairs: list[Pair], options: TranslateOptions, pool: TranslatorPool,
                    cache: TranslationCache, report: TranslationReport) -> list[tuple[Pair, bool]]:
    """``(pair, is_translation)`` in output order: each input pair (if ``include_input``), and
    after each source pair its translations in target order.  Not filtered yet."""
    source, targets = resolve_languages(options)
    segmenter = Segmenter(options.split_passages)
    sources = [p for p in pairs if p.lang == source]
    report.source_pairs = len(sources)
    present = {(p.dataset, p.group, p.lang) for p in pairs}
    units = [segmenter.units(p) for p in progress(sources, desc="split sentences", unit="pair")]
    directions = []
    for tgt in targets:
        stats = report.directions.setdefault(tgt, DirectionStats())
        needed = [u for p, u in zip(sources, units) if (p.dataset, p.group, tgt) not in present]
        stats.already_present = len(sources) - len(needed)
        segments = list(dict.fromkeys(s for unit in needed for fld in unit for s in fld))
        directions.append(plan_direction(segments, source, tgt, pool, cache, stats))
    translations = {d.tgt: run_direction(d, source, pool, cache, options.batch_size, report.directions[d.tgt])
                    for d in directions}
    out: list[tuple[Pair, bool]] = []
    next_source = iter(units)
    for pair in pairs:
        if options.include_input:
            out.append((pair, False))
        if pair.lang != source:
            continue
        unit = next(next_source)
        for tgt in targets:
            if (pair.dataset, pair.group, tgt) not in present:
                query, positive, *negatives = translated_fields(unit, translations[tgt], tgt)
                out.append((Pair(group=pair.group, lang=tgt, query=query, positive=positive,
                                 negatives=tuple(negatives), dataset=pair.dataset), True))
    return out


def _filter(output: list[tuple[Pair, bool]], source: str, config: FilterConfig, languages: set[str],
            sources: dict[tuple[str, str], Pair], report: FilterReport) -> list[tuple[Pair, bool]]:
    checker = TranslationFilter(config, LanguageIdentifier(languages) if config.quality and config.langid else None)
    kept = []
    for pair, is_translation in output:
        if is_translation:
            pair = filter_pair(checker, pair, sources.get((pair.dataset, pair.group)), report)
        if pair is not None:
            kept.append((pair, is_translation))
    return kept


def translate_file(input_file: str | Path, out: str | Path, options: TranslateOptions, pool: TranslatorPool,
                   cache: TranslationCache) -> TranslationReport:
    """Translate ``input_file`` into ``out`` (see the module documentation); returns the report."""
    source, targets = resolve_languages(options)
    pair_file_format(out)  # a bad output name fails now, not after hours of translation
    report = TranslationReport()
    pairs = list(iter_pairs(input_file))
    report.input_pairs = len(pairs)
    index = _leakage_index(options.exclude) if options.exclude else None
    if index is not None:
        report.leakage = LeakageReport()
        pairs = list(drop_leaks(pairs, find_leaks(pairs, index, contained=options.contained), report.leakage))
    if not any(p.lang == source for p in pairs):
        raise InputError(f"no pairs in the source language {source!r}", path=input_file)
    output = translate_pairs(pairs, options, pool, cache, report)
    report.filters = FilterReport()
    sources = {(p.dataset, p.group): p for p in pairs if p.lang == source}
    output = _filter(output, source, options.filters, {source, *targets}, sources, report.filters)
    kept = [pair for pair, _ in output]
    if index is not None:  # a translation may equal an evaluation text of its language
        report.leakage_after = LeakageReport()
        leaks = find_leaks((p for p, is_translation in output if is_translation), index, contained=options.contained)
        kept = list(drop_leaks(kept, leaks, report.leakage_after))
    report.written_pairs = write_pairs(kept, out)
    report.model_calls, report.models_loaded = pool.model_calls, pool.models_loaded
    return report
