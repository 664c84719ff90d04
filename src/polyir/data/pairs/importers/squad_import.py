"""SQuAD v1.1 / v2.0 JSON (and XQuAD-R / MLQA-R, which add ``sentences`` + ``sentence_breaks``)
-> training pairs.

One language per file.  A question is a pair ``(group=question id, lang=file language,
query=question, positive=...)``; files in different languages whose question ids are shared
(XQuAD-R, squad-es/squad-it) therefore form parallel groups with no join in memory.

``positive="sentence"`` (default): the sentence of the paragraph containing the first
answer's ``answer_start`` — from ``sentence_breaks`` when the paragraph has them
(XQuAD-R's own segmentation, as the evaluation uses), otherwise from `sentencex`.
``positive="paragraph"``: the whole paragraph (answers not needed).
SQuAD v2.0 unanswerable questions are dropped unless ``keep_unanswerable``; kept ones use
their first ``plausible_answers`` entry (or the paragraph when there is none).

Files are parsed incrementally with ijson (one article in memory at a time).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterator, Sequence

import ijson

from ....errors import ConfigError, InputError
from ....types import Pair
from ..pair_files import DuplicateGuard
from ...evalsets.sentences import sentence_spans, span_containing
from ..sources import Source, malformed_json_message, open_binary
from ...evalsets.squad_reader import answer_found_at, check_declared_language
from .import_common import Skipper, dataset_names, require_langs

POSITIVE_MODES = ("sentence", "paragraph")


_JSON_KINDS = {"start_map": "an object", "start_array": "an array", "string": "a string", "number": "a number",
               "boolean": "a boolean", "null": "null"}


def iter_squad_articles(path, lang: str | None = None) -> Iterator[tuple[int, dict]]:
    """``(index, article)`` for each element of ``data``, parsed incrementally.  The top level
    must be an object with a ``data`` array (JSON that is not SQuAD is an error, not an empty
    import); its ``language`` field, if any, must be ``lang``."""
    with open_binary(path) as stream:
        try:
            events = _checked_top_level(ijson.parse(stream, use_float=True), path, lang)
            for index, article in enumerate(ijson.items(events, "data.item")):
                if not isinstance(article, dict):
                    raise InputError("article is not a JSON object", path=path, record=f"data[{index}]")
                yield index, article
        except ijson.JSONError as err:
            raise InputError(malformed_json_message(path, err), path=path) from None


def _checked_top_level(events, path, lang: str | None):
    """Pass the parser's events through, checking the top level as it streams by."""
    seen_data = False
    for n, (prefix, event, value) in enumerate(events):
        if n == 0 and event != "start_map":
            raise InputError(f"expected a JSON object with a 'data' array (SQuAD format), got {_JSON_KINDS[event]}",
                             path=path, record="top level")
        if prefix == "data" and not seen_data:
            seen_data = True
            if event != "start_array":
                raise InputError(f"field 'data' must be an array, got {_JSON_KINDS[event]}", path=path,
                                 record="top level")
        elif prefix == "language" and lang is not None and event in _JSON_KINDS:
            if event != "string":
                raise InputError(f"field 'language' must be a string, got {_JSON_KINDS[event]}", path=path,
                                 record="top level")
            check_declared_language(value, lang, Path(path))
        yield prefix, event, value
    if not seen_data:
        raise InputError("missing field 'data' (not a SQuAD file?)", path=path, record="top level")


def _paragraph_spans(paragraph: dict, context: str, lang: str, path, record: str) -> list[tuple[int, int]]:
    breaks = paragraph.get("sentence_breaks")
    if breaks is None:
        return sentence_spans(context, lang)
    try:
        spans = [(int(a), int(b)) for a, b in breaks]
    except (TypeError, ValueError):
        raise InputError("sentence_breaks must be a list of [start, end] pairs", path=path, record=record) from None
    if not spans or any(not 0 <= a <= b <= len(context) for a, b in spans):
        raise InputError("sentence_breaks outside the context", path=path, record=record)
    return spans


class _Paragraph:
    """A paragraph whose sentence spans are computed once, on first use."""

    def __init__(self, paragraph: dict, lang: str, path, record: str):
        context = paragraph.get("context")
        if not isinstance(context, str) or not context.strip():
            raise InputError("missing or empty 'context'", path=path, record=record)
        self.raw, self.context, self.lang, self.path, self.record = paragraph, context, lang, path, record
        self._spans: list[tuple[int, int]] | None = None

    def sentence_at(self, offset: int) -> str:
        if self._spans is None:
            self._spans = _paragraph_spans(self.raw, self.context, self.lang, self.path, self.record)
        index = span_containing(self._spans, offset)
        sentences = self.raw.get("sentences")
        if isinstance(sentences, list) and len(sentences) == len(self._spans) and isinstance(sentences[index], str):
            return sentences[index].strip()
        a, b = self._spans[index]
        return self.context[a:b].strip()


def _answer_start(qa: dict, *, unanswerable: bool, context: str, path, record: str) -> int | None:
    """The first answer's offset (None: no answer, or one squad-es could not align); its text
    must be found there, since the offset decides the positive sentence."""
    answers = qa.get("plausible_answers" if unanswerable else "answers") or []
    if not isinstance(answers, list):
        raise InputError("'answers' must be a list", path=path, record=record)
    if not answers:
        return None
    first = answers[0] if isinstance(answers[0], dict) else {}
    start = first.get("answer_start")
    if isinstance(start, float) and start.is_integer():
        start = int(start)
    if start == -1:  # translated SQuAD (squad-es) marks an answer it could not align in the context
        return None
    if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= len(context):
        raise InputError(f"answer_start {start!r} is not an offset into the context", path=path, record=record)
    text = first.get("text")
    if not isinstance(text, str):
        raise InputError(f"answer 'text' must be a string, got {type(text).__name__}", path=path, record=record)
    if not answer_found_at(context, text, start):
        found = context[start:start + len(text)]
        raise InputError(f"answer text {_short(text)} does not match the context at answer_start {start} "
                         f"(it reads {_short(found)})", path=path, record=record)
    return start


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _question(qa: Any, path, record: str) -> tuple[str, str]:
    if not isinstance(qa, dict):
        raise InputError("question entry is not a JSON object", path=path, record=record)
    qid = qa.get("id")
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid.strip():
        raise InputError("missing question 'id'", path=path, record=record)
    text = qa.get("question")
    if not isinstance(text, str) or not text.strip():
        raise InputError("missing or empty 'question'", path=path, record=f"{record} id={qid!r}")
    return qid, text.strip()


def _list_field(obj: dict, key: str, path, record: str) -> list:
    value = obj.get(key) or []
    if not isinstance(value, list):
        raise InputError(f"field {key!r} must be an array, got {type(value).__name__}", path=path, record=record)
    return value


def _paragraph_pairs(paragraph: _Paragraph, *, dataset: str, positive: str, keep_unanswerable: bool,
                     stats: Counter, skipper: Skipper, ids: DuplicateGuard) -> Iterator[Pair]:
    qas = _list_field(paragraph.raw, "qas", paragraph.path, paragraph.record)
    for k, qa in enumerate(qas):
        record = f"{paragraph.record}.qas[{k}]"
        with skipper.guard():
            qid, question = _question(qa, paragraph.path, record)
            ids.add(qid)
            record = f"{record} id={qid!r}"
            unanswerable = bool(qa.get("is_impossible"))
            if unanswerable and not keep_unanswerable:
                stats["skipped: unanswerable (SQuAD v2)"] += 1
                continue
            text = paragraph.context
            if positive == "sentence":
                start = _answer_start(qa, unanswerable=unanswerable, context=paragraph.context,
                                      path=paragraph.path, record=record)
                if start is None and not unanswerable:
                    stats["skipped: no answer located in the paragraph"] += 1
                    continue
                if start is not None:
                    text = paragraph.sentence_at(start)
            yield Pair(group=qid, lang=paragraph.lang, query=question, positive=text, dataset=dataset)


def iter_squad_file(source: Source, *, dataset: str = "", positive: str = "sentence",
                    keep_unanswerable: bool = False, stats: Counter | None = None,
                    skip_invalid: bool = False) -> Iterator[Pair]:
    """Stream the pairs of one SQuAD-format file in ``source.lang``."""
    if positive not in POSITIVE_MODES:
        raise ConfigError(f"positive must be one of {POSITIVE_MODES}, got {positive!r}")
    stats = stats if stats is not None else Counter()
    skipper = Skipper(skip_invalid, stats)
    # a repeated question id is named in its input file (not later, as a duplicate pair in the
    # output), also with skip_invalid: which of the two would be right?
    ids = DuplicateGuard(source.path, key=lambda qid: qid,
                         twice=lambda qid, first: f"duplicate question id {qid!r} (first at {first})")
    for a, article in iter_squad_articles(source.path, source.lang or None):
        for p, raw in enumerate(_list_field(article, "paragraphs", source.path, f"data[{a}]")):
            record = f"data[{a}].paragraphs[{p}]"
            if not isinstance(raw, dict):
                raise InputError("paragraph is not a JSON object", path=source.path, record=record)
            with skipper.guard():
                paragraph = _Paragraph(raw, source.lang, source.path, record)
                for pair in _paragraph_pairs(paragraph, dataset=dataset, positive=positive,
                                             keep_unanswerable=keep_unanswerable, stats=stats, skipper=skipper,
                                             ids=ids):
                    yield pair
    ids.check(lambda: _question_records(source.path))


def _question_records(path) -> Iterator[tuple[str, str]]:
    """``(record, question id)`` of every question, read again to name a repeated id."""
    for a, article in iter_squad_articles(path):
        for p, raw in enumerate(article.get("paragraphs") or []):
            for k, qa in enumerate(raw.get("qas") or [] if isinstance(raw, dict) else []):
                if isinstance(qa, dict) and isinstance(qa.get("id"), (str, int)):
                    yield f"data[{a}].paragraphs[{p}].qas[{k}]", str(qa["id"])


def iter_squad_pairs(sources: Sequence[Source], *, dataset: str | Sequence[str] = "", positive: str = "sentence",
                     keep_unanswerable: bool = False, stats: Counter | None = None,
                     skip_invalid: bool = False) -> Iterator[Pair]:
    """Pairs of several SQuAD-format files (one language each), aligned by question id.

    ``dataset``: one name for all files, or one per file (files with different names never
    align: use one name for translations of the same set, e.g. squad-es + squad-it).
    """
    require_langs(sources)
    names = dataset_names(dataset, len(sources))
    stats = stats if stats is not None else Counter()
    for source, name in zip(sources, names):
        yield from iter_squad_file(source, dataset=name, positive=positive, keep_unanswerable=keep_unanswerable,
                                   stats=stats, skip_invalid=skip_invalid)


def squad_question_ids(path) -> list[str]:
    """All question ids of a SQuAD-format file, in file order (one incremental pass)."""
    with open_binary(path) as stream:
        try:
            events = _checked_top_level(ijson.parse(stream, use_float=True), path, None)
            return [str(qid) for qid in ijson.items(events, "data.item.paragraphs.item.qas.item.id")]
        except ijson.JSONError as err:
            raise InputError(malformed_json_message(path, err), path=path) from None
