"""The forward loop of `polyir.encode.encode`: token batches prepared ahead, outputs kept on the device.

Texts are tokenised once (`Featurizer`), sorted by token length and cut into batches
(`plan_batches`); a background thread (`polyir.prefetch`) pads — and on CUDA pins — the
next batches while the model runs the current one; batches move with ``non_blocking``;
outputs stay on the device and come back in chunks (`encoded_chunks`).
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

from .model_loading import Prompts
from .prefetch import prefetched
from .featurize import Featurizer

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

TASK_OF_KIND = {"query": "query", "passage": "document"}  # SentenceTransformer's Router task names
PREFETCH_BATCHES = 4  # padded batches prepared ahead of the forward pass
# On an accelerator the embeddings stay on the device and come back (one synchronisation) in
# chunks of at least this many texts; an interrupted run loses at most one chunk of work.
# On the CPU every batch is a chunk: there is nothing to synchronise.
DEVICE_CHUNK_TEXTS = 16384
TOKENIZE_CHUNK = 4096  # texts per tokenizer call when tokenising in several threads


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
        self.module, self.texts, self.prompts, self.kind = module, texts, prompts, kind
        self.featurizer = Featurizer(module, prompts)
        self.featurizer.warm(texts, kind, chunk=TOKENIZE_CHUNK, workers=tokenizer_threads(len(texts)))
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


def encoded_chunks(module, unique: list[str], missing: list[int], *, prompts: Prompts, kind: str,
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


def tokenizer_threads(n_texts: int) -> int:
    """Threads that tokenise in parallel: one per ``TOKENIZE_CHUNK`` texts, at most one per core (8 at most)."""
    return max(1, min(8, os.cpu_count() or 1, -(-n_texts // TOKENIZE_CHUNK)))
