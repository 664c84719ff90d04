"""Collate: the texts of a sampled `Batch` -> padded model features, and the loss's mask groups.

`Featurizer` tokenises with the model's own ``preprocess`` (so prompts, truncation,
special tokens and ``prompt_length`` are exactly what sentence-transformers produces) but,
with the token cache on, runs it once per distinct text: later batches only gather the
cached ids and pad them (numpy), which removes tokenisation from the training step.
Models whose features are not plain ``input_ids`` / ``attention_mask`` /
``token_type_ids`` (multimodal, routers with their own preprocessing) fall back to
``preprocess`` on every batch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from ..model import Prompts
from ..types import Pair

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from ..sampling import Batch

TASKS = {"query": "query", "passage": "document"}  # sentence-transformers' task names
TOKEN_KEYS = ("input_ids", "attention_mask", "token_type_ids")
CONSTANT_KEYS = ("modality", "prompt_length")


class Featurizer:
    """``features(texts, kind)`` -> the dict the model's forward takes (CPU tensors)."""

    def __init__(self, module: "SentenceTransformer", prompts: Prompts, *, max_query_length: int | None = None,
                 max_passage_length: int | None = None, cache: bool = True):
        self.module, self.prompts = module, prompts
        self.max_length = {"query": max_query_length, "passage": max_passage_length}
        self.cache = cache
        self._ids: dict[str, dict[str, tuple[np.ndarray, ...]]] = {"query": {}, "passage": {}}
        self._constants: dict[str, dict] = {}
        tokenizer = getattr(module, "tokenizer", None)
        self._pad_id = getattr(tokenizer, "pad_token_id", None)
        self._left = getattr(tokenizer, "padding_side", "right") == "left"
        self._names: tuple[str, ...] = ()
        self.tokenized_texts = 0  # distinct texts run through the tokenizer (a counter for tests)

    def task(self, kind: str) -> str:
        return TASKS[kind]

    def preprocess(self, texts: Sequence[str], kind: str) -> dict:
        """The model's own preprocessing (one tokenizer call for the whole list)."""
        kwargs = {"task": TASKS[kind]}
        if self.max_length[kind] is not None:
            kwargs["max_length"] = self.max_length[kind]
        self.tokenized_texts += len(texts)
        return self.module.preprocess(list(texts), prompt=self.prompts.for_kind(kind) or None, **kwargs)

    def features(self, texts: Sequence[str], kind: str) -> dict:
        if not self.cache:
            return self.preprocess(texts, kind)
        store = self._ids[kind]
        missing = list(dict.fromkeys(t for t in texts if t not in store))
        if missing and not self._remember(missing, kind):
            self.cache = False  # features this cache cannot rebuild: tokenise every batch
            return self.preprocess(texts, kind)
        return self._pad([store[t] for t in texts], kind)

    def _remember(self, texts: list[str], kind: str) -> bool:
        features = self.preprocess(texts, kind)
        tokens = {k: v for k, v in features.items() if k in TOKEN_KEYS}
        constants = {k: v for k, v in features.items() if k in CONSTANT_KEYS}
        if (set(features) - set(tokens) - set(constants) or "input_ids" not in tokens
                or "attention_mask" not in tokens or self._pad_id is None
                or any(isinstance(v, torch.Tensor) for v in constants.values())):
            return False
        if self._constants.setdefault(kind, constants) != constants:
            return False
        mask = tokens["attention_mask"].numpy().astype(bool)
        arrays = {k: v.numpy() for k, v in tokens.items()}
        names = tuple(k for k in TOKEN_KEYS if k in arrays and k != "attention_mask")
        self._names = names
        for row, text in enumerate(texts):
            self._ids[kind][text] = tuple(arrays[k][row][mask[row]].astype(np.int32) for k in names)
        return True

    def _pad(self, rows: list[tuple[np.ndarray, ...]], kind: str) -> dict:
        lengths = np.fromiter((len(r[0]) for r in rows), dtype=np.int64, count=len(rows))
        width = int(lengths.max())
        mask = np.zeros((len(rows), width), dtype=np.int64)
        out = {}
        for k, name in enumerate(self._names):
            fill = self._pad_id if name == "input_ids" else 0
            padded = np.full((len(rows), width), fill, dtype=np.int64)
            for i, row in enumerate(rows):
                if self._left:
                    padded[i, width - len(row[k]):] = row[k]
                else:
                    padded[i, :len(row[k])] = row[k]
            out[name] = torch.from_numpy(padded)
        for i, n in enumerate(lengths):
            if self._left:
                mask[i, width - n:] = 1
            else:
                mask[i, :n] = 1
        out["attention_mask"] = torch.from_numpy(mask)
        out = {k: out[k] for k in TOKEN_KEYS if k in out}
        out.update(self._constants[kind])
        return out


@dataclass(frozen=True)
class BatchTexts:
    """The texts of one rank's slice, and the mask groups of the whole global batch."""

    queries: list[str]
    passages: list[str]
    negatives: list[str]
    mask_groups: torch.Tensor  # [global batch] int64: equal ids are never each other's negatives


def batch_texts(pairs: Sequence[Pair], global_batch: "Batch", local: "Batch", *, hard_negatives: int = 0,
                mask_same_group: bool = True, mask_same_positive: bool = True,
                seed: int = 0) -> BatchTexts:
    """Texts of ``local`` (a rank's slice of ``global_batch``) and the global mask groups."""
    queries = [pairs[i].query for i in local.query_index]
    passages = [pairs[i].positive for i in local.passage_index]
    negatives = [text for i in local.passage_index
                 for text in choose_negatives(pairs[i].negatives, hard_negatives, seed, global_batch.step, int(i))]
    global_positives = [pairs[i].positive for i in global_batch.passage_index] if mask_same_positive else None
    groups = mask_groups(global_batch.group if mask_same_group else None, global_positives, len(global_batch))
    return BatchTexts(queries, passages, negatives, torch.from_numpy(groups))


def choose_negatives(negatives: Sequence[str], k: int, seed: int, step: int, example: int) -> Sequence[str]:
    """``k`` hard negatives of an example: all when it has at most ``k``, else a draw
    without replacement that depends only on (seed, step, example) (resumable, rank-independent)."""
    if k <= 0 or not negatives:
        return ()
    if len(negatives) <= k:
        return negatives
    rng = np.random.default_rng([seed, step, example, 7])
    return [negatives[j] for j in sorted(rng.choice(len(negatives), size=k, replace=False))]


def mask_groups(groups: np.ndarray | None, positives: Sequence[str] | None, n: int) -> np.ndarray:
    """Connected components of "same parallel group" or "same positive text" over the batch.

    The loss masks items with equal ids, so the relation must be transitive: if item a is a
    translation of b and b's positive is c's positive, a's positive is a translation of c's
    positive — relevant to c's query too.  Ids are the smallest member index of the component.
    """
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for keys in (groups, positives):
        if keys is None:
            continue
        first: dict = {}
        for i, key in enumerate(keys.tolist() if isinstance(keys, np.ndarray) else keys):
            j = first.setdefault(key, i)
            if j != i:
                a, b = find(i), find(j)
                parent[max(a, b)] = min(a, b)
    return np.fromiter((find(i) for i in range(n)), dtype=np.int64, count=n)
