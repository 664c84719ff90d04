"""BEIR-format directories -> training pairs (one directory per language; ids shared across
translated copies form parallel groups).

A directory holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl``
(``_id``, ``text``) and ``qrels/{split}.tsv`` (header ``query-id corpus-id score``); each
may be gzipped (``.gz``).  The pair of query ``q``: its text, and as positive the judged
document with the highest score > 0 (the first in the qrels file among ties), encoded as
``title + " " + text`` like BEIR (and polyir's evaluation) encodes a titled passage.
Documents judged with score <= 0 become negatives (up to ``max_negatives``).  A judgement
naming a query or document the files do not hold is an error naming its qrels line (as in
``polyir evaluate``), or with ``skip_invalid`` a counted skip; so is a record whose own
``lang`` / ``language`` field contradicts the directory's language.
Memory: the qrels plus the texts of the needed documents of one directory at a time.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterator, Sequence

from ....errors import InputError
from ....languages import normalise_language
from ....types import Pair
from ..sources import Source, iter_json_lines, iter_lines
from .import_common import Skipper, dataset_names, require_langs


def _find(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.exists():
            return candidate
        if candidate.is_symlink():
            raise InputError("cannot read it: a broken link", path=candidate)
    raise InputError(f"no {name} in the BEIR directory", path=directory)


def read_beir_qrels(path: Path) -> dict[str, list[tuple[str, int, int]]]:
    """``{query id: [(doc id, score, line number), ...]}`` in file order; the header line is optional."""
    qrels: dict[str, list[tuple[str, int, int]]] = {}
    for lineno, line in iter_lines(path):
        parts = line.split("\t") if "\t" in line else line.split()
        if not parts or not line.strip() or (lineno == 1 and parts[0] == "query-id"):
            continue
        if len(parts) != 3:
            raise InputError(f"expected 3 columns (query-id, corpus-id, score), got {len(parts)}",
                             path=path, record=f"line {lineno}")
        try:
            score = int(parts[2])
        except ValueError:
            raise InputError(f"score {parts[2]!r} is not an integer", path=path, record=f"line {lineno}") from None
        qrels.setdefault(parts[0], []).append((parts[1], score, lineno))
    return qrels


def _beir_texts(path: Path, wanted: set[str], *, with_title: bool, lang: str,
                present: set[str] | None = None) -> dict[str, str]:
    """The texts of the ``wanted`` ids; ids of ``present`` that the file holds are removed from it."""
    texts: dict[str, str] = {}
    for lineno, obj in iter_json_lines(path):
        key = obj.get("_id")
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            raise InputError("missing '_id'", path=path, record=f"line {lineno}")
        key = str(key)
        if present is not None:
            present.discard(key)
        if key not in wanted:
            continue
        tag = obj.get("lang", obj.get("language"))
        if tag is not None and normalise_language(tag, path=path, record=f"line {lineno} _id={key!r}") != lang:
            raise InputError(f"record language {tag!r} contradicts the directory's language {lang!r}", path=path,
                             record=f"line {lineno} _id={key!r}")
        text, title = obj.get("text"), obj.get("title") or ""
        if not isinstance(text, str) or not isinstance(title, str):
            raise InputError("'text' and 'title' must be strings", path=path, record=f"line {lineno} _id={key!r}")
        text = f"{title.strip()} {text.strip()}" if with_title and title.strip() else text.strip()
        if not text:
            raise InputError("empty text", path=path, record=f"line {lineno} _id={key!r}")
        texts[key] = text
    return texts


Judgement = tuple[str, int, int]  # (doc id, score, qrels line)


def _judgements(judged: list[Judgement], max_negatives: int) -> tuple[Judgement | None, list[Judgement]]:
    positives = [j for j in sorted(judged, key=lambda j: -j[1]) if j[1] > 0]
    negatives = [j for j in judged if j[1] <= 0][:max_negatives]
    return (positives[0] if positives else None), negatives


def _check_known(qid: str, judged: list[Judgement], queries: dict[str, str], missing_docs: set[str],
                 qrels_path: Path) -> None:
    """Every judgement must name a query and a document the files hold (as `polyir evaluate` requires)."""
    if qid not in queries:
        raise InputError(f"judgement names unknown query {qid!r} (not in queries.jsonl)", path=qrels_path,
                         record=f"line {judged[0][2]}")
    for doc, _, lineno in judged:
        if doc in missing_docs:
            raise InputError(f"judgement names unknown corpus document {doc!r} (not in corpus.jsonl)",
                             path=qrels_path, record=f"line {lineno}")


def _pair(qid: str, positive: Judgement, negatives: list[Judgement], queries: dict[str, str],
          corpus: dict[str, str], source: Source, dataset: str) -> Pair:
    return Pair(group=qid, lang=source.lang, query=queries[qid], positive=corpus[positive[0]],
                negatives=tuple(corpus[doc] for doc, _, _ in negatives), dataset=dataset)


def iter_beir_directory(source: Source, *, split: str = "train", dataset: str = "", max_negatives: int = 0,
                        stats: Counter | None = None, skip_invalid: bool = False) -> Iterator[Pair]:
    stats = stats if stats is not None else Counter()
    skipper = Skipper(skip_invalid, stats)
    qrels_path = _find(source.path / "qrels", f"{split}.tsv")
    qrels = read_beir_qrels(qrels_path)
    chosen = {qid: _judgements(judged, max_negatives) for qid, judged in qrels.items()}
    queries = _beir_texts(_find(source.path, "queries.jsonl"), set(chosen), with_title=False, lang=source.lang)
    needed = {j[0] for positive, negatives in chosen.values() for j in [positive, *negatives] if j}
    missing_docs = {doc for judged in qrels.values() for doc, _, _ in judged}  # emptied by the corpus pass
    corpus = _beir_texts(_find(source.path, "corpus.jsonl"), needed, with_title=True, lang=source.lang,
                         present=missing_docs)
    for qid, (positive, negatives) in chosen.items():
        pair = None
        with skipper.guard():
            _check_known(qid, qrels[qid], queries, missing_docs, qrels_path)
            if positive is None:
                stats["skipped: no relevant document"] += 1
            else:
                pair = _pair(qid, positive, negatives, queries, corpus, source, dataset)
        if pair is not None:
            yield pair


def iter_beir_pairs(sources: Sequence[Source], *, split: str = "train", dataset: str | Sequence[str] = "",
                    max_negatives: int = 0, stats: Counter | None = None,
                    skip_invalid: bool = False) -> Iterator[Pair]:
    """Pairs of several BEIR directories (``LANG=DIR``), one language each."""
    require_langs(sources)
    stats = stats if stats is not None else Counter()
    for source, name in zip(sources, dataset_names(dataset, len(sources))):
        if not source.path.is_dir():
            raise InputError("expected a BEIR directory (corpus.jsonl, queries.jsonl, qrels/)", path=source.path)
        yield from iter_beir_directory(source, split=split, dataset=name, max_negatives=max_negatives, stats=stats,
                                       skip_invalid=skip_invalid)
