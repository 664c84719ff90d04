"""Texts -> embeddings: token-length-sorted batches, inference mode, an on-disk cache.

`encode` runs its own loop over a SentenceTransformer (the features of its ``preprocess``,
then its forward) so that it can

* tokenise each text once (`polyir.train.featurize.Featurizer`: ids checked against
  ``preprocess``, chunks tokenised in parallel threads), sort by **token** length
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
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

import numpy as np

from .embcache import EmbeddingCache, text_key
from .errors import ConfigError, InputError
from .fingerprint import with_precision
from .model import LoadedModel, Prompts, model_fingerprint, resolve_prompts
from .prefetch import prefetched
from .progress import progress as progress_bar

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

TASK_OF_KIND = {"query": "query", "passage": "document"}  # SentenceTransformer's Router task names
PRECISIONS = ("fp32", "bf16", "fp16")  # fp32: as the weights are; bf16 / fp16: torch.autocast
PREFETCH_BATCHES = 4  # padded batches prepared ahead of the forward pass
# On an accelerator the embeddings stay on the device and come back (one synchronisation) in
# chunks of at least this many texts; an interrupted run loses at most one chunk of work.
# On the CPU every batch is a chunk: there is nothing to synchronise.
DEVICE_CHUNK_TEXTS = 16384
TOKENIZE_CHUNK = 4096  # texts per tokenizer call when tokenising in several threads


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

    ``prompts``: see `polyir.model.resolve_prompts` (default: the model's own prompts).
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
    chunks = _encoded_chunks(module, unique, missing, prompts=resolved, kind=kind, batch_size=batch_size,
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


def plan_batches(lengths: Sequence[int], batch_size: int, max_tokens: int | None = None) -> list[slice]:
    """Consecutive batches over texts sorted by decreasing length: at most ``batch_size``
    texts and, when ``max_tokens`` is set, at most that many padded tokens (first length x
    count), but never fewer than one text."""
    batches, start = [], 0
    while start < len(lengths):
        size = batch_size
        if max_tokens is not None:
            size = max(1, min(batch_size, max_tokens // max(1, lengths[start])))
        batches.append(slice(start, min(start + size, len(lengths))))
        start += size
    return batches


def token_lengths(module: "SentenceTransformer", texts: Sequence[str], prompt: str) -> np.ndarray:
    """Token counts (prompt and special tokens included, truncated at max_seq_length);
    character counts for a model without a text tokenizer."""
    tokenizer = getattr(module, "tokenizer", None)
    if tokenizer is None or not callable(tokenizer):
        return np.fromiter((len(prompt) + len(t) for t in texts), dtype=np.int64, count=len(texts))
    encoded = tokenizer([prompt + t for t in texts], truncation=True, max_length=module.max_seq_length,
                        return_attention_mask=False, return_token_type_ids=False)
    return np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64, count=len(texts))


@dataclass(frozen=True, eq=False)
class _Chunk:
    """Embeddings of consecutive batches, back on the CPU."""

    rows: list[int]  # rows of the unique texts
    vectors: np.ndarray  # float32, one row per entry of ``rows``
    batch_lengths: list[np.ndarray]  # token lengths of each batch's texts


class _TokenBatches:
    """Texts tokenised once, ordered by decreasing token length and cut into batches.

    ``features()`` yields ``(batch, features)``: a slice of ``order`` (the batch's texts are
    ``texts[order[batch]]``) and the padded input the model's forward takes.  Ids come from one tokenizer pass
    (`Featurizer`, checked against ``preprocess``); a model whose features are not plain
    token ids gets ``preprocess`` per batch instead (and one extra pass to measure lengths).
    """

    def __init__(self, module, texts: list[str], *, prompts: Prompts, kind: str, batch_size: int,
                 max_tokens: int | None):
        from .train.featurize import Featurizer

        self.module, self.texts, self.prompts, self.kind = module, texts, prompts, kind
        self.featurizer = Featurizer(module, prompts)
        self.featurizer.warm(texts, kind, chunk=TOKENIZE_CHUNK, workers=_tokenizer_threads(len(texts)))
        self.token_rows = self.featurizer.rows(texts, kind)
        if self.token_rows is None:
            lengths = token_lengths(module, texts, prompts.for_kind(kind))
        else:
            lengths = np.fromiter((len(row[0]) for row in self.token_rows), dtype=np.int64, count=len(texts))
        # longest first: a batch that does not fit in memory fails at once, not at the end
        self.order = np.argsort(-lengths, kind="stable")
        self.lengths = lengths[self.order]
        self.batches = plan_batches(self.lengths, batch_size, max_tokens)

    def features(self, pin: bool) -> Iterator[tuple[slice, dict]]:
        for batch in self.batches:
            positions = self.order[batch]
            if self.token_rows is not None:
                features = self.featurizer.padded([self.token_rows[i] for i in positions], {self.kind})
            else:
                features = self.module.preprocess([self.texts[i] for i in positions],
                                                  prompt=self.prompts.for_kind(self.kind) or None,
                                                  task=TASK_OF_KIND[self.kind])
            yield batch, (_pinned(features) if pin else features)


def _encoded_chunks(module, unique: list[str], missing: list[int], *, prompts: Prompts, kind: str,
                    batch_size: int, max_tokens: int | None, precision: str) -> Iterator[_Chunk]:
    """Embed ``unique[i]`` for ``i`` in ``missing``, chunk by chunk (longest texts first)."""
    if not missing:
        return
    device = module.device
    token_batches = _TokenBatches(module, [unique[i] for i in missing], prompts=prompts, kind=kind,
                                  batch_size=batch_size, max_tokens=max_tokens)
    chunk_texts = 1 if device.type == "cpu" else DEVICE_CHUNK_TEXTS
    rows: list[int] = []
    outputs: list = []
    lengths: list[np.ndarray] = []
    with prefetched(token_batches.features(pin=device.type == "cuda"), PREFETCH_BATCHES) as ready:
        for batch, features in ready:
            outputs.append(_forward(module, features, task=TASK_OF_KIND[kind], device=device, precision=precision))
            rows += [missing[p] for p in token_batches.order[batch]]
            lengths.append(token_batches.lengths[batch])
            if len(rows) >= chunk_texts:
                yield _Chunk(rows, _to_host(outputs), lengths)
                rows, outputs, lengths = [], [], []
    if rows:
        yield _Chunk(rows, _to_host(outputs), lengths)


def _forward(module, features: dict, *, task: str, device, precision: str):
    """One forward pass; the float32 embeddings stay on ``device`` (no synchronisation)."""
    import torch

    with torch.inference_mode(), _autocast(device.type, precision):
        features = {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v
                    for k, v in features.items()}
        return module(features, task=task)["sentence_embedding"].float()


def _autocast(device_type: str, precision: str):
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def _pinned(features: dict) -> dict:
    """Page-locked copies, so that the copy to the GPU is asynchronous."""
    import torch

    return {k: v.pin_memory() if isinstance(v, torch.Tensor) else v for k, v in features.items()}


def _to_host(outputs: list) -> np.ndarray:
    """One copy (and one synchronisation) for a chunk of batches."""
    import torch

    return (outputs[0] if len(outputs) == 1 else torch.cat(outputs)).cpu().numpy()


def _tokenizer_threads(n_texts: int) -> int:
    """Threads that tokenise in parallel: one per ``TOKENIZE_CHUNK`` texts, at most one per core (8 at most)."""
    return max(1, min(8, os.cpu_count() or 1, -(-n_texts // TOKENIZE_CHUNK)))


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
