"""Translate a BEIR data set (corpus, queries, qrels) into other languages, streaming the corpus.

``translate_beir(source_dir, out_root, options, pool, cache)`` writes ``out_root/<tgt>/`` per
target language: ``corpus.jsonl`` and ``queries.jsonl`` (same names, ``.gz`` kept) with the
same ids in the same order and titles and texts translated (`beir_records`), ``qrels/`` copied
unchanged (or without the lines of dropped records, ``on_reject="drop"``), and the manifest
and rejection list of `beir_report`.

1. Validate every record and qrels line first, so bad input fails before any translation.
2. Read each file in chunks of ``chunk_size`` records (memory: one chunk, plus the set of ids
   for the duplicate check); per chunk, the unique segments are looked up in the translation
   cache and the rest translated longest first in batches, each batch committed to the cache
   (`pipeline.plan_direction` / `run_direction`, the code that translates pairs).
3. Re-join, filter and write each chunk's records to a temporary file that replaces the
   output only when the file is complete.

A run killed at any point (``kill -9`` included) keeps every committed batch; the re-run
finds them in the cache, translates the rest of the interrupted chunk in the same batches
(the order is a pure function of the chunk's uncached segments), and writes the same bytes
as an uninterrupted run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, TextIO

from ..data.evalsets.beir_reader import read_qrels
from ..errors import ConfigError, InputError
from ..io import atomic_text_stream, atomic_write_bytes, atomic_write_json, iter_jsonl, open_text
from ..progress import progress
from .backends import TranslatorPool
from .beir_records import KINDS, RecordUnits, check_on_reject, rebuild_record, record_units, scan_records
from .beir_report import MANIFEST, REJECTS, BeirTranslationReport, FileReport
from .cache import TranslationCache
from .filters import FilterConfig, TranslationFilter
from .langid import LanguageIdentifier
from .pairs_pipeline import DirectionStats, plan_direction, resolve_languages, run_direction
from .segments import Segmenter


@dataclass(frozen=True)
class BeirTranslateOptions:
    source: str
    targets: tuple[str, ...]
    batch_size: int = 32
    chunk_size: int = 1000  # records per chunk: the memory bound, and how often the progress bar moves
    split_passages: bool = True
    filters: FilterConfig = field(default_factory=FilterConfig)
    on_reject: str = "source"  # "source": keep the source text of a rejected field; "drop": leave the record out


@dataclass(frozen=True)
class BeirFiles:
    directory: Path
    corpus: Path
    queries: Path
    qrels: tuple[Path, ...]

    def path(self, kind: str) -> Path:
        return self.corpus if kind == "corpus" else self.queries


def find_beir_files(directory: Path) -> BeirFiles:
    def jsonl(stem: str) -> Path:
        for name in (f"{stem}.jsonl", f"{stem}.jsonl.gz"):
            if (directory / name).is_file():
                return directory / name
        raise InputError(f"{stem}.jsonl not found (a BEIR directory holds corpus.jsonl, queries.jsonl, qrels/)",
                         path=directory)

    corpus, queries = jsonl("corpus"), jsonl("queries")
    qrels = tuple(sorted(p for p in (directory / "qrels").glob("*.tsv*") if p.name.endswith((".tsv", ".tsv.gz"))))
    if not qrels:
        raise InputError("no qrels/*.tsv files", path=directory)
    return BeirFiles(directory, corpus, queries, qrels)


@dataclass
class _Target:
    """Everything one target language's run needs (passed along instead of six arguments)."""

    src: str
    tgt: str
    options: BeirTranslateOptions
    pool: TranslatorPool
    cache: TranslationCache
    checker: TranslationFilter
    segmenter: Segmenter

    def translate(self, units: list[RecordUnits], report: FileReport) -> dict[str, str]:
        """``{segment: translation}`` for one chunk, from the cache or the model."""
        segments = list(dict.fromkeys(s for unit in units for _, field_segments in unit.fields
                                      for s in field_segments))
        stats = DirectionStats()
        direction = plan_direction(segments, self.src, self.tgt, self.pool, self.cache, stats)
        done = run_direction(direction, self.src, self.pool, self.cache, self.options.batch_size, stats, leave=False)
        report.add_segments(stats)
        return done


def translate_beir(source_dir: str | Path, out_root: str | Path, options: BeirTranslateOptions,
                   pool: TranslatorPool, cache: TranslationCache) -> list[BeirTranslationReport]:
    """Translate ``source_dir`` into ``out_root/<tgt>`` for each target; one report per target."""
    src, targets = resolve_languages(options)
    check_on_reject(options.on_reject)
    if options.chunk_size < 1:
        raise ConfigError("chunk size must be positive")
    source = Path(source_dir)
    if not source.is_dir():
        raise InputError("BEIR directory not found", path=source)
    files = find_beir_files(source)
    for tgt in targets:
        if (Path(out_root) / tgt).resolve() == source.resolve():
            raise ConfigError(f"the output directory {Path(out_root) / tgt} is the source directory")
    counts = {kind: scan_records(files.path(kind), kind) for kind in KINDS}
    for path in files.qrels:
        read_qrels(path)  # validates every line
    return [_translate_target(files, counts, Path(out_root) / tgt, _target(src, tgt, options, pool, cache))
            for tgt in targets]


def _target(src: str, tgt: str, options: BeirTranslateOptions, pool: TranslatorPool,
            cache: TranslationCache) -> _Target:
    filters = options.filters
    identifier = LanguageIdentifier({src, tgt}) if filters.quality and filters.langid else None
    return _Target(src, tgt, options, pool, cache, TranslationFilter(filters, identifier),
                   Segmenter(options.split_passages))


def _translate_target(files: BeirFiles, counts: dict[str, int], out_dir: Path, run: _Target) -> BeirTranslationReport:
    (out_dir / MANIFEST).unlink(missing_ok=True)  # a directory with a manifest is complete
    calls_before = run.pool.model_calls
    report = _new_report(files, out_dir, run)
    dropped: dict[str, set[str]] = {kind: set() for kind in KINDS}
    with atomic_text_stream(out_dir / REJECTS) as rejects:
        for kind in KINDS:
            path = files.path(kind)
            report.files[kind] = _translate_file(path, out_dir / path.name, kind, counts[kind], run, rejects,
                                                 dropped[kind])
    report.rejections = sum(sum(r.fell_back.values()) + sum(r.dropped.values()) for r in report.files.values())
    report.qrels = {path.name: _write_qrels(path, out_dir / "qrels" / path.name, dropped) for path in files.qrels}
    report.fingerprint = run.pool.fingerprint(run.src, run.tgt)
    report.model_calls = run.pool.model_calls - calls_before
    atomic_write_json(out_dir / MANIFEST, report.manifest())
    return report


def _new_report(files: BeirFiles, out_dir: Path, run: _Target) -> BeirTranslationReport:
    settings, options = run.pool.settings, run.options
    decoding = {**settings.cache_settings(), "device": settings.device, "batch_size": options.batch_size}
    if settings.tokenizer:
        decoding["tokenizer"] = settings.tokenizer
    segmentation = {"split_text": options.split_passages, "splitter": "sentencex", "title": "whole",
                    "chunk_size": options.chunk_size}
    return BeirTranslationReport(str(files.directory), str(out_dir), run.src, run.tgt,
                                 model=run.pool.choice.name_for(run.src, run.tgt), decoding=decoding,
                                 segmentation=segmentation, filters=options.filters.to_dict(),
                                 on_reject=options.on_reject)


def _translate_file(path: Path, out_path: Path, kind: str, total: int, run: _Target, rejects: TextIO,
                    dropped: set[str]) -> FileReport:
    report = FileReport(out_path.name, records=total)
    with atomic_text_stream(out_path) as out, progress(total=total, desc=f"{kind} {run.src}->{run.tgt}",
                                                       unit="doc" if kind == "corpus" else "query") as bar:
        for chunk in _chunks(iter_jsonl(path), run.options.chunk_size):
            units = [record_units(line, obj, kind, run.src, run.segmenter) for line, obj in chunk]
            translations = run.translate(units, report)
            for unit in units:
                rebuilt = rebuild_record(unit, kind, translations, run.src, run.tgt, run.checker,
                                         run.options.on_reject)
                report.fields_translated.update(rebuilt.translated)
                for rejection in rebuilt.rejections:
                    rejects.write(json.dumps(rejection.to_dict(), ensure_ascii=False) + "\n")
                    if rejection.action == "drop":
                        report.dropped[rejection.reason] += 1
                    else:
                        report.fell_back[(rejection.field, rejection.reason)] += 1
                if rebuilt.obj is None:
                    dropped.add(unit.id)
                else:
                    out.write(json.dumps(rebuilt.obj, ensure_ascii=False) + "\n")
                    report.written += 1
            bar.update(len(chunk))
    return report


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _write_qrels(path: Path, out_path: Path, dropped: dict[str, set[str]]) -> dict[str, int]:
    """Copy a qrels file byte for byte, or, when records were dropped, without the judgements
    that name a dropped query or document.  Returns the judgements written and removed."""
    kept, removed = [], 0
    with open_text(path) as source:
        for line in source:
            fields = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
            if len(fields) in (3, 4) and (fields[0] in dropped["queries"] or fields[-2] in dropped["corpus"]):
                removed += 1
            else:
                kept.append(line)
    judgements = sum(1 for line in kept if line.strip()) - (1 if kept and _is_header(kept[0]) else 0)
    if removed:
        with atomic_text_stream(out_path) as out:
            out.writelines(kept)
    else:
        atomic_write_bytes(out_path, path.read_bytes())
    return {"judgements": judgements, "removed": removed}


def _is_header(line: str) -> bool:
    first = (line.split("\t") if "\t" in line else line.split() or [""])[0]
    return first.strip().lower() in ("query-id", "query_id", "qid", "query")
