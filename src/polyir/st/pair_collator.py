"""`HybridDataCollator`: turns a `HybridBatchSampler` batch (query rows, then passage rows)
into sentence-transformers' (query, positive, negatives..., label) batch.

Item ``i`` is the query text of row ``rows[i]`` and the passage-side texts (positive, hard
negatives) of row ``rows[B + i]``; its ``label`` is the item's mask group: the connected
components of "same parallel group" (keyed by data set and group) and, with
``mask_same_positive``, "same positive text" — computed by the function polyir's own trainer
uses (`polyir.train.collate.mask_groups`), so `MaskedInfoNCELoss` masks exactly what
polyir's trainer masks.  Everything else (prompts, router mapping, tokenisation) is
sentence-transformers' own collator.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..train.collate import mask_groups
from .columns import RESERVED_COLUMNS, DatasetColumns

try:  # sentence-transformers >= 6
    from sentence_transformers.sentence_transformer.data_collator import SentenceTransformerDataCollator
except ImportError:  # pragma: no cover - older sentence-transformers
    from sentence_transformers.data_collator import SentenceTransformerDataCollator


@dataclass
class HybridDataCollator(SentenceTransformerDataCollator):
    """``HybridDataCollator(model.preprocess, prompts={"query": "query: ", "positive": "passage: "})``.

    ``columns``: the metadata column names (`DatasetColumns`).  ``mask_same_group`` /
    ``mask_same_positive``: give items of one parallel group / with the same positive text
    the same label (polyir's defaults, `loss.mask_same_group` / `loss.mask_same_positive`).
    """

    columns: DatasetColumns = field(default_factory=DatasetColumns)
    mask_same_group: bool = True
    mask_same_positive: bool = True

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        return super().__call__(self.pair_rows(features))

    def pair_rows(self, features: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The (query, passage texts..., label) rows of one batch of 2 × B dataset rows."""
        if len(features) % 2:
            raise ConfigError(f"HybridDataCollator got {len(features)} rows; it needs the batches of "
                              "HybridBatchSampler (the query rows, then the passage rows)")
        size = len(features) // 2
        queries, passages = features[:size], features[size:]
        names = list(features[0])
        if any(name in RESERVED_COLUMNS and name != "dataset_name" for name in names):
            self.columns.check(names)  # raises, naming the reserved column
        text = self.columns.text_columns(names)
        keys = [self._group_key(row) for row in queries]
        if keys != [self._group_key(row) for row in passages]:
            raise ConfigError("HybridDataCollator: query and passage rows of an item belong to different groups; "
                              "the batches must come from HybridBatchSampler")
        positives = [row[text[1]] for row in passages] if self.mask_same_positive else None
        labels = mask_groups(keys if self.mask_same_group else None, positives, size).tolist()
        extra = {"dataset_name": features[0]["dataset_name"]} if "dataset_name" in names else {}
        return [{**extra, text[0]: q[text[0]], **{name: p[name] for name in text[1:]}, "label": label}
                for q, p, label in zip(queries, passages, labels)]

    def _group_key(self, row: dict[str, Any]) -> tuple:
        return (row.get(self.columns.dataset, ""), row[self.columns.group])
