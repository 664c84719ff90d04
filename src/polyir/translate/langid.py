"""Language identification of translations, offline: py3langid.

`py3langid <https://pypi.org/project/py3langid/>`_ (a maintained fork of langid.py; naive
Bayes over byte n-grams, 97+ languages) ships its model inside the wheel
(``py3langid/data/model.npz.xz``, 4.5 MB installed) and never downloads anything: checked
with ``unshare -rn`` (no network) and ``HF_HUB_OFFLINE=1``.  Detection is restricted to the
languages of the run (source + targets), which is what the check needs — was the output
written in the target language, or left in the source language / drifted to another
target — and makes short texts far more reliable than open-set detection (see
docs/translation.md for the measurement against lingua).
"""
from __future__ import annotations

from typing import Iterable

from ..errors import ConfigError
from ..languages import is_valid_language, normalise_language


def _base(lang: str) -> str:
    return lang.split("-")[0]


class LanguageIdentifier:
    """``identify(text) -> polyir language code`` among ``candidates`` (py3langid)."""

    def __init__(self, candidates: Iterable[str]):
        try:
            from py3langid.langid import MODEL_FILE
            from py3langid.langid import LanguageIdentifier as Py3LangId
        except ImportError:
            raise ConfigError("language identification needs py3langid: pip install 'polyir[langid]'") from None
        self._model = Py3LangId.from_model_file(MODEL_FILE, norm_probs=False)
        known = {_base(normalise_language(code)): code for code in self._model.nb_classes if is_valid_language(code)}
        wanted = sorted({_base(lang) for lang in candidates})
        self.languages = tuple(lang for lang in wanted if lang in known)
        self.unsupported = tuple(lang for lang in wanted if lang not in known)
        self._to_polyir = {known[lang]: lang for lang in self.languages}
        if len(self.languages) >= 2:
            self._model.set_languages([known[lang] for lang in self.languages])

    def supports(self, lang: str) -> bool:
        """True when ``lang`` can be told apart from the other candidates (needs two or more)."""
        return len(self.languages) >= 2 and _base(lang) in self.languages

    def identify(self, text: str) -> str:
        code, _ = self._model.classify(text)
        return self._to_polyir.get(code, code)

    def matches(self, text: str, lang: str) -> bool:
        return self.identify(text) == _base(lang)
