"""XQuAD-R / MLQA-R (LAReQA, Roy et al. 2020): answer-sentence retrieval from a multilingual pool.

A data directory holds one SQuAD v1.1 JSON file per language, ``<lang>.json`` (or
``<lang>.json.gz``), whose paragraphs carry ``sentences`` and ``sentence_breaks``.

* Candidates: every sentence of every paragraph, id ``"{lang}/{article}/{paragraph}/{sentence}"``
  (0-based positions in that language's file), ``context`` = the paragraph.
* Queries: every question; translations share their ``id`` across the files.
* Relevance: for a question in language L, the sentence of L's paragraph whose span contains
  the question's *first* answer's ``answer_start`` (XQuAD/MLQA test questions have exactly
  one answer; SQuAD-style extra answers would point into the same sentence almost always).
  ``qrels[id]`` holds that sentence for *every* language that has the question, so an
  XQuAD-R question has 11 relevant candidates and an MLQA-R question 2 to 4.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ...errors import InputError
from ...languages import normalise_language
from ...types import Candidate, Query, RetrievalSet
from .squad_reader import answer_matches_context, read_squad, span_text_mismatches

log = logging.getLogger(__name__)

_SUFFIXES = (".json", ".json.gz")


@dataclass(frozen=True)
class _LanguageFile:
    lang: str
    queries: list[Query]
    candidates: list[Candidate]
    answer_of: dict[str, str]  # question id -> candidate id of its answer sentence
    span_text_mismatches: int


def language_files(data_dir: str | Path) -> dict[str, Path]:
    """``{normalised language code: file}`` for the ``<lang>.json[.gz]`` files of a directory,
    sorted by code.  The file stem must be a valid language code."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError("not a directory (expected one <lang>.json file per language)", path=data_dir)
    found: dict[str, Path] = {}
    for path in sorted(data_dir.iterdir()):
        stem = next((path.name[:-len(s)] for s in _SUFFIXES if path.name.endswith(s)), None)
        if stem is None or path.name.startswith("."):
            continue
        if not path.is_file():  # never skipped in silence: a language would be missing from every score
            what = "a directory" if path.is_dir() else "a broken link" if path.is_symlink() else "not a regular file"
            raise InputError(f"cannot read this language file: it is {what}", path=path)
        lang = normalise_language(stem, path=path, record="language code from the file name")
        if lang in found:
            raise InputError(f"two files for language {lang!r}: {found[lang].name} and {path.name}", path=data_dir)
        found[lang] = path
    if not found:
        raise InputError("no language files (expected <lang>.json or <lang>.json.gz, e.g. en.json)", path=data_dir)
    return dict(sorted(found.items()))


def load_lareqa(data_dir: str | Path, languages: Sequence[str] | None = None, *,
                max_queries: int | None = None, name: str | None = None) -> RetrievalSet:
    """Load an XQuAD-R / MLQA-R directory as a `RetrievalSet`.

    ``languages``: a subset (and order) of languages; default all files, sorted by code.
    ``max_queries``: keep the first N question ids, in order of first appearance through the
    languages' files (for XQuAD-R: the first language's file order), with all their
    translations; the candidate pools stay complete, so scores stay comparable in difficulty.
    """
    data_dir = Path(data_dir)
    files = language_files(data_dir)
    chosen = _choose_languages(files, languages, data_dir)
    if max_queries is not None and max_queries < 1:
        raise InputError(f"max_queries must be positive, got {max_queries}")
    parsed = [_read_language(lang, files[lang]) for lang in chosen]
    order = list(dict.fromkeys(q.id for f in parsed for q in f.queries))
    keep = set(order[:max_queries]) if max_queries is not None else set(order)
    queries = tuple(q for f in parsed for q in f.queries if q.id in keep)
    candidates = tuple(c for f in parsed for c in f.candidates)
    qrels: dict[str, dict[str, int]] = {qid: {} for qid in order if qid in keep}
    for f in parsed:
        for qid, cid in f.answer_of.items():
            if qid in keep:
                qrels[qid][cid] = 1
    meta = {
        "format": "lareqa", "source": str(data_dir), "files": {f.lang: files[f.lang].name for f in parsed},
        "queries_per_language": {f.lang: sum(q.id in keep for q in f.queries) for f in parsed},
        "candidates_per_language": {f.lang: len(f.candidates) for f in parsed},
        "question_ids": len(qrels), "max_queries": max_queries,
        "relevance": "sentence containing the first answer's answer_start",
        "span_text_mismatches": sum(f.span_text_mismatches for f in parsed),
    }
    retrieval_set = RetrievalSet(name or data_dir.name, queries, candidates, qrels, tuple(chosen), meta)
    return retrieval_set.validate(str(data_dir))


def _choose_languages(files: dict[str, Path], languages: Sequence[str] | None, data_dir: Path) -> list[str]:
    if languages is None:
        return list(files)
    if isinstance(languages, str):
        languages = [x for x in languages.split(",") if x.strip()]
    chosen = list(dict.fromkeys(normalise_language(code, record="requested languages") for code in languages))
    if not chosen:
        raise InputError("empty list of languages", path=data_dir)
    missing = [lang for lang in chosen if lang not in files]
    if missing:
        raise InputError(f"requested language(s) {', '.join(missing)} not found (available: "
                         f"{', '.join(files)})", path=data_dir)
    return chosen


def _check_answer_texts(para, question, path: Path) -> None:
    """The answer text must be found at its ``answer_start``: otherwise the offset, which decides
    relevance, is not to be trusted (XQuAD-R and MLQA-R match everywhere)."""
    for i, answer in enumerate(question.answers):
        if not answer_matches_context(para, answer):
            found = para.context[answer.start:answer.start + len(answer.text)]
            raise InputError(f"answer text {_short(answer.text)} does not match the context at answer_start "
                             f"{answer.start} (it reads {_short(found)})", path=path,
                             record=f"{question.record} answers[{i}]")


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _read_language(lang: str, path: Path) -> _LanguageFile:
    queries: list[Query] = []
    candidates: list[Candidate] = []
    answer_of: dict[str, str] = {}
    mismatches = 0
    for para in read_squad(path, require_sentences=True, lang=lang):
        prefix = f"{lang}/{para.article}/{para.index}"
        candidates.extend(Candidate(f"{prefix}/{k}", lang, text, context=para.context)
                          for k, text in enumerate(para.sentences))
        for q in para.questions:
            start = q.answers[0].start
            k = para.sentence_at(start)
            if k is None:
                raise InputError(f"answer_start {start} outside every sentence span", path=path, record=q.record)
            _check_answer_texts(para, q, path)
            queries.append(Query(q.id, lang, q.question))
            answer_of[q.id] = f"{prefix}/{k}"
        mismatches += len(span_text_mismatches(para))
    if mismatches:
        log.warning("%s: %d sentence(s) differ from context[start:end] of their span (kept; the span decides "
                    "relevance, the sentence is what is encoded)", path, mismatches)
    return _LanguageFile(lang, queries, candidates, answer_of, mismatches)
