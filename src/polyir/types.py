"""Records passed between stages: frozen dataclasses with explicit language fields.

Evaluation (retrieval) side
    `Query`, `Candidate`, `RetrievalSet`.  Parallel questions share their `Query.id`
    across languages; relevance (`RetrievalSet.qrels`) is keyed by that shared id, so a
    question in any language is relevant to the answer candidates of every language.

Training side
    `Pair`: one language's (query, positive passage, hard negatives) of a parallel
    group; the pairs of a group share `Pair.group`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

from .errors import InputError

CANDIDATE_TEXT_MODES = ("sentence", "sentence+context")


@dataclass(frozen=True, slots=True)
class Query:
    id: str  # shared by the translations of one question
    lang: str
    text: str


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str  # unique in the whole multilingual pool
    lang: str
    text: str  # the retrieval unit (answer sentence, or passage for BEIR)
    context: str = ""  # enclosing paragraph (LAReQA's "sentence+context" encoding)
    title: str = ""  # BEIR title, if any


def candidate_text(candidate: Candidate, mode: str = "sentence") -> str:
    """The text that is encoded for a candidate.

    ``sentence``: the sentence alone (polyir's default).  ``sentence+context``: the
    sentence, a newline, then its paragraph (LAReQA encodes both).  BEIR passages with a
    title are encoded as ``title + " " + text`` in both modes, as BEIR does.
    """
    if mode not in CANDIDATE_TEXT_MODES:
        raise ValueError(f"candidate text mode must be one of {CANDIDATE_TEXT_MODES}, got {mode!r}")
    text = f"{candidate.title} {candidate.text}" if candidate.title else candidate.text
    if mode == "sentence+context" and candidate.context:
        return f"{text}\n{candidate.context}"
    return text


@dataclass(frozen=True)
class RetrievalSet:
    """An evaluation collection: queries and candidates in several languages.

    ``qrels[query_id][candidate_id] = grade`` (grade > 0 is relevant).  Queries with the
    same id in different languages are translations and share their relevant set.
    ``languages`` fixes the order of languages in every table.
    """

    name: str
    queries: tuple[Query, ...]
    candidates: tuple[Candidate, ...]
    qrels: Mapping[str, Mapping[str, int]]
    languages: tuple[str, ...]
    meta: Mapping[str, object] = field(default_factory=dict)

    def validate(self, source: str | None = None) -> "RetrievalSet":
        """Check ids and cross references; raise `InputError` naming the offending record."""
        src = source or self.name
        seen_q: set[tuple[str, str]] = set()
        for q in self.queries:
            if (q.id, q.lang) in seen_q:
                raise InputError(f"duplicate query id {q.id!r} in language {q.lang!r}", path=src)
            seen_q.add((q.id, q.lang))
            if not q.text.strip():
                raise InputError("empty query text", path=src, record=f"query {q.id!r} ({q.lang})")
            if q.lang not in self.languages:
                raise InputError(f"query language {q.lang!r} not in {self.languages}", path=src,
                                 record=f"query {q.id!r}")
        cand_ids = Counter(c.id for c in self.candidates)
        dup = [cid for cid, n in cand_ids.items() if n > 1]
        if dup:
            raise InputError(f"duplicate candidate id {dup[0]!r} ({len(dup)} duplicated ids)", path=src)
        for c in self.candidates:
            if not c.text.strip():
                raise InputError("empty candidate text", path=src, record=f"candidate {c.id!r} ({c.lang})")
            if c.lang not in self.languages:
                raise InputError(f"candidate language {c.lang!r} not in {self.languages}", path=src,
                                 record=f"candidate {c.id!r}")
        for qid, rels in self.qrels.items():
            for cid in rels:
                if cid not in cand_ids:
                    raise InputError(f"relevance judgement names unknown candidate {cid!r}", path=src,
                                     record=f"query {qid!r}")
        return self

    @property
    def query_languages(self) -> tuple[str, ...]:
        present = {q.lang for q in self.queries}
        return tuple(lang for lang in self.languages if lang in present)

    @property
    def candidate_languages(self) -> tuple[str, ...]:
        present = {c.lang for c in self.candidates}
        return tuple(lang for lang in self.languages if lang in present)


@dataclass(frozen=True, slots=True)
class Pair:
    """One language's training example of a parallel group."""

    group: str  # shared by all translations of the same (question, passage)
    lang: str
    query: str
    positive: str
    negatives: tuple[str, ...] = ()
    dataset: str = ""  # name of the source data set (for data-set mixing)
