"""Translation backends: Hugging Face transformers (default) and CTranslate2 (optional, faster).

A `Translator` wraps one loaded model and translates batches of texts for any language
pair the model knows (an NLLB model serves every target; a Marian model one pair).  It
counts its model calls (`model_calls`, one per `generate` / `translate_batch`) so tests and
reports can show that cached work costs nothing.  `TranslatorPool` resolves a model name
per language pair (a ``{src}``/``{tgt}`` template for OPUS-MT), computes fingerprints
without loading models, and loads each model at most once, only when something is not cached.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Sequence

from ..errors import ConfigError, InputError
from ..io import looks_like_local_path
from ..progress import progress_shown
from .fingerprints import translation_fingerprint
from .language_tokens import PairTokens, detect_family, pair_tokens

BACKENDS = ("transformers", "ctranslate2")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecodingSettings:
    """Settings that change translations (all but ``device`` are part of the cache key)."""

    backend: str = "transformers"
    num_beams: int = 4
    max_length: int = 256  # input tokens kept and new tokens generated, per segment
    dtype: str = "float32"  # transformers: float32 / float16 / bfloat16
    compute_type: str = "default"  # ctranslate2: int8, float16, int8_float16, ...
    device: str = "cpu"
    tokenizer: str | None = None  # ctranslate2: tokenizer directory when not inside the model directory

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.num_beams < 1 or self.max_length < 1:
            raise ConfigError("num_beams and max_length must be positive")

    def cache_settings(self) -> dict:
        keep = {"backend": self.backend, "num_beams": self.num_beams, "max_length": self.max_length}
        keep.update({"dtype": self.dtype} if self.backend == "transformers" else {"compute_type": self.compute_type})
        return keep


class Translator(Protocol):
    name: str
    model_calls: int

    def check_pair(self, src: str, tgt: str) -> None: ...

    def token_lengths(self, texts: Sequence[str], src: str, tgt: str) -> list[int]: ...

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[str]: ...


class _TokenizerMixin:
    """Language handling and tokenisation shared by both backends."""

    name: str
    tokenizer: object
    family: str
    settings: DecodingSettings

    def _pair(self, src: str, tgt: str) -> PairTokens:
        pair = pair_tokens(self.tokenizer, self.family, src, tgt, self.name)
        if pair.src_lang is not None:
            self.tokenizer.src_lang = pair.src_lang
        return pair

    def check_pair(self, src: str, tgt: str) -> None:
        self._pair(src, tgt)

    def token_lengths(self, texts: Sequence[str], src: str, tgt: str) -> list[int]:
        pair = self._pair(src, tgt)
        ids = self.tokenizer([pair.prefix + t for t in texts], add_special_tokens=True)["input_ids"]
        return [len(x) for x in ids]


class TransformersTranslator(_TokenizerMixin):
    def __init__(self, name: str, settings: DecodingSettings):
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.name, self.settings, self.model_calls = name, settings, 0
        _quiet_transformers()
        dtype = getattr(torch, settings.dtype, None)
        if not isinstance(dtype, torch.dtype):
            raise ConfigError(f"unknown dtype {settings.dtype!r} (float32, float16, bfloat16)")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(name)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(name, dtype=dtype)
        except Exception as err:  # noqa: BLE001 - a broken directory raises anything; --debug shows it
            raise InputError(f"cannot load translation model: {type(err).__name__}: {_one_line(err)}",
                             path=name) from err
        self.model.to(settings.device).eval()
        self.family = detect_family(self.tokenizer)

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        import torch

        pair = self._pair(src, tgt)
        batch = self.tokenizer([pair.prefix + t for t in texts], return_tensors="pt", padding=True,
                               truncation=True, max_length=self.settings.max_length).to(self.settings.device)
        extra = {}
        if pair.forced_token is not None:
            extra["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(pair.forced_token)
        with torch.inference_mode():
            out = self.model.generate(**batch, num_beams=self.settings.num_beams, do_sample=False,
                                      max_new_tokens=self.settings.max_length, **extra)
        self.model_calls += 1
        return [t.strip() for t in self.tokenizer.batch_decode(out, skip_special_tokens=True)]


class CTranslate2Translator(_TokenizerMixin):
    def __init__(self, name: str, settings: DecodingSettings):
        try:
            import ctranslate2
        except ImportError:
            raise ConfigError("the ctranslate2 backend needs CTranslate2: pip install 'polyir[ctranslate2]'") from None
        from transformers import AutoTokenizer

        self.name, self.settings, self.model_calls = name, settings, 0
        device, _, index = settings.device.partition(":")
        try:
            self.model = ctranslate2.Translator(name, device=device, device_index=int(index or 0),
                                                compute_type=settings.compute_type)
            self.tokenizer = AutoTokenizer.from_pretrained(settings.tokenizer or name)
        except Exception as err:  # noqa: BLE001 - as above
            raise InputError(f"cannot load CTranslate2 model: {_one_line(err)} (convert with "
                             f"ct2-transformers-converter --model HF_MODEL --output_dir DIR --copy_files "
                             f"tokenizer_config.json ...)", path=name) from err
        self.family = detect_family(self.tokenizer)

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        pair = self._pair(src, tgt)
        ids = self.tokenizer([pair.prefix + t for t in texts], truncation=True,
                             max_length=self.settings.max_length)["input_ids"]
        tokens = [self.tokenizer.convert_ids_to_tokens(x) for x in ids]
        prefix = [[pair.forced_token]] * len(texts) if pair.forced_token else None
        results = self.model.translate_batch(tokens, target_prefix=prefix, beam_size=self.settings.num_beams,
                                             max_decoding_length=self.settings.max_length)
        self.model_calls += 1
        skip = 1 if prefix else 0
        return [self.tokenizer.decode(self.tokenizer.convert_tokens_to_ids(r.hypotheses[0][skip:]),
                                      skip_special_tokens=True).strip() for r in results]


def load_translator(name: str, settings: DecodingSettings) -> Translator:
    check_local_model(name, settings.backend)
    log.info("loading translation model %s (%s, %s)", name, settings.backend, settings.device)
    if settings.backend == "ctranslate2":
        return CTranslate2Translator(name, settings)
    return TransformersTranslator(name, settings)


def check_local_model(name: str, backend: str) -> None:
    """A local model directory must exist and hold its model (a hub id is left to the hub)."""
    path = Path(name).expanduser()
    if not path.exists():
        if looks_like_local_path(name):
            raise InputError("translation model directory not found", path=name)
        return
    needed = "model.bin" if backend == "ctranslate2" else "config.json"
    if not path.is_dir():
        raise InputError("not a translation model directory (it is a file)", path=name)
    if not (path / needed).is_file():
        kind = "CTranslate2" if backend == "ctranslate2" else "Hugging Face"
        raise InputError(f"not a {kind} translation model directory (no {needed})", path=name)


@dataclass(frozen=True)
class ModelChoice:
    """Which model translates ``src`` -> ``tgt``: a per-target override, else the template
    with ``{src}`` / ``{tgt}`` filled in (``Helsinki-NLP/opus-mt-{src}-{tgt}``)."""

    template: str
    per_target: tuple[tuple[str, str], ...] = ()

    def name_for(self, src: str, tgt: str) -> str:
        overrides = dict(self.per_target)
        if tgt in overrides:
            return overrides[tgt]
        try:
            return self.template.format(src=src, tgt=tgt)
        except (KeyError, IndexError, ValueError):
            raise ConfigError(f"model template {self.template!r} may only use {{src}} and {{tgt}}") from None


@dataclass
class TranslatorPool:
    """Loads each model at most once, and only when `get` is called."""

    choice: ModelChoice
    settings: DecodingSettings = field(default_factory=DecodingSettings)
    loader: object = load_translator  # (name, settings) -> Translator; tests count loads through it
    _loaded: dict = field(default_factory=dict)
    _fingerprints: dict = field(default_factory=dict)

    def fingerprint(self, src: str, tgt: str) -> str:
        """The cache key of the model for ``src`` -> ``tgt``; loads it only when it is a hub
        model that is not downloaded yet (loading downloads it)."""
        name = self.choice.name_for(src, tgt)
        if name not in self._fingerprints:
            fingerprint = translation_fingerprint(name, self.settings)
            if fingerprint is None:
                self._load(name)
                fingerprint = translation_fingerprint(name, self.settings)
            if fingerprint is None:
                raise ConfigError(f"cannot find the files of translation model {name!r} after loading it")
            self._fingerprints[name] = fingerprint
        return self._fingerprints[name]

    def get(self, src: str, tgt: str) -> Translator:
        """The loaded model for ``src`` -> ``tgt``; `ConfigError` when it lacks a language."""
        translator = self._load(self.choice.name_for(src, tgt))
        translator.check_pair(src, tgt)
        return translator

    def _load(self, name: str) -> Translator:
        if name not in self._loaded:
            self._loaded[name] = self.loader(name, self.settings)
        return self._loaded[name]

    @property
    def model_calls(self) -> int:
        return sum(t.model_calls for t in self._loaded.values())

    @property
    def models_loaded(self) -> int:
        return len(self._loaded)


def _quiet_transformers() -> None:
    """``polyir -q`` also silences transformers' weight-loading bars."""
    if not progress_shown():
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def _one_line(err: BaseException, limit: int = 400) -> str:
    """The whole message on one line (a first line alone can stop at "... from one of:")."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"
