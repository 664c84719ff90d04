"""Texts -> padded model features, tokenising each distinct text once.

`Featurizer` produces exactly the features of the model's own ``preprocess`` (prompts,
truncation, special tokens, ``prompt_length``), but with the token cache on:

* each distinct text is tokenised once and its ids kept; later batches only gather and
  pad them (numpy), which takes tokenisation out of the training step after the first epoch;
* new texts go to the Hugging Face tokenizer in one batched call, skipping
  sentence-transformers' per-text input inspection; this shortcut is checked once per text
  kind against ``preprocess`` on the first batch and abandoned if the ids differ;
* `padded` pads any cached texts into one forward batch, of one kind or — when the model
  treats both kinds alike (no Router, pooling that keeps prompt tokens; `mixes`) — of
  several; `polyir.train.collate` uses it for length buckets.  `joint_features` pads
  queries, passages and negatives into one batch when that adds little padding (the
  unbucketed step).

Models whose features are not plain ``input_ids`` / ``attention_mask`` /
``token_type_ids`` fall back to ``preprocess`` on every batch.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .model_loading import Prompts
from .textclip import clip_texts

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

TASKS = {"query": "query", "passage": "document"}  # sentence-transformers' task names
TOKEN_KEYS = ("input_ids", "attention_mask", "token_type_ids")
CONSTANT_KEYS = ("modality", "prompt_length")
JOINT_PADDING_LIMIT = 1.15  # joint batch: at most 15% more padded tokens than separate batches

Rows = tuple[np.ndarray, ...]  # one text's ids per feature name (attention mask implied)


class Featurizer:
    """``features(texts, kind)`` -> the dict the model's forward takes (CPU tensors)."""

    def __init__(self, module: "SentenceTransformer", prompts: Prompts, *, max_query_length: int | None = None,
                 max_passage_length: int | None = None, cache: bool = True):
        self.module, self.prompts = module, prompts
        self.max_length = {"query": max_query_length, "passage": max_passage_length}
        self.cache = cache
        self._rows: dict[str, dict[str, Rows]] = {"query": {}, "passage": {}}
        self._constants: dict[str, dict] = {}
        self._direct: dict[str, bool] = {}  # kind -> the tokenizer shortcut was checked and agrees
        self._names: tuple[str, ...] = ()
        tokenizer = getattr(module, "tokenizer", None)
        self._tokenizer = tokenizer
        self._pad_id = getattr(tokenizer, "pad_token_id", None)
        self._left = getattr(tokenizer, "padding_side", "right") == "left"
        self._joint_ok = _treats_kinds_alike(module)
        self.tokenized_texts = 0  # texts run through a tokenizer (a counter for tests)

    def task(self, kind: str) -> str:
        return TASKS[kind]

    def preprocess(self, texts: Sequence[str], kind: str) -> dict:
        """The model's own preprocessing (one call for the whole list)."""
        kwargs = {"task": TASKS[kind]}
        if self.max_length[kind] is not None:
            kwargs["max_length"] = self.max_length[kind]
        self.tokenized_texts += len(texts)
        return self.module.preprocess(self._clipped(texts, kind), prompt=self.prompts.for_kind(kind) or None, **kwargs)

    def _clipped(self, texts: Sequence[str], kind: str) -> list[str]:
        """Over-long texts cut before tokenisation without changing their tokens (`polyir.textclip`)."""
        return clip_texts(texts, self._tokenizer, self.max_length[kind] or self.module.max_seq_length)

    def features(self, texts: Sequence[str], kind: str) -> dict:
        rows = self.rows(texts, kind)
        if rows is None:
            return self.preprocess(texts, kind)
        return {**self._pad(rows), **self._constants[kind]}

    def rows(self, texts: Sequence[str], kind: str) -> list[Rows] | None:
        """Cached ids of ``texts`` (tokenising the new ones), or None when not caching."""
        if not self.cache:
            return None
        store = self._rows[kind]
        missing = list(dict.fromkeys(t for t in texts if t not in store))
        if missing and not self._remember(missing, kind):
            self.cache = False  # features this cache cannot rebuild: tokenise every batch
            return None
        return [store[t] for t in texts]

    def warm(self, texts: Sequence[str], kind: str, chunk: int = 8192, workers: int = 1) -> int:
        """Tokenise every new text of ``texts`` now (the ``upfront`` token cache); returns how many.
        ``workers`` > 1 tokenises the chunks in that many threads (the Rust tokenizer releases
        the GIL) once the tokenizer shortcut has been checked."""
        if not self.cache:
            return 0
        store = self._rows[kind]
        missing = list(dict.fromkeys(t for t in texts if t not in store))
        # a small first call checks the tokenizer shortcut, which then takes the big ones
        head = min(64, len(missing))
        if head and self.rows(missing[:head], kind) is None:
            return len(missing)
        parts = [missing[start:start + chunk] for start in range(head, len(missing), chunk)]
        if workers > 1 and len(parts) > 1 and self._direct.get(kind):
            self._tokenize_in_threads(parts, kind, workers)
            return len(missing)
        for part in parts:
            if self.rows(part, kind) is None:
                break
        return len(missing)

    def _tokenize_in_threads(self, parts: list[list[str]], kind: str, workers: int) -> None:
        # the first call fixed the tokenizer's truncation settings (every call passes the same
        # ones), so concurrent calls only read its state
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="polyir-tokenize") as pool:
            for part, rows in zip(parts, pool.map(lambda texts: self._encode_ids(texts, kind), parts)):
                self._rows[kind].update(zip(part, rows))
                self.tokenized_texts += len(part)

    def joint_features(self, parts: Sequence[tuple[Sequence[str], str]]) -> dict | None:
        """One padded batch of several ``(texts, kind)`` parts, in order, or None when the parts
        are better (or must be) encoded separately."""
        rows = [self.rows(texts, kind) for texts, kind in parts if texts] if self.cache else [None]
        kinds = {kind for texts, kind in parts if texts}
        if any(r is None for r in rows) or len(rows) < 2 or not self.mixes(kinds):
            return None
        widths = [max(len(r[0]) for r in part) for part in rows]
        separate = sum(w * len(part) for w, part in zip(widths, rows))
        if max(widths) * sum(len(part) for part in rows) > JOINT_PADDING_LIMIT * separate:
            return None
        return self.padded([row for part in rows for row in part], kinds)

    def mixes(self, kinds: set[str]) -> bool:
        """Whether texts of these (already cached) kinds may share a forward pass: the model
        treats the kinds alike and their constant features agree."""
        if len(kinds) < 2:
            return True
        if not self._joint_ok or any(kind not in self._constants for kind in kinds):
            return False
        modalities = {repr(self._constants[kind].get("modality")) for kind in kinds}
        return len(modalities) == 1

    def padded(self, rows: Sequence[Rows], kinds: set[str]) -> dict:
        """The forward batch of cached ``rows`` (from `rows`) of the given kinds.  Several kinds
        (allowed by `mixes`) drop ``prompt_length``, which differs between the kinds' prompts
        and which pooling ignores for such models."""
        constants = self._constants[min(kinds)]
        if len(kinds) > 1:
            constants = {k: v for k, v in constants.items() if k != "prompt_length"}
        return {**self._pad(list(rows)), **constants}

    @staticmethod
    def length(row: Rows) -> int:
        """Tokens of a cached text (special tokens and prompt included)."""
        return len(row[0])

    def _remember(self, texts: list[str], kind: str) -> bool:
        if self._direct.get(kind):
            encoded = self._tokenize(texts, kind)
            for text, ids in zip(texts, encoded):
                self._rows[kind][text] = ids
            return True
        features = self.preprocess(texts, kind)
        rows = self._split(features, kind)
        if rows is None:
            return False
        for text, row in zip(texts, rows):
            self._rows[kind][text] = row
        if kind not in self._direct:
            self._direct[kind] = self._tokenizer is not None and self._agrees(texts, rows, kind)
        return True

    def _split(self, features: dict, kind: str) -> list[Rows] | None:
        """Unpadded ids per text from a padded ``preprocess`` output (None: not plain tokens)."""
        import torch  # deferred: `polyir.encode` (and with it the configs) stays light

        tokens = {k: v for k, v in features.items() if k in TOKEN_KEYS}
        constants = {k: v for k, v in features.items() if k in CONSTANT_KEYS}
        if (set(features) - set(tokens) - set(constants) or "input_ids" not in tokens
                or "attention_mask" not in tokens or self._pad_id is None
                or any(isinstance(v, torch.Tensor) for v in constants.values())
                or self._constants.setdefault(kind, constants) != constants):
            return None
        mask = tokens["attention_mask"].numpy().astype(bool)
        arrays = {k: v.numpy() for k, v in tokens.items()}
        self._names = tuple(k for k in TOKEN_KEYS if k in arrays and k != "attention_mask")
        return [tuple(arrays[k][i][mask[i]].astype(np.int32) for k in self._names) for i in range(len(mask))]

    def _tokenize(self, texts: list[str], kind: str) -> list[Rows]:
        """The tokenizer shortcut: ids of ``prompt + text``, truncated as sentence-transformers does."""
        self.tokenized_texts += len(texts)
        return self._encode_ids(texts, kind)

    def _encode_ids(self, texts: list[str], kind: str) -> list[Rows]:
        prompt = self.prompts.for_kind(kind)
        limit = self.max_length[kind] or self.module.max_seq_length
        encoded = self._tokenizer([prompt + t for t in self._clipped(texts, kind)], truncation="longest_first",
                                  max_length=limit,
                                  return_attention_mask=False,
                                  return_token_type_ids="token_type_ids" in self._names)
        return [tuple(np.asarray(encoded[name][i], dtype=np.int32) for name in self._names)
                for i in range(len(texts))]

    def _agrees(self, texts: list[str], rows: list[Rows], kind: str) -> bool:
        try:
            shortcut = self._tokenize(texts, kind)
        except Exception:  # noqa: BLE001 - any tokenizer that does not take these arguments: no shortcut
            return False
        finally:
            self.tokenized_texts -= len(texts)  # the check is not counted as tokenising
        return all(len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
                   for a, b in zip(shortcut, rows))

    def _pad(self, rows: list[Rows]) -> dict:
        import torch

        lengths = np.fromiter((len(r[0]) for r in rows), dtype=np.int64, count=len(rows))
        width = int(lengths.max())
        out = {}
        for k, name in enumerate(self._names):
            padded = np.full((len(rows), width), self._pad_id if name == "input_ids" else 0, dtype=np.int64)
            for i, row in enumerate(rows):
                if self._left:
                    padded[i, width - len(row[k]):] = row[k]
                else:
                    padded[i, :len(row[k])] = row[k]
            out[name] = torch.from_numpy(padded)
        positions = np.arange(width)
        mask = positions >= (width - lengths)[:, None] if self._left else positions < lengths[:, None]
        out["attention_mask"] = torch.from_numpy(mask.astype(np.int64))
        return {k: out[k] for k in TOKEN_KEYS if k in out}


def _treats_kinds_alike(module) -> bool:
    """Queries and passages may share a forward pass: no Router (separate towers) and no pooling
    that drops prompt tokens (whose count differs between the two prompts)."""
    from sentence_transformers.sentence_transformer.modules import Router

    for sub in module:
        if isinstance(sub, Router) or getattr(sub, "include_prompt", True) is False:
            return False
    return True
