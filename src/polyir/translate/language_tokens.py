"""How a loaded translation model is told the source and target language.

The family is read off the tokenizer (its class, else its vocabulary), so the same rule
works for a Hugging Face directory and for a CTranslate2 conversion that kept the tokenizer:

=============  =====================================  ==========================================
family         source language                        target language
=============  =====================================  ==========================================
``nllb``       ``tokenizer.src_lang = "eng_Latn"``    first output token forced to ``deu_Latn``
``m2m100``     ``tokenizer.src_lang = "en"``          first output token forced to ``__de__``
``marian-multi`` (none)                               ``>>deu<<`` prefixed to the input text
``pair``       (none: one model per language pair)    (none)
=============  =====================================  ==========================================
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .codes import m2m100_code, marian_codes, nllb_code

FAMILIES = ("nllb", "m2m100", "marian-multi", "pair")


@dataclass(frozen=True)
class PairTokens:
    """What one (source, target) direction needs from the tokenizer and the decoder."""

    src_lang: str | None = None  # value for ``tokenizer.src_lang``
    prefix: str = ""  # text put before every input
    forced_token: str | None = None  # first generated token


def detect_family(tokenizer) -> str:
    name = type(tokenizer).__name__
    vocab = tokenizer.get_vocab()
    if "Nllb" in name or "eng_Latn" in vocab:
        return "nllb"
    if "M2M100" in name or "__en__" in vocab:
        return "m2m100"
    if any(token.startswith(">>") and token.endswith("<<") for token in vocab):
        return "marian-multi"
    return "pair"


def _require(tokenizer, token: str, model: str, lang: str) -> None:
    if token not in tokenizer.get_vocab():
        raise ConfigError(f"translation model {model!r} does not know language {lang!r} (no token {token!r})")


def pair_tokens(tokenizer, family: str, src: str, tgt: str, model: str) -> PairTokens:
    """The `PairTokens` of ``src`` -> ``tgt``; `ConfigError` when the model lacks a language."""
    if family == "nllb":
        source, target = nllb_code(src), nllb_code(tgt)
        _require(tokenizer, source, model, src)
        _require(tokenizer, target, model, tgt)
        return PairTokens(src_lang=source, forced_token=target)
    if family == "m2m100":
        source, target = m2m100_code(src), m2m100_code(tgt)
        _require(tokenizer, f"__{source}__", model, src)
        _require(tokenizer, f"__{target}__", model, tgt)
        return PairTokens(src_lang=source, forced_token=f"__{target}__")
    if family == "marian-multi":
        vocab = tokenizer.get_vocab()
        for code in marian_codes(tgt):
            if f">>{code}<<" in vocab:
                return PairTokens(prefix=f">>{code}<< ")
        raise ConfigError(f"translation model {model!r} does not know target language {tgt!r} "
                          f"(none of {', '.join(f'>>{c}<<' for c in marian_codes(tgt))} in its vocabulary)")
    return PairTokens()
