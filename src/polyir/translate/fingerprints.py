"""Cache keys of translation models: the model's content plus the decoding settings.

The content digest is `polyir.fingerprint.directory_digest` (SHA-256 over the files a model
is loaded from, by relative path, never the absolute path): a model directory that is
copied or moved keeps its cached translations, and a hub id (``facebook/nllb-200-distilled-600M``)
hashes the local snapshot it was downloaded to, so the hub id and that snapshot's path share
a cache.  The decoding settings that change outputs (backend, beams, maximum length, dtype /
compute type) are part of the key; the device and the batch size are not.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING


from ..errors import ConfigError
from ..fingerprint import directory_digest

if TYPE_CHECKING:
    from .backends import DecodingSettings

FINGERPRINT_VERSION = "polyir-translate-1"


def local_model_dir(name: str) -> Path | None:
    """The directory ``name`` is loaded from: itself, or its snapshot in the Hugging Face cache
    (None when it is neither, e.g. a hub model not downloaded yet)."""
    path = Path(name)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:  # not a repo id, not downloaded: the loader reports what is wrong
        return None


def translation_fingerprint(name: str, settings: "DecodingSettings") -> str | None:
    """SHA-256 hex key of (model content, tokenizer content, decoding settings); None when the
    model's files are not on disk yet (load it first: loading downloads it)."""
    model_dir = local_model_dir(name)
    if model_dir is None:
        return None
    parts = {"version": FINGERPRINT_VERSION, "model": directory_digest(model_dir), **settings.cache_settings()}
    if settings.tokenizer:
        tokenizer_dir = local_model_dir(settings.tokenizer)
        if tokenizer_dir is None:
            raise ConfigError(f"tokenizer {settings.tokenizer!r} not found")
        parts["tokenizer"] = directory_digest(tokenizer_dir)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
