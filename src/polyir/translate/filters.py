"""Quality filters for machine-translated text, with the reason each output is dropped.

Checks, in this order (the first that fails is the reason, so counts add up):

``empty``         the output is empty or only whitespace.
``untranslated``  the output equals the source after normalisation (NFKC, case folding,
                  punctuation removed, whitespace collapsed: `polyir.data.pairs.leakage.normalise_text`)
                  — for sources of at least ``untranslated_min_chars`` normalised characters
                  with a letter, so names, numbers and dates that legitimately stay the same
                  ("Beyoncé", "1998") are kept.
``repetition``    a decoding loop: a unit of 1–20 characters (whitespace ignored, so word and
                  sub-word loops alike: "the the the the", "研究研究研究研究") with a letter
                  in it, repeated ``max_repeats`` times in a row or more, spanning at least
                  ``repeat_min_chars`` characters, and repeated more often than in the source.
``length_ratio``  the output length is implausible for its source, compared in
                  English-equivalent characters (characters divided by the language's
                  `CHAR_RATIO_VS_EN`, so Chinese is not "too short"): with s and t the
                  source and output in those units, drop when t > factor·s + slack or
                  t < s/factor − slack.  The slack keeps short texts ("Yes." → "Ja.") safe.
``language``      (optional) a language identifier (`LanguageIdentifier`) restricted to the
                  run's languages finds another language than the target; only for outputs of
                  at least ``langid_min_chars`` characters (short texts are identified poorly).

Without the source text (a stand-alone filter over a file that has no source-language pair
for a group) only ``empty``, ``repetition`` and ``language`` apply.
"""
from __future__ import annotations

import re
import unicodedata

from ..data.pairs.leakage import normalise_text
from .filter_config import FilterConfig
from .langid import LanguageIdentifier
from .length_ratios import CHAR_RATIO_VS_EN

REASONS = ("empty", "untranslated", "repetition", "length_ratio", "language")
_LOOP = re.compile(r"(.{1,20}?)\1{2,}", re.DOTALL)


def char_length(text: str) -> int:
    """Characters after NFKC and whitespace collapsing."""
    return len(" ".join(unicodedata.normalize("NFKC", text).split()))


def longest_loop(text: str, min_chars: int = 1) -> int:
    """How many times in a row the most repeated unit (1–20 characters, containing a letter,
    whitespace ignored) occurs, counting only runs of at least ``min_chars`` characters; 1 when none."""
    compact = "".join(text.split())
    best = 1
    for match in _LOOP.finditer(compact):
        unit, span = match.group(1), match.end() - match.start()
        if span >= min_chars and any(c.isalpha() for c in unit):
            best = max(best, span // len(unit))
    return best


def _english_equivalent(text: str, lang: str) -> float:
    ratio = CHAR_RATIO_VS_EN.get(lang, CHAR_RATIO_VS_EN.get(lang.split("-")[0], 1.0))
    return char_length(text) / ratio


class TranslationFilter:
    """``check(output, tgt, source=None, src=None) -> reason or None``."""

    def __init__(self, config: FilterConfig = FilterConfig(), identifier: LanguageIdentifier | None = None):
        self.config = config
        self.identifier = identifier

    def check(self, output: str, tgt: str, source: str | None = None, src: str | None = None) -> str | None:
        cfg = self.config
        if not output.strip():
            return "empty"
        if not cfg.quality:
            return None
        if source is not None and self._untranslated(source, output):
            return "untranslated"
        repeats = longest_loop(output, cfg.repeat_min_chars)
        if repeats >= cfg.max_repeats and (source is None or repeats > longest_loop(source, cfg.repeat_min_chars)):
            return "repetition"
        if source is not None and src is not None and self._length_outlier(source, src, output, tgt):
            return "length_ratio"
        if self._wrong_language(output, tgt):
            return "language"
        return None

    def _untranslated(self, source: str, output: str) -> bool:
        normalised = normalise_text(source)
        return (len(normalised) >= self.config.untranslated_min_chars and any(c.isalpha() for c in normalised)
                and normalise_text(output) == normalised)

    def _length_outlier(self, source: str, src: str, output: str, tgt: str) -> bool:
        s, t = _english_equivalent(source, src), _english_equivalent(output, tgt)
        factor, slack = self.config.length_ratio_factor, self.config.length_slack
        return t > factor * s + slack or t < s / factor - slack

    def _wrong_language(self, output: str, tgt: str) -> bool:
        identifier = self.identifier
        if identifier is None or not identifier.supports(tgt) or char_length(output) < self.config.langid_min_chars:
            return False
        return not identifier.matches(output, tgt)
