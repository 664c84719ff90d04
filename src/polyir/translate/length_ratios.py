"""Expected length of a translation in characters, relative to English.

Scripts differ: a Chinese translation has about a third of the characters of its English
source, a German one about 1.15 times as many.  ``CHAR_RATIO_VS_EN[L]`` is the median of
``chars(L text) / chars(English text)`` over parallel texts, measured by
``python benchmarks/translate_length_ratios.py ../shared/data`` (XQuAD-R paragraphs for its
ten languages, Tatoeba sentence pairs for the others; characters after NFKC and
whitespace collapsing).  The expected ratio of a translation from S to T is
``CHAR_RATIO_VS_EN[T] / CHAR_RATIO_VS_EN[S]``; a language missing from the table counts as 1.0.
"""
from __future__ import annotations

CHAR_RATIO_VS_EN: dict[str, float] = {
    "af": 1.05, "am": 0.60, "ang": 0.98, "ar": 0.87, "arq": 0.79, "arz": 0.73, "ast": 0.97, "awa": 0.87,
    "az": 1.00, "be": 0.96, "ber": 1.04, "bg": 1.00, "bn": 1.00, "br": 1.07, "bs": 0.94, "ca": 1.00,
    "cbk": 1.10, "ceb": 1.01, "ch": 0.99, "chm": 1.00, "cs": 0.91, "csb": 1.00, "cy": 1.11, "da": 1.00,
    "de": 1.13, "dsb": 0.95, "dtp": 1.15, "el": 1.14, "en": 1.00, "eo": 1.02, "es": 1.12, "et": 0.97,
    "eu": 1.06, "fa": 0.94, "fi": 1.05, "fil": 1.14, "fo": 1.04, "fr": 1.17, "fy": 0.97, "ga": 1.10,
    "gd": 1.19, "gl": 1.00, "gsw": 1.00, "he": 0.75, "hi": 0.99, "hr": 0.93, "hsb": 0.93, "hu": 0.96,
    "hy": 1.04, "ia": 1.10, "id": 1.16, "ie": 1.00, "io": 1.00, "is": 1.04, "it": 1.08, "ja": 0.46, "jv": 1.04,
    "ka": 0.91, "kab": 0.97, "kk": 0.95, "km": 0.94, "ko": 0.52, "ku": 0.95, "kw": 1.06, "la": 0.95,
    "lfn": 1.00, "lt": 0.98, "lv": 1.00, "max": 1.18, "mk": 0.97, "ml": 1.26, "mn": 1.04, "mr": 1.00,
    "ms": 1.18, "nb": 1.00, "nds": 1.05, "nl": 1.06, "nn": 0.98, "nov": 1.00, "oc": 1.04, "orv": 0.84,
    "pam": 1.00, "pl": 0.98, "pms": 1.06, "pt": 1.06, "ro": 1.03, "ru": 1.07, "sk": 0.90, "sl": 0.92,
    "sq": 1.05, "sr": 0.96, "sv": 1.02, "sw": 0.89, "swg": 1.08, "ta": 1.35, "te": 1.00, "th": 0.95,
    "tk": 0.91, "tr": 1.00, "tt": 0.95, "tzl": 0.90, "ug": 0.98, "uk": 0.97, "ur": 1.00, "uz": 0.95,
    "vi": 1.02, "war": 1.14, "wuu": 0.32, "xh": 0.93, "yi": 1.09, "yue": 0.32, "zh": 0.32,
}


def expected_char_ratio(src: str, tgt: str) -> float:
    def of(lang: str) -> float:
        return CHAR_RATIO_VS_EN.get(lang, CHAR_RATIO_VS_EN.get(lang.split("-")[0], 1.0))

    return of(tgt) / of(src)
