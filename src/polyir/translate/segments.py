"""Translation units: what of a `Pair` is sent to the model, and how the outputs are put back.

Sentence-level MT models are trained on sentences; a long passage given whole is truncated
at the model's maximum length or loses sentences.  So passages (the positive and every
negative) are split into sentences with `polyir.data.evalsets.sentences` (sentencex) in the source
language, each sentence is translated on its own, and the translations are joined with a
space — or with nothing for targets written without spaces between sentences (Chinese,
Japanese, Cantonese), where "。" ends a sentence.  Queries are translated whole.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping

from ..data.evalsets.sentences import split_sentences
from ..types import Pair

NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "yue", "wuu", "lzh"})


@dataclass(frozen=True)
class Segmenter:
    split_passages: bool = True

    def passage(self, text: str, lang: str) -> list[str]:
        if not self.split_passages:
            return [text.strip()]
        return split_sentences(text, lang) or [text.strip()]

    def units(self, pair: Pair) -> list[list[str]]:
        """Per field (query, positive, each negative) the list of segments to translate."""
        return [[pair.query.strip()], self.passage(pair.positive, pair.lang),
                *(self.passage(negative, pair.lang) for negative in pair.negatives)]

    def segments(self, pair: Pair) -> Iterator[str]:
        for field in self.units(pair):
            yield from field


def join_segments(parts: list[str], lang: str) -> str:
    separator = "" if lang.split("-")[0] in NO_SPACE_LANGUAGES else " "
    return separator.join(p for p in parts if p)


def translated_fields(units: list[list[str]], translations: Mapping[str, str], tgt: str) -> list[str]:
    """The translated fields (query, positive, negatives) from a pair's `Segmenter.units`."""
    return [join_segments([translations[s] for s in field], tgt) for field in units]
