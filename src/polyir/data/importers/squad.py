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
from typing import Any, Iterator, Sequence

from ...errors import ConfigError, InputError
from ...types import Pair
from ..sentences import sentence_spans, span_containing
from ..sources import Source, open_binary
from .common import Skipper, dataset_names, require_langs

POSITIVE_MODES = ("sentence", "paragraph")


def iter_squad_articles(path) -> Iterator[tuple[int, dict]]:
    """``(index, article)`` for each element of ``data``, parsed incrementally."""
    import ijson

    with open_binary(path) as stream:
        try:
            for index, article in enumerate(ijson.items(stream, "data.item", use_float=True)):
                if not isinstance(article, dict):
                    raise InputError("article is not a JSON object", path=path, record=f"data[{index}]")
                yield index, article
        except ijson.JSONError as err:
            raise InputError(f"malformed JSON: {err}", path=path) from None


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


def _answer_start(qa: dict, *, unanswerable: bool, context_len: int, path, record: str) -> int | None:
    answers = qa.get("plausible_answers" if unanswerable else "answers") or []
    if not isinstance(answers, list):
        raise InputError("'answers' must be a list", path=path, record=record)
    if not answers:
        return None
    start = answers[0].get("answer_start") if isinstance(answers[0], dict) else None
    if isinstance(start, float) and start.is_integer():
        start = int(start)
    if start == -1:  # translated SQuAD (squad-es) marks an answer it could not align in the context
        return None
    if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= context_len:
        raise InputError(f"answer_start {start!r} is not an offset into the context", path=path, record=record)
    return start


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


def _paragraph_pairs(paragraph: _Paragraph, *, dataset: str, positive: str, keep_unanswerable: bool,
                     stats: Counter, skipper: Skipper) -> Iterator[Pair]:
    qas = paragraph.raw.get("qas") or []
    for k, qa in enumerate(qas):
        record = f"{paragraph.record}.qas[{k}]"
        with skipper.guard():
            qid, question = _question(qa, paragraph.path, record)
            record = f"{record} id={qid!r}"
            unanswerable = bool(qa.get("is_impossible"))
            if unanswerable and not keep_unanswerable:
                stats["skipped: unanswerable (SQuAD v2)"] += 1
                continue
            text = paragraph.context
            if positive == "sentence":
                start = _answer_start(qa, unanswerable=unanswerable, context_len=len(paragraph.context),
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
    for a, article in iter_squad_articles(source.path):
        for p, raw in enumerate(article.get("paragraphs") or []):
            record = f"data[{a}].paragraphs[{p}]"
            if not isinstance(raw, dict):
                raise InputError("paragraph is not a JSON object", path=source.path, record=record)
            with skipper.guard():
                paragraph = _Paragraph(raw, source.lang, source.path, record)
                for pair in _paragraph_pairs(paragraph, dataset=dataset, positive=positive,
                                             keep_unanswerable=keep_unanswerable, stats=stats, skipper=skipper):
                    yield pair


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
    import ijson

    with open_binary(path) as stream:
        try:
            return [str(qid) for qid in ijson.items(stream, "data.item.paragraphs.item.qas.item.id")]
        except ijson.JSONError as err:
            raise InputError(f"malformed JSON: {err}", path=path) from None
