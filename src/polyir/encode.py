"""Texts -> embeddings: token-length-sorted batches, inference mode, an on-disk cache.

`encode` runs its own loop over a SentenceTransformer (the features of its ``preprocess``,
then its forward) so that it can

* tokenise each text once (`polyir.encode_loop`, with the training loop's
  `polyir.featurize.Featurizer`: ids checked against ``preprocess``, chunks
  tokenised in parallel threads), sort by **token** length
  (SentenceTransformer sorts by character count), which packs batches with less padding,
  and optionally cap each batch by a token budget;
* pad (and on CUDA pin) the next batches in a background thread (`polyir.prefetch`) while
  the model runs the current one, copy them with ``non_blocking``, and keep the outputs on
  the device, copying them back in large chunks: no synchronisation per batch;
* run under autocast in bf16 / fp16 (``precision``; cached under its own key);
* skip texts already in the embedding cache and write each finished chunk to it at once
  (interrupt and re-run: nothing finished is lost or recomputed);
* encode duplicate texts once;
* count what it did (`EncodeStats`) so callers and tests can check for zero forward passes.
"""
from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

import numpy as np

from .device_checks import PRECISIONS
from .embcache import EmbeddingCache, text_key
from .encode_loop import TASK_OF_KIND, encoded_chunks, plan_batches, token_lengths  # noqa: F401 (re-exported)
from .errors import ConfigError, InputError
from .fingerprint import with_precision
from .model_loading import LoadedModel, Prompts, model_fingerprint, resolve_prompts
from .progress import progress as progress_bar
from .textclip import clip_texts

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


@dataclass
class EncodeStats:
    """Counters accumulated over one or more `encode` calls (pass the same object)."""

    texts: int = 0  # texts requested
    unique_texts: int = 0  # after removing duplicates within each call
    cache_hits: int = 0  # unique texts served from the cache
    encoded_texts: int = 0  # unique texts run through the model
    forward_batches: int = 0  # forward passes
    tokens: int = 0  # real tokens in the encoded texts
    padded_tokens: int = 0  # tokens including padding (batch size x longest in batch)
    seconds: float = 0.0


def encode(model: "LoadedModel | SentenceTransformer", texts: Sequence[str], *, kind: str = "query",
           prompts: "Prompts | str | Mapping[str, str] | None" = None, batch_size: int = 32,
           max_tokens: int | None = None, normalize: bool = True, cache: EmbeddingCache | None = None,
           stats: EncodeStats | None = None, progress: bool = True, precision: str = "fp32") -> np.ndarray:
    """Embed ``texts`` (queries or passages) as a ``(len(texts), dim)`` float32 array, in order.

    ``prompts``: see `polyir.model_loading.resolve_prompts` (default: the model's own prompts).
    ``batch_size`` texts per forward pass, fewer when ``max_tokens`` (padded tokens per
    batch) is set.  ``normalize`` L2-normalises (cosine similarity); models ending in a
    Normalize module are already unit length and are left untouched.  ``cache`` (optional)
    is read before and written after each chunk.  ``precision``: ``fp32`` runs the model as
    loaded; ``bf16`` / ``fp16`` under `torch.autocast` (fp16 only on a GPU).  Empty texts
    raise `InputError`.
    """
    started = time.perf_counter()
    module = model.module if isinstance(model, LoadedModel) else model
    _check_arguments(texts, kind, batch_size, max_tokens)
    _check_precision(precision, module)
    # what the model sees: over-long texts cut before tokenisation (textclip), also in cache keys
    texts = clip_texts(texts, getattr(module, "tokenizer", None), getattr(module, "max_seq_length", None))
    resolved = resolve_prompts(prompts, module)
    unique, inverse = _deduplicate(texts)
    stats = stats if stats is not None else EncodeStats()
    stats.texts += len(texts)
    stats.unique_texts += len(unique)
    dim = _dimension(module)
    fingerprint, keys, known = _look_up(model, cache, unique, prompt=resolved.for_kind(kind),
                                        task=TASK_OF_KIND[kind], dim=dim, precision=precision)
    stats.cache_hits += len(known)
    vectors = _allocate(len(unique), dim, known)
    missing = [i for i in range(len(unique)) if i not in known]
    chunks = encoded_chunks(module, unique, missing, prompts=resolved, kind=kind, batch_size=batch_size,
                            max_tokens=max_tokens, precision=precision)
    with _eval_mode(module), contextlib.closing(chunks), progress_bar(
            total=len(unique), initial=len(known), desc=f"encode {kind} texts", unit="text",
            disable=None if progress else True) as bar:
        for chunk in chunks:
            if cache is not None:
                cache.store(fingerprint, [keys[i] for i in chunk.rows], chunk.vectors,
                            source=getattr(model, "source", ""))
            vectors = vectors if vectors is not None else np.empty((len(unique), chunk.vectors.shape[1]), np.float32)
            vectors[chunk.rows] = chunk.vectors
            _count_batches(stats, chunk.batch_lengths)
            bar.update(len(chunk.rows))
    if vectors is None:  # no texts, and a model that does not declare its dimension
        vectors = np.zeros((0, 0), dtype=np.float32)
    if normalize and not _ends_with_normalize(module):
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    stats.seconds += time.perf_counter() - started
    log.debug("encoded %d %s texts: %d unique, %d from the cache", len(texts), kind, len(unique), len(known))
    return vectors if len(unique) == len(texts) else vectors[inverse]  # no duplicates: inverse is the identity


def _check_arguments(texts: Sequence[str], kind: str, batch_size: int, max_tokens: int | None) -> None:
    if kind not in TASK_OF_KIND:
        raise ConfigError(f"text kind must be 'query' or 'passage', got {kind!r}")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be positive, got {batch_size}")
    if max_tokens is not None and max_tokens < 1:
        raise ConfigError(f"max_tokens must be positive, got {max_tokens}")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"expected a string, got {type(text).__name__}", record=f"{kind} text [{index}]")
        if not text.strip():
            raise InputError("empty text", record=f"{kind} text [{index}]")


def _check_precision(precision: str, module) -> None:
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp16" and module.device.type == "cpu":
        raise ConfigError("precision fp16 needs a GPU; on CPU use bf16 or fp32")


def _deduplicate(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    first: dict[str, int] = {}
    inverse = np.fromiter((first.setdefault(t, len(first)) for t in texts), dtype=np.int64, count=len(texts))
    return list(first), inverse


@contextlib.contextmanager
def _eval_mode(module) -> Iterator[None]:
    """Dropout off while encoding; a model being trained goes back to training mode after."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


def _look_up(model, cache: EmbeddingCache | None, unique: list[str], *, prompt: str, task: str,
             dim: int | None, precision: str) -> tuple[str | None, list[bytes], dict[int, np.ndarray]]:
    """(cache fingerprint, key per unique text, cached vectors by row); nothing without a cache."""
    if cache is None or not unique:
        return None, [], {}
    module = model.module if isinstance(model, LoadedModel) else model
    fingerprint = with_precision(model_fingerprint(model), precision)
    route = task if _has_router(module) else ""  # a Router sends queries and passages to different towers
    keys = [text_key(prompt, text, route) for text in unique]
    return fingerprint, keys, _cache_hits(cache.lookup(fingerprint, keys), keys, dim)


def _cache_hits(found: dict[bytes, np.ndarray], keys: list[bytes], dim: int | None) -> dict[int, np.ndarray]:
    """Cached vectors by row; a vector of the wrong size (a foreign or damaged entry) is a miss."""
    hits = {i: found[k] for i, k in enumerate(keys) if k in found}
    expected = dim or (len(next(iter(hits.values()))) if hits else 0)
    return {i: v for i, v in hits.items() if len(v) == expected}


def _allocate(n: int, dim: int | None, known: dict[int, np.ndarray]) -> np.ndarray | None:
    dim = dim or (len(next(iter(known.values()))) if known else None)
    if dim is None:
        return None
    vectors = np.empty((n, dim), dtype=np.float32)
    for i, vec in known.items():
        vectors[i] = vec
    return vectors


def _count_batches(stats: EncodeStats, batch_lengths: list[np.ndarray]) -> None:
    for lengths in batch_lengths:
        stats.forward_batches += 1
        stats.encoded_texts += len(lengths)
        stats.tokens += int(lengths.sum())
        stats.padded_tokens += int(lengths.max()) * len(lengths)


def _dimension(module) -> int | None:
    getter = getattr(module, "get_embedding_dimension", None) or module.get_sentence_embedding_dimension
    return getter()


def _ends_with_normalize(module) -> bool:
    from sentence_transformers.sentence_transformer.modules import Normalize

    last = module[len(module) - 1]
    return isinstance(last, Normalize) and getattr(last, "module_output_name", "sentence_embedding") == "sentence_embedding"


def _has_router(module) -> bool:
    from sentence_transformers.sentence_transformer.modules import Router

    return any(isinstance(m, Router) for m in module)
