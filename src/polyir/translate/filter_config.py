"""`FilterConfig`: the thresholds of the translation quality filters (`polyir.translate.filters`),
apart from the filters so that the command line's options read their defaults without loading them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FilterConfig:
    """``quality=False`` (``--no-filter``) keeps only the ``empty`` check: a pair file cannot
    hold an empty text, so an empty translation is always dropped."""

    quality: bool = True
    untranslated_min_chars: int = 10
    max_repeats: int = 4
    repeat_min_chars: int = 8
    length_ratio_factor: float = 2.5
    length_slack: float = 10.0  # English-equivalent characters
    langid: bool = False
    langid_min_chars: int = 20

    def to_dict(self) -> dict:
        return dict(self.__dict__)
