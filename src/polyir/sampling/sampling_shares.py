"""`SamplingStats`: the realised batch composition, accumulated for logging and tests."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .batch import BATCH_KINDS, Batch


class SamplingStats:
    """Counts over the global batches seen so far (same on every rank).

    ``batches[kind]``               global batches of each kind
    ``mono_batches_by_language[L]`` mono batches in language L
    ``batches_by_dataset[d]``       batches drawn from data set d
    ``pairs[Lq, Lp]``               items with query language Lq and passage language Lp
    ``fallback_items``              items drawn cross-lingual whose group had one language
    """

    def __init__(self, languages: Sequence[str], datasets: Sequence[str]):
        self.languages = tuple(languages)
        self.datasets = tuple(datasets)
        self.batches = dict.fromkeys(BATCH_KINDS, 0)
        self.mono_batches_by_language = np.zeros(len(self.languages), dtype=np.int64)
        self.batches_by_dataset = np.zeros(len(self.datasets), dtype=np.int64)
        self.pairs = np.zeros((len(self.languages),) * 2, dtype=np.int64)
        self.fallback_items = 0

    def update(self, batch: Batch) -> None:
        self.batches[batch.kind] += 1
        self.batches_by_dataset[batch.dataset] += 1
        if batch.kind == "mono":
            self.mono_batches_by_language[batch.language] += 1
        n_lang = len(self.languages)
        pair_code = batch.query_lang.astype(np.int64) * n_lang + batch.passage_lang
        self.pairs += np.bincount(pair_code, minlength=n_lang * n_lang).reshape(n_lang, n_lang)
        self.fallback_items += int(batch.fallback.sum())

    @property
    def n_batches(self) -> int:
        return sum(self.batches.values())

    @property
    def n_items(self) -> int:
        return int(self.pairs.sum())

    @property
    def cross_items(self) -> int:
        return int(self.pairs.sum() - np.trace(self.pairs))

    def summary(self) -> dict[str, Any]:
        """Flat, JSON-ready shares for a training log (keys are stable names)."""
        batches, items = max(self.n_batches, 1), max(self.n_items, 1)
        out: dict[str, Any] = {"batches": self.n_batches, "items": self.n_items}
        out.update({f"share_batches_{kind}": n / batches for kind, n in self.batches.items()})
        out["share_items_cross"] = self.cross_items / items
        out["share_items_fallback"] = self.fallback_items / items
        out.update({f"share_batches_dataset_{name}": int(n) / batches
                    for name, n in zip(self.datasets, self.batches_by_dataset)})
        mono = max(self.batches["mono"], 1)
        out.update({f"share_mono_batches_{lang}": int(n) / mono
                    for lang, n in zip(self.languages, self.mono_batches_by_language)})
        return out

    def pair_table(self) -> dict[str, int]:
        """Item counts per ``query-passage`` language pair (non-zero entries only)."""
        q, p = np.nonzero(self.pairs)
        return {f"{self.languages[a]}-{self.languages[b]}": int(self.pairs[a, b]) for a, b in zip(q, p)}

    def state_dict(self) -> dict[str, Any]:
        return {"batches": dict(self.batches),
                "mono_batches_by_language": self.mono_batches_by_language.tolist(),
                "batches_by_dataset": self.batches_by_dataset.tolist(),
                "pairs": self.pairs.tolist(), "fallback_items": self.fallback_items}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.batches = {kind: int(state["batches"][kind]) for kind in BATCH_KINDS}
        self.mono_batches_by_language = np.asarray(state["mono_batches_by_language"], dtype=np.int64)
        self.batches_by_dataset = np.asarray(state["batches_by_dataset"], dtype=np.int64)
        self.pairs = np.asarray(state["pairs"], dtype=np.int64)
        self.fallback_items = int(state["fallback_items"])
