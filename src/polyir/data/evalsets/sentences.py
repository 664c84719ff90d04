"""Sentence spans of a paragraph, and the sentence that contains a character offset.

Splitting uses `sentencex` (Wikimedia; rule-based, ~300 languages, works offline, no
model download).  It splits on the full-width terminators of Chinese and Japanese
(。！？) and on the Devanagari danda.  Thai writes no sentence terminator (sentences are
separated by a space that also separates phrases), so a Thai paragraph stays one
"sentence": use data with ``sentence_breaks`` (XQuAD-R) or ``--positive paragraph`` for Thai.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Sequence

from sentencex import get_sentence_boundaries


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` character spans covering ``text`` in order (trailing spaces included)."""
    spans = [(b["start_index"], b["end_index"]) for b in get_sentence_boundaries(lang, text)]
    return spans or [(0, len(text))]


def span_containing(spans: Sequence[Sequence[int]], offset: int) -> int:
    """Index of the span containing ``offset``; an offset between spans belongs to the span
    before it (LAReQA's rule: the sentence whose start is the last one at or before the answer)."""
    starts = [span[0] for span in spans]
    return max(0, bisect_right(starts, offset) - 1)


def split_sentences(text: str, lang: str) -> list[str]:
    """The sentences of ``text``, stripped, empty ones dropped."""
    return [s for s in (text[a:b].strip() for a, b in sentence_spans(text, lang)) if s]
