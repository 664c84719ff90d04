"""Content fingerprints of encoders: the key under which embeddings are cached.

A fingerprint must change whenever the embeddings could change, and must not change when
a model directory is merely copied or moved.  It is a SHA-256 over:

* the **content** of the files the model is loaded from (weights, ``config.json``,
  tokenizer files, ``modules.json`` and every module's config), hashed in full, with their
  paths relative to the model directory (never the absolute path);  or, for a model held
  in memory (being trained), every ``state_dict`` tensor plus the module configs and the
  tokenizer;
* the effective ``max_seq_length`` and the parameter dtype.

Full SHA-256 rather than sampled chunks: a sampled hash can miss a fine-tuned layer, and
SHA-256 with the CPU's SHA extensions reads 470 MB (multilingual-E5-small) in ~0.3 s,
well inside the budget (see docs/encoding.md for the measurement).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

FINGERPRINT_VERSION = b"polyir-fingerprint-1"
# Files in a model directory that cannot change its embeddings: docs, training state, and
# weights for other frameworks / runtimes.
IGNORED_NAMES = frozenset({"optimizer.pt", "scheduler.pt", "scaler.pt", "trainer_state.json", "training_args.bin"})
IGNORED_SUFFIXES = (".md", ".h5", ".msgpack", ".onnx", ".ot", ".gguf")


def model_files(directory: str | Path) -> list[Path]:
    """The files a SentenceTransformer is loaded from: the directory's top-level files plus
    everything under each module folder named in ``modules.json``, sorted by relative path.

    ``pytorch_model*.bin`` is skipped when safetensors weights exist (transformers loads those)."""
    root = Path(directory)
    files = [p for p in root.iterdir() if p.is_file()]
    for sub in _module_dirs(root):
        files.extend(p for p in sub.rglob("*") if p.is_file())
    has_safetensors = any(p.suffix == ".safetensors" for p in files)
    keep = [p for p in files
            if not p.name.startswith(".") and p.name not in IGNORED_NAMES and not p.name.endswith(IGNORED_SUFFIXES)
            and not (has_safetensors and p.name.startswith("pytorch_model") and p.suffix == ".bin")]
    return sorted(set(keep), key=lambda p: p.relative_to(root).as_posix())


def _module_dirs(root: Path) -> list[Path]:
    modules_json = root / "modules.json"
    if not modules_json.exists():
        return []
    entries = json.loads(modules_json.read_text(encoding="utf-8"))
    dirs = [root / entry["path"] for entry in entries if entry.get("path")]
    return [d for d in dirs if d.is_dir() and d.resolve() != root.resolve()]


def directory_digest(directory: str | Path) -> str:
    """SHA-256 over the relative paths and full content of `model_files`."""
    root = Path(directory)
    digest = hashlib.sha256(FINGERPRINT_VERSION + b"\0directory\0")
    for path in model_files(root):
        with open(path, "rb") as fh:
            content = hashlib.file_digest(fh, "sha256").digest()
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + content)
    return digest.hexdigest()


def module_digest(model: "SentenceTransformer") -> str:
    """SHA-256 over an in-memory model: module types and configs, tokenizer, all tensors."""
    digest = hashlib.sha256(FINGERPRINT_VERSION + b"\0module\0")
    for index, module in enumerate(model):
        digest.update(f"{index}:{type(module).__module__}.{type(module).__qualname__}\0".encode())
        digest.update(_json_bytes(_module_config(module)))
    digest.update(_tokenizer_bytes(getattr(model, "tokenizer", None)))
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach()
        digest.update(f"{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(memoryview(tensor.cpu().contiguous().reshape(-1).view(_uint8()).numpy()))
    return digest.hexdigest()


def combine(content_digest: str, *, max_seq_length: int | None, dtype: str) -> str:
    """The fingerprint: content digest + the settings that change the embeddings."""
    parts = [FINGERPRINT_VERSION.decode(), content_digest, f"max_seq_length={max_seq_length}", f"dtype={dtype}"]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def with_precision(fingerprint: str, precision: str) -> str:
    """The cache key of embeddings computed under autocast ``precision``: the model's own
    fingerprint for fp32 (so existing caches stay valid), a derived one for bf16 / fp16."""
    if precision == "fp32":
        return fingerprint
    return hashlib.sha256(f"{fingerprint}\0precision={precision}".encode()).hexdigest()


def parameter_dtype(model: "SentenceTransformer") -> str:
    floating = (p.dtype for p in model.parameters() if p.is_floating_point())
    return str(next(floating, "none")).removeprefix("torch.")


def weights_state(model: "SentenceTransformer") -> tuple[tuple[int, int], ...]:
    """Identity and in-place version counter of every tensor: any optimiser step, ``copy_``
    or parameter swap changes it, so a stale directory fingerprint is detected for free."""
    tensors: Iterable = list(model.parameters()) + list(model.buffers())
    return tuple((id(t), t._version) for t in tensors)


def _module_config(module) -> object:
    if hasattr(module, "get_config_dict"):
        return module.get_config_dict()
    config = getattr(getattr(module, "auto_model", None), "config", None)
    if config is not None:
        return {k: v for k, v in config.to_dict().items() if not k.startswith("_") and k != "transformers_version"}
    return {}


def _tokenizer_bytes(tokenizer) -> bytes:
    if tokenizer is None:
        return b"no-tokenizer"
    backend = getattr(tokenizer, "backend_tokenizer", None)
    spec = backend.to_str() if backend is not None else _json_bytes(sorted(tokenizer.get_vocab().items())).decode()
    extra = {"class": type(tokenizer).__name__, "max_length": getattr(tokenizer, "model_max_length", None),
             "special": getattr(tokenizer, "all_special_tokens", None), "lower": getattr(tokenizer, "do_lower_case", None)}
    return spec.encode() + b"\0" + _json_bytes(extra)


def _json_bytes(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, default=str).encode()


def _uint8():
    import torch

    return torch.uint8
