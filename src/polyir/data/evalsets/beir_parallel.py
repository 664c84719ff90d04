"""A BEIR data set and its translations (BEIR-PL / BEIR-NL style) as one parallel collection.

Translated copies made by ``polyir translate BEIR_DIR`` keep every query and document id, so
the original and its translations form a parallel collection, exactly like XQuAD-R's
languages: a query keeps its id in every language (its translations are one *question*),
documents get the id ``<lang>:<id>`` (the pool needs unique ids), and a query in any language
is relevant to the judged documents of every language — each language's own qrels for its
own documents (a translation made with ``--on-reject drop`` may lack some judgements).

The evaluation then holds every setting at once from one encoding pass: the original
(``de-de``), each translation (``en-en``), both cross-lingual variants (original queries ×
translated corpus ``de-en``, translated queries × original corpus ``en-de``) and the
multilingual pool.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ...errors import ConfigError, InputError
from ...types import Candidate, Query, RetrievalSet
from .beir_reader import load_beir


def load_parallel_beir(original: str | Path, translations: Sequence[tuple[str, str | Path]], *,
                       lang: str | None = None, split: str = "test", name: str | None = None) -> RetrievalSet:
    """The original BEIR directory (language ``lang``, or its records' own) and ``(lang, dir)``
    translations of it, as one parallel `RetrievalSet`; ``meta["original_language"]`` names the original."""
    base = load_beir(original, lang, split=split)
    if len(base.languages) != 1:
        raise ConfigError(f"{original} holds several languages {list(base.languages)}: give the original's "
                          f"language (--languages)")
    sets = [base]
    for tlang, directory in translations:
        if not Path(directory).is_dir():
            raise InputError("translation directory not found", path=directory)
        translated = load_beir(directory, tlang, split=split)
        if translated.languages != (tlang,):
            raise InputError(f"expected a {tlang!r} translation, found languages {list(translated.languages)}",
                             path=directory)
        if tlang in {s.languages[0] for s in sets}:
            raise ConfigError(f"language {tlang!r} given twice (the original is {base.languages[0]!r})")
        _check_same_ids(base, translated, Path(directory))
        sets.append(translated)
    return _merge(sets, name or Path(original).name)


def _check_same_ids(base: RetrievalSet, translated: RetrievalSet, directory: Path) -> None:
    """A translation has the original's ids (a subset, when records were dropped)."""
    for kind, ids, known in (("query", [q.id for q in translated.queries], {q.id for q in base.queries}),
                             ("document", [c.id for c in translated.candidates], {c.id for c in base.candidates})):
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise InputError(f"{kind} id {unknown[0]!r} is not in the original ({len(unknown)} such ids): "
                             f"not a translation of it", path=directory)


def _merge(sets: list[RetrievalSet], name: str) -> RetrievalSet:
    queries, candidates, qrels = [], [], {}
    for s in sets:
        lang = s.languages[0]
        queries += [Query(q.id, lang, q.text) for q in s.queries]
        candidates += [Candidate(f"{lang}:{c.id}", lang, c.text, c.context, c.title) for c in s.candidates]
        for qid, judged in s.qrels.items():
            qrels.setdefault(qid, {}).update({f"{lang}:{cid}": grade for cid, grade in judged.items()})
    languages = tuple(s.languages[0] for s in sets)
    meta = {"format": "beir-parallel", "original_language": languages[0],
            "sources": {s.languages[0]: dict(s.meta) for s in sets}}
    return RetrievalSet(name, tuple(queries), tuple(candidates), qrels, languages, meta)
