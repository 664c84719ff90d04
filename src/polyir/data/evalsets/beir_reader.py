"""BEIR-format collections (BEIR, MIRACL, Mr.TyDi): passage retrieval in one or more languages.

Layout (as written by BEIR's ``GenericDataLoader``)::

    DIR/corpus.jsonl      {"_id": ..., "title": ..., "text": ...}     (.jsonl.gz accepted)
    DIR/queries.jsonl     {"_id": ..., "text": ...}
    DIR/qrels/<split>.tsv query-id <TAB> corpus-id <TAB> score       (header line optional;
                          4-column TREC qrels "qid 0 docid score" are accepted too)

Language: a record's own ``lang`` / ``language`` field when present (validated), else the
``lang`` given by the caller — except for one directory per language (``lang_from_name``),
where a record whose field contradicts the directory's name is an error.  Queries without judgements are dropped, as BEIR does, and so
are queries whose judgements are all non-relevant (score <= 0: no metric is defined for
them); both counts are in ``meta``.  The corpus is streamed line by line: only the
`Candidate` records are kept in memory.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ...errors import InputError
from ...io import iter_jsonl, open_text
from ...languages import normalise_language
from ...types import Candidate, Query, RetrievalSet

_HEADER_NAMES = ("query-id", "query_id", "qid", "query")  # first column name of a qrels header line


def load_beir(data_dir: str | Path, lang: str | None, *, split: str = "test",
              name: str | None = None, lang_from_name: bool = False) -> RetrievalSet:
    """Load ``data_dir`` (corpus, queries, ``qrels/<split>.tsv``) as a `RetrievalSet`.

    Query and candidate ids are BEIR's own ``_id`` strings (so runs and qrels stay
    comparable with other BEIR tools); load each language into its own set.
    """
    data_dir = Path(data_dir)
    default_lang = normalise_language(lang, record="language option") if lang is not None else None
    strict = default_lang if lang_from_name else None
    judged = read_beir_queries(data_dir, default_lang, split=split, required_lang=strict)
    judged_docs = {did for rel in judged.judgements.values() for did in rel}
    candidates = _read_corpus(_jsonl(data_dir, "corpus"), default_lang, strict, unseen=judged_docs)
    _check_all_found(judged_docs, judged.judged_at, judged.qrels_path, "corpus document", 1)
    languages = tuple(dict.fromkeys([*([default_lang] if default_lang else []),
                                     *(q.lang for q in judged.queries), *(c.lang for c in candidates)]))
    meta = {**judged.meta, "source": str(data_dir), "corpus_size": len(candidates)}
    return RetrievalSet(name or data_dir.name, judged.queries, tuple(candidates), judged.qrels, languages, meta)


@dataclass(frozen=True, eq=False)
class JudgedQueries:
    """The queries of a BEIR directory that have a relevant document, and all judgements."""

    queries: tuple[Query, ...]  # with at least one relevant (score > 0) judgement
    qrels: dict[str, dict[str, int]]  # of those queries
    judgements: dict[str, dict[str, int]]  # every line of the qrels file
    judged_at: dict[tuple[str, str], int]  # (query id, doc id) -> qrels line number
    qrels_path: Path
    meta: dict


def read_beir_queries(data_dir: str | Path, default_lang: str | None, *, split: str = "test",
                      required_lang: str | None = None) -> JudgedQueries:
    """Queries and judgements without the corpus (which `iter_corpus_chunks` streams)."""
    data_dir = Path(data_dir)
    qrels_path = data_dir / "qrels" / f"{split}.tsv"
    judgements, judged_at = read_qrels(qrels_path)
    queries, n_query_records = _read_queries(_jsonl(data_dir, "queries"), judgements, default_lang, required_lang)
    _check_all_found(set(judgements) - {q.id for q in queries}, judged_at, qrels_path, "query", 0)
    relevant = {qid for qid, rel in judgements.items() if any(score > 0 for score in rel.values())}
    kept = tuple(q for q in queries if q.id in relevant)
    meta = {"format": "beir", "split": split, "queries_in_file": n_query_records,
            "queries_without_judgements": n_query_records - len(queries),
            "queries_without_relevant": len(queries) - len(kept),
            "judgements": sum(len(rel) for rel in judgements.values())}
    return JudgedQueries(kept, {q.id: judgements[q.id] for q in kept}, judgements, judged_at, qrels_path, meta)


def iter_corpus_chunks(data_dir: str | Path, default_lang: str | None, *, chunk: int
                       ) -> Iterator[tuple[list[str], list[str], list[str]]]:
    """Stream ``corpus.jsonl(.gz)``: ``(ids, langs, texts)`` of up to ``chunk`` passages at a
    time, in file order, validated as `load_beir` validates them; the text is what is encoded
    (``title + " " + text`` when there is a title, as BEIR does).  Duplicate ids are not
    detected here (that would hold every id in a set): callers check their sorted ids."""
    path = _jsonl(Path(data_dir), "corpus")
    ids: list[str] = []
    langs: list[str] = []
    texts: list[str] = []
    for lineno, obj in iter_jsonl(path):
        did, text, lang = _record(obj, path, lineno, set(), default_lang, None, allow_title=True)
        title = obj.get("title") or ""
        ids.append(did)
        langs.append(lang)
        texts.append(f"{title} {text}" if title and text.strip() else (text if text.strip() else title))
        if len(ids) == chunk:
            yield ids, langs, texts
            ids, langs, texts = [], [], []
    if ids:
        yield ids, langs, texts


def read_qrels(path: Path) -> tuple[dict[str, dict[str, int]], dict[tuple[str, str], int]]:
    """``({query id: {doc id: score}}, {(query id, doc id): line number})`` from a qrels TSV."""
    if not path.is_file():
        raise InputError("qrels file not found (is --split right?)", path=path)
    judgements: dict[str, dict[str, int]] = {}
    line_of: dict[tuple[str, str], int] = {}
    with open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
            if len(fields) not in (3, 4):
                raise InputError(f"expected 3 tab-separated fields (query-id, corpus-id, score), got {len(fields)}",
                                 path=path, record=f"line {lineno}")
            qid, did, score = fields[0], fields[-2], fields[-1]
            if lineno == 1 and qid.lower() in _HEADER_NAMES:
                continue
            if not _is_integer(score):
                raise InputError(f"score must be an integer, got {score!r}", path=path, record=f"line {lineno}")
            if not qid or not did:
                raise InputError("empty query or corpus id", path=path, record=f"line {lineno}")
            previous = judgements.setdefault(qid, {}).get(did)
            if previous is not None and previous != int(score):
                raise InputError(f"conflicting judgements for ({qid}, {did}): {previous} (line "
                                 f"{line_of[qid, did]}) and {score}", path=path, record=f"line {lineno}")
            judgements[qid][did] = int(score)
            line_of.setdefault((qid, did), lineno)
    if not judgements:
        raise InputError("no judgements", path=path)
    return judgements, line_of


def _read_queries(path: Path, judgements: dict, default_lang: str | None,
                  required_lang: str | None) -> tuple[list[Query], int]:
    queries: list[Query] = []
    seen: set[str] = set()
    for lineno, obj in iter_jsonl(path):
        qid, text, lang = _record(obj, path, lineno, seen, default_lang, required_lang)
        if qid in judgements:
            queries.append(Query(qid, lang, text))
    return queries, len(seen)


def _read_corpus(path: Path, default_lang: str | None, required_lang: str | None,
                 unseen: set[str]) -> list[Candidate]:
    """Stream the corpus; removes the ids it meets from ``unseen`` (the judged documents)."""
    candidates: list[Candidate] = []
    seen: set[str] = set()
    for lineno, obj in iter_jsonl(path):
        did, text, lang = _record(obj, path, lineno, seen, default_lang, required_lang, allow_title=True)
        title = obj.get("title") or ""
        if not text.strip():  # a title-only passage: its title is its text
            text, title = title, ""
        candidates.append(Candidate(did, lang, text, title=title))
        unseen.discard(did)
    return candidates


def _record(obj: dict, path: Path, lineno: int, seen: set[str], default_lang: str | None,
            required_lang: str | None, allow_title: bool = False) -> tuple[str, str, str]:
    where = f"line {lineno}"
    rid = obj.get("_id")
    if isinstance(rid, int) and not isinstance(rid, bool):
        rid = str(rid)
    if not isinstance(rid, str) or not rid:
        raise InputError(f"'_id' must be a non-empty string, got {rid!r}", path=path, record=where)
    where = f"line {lineno} _id={rid}"
    if rid in seen:
        raise InputError("duplicate _id", path=path, record=where)
    seen.add(rid)
    if "text" not in obj:
        raise InputError("missing field 'text'", path=path, record=where)
    text, title = obj["text"], (obj.get("title") or "") if allow_title else ""
    if not isinstance(text, str) or not isinstance(title, str):
        raise InputError("'text' and 'title' must be strings", path=path, record=where)
    if not text.strip() and not title.strip():
        raise InputError("empty text", path=path, record=where)
    tag = obj.get("lang", obj.get("language"))
    if tag is not None:
        lang = normalise_language(tag, path=path, record=where)
        if required_lang is not None and lang != required_lang:
            raise InputError(f"record language {tag!r} contradicts the directory's language {required_lang!r}",
                             path=path, record=where)
        return rid, text, lang
    if default_lang is None:
        raise InputError("no language: give one (e.g. --languages sw) or add a 'lang' field to the records",
                         path=path, record=where)
    return rid, text, default_lang


def _check_all_found(unknown: set[str], line_of: dict, path: Path, kind: str, position: int) -> None:
    """Raise naming the first qrels line that refers to an id in ``unknown``."""
    if not unknown:
        return
    (key, lineno) = min(((k, n) for k, n in line_of.items() if k[position] in unknown), key=lambda kn: kn[1])
    raise InputError(f"judgement names unknown {kind} {key[position]!r} ({len(unknown)} unknown)",
                     path=path, record=f"line {lineno}")


def _jsonl(data_dir: Path, stem: str) -> Path:
    for suffix in (".jsonl", ".jsonl.gz"):
        path = data_dir / f"{stem}{suffix}"
        if path.is_file():
            return path
        if path.exists() or path.is_symlink():
            raise InputError("cannot read it: " + ("a directory" if path.is_dir() else "a broken link"), path=path)
    raise InputError(f"{stem}.jsonl not found", path=data_dir)


def _is_integer(text: str) -> bool:
    return text.lstrip("+-").isdigit()
