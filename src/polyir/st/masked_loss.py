"""`MaskedInfoNCELoss`: polyir's InfoNCE with parallel-group masking as a sentence-transformers loss.

    loss = MaskedInfoNCELoss(model, temperature=0.05)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss,
                                         data_collator=HybridDataCollator(model.preprocess))

``forward(sentence_features, labels)`` embeds the columns (query, positive, hard negatives...)
and returns `polyir.losses.info_nce` of the queries against the positives, with the hard
negatives shared by every query, masking in-batch candidates whose ``labels`` equal the
query's (the mask groups `HybridDataCollator` puts in the ``label`` column; any integer
group ids work).  With ``mask_same_group=False`` it is the paper's unmasked loss — and, on
L2-normalised embeddings, `MultipleNegativesRankingLoss` with ``scale = 1 / temperature``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from ..losses import DEFAULT_TEMPERATURE, InfoNCE

try:  # sentence-transformers >= 6: columns that preprocess alike share one forward pass
    from sentence_transformers.base.losses.merged_forward import embed_columns
except ImportError:  # pragma: no cover - older sentence-transformers
    embed_columns = None

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

CITATION = """@misc{elmahdy2024hybrid,
      title={Synergistic Approach for Simultaneous Optimization of Monolingual, Cross-lingual, and Multilingual Information Retrieval},
      author={Adel Elmahdy and Sheng-Chieh Lin and Amin Ahmad},
      year={2024},
      eprint={2408.10536},
      archivePrefix={arXiv},
      primaryClass={cs.IR},
      url={https://arxiv.org/abs/2408.10536},
}"""


class MaskedInfoNCELoss(nn.Module):
    """InfoNCE at ``temperature`` over (query, positive[, negative...]) columns, masked by label."""

    def __init__(self, model: "SentenceTransformer", temperature: float = DEFAULT_TEMPERATURE,
                 symmetric_weight: float = 0.0, mask_same_group: bool = True) -> None:
        super().__init__()
        self.model = model
        self.info_nce = InfoNCE(temperature=temperature, symmetric_weight=symmetric_weight,
                                mask_same_group=mask_same_group)

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None) -> Tensor:
        embeddings = self.embed(list(sentence_features))
        if len(embeddings) < 2:
            raise ConfigError(f"MaskedInfoNCELoss needs a query and a positive column, got {len(embeddings)} column(s)")
        if labels is None and self.info_nce.mask_same_group:
            raise ConfigError("MaskedInfoNCELoss needs the parallel-group ids as labels: use HybridDataCollator, "
                              "or a 'label' column of integer group ids (or mask_same_group=False)")
        queries, passages, *negatives = embeddings
        groups = labels.to(queries.device) if labels is not None else None
        shared = torch.cat(negatives) if negatives else None
        return self.info_nce(queries, passages, groups, shared).loss

    def embed(self, features: list[dict[str, Tensor]]) -> list[Tensor]:
        if embed_columns is not None:
            return embed_columns(self.model, features)
        return [self.model(f)["sentence_embedding"] for f in features]

    def get_config_dict(self) -> dict[str, Any]:
        """What sentence-transformers' model card lists for this loss."""
        return {"temperature": self.info_nce.temperature, "symmetric_weight": self.info_nce.symmetric_weight,
                "mask_same_group": self.info_nce.mask_same_group}

    @property
    def citation(self) -> str:
        return CITATION
