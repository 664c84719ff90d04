"""`import_pairs`: any supported source format -> a canonical pair file, in one call.

Formats (see docs/training-data.md): ``squad`` (SQuAD v1.1/v2.0 and XQuAD-R/MLQA-R, which
add sentence_breaks), ``bitext`` (line-aligned files), ``beir`` (BEIR directories),
``mmarco`` (MS MARCO / mMARCO id layout), ``triples`` (MS MARCO text triples TSV) and
``table`` (JSONL / CSV / TSV with a column mapping).

Optional group filters need the source twice (the importers are re-run, nothing is held
in memory): ``exclude`` drops groups leaking into evaluation sets (`leakage`), and
``min_languages`` keeps groups present in at least that many languages.
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from ...errors import ConfigError, InputError
from ...types import Pair
from .importers import FORMATS
from .importers.beir_import import iter_beir_pairs
from .importers.bitext_import import iter_bitext_pairs
from .importers.msmarco_import import MarcoLanguage, iter_marco_pairs
from .importers.squad_import import iter_squad_pairs
from .importers.table_import import iter_table_pairs, triples_mapping
from .leakage import LeakageIndex, LeakageReport, drop_leaks, find_leaks
from .pair_files import NoPairs, write_pairs
from .sources import parse_sources



@dataclass(frozen=True)
class ImportOptions:
    lang: str | None = None  # language of inputs given without LANG=
    dataset: str | Sequence[str] = ""  # one name, or one per input
    positive: str = "sentence"  # squad: sentence | paragraph
    keep_unanswerable: bool = False  # squad v2
    skip_invalid: bool = False  # count and skip invalid records instead of failing
    mapping: dict[str, str] = field(default_factory=dict)  # table
    header: bool = True  # table: CSV/TSV files have a header row
    with_ids: bool = False  # triples: a leading id column
    split: str = "train"  # beir qrels split
    max_negatives: int = 1  # mmarco, beir
    max_groups: int | None = None  # mmarco: the first N query ids of the training-ids file
    queries: Sequence[str] = ()  # mmarco: LANG=PATH per language
    collection: Sequence[str] = ()  # mmarco: LANG=PATH per language


@dataclass
class ImportResult:
    pairs: int
    stats: Counter
    leakage: LeakageReport | None = None


def _single_name(options: ImportOptions, fmt: str) -> str:
    names = [options.dataset] if isinstance(options.dataset, str) else list(options.dataset)
    if len(names) != 1:
        raise ConfigError(f"{fmt} takes one data-set name, got {len(names)}")
    return names[0]


def _mmarco(inputs: Sequence[str], options: ImportOptions, stats: Counter) -> Iterator[Pair]:
    if len(inputs) != 1:
        raise ConfigError("mmarco takes one input: the training ids file (triples ids or qrels)")
    queries = {s.lang: s.path for s in parse_sources(options.queries, infer_from_name=False)}
    collections = {s.lang: s.path for s in parse_sources(options.collection, infer_from_name=False)}
    if not queries or set(queries) != set(collections):
        raise ConfigError("mmarco needs --queries LANG=PATH and --collection LANG=PATH for the same languages")
    languages = [MarcoLanguage(lang, queries[lang], collections[lang]) for lang in sorted(queries)]
    return iter_marco_pairs(inputs[0], languages, dataset=_single_name(options, "mmarco"), max_negatives=options.max_negatives,
                            max_groups=options.max_groups, stats=stats)


def iter_import(fmt: str, inputs: Sequence[str], options: ImportOptions, stats: Counter) -> Iterator[Pair]:
    """The pairs of ``inputs`` in format ``fmt`` (a lazy stream)."""
    if fmt == "mmarco":
        return _mmarco(inputs, options, stats)
    if fmt == "bitext":
        sources = parse_sources(inputs, None, require_lang=False, infer_from_name=False)
        return iter_bitext_pairs(sources, dataset=_single_name(options, "bitext"), stats=stats,
                                 skip_invalid=options.skip_invalid)
    if fmt == "squad":
        return iter_squad_pairs(parse_sources(inputs, options.lang), dataset=options.dataset,
                                positive=options.positive, keep_unanswerable=options.keep_unanswerable,
                                stats=stats, skip_invalid=options.skip_invalid)
    if fmt == "beir":
        return iter_beir_pairs(parse_sources(inputs, options.lang), split=options.split, dataset=options.dataset,
                               max_negatives=options.max_negatives, stats=stats, skip_invalid=options.skip_invalid)
    if fmt in ("table", "triples"):
        mapping = triples_mapping(options.with_ids) if fmt == "triples" else options.mapping
        if not mapping:
            raise ConfigError("the table format needs a column mapping (--map query=COL,positive=COL,...)")
        sources = parse_sources(inputs, options.lang, require_lang="lang" not in mapping)
        return iter_table_pairs(sources, mapping, dataset=options.dataset, header=options.header and fmt == "table",
                                stats=stats, skip_invalid=options.skip_invalid)
    raise ConfigError(f"unknown import format {fmt!r} (expected one of {', '.join(FORMATS)})")


def filter_groups(make_pairs: Callable[[], Iterable[Pair]], *, exclude: LeakageIndex | None = None,
                  min_languages: int = 1, stats: Counter | None = None,
                  contained: bool = False) -> tuple[Iterator[Pair], LeakageReport | None]:
    """Find leaking / under-covered groups in a first pass over ``make_pairs()`` (the source is
    read again rather than buffered), then stream the pairs of the other groups."""
    if exclude is None and min_languages <= 1:
        return iter(make_pairs()), None
    stats = stats if stats is not None else Counter()
    languages: Counter = Counter()  # (group, lang) is unique, so pairs per group = languages per group

    def first_pass() -> Iterator[Pair]:
        for pair in make_pairs():
            languages[(pair.dataset, pair.group)] += 1
            yield pair

    leaks = find_leaks(first_pass(), exclude, contained=contained) if exclude is not None else {}
    if exclude is None:
        deque(first_pass(), maxlen=0)
    report = LeakageReport() if exclude is not None else None

    def second_pass() -> Iterator[Pair]:
        for pair in drop_leaks(make_pairs(), leaks, report or LeakageReport()):
            if languages[(pair.dataset, pair.group)] < min_languages:
                stats[f"skipped: group in fewer than {min_languages} languages"] += 1
                continue
            yield pair

    return second_pass(), report


def import_pairs(fmt: str, inputs: Sequence[str], out: str | Path, options: ImportOptions | None = None, *,
                 exclude: Sequence[str | Path] = (), min_languages: int = 1,
                 contained: bool = False) -> ImportResult:
    """Import ``inputs`` (format ``fmt``) into the pair file ``out`` (.jsonl / .jsonl.gz / .parquet)."""
    options = options or ImportOptions()
    if not inputs:
        raise ConfigError("no inputs to import")
    stats: Counter = Counter()
    index = None
    for path in exclude:
        one = LeakageIndex.from_path(path)
        index = one if index is None else index | one
    pass_stats: Counter = Counter()  # an importer counts on every pass: keep the last pass only

    def make_pairs() -> Iterator[Pair]:
        pass_stats.clear()
        return iter_import(fmt, inputs, options, pass_stats)

    pairs, report = filter_groups(make_pairs, exclude=index, min_languages=min_languages, stats=stats,
                                  contained=contained)
    try:
        count = write_pairs(pairs, out, allow_empty=False)
    except NoPairs:
        stats.update(pass_stats)
        reasons = "; ".join(f"{reason}: {n}" for reason, n in sorted(stats.items())) or "no records found"
        raise InputError(f"nothing to import: 0 pairs ({reasons}); {out} was not written",
                         path=inputs[0] if len(inputs) == 1 else f"{len(inputs)} inputs") from None
    stats.update(pass_stats)
    return ImportResult(count, stats, report)
