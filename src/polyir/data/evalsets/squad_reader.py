"""Reading and validating SQuAD v1.1 / v2.0 JSON, optionally with LAReQA's sentence fields.

One validation pass turns a file into typed, frozen records (`SquadParagraph`,
`SquadQuestion`, `SquadAnswer`); anything malformed raises `InputError` naming the file and
the record as a JSON path with the question id, e.g.
``de.json: data[3].paragraphs[2].qas[5] id=56be...: answer_start 812 outside the context``.
Used by the XQuAD-R / MLQA-R loader and reusable by training-data importers.

LAReQA's extra paragraph fields: ``sentences`` (list of str) and ``sentence_breaks``
(list of ``[start, end)`` character spans into ``context``).  Spans must be well formed
(one per sentence, ordered, non-overlapping, inside the context).  Whether the span's text
equals the sentence is *not* enforced: the real XQuAD-R ``tr.json`` has two spans shifted
by a mis-encoded character (``context`` holds mojibake that ``sentences`` does not);
`span_text_mismatches` reports such spans so callers can count them.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...io import read_json
from ...languages import normalise_language


@dataclass(frozen=True, slots=True)
class SquadAnswer:
    text: str
    start: int  # character offset into the paragraph's context


@dataclass(frozen=True, slots=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[SquadAnswer, ...]  # empty only for SQuAD 2.0 unanswerable questions
    record: str  # where it came from, for error messages: "data[0].paragraphs[1].qas[2] id=..."


@dataclass(frozen=True, slots=True)
class SquadParagraph:
    article: int  # index in ``data``
    index: int  # index in the article's ``paragraphs``
    title: str
    context: str
    questions: tuple[SquadQuestion, ...]
    sentences: tuple[str, ...] = ()  # LAReQA fields; empty when the file has none
    sentence_breaks: tuple[tuple[int, int], ...] = ()

    @property
    def record(self) -> str:
        return f"data[{self.article}].paragraphs[{self.index}]"

    def sentence_at(self, offset: int) -> int | None:
        """Index of the sentence whose span ``[start, end)`` contains ``offset``, or None."""
        i = bisect_right([start for start, _ in self.sentence_breaks], offset) - 1
        if i >= 0 and offset < self.sentence_breaks[i][1]:
            return i
        return None


def read_squad(path: str | Path, *, require_sentences: bool = False, allow_unanswerable: bool = False,
               lang: str | None = None) -> list[SquadParagraph]:
    """All paragraphs of a SQuAD JSON file, validated.

    ``require_sentences``: every paragraph must carry LAReQA's ``sentences`` and
    ``sentence_breaks``.  ``allow_unanswerable``: accept SQuAD 2.0 questions with
    ``is_impossible: true`` and no answers (otherwise every question needs an answer).
    ``lang``: the file's language (from its name); a top-level ``language`` field must agree.
    Question ids must be unique within the file.
    """
    path = Path(path)
    root = read_json(path)
    articles = _field(root, "data", list, path, "top level")
    if lang is not None:
        check_declared_language(root.get("language"), lang, path)
    paragraphs: list[SquadParagraph] = []
    seen: dict[str, str] = {}
    for a, article in enumerate(articles):
        where = f"data[{a}]"
        _expect(article, dict, path, where)
        title = article.get("title", "")
        if not isinstance(title, str):
            raise InputError(f"'title' must be a string, got {type(title).__name__}", path=path, record=where)
        for p, raw in enumerate(_field(article, "paragraphs", list, path, where)):
            para = _paragraph(raw, a, p, title, path, require_sentences, allow_unanswerable)
            for q in para.questions:
                if q.id in seen:
                    raise InputError(f"duplicate question id (first at {seen[q.id]})", path=path, record=q.record)
                seen[q.id] = q.record.split(" ")[0]
            paragraphs.append(para)
    return paragraphs


def check_declared_language(declared: Any, lang: str, path: Path) -> None:
    """A file's own ``language`` field (synthetic and some converted sets have one) must name
    the language the file is read as (its name, or ``LANG=``)."""
    if declared is None:
        return
    if normalise_language(declared, path=path, record="top level 'language'") != lang:
        raise InputError(f"'language' is {declared!r}, but the file is read as {lang!r} (its name or LANG=)",
                         path=path, record="top level")


def span_text_mismatches(paragraph: SquadParagraph) -> list[int]:
    """Indices of sentences whose text differs from ``context[start:end]``."""
    return [i for i, (text, (start, end)) in enumerate(zip(paragraph.sentences, paragraph.sentence_breaks))
            if paragraph.context[start:end] != text]


def answer_matches_context(paragraph: SquadParagraph, answer: SquadAnswer) -> bool:
    """Whether the answer text is found at its ``answer_start``; see `answer_found_at`."""
    return answer_found_at(paragraph.context, answer.text, answer.start)


def answer_found_at(context: str, text: str, start: int) -> bool:
    """Whether ``text`` starts at ``context[start]``, exactly or up to letter case and runs of
    whitespace: squad-it writes "Il Regno Unito" for "il Regno Unito" and arcd collapses double
    spaces — right offsets — while cmrc2018 has answers one or two characters off, which
    would move a positive sentence at a sentence boundary."""
    if context[start:start + len(text)] == text:
        return True
    def loose(s: str) -> str:
        return " ".join(s.split()).casefold()
    return bool(text.strip()) and loose(context[start:start + 2 * len(text) + 16]).startswith(loose(text))


def _paragraph(raw: Any, a: int, p: int, title: str, path: Path, require_sentences: bool,
               allow_unanswerable: bool) -> SquadParagraph:
    where = f"data[{a}].paragraphs[{p}]"
    _expect(raw, dict, path, where)
    context = _field(raw, "context", str, path, where)
    if not context.strip():
        raise InputError("empty context", path=path, record=where)
    sentences: tuple[str, ...] = ()
    breaks: tuple[tuple[int, int], ...] = ()
    if require_sentences or "sentences" in raw or "sentence_breaks" in raw:
        sentences, breaks = _sentences(raw, context, path, where)
    questions = tuple(_question(q, f"{where}.qas[{i}]", len(context), path, allow_unanswerable)
                      for i, q in enumerate(_field(raw, "qas", list, path, where)))
    return SquadParagraph(a, p, title, context, questions, sentences, breaks)


def _sentences(raw: dict, context: str, path: Path, where: str):
    sentences = _field(raw, "sentences", list, path, where)
    breaks = _field(raw, "sentence_breaks", list, path, where)
    if len(sentences) != len(breaks):
        raise InputError(f"{len(sentences)} sentences but {len(breaks)} sentence_breaks", path=path, record=where)
    if not sentences:
        raise InputError("no sentences", path=path, record=where)
    previous_end = 0
    spans = []
    for k, (text, span) in enumerate(zip(sentences, breaks)):
        here = f"{where}.sentences[{k}]"
        if not isinstance(text, str):
            raise InputError(f"sentence must be a string, got {type(text).__name__}", path=path, record=here)
        if not text.strip():
            raise InputError("empty sentence", path=path, record=here)
        if not (isinstance(span, list) and len(span) == 2 and all(_is_int(x) for x in span)):
            raise InputError(f"sentence_breaks[{k}] must be [start, end] integers, got {span!r}",
                             path=path, record=where)
        start, end = span
        if not previous_end <= start < end <= len(context):
            raise InputError(f"sentence_breaks[{k}] = {span} is not an ordered, non-overlapping span inside "
                             f"the context (length {len(context)}, previous span ends at {previous_end})",
                             path=path, record=where)
        previous_end = end
        spans.append((start, end))
    return tuple(sentences), tuple(spans)


def _question(raw: Any, where: str, context_length: int, path: Path, allow_unanswerable: bool) -> SquadQuestion:
    _expect(raw, dict, path, where)
    qid = raw.get("id")
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid.strip():
        raise InputError(f"question 'id' must be a non-empty string, got {qid!r}", path=path, record=where)
    where = f"{where} id={qid}"
    text = _field(raw, "question", str, path, where)
    if not text.strip():
        raise InputError("empty question", path=path, record=where)
    answers = tuple(_answer(x, f"{where} answers[{i}]", context_length, path)
                    for i, x in enumerate(_field(raw, "answers", list, path, where)))
    if not answers:
        if not (allow_unanswerable and raw.get("is_impossible") is True):
            raise InputError("question has no answers", path=path, record=where)
    elif raw.get("is_impossible") is True:
        raise InputError("question is marked is_impossible but has answers", path=path, record=where)
    return SquadQuestion(qid, text, answers, where)


def _answer(raw: Any, where: str, context_length: int, path: Path) -> SquadAnswer:
    _expect(raw, dict, path, where)
    text = _field(raw, "text", str, path, where)
    start = raw.get("answer_start")
    if not _is_int(start):
        raise InputError(f"'answer_start' must be an integer, got {start!r}", path=path, record=where)
    if not 0 <= start < context_length:
        raise InputError(f"answer_start {start} outside the context (length {context_length})",
                         path=path, record=where)
    return SquadAnswer(text, start)


def _field(obj: dict, key: str, kind: type, path: Path, where: str):
    _expect(obj, dict, path, where)
    if key not in obj:
        raise InputError(f"missing field {key!r}", path=path, record=where)
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"field {key!r} must be {_type_name(kind)}, got {type(value).__name__}",
                         path=path, record=where)
    return value


def _expect(obj: Any, kind: type, path: Path, where: str) -> None:
    if not isinstance(obj, kind):
        raise InputError(f"expected {_type_name(kind)}, got {type(obj).__name__}", path=path, record=where)


def _type_name(kind: type) -> str:
    return {dict: "an object", list: "an array", str: "a string"}.get(kind, kind.__name__)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
