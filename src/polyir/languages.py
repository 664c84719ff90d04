"""Language codes: validation and normalisation through `langcodes` (BCP 47 / ISO 639).

Codes are normalised to their shortest standard form, macrolanguages folded
(``deu`` -> ``de``, ``cmn`` -> ``zh``, ``arb`` -> ``ar``).  Synthetic languages made by
``polyir data synthetic`` use the ISO 639 private-use range ``qaa``-``qtz``, which is
valid by the standard and can never clash with a real language.
"""
from __future__ import annotations

from functools import lru_cache

import langcodes

from .errors import InputError


@lru_cache(maxsize=4096)
def _normalise(code: str) -> str | None:
    code = code.strip()
    if not code or not langcodes.tag_is_valid(code):
        return None
    try:
        return langcodes.standardize_tag(code, macro=True)
    except ValueError:
        return None


def normalise_language(code: str, *, path=None, record=None) -> str:
    """Return the normalised code or raise `InputError` naming where the code came from."""
    if not isinstance(code, str):
        raise InputError(f"language code must be a string, got {code!r}", path=path, record=record)
    norm = _normalise(code)
    if norm is None:
        raise InputError(f"unknown language code {code!r} (expected ISO 639 / BCP 47, e.g. 'en', 'zh', 'deu')",
                         path=path, record=record)
    return norm


def is_valid_language(code: str) -> bool:
    return isinstance(code, str) and _normalise(code) is not None


def synthetic_language_codes(n: int) -> list[str]:
    """``n`` private-use codes: qaa, qab, ..., qaz, qba, ... (ISO 639-2 range qaa-qtz)."""
    if not 1 <= n <= 20 * 26:
        raise ValueError("between 1 and 520 synthetic languages")
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [f"q{letters[i // 26]}{letters[i % 26]}" for i in range(n)]
