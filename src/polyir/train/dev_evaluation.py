"""Periodic evaluation of the in-memory model during training.

* Retrieval on a multilingual dev set (XQuAD-R / MLQA-R format, `polyir.data.load_lareqa`):
  `polyir.encode.encode` with no cache, then `polyir.evaluate.evaluate_embeddings`; the
  metrics are ``KIND/MEASURE`` (``multi/AP``, ``cross/AP``, ``mono/R@1``, ...) and
  ``rank_distance``.
* ``dev_loss``: the training loss (eval mode, no gradient) over consecutive batches of dev
  pairs — the paper's selection criterion (on English SQuADShifts).
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..data.evalsets.lareqa_reader import load_lareqa
from ..encode import encode
from ..evaluate import evaluate_embeddings
from ..losses import InfoNCE
from ..model_loading import Prompts
from ..types import Pair, RetrievalSet, candidate_text
from .collate import mask_groups
from .train_config import DataSource, EvalConfig
from .train_data import read_source
from ..featurize import Featurizer

log = logging.getLogger(__name__)
RETRIEVAL_MEASURES = ("AP", "R@1", "R@10")


@dataclass(frozen=True, eq=False)
class DevSets:
    retrieval: RetrievalSet | None
    loss_pairs: tuple[Pair, ...]


def load_dev_sets(config: EvalConfig) -> DevSets:
    retrieval, loss_pairs = None, ()
    if config.dev is not None:
        retrieval = load_lareqa(config.dev, config.languages or None, max_queries=config.max_queries)
    if config.metric == "dev_loss":
        sources = config.loss_data
        if not sources and config.dev is not None:
            sources = (DataSource(path=config.dev, name="dev", format="squad"),)
        stats: Counter = Counter()
        loss_pairs = tuple(p for s in sources for p in read_source(s, stats))
    return DevSets(retrieval, loss_pairs)


def evaluate_model(module, dev: DevSets, config: EvalConfig, *, prompts: Prompts, featurizer: Featurizer,
                   loss: InfoNCE, batch_size: int, device, chunk: int | None = None) -> dict[str, float]:
    """All dev metrics of the current weights (flat ``name: value``); ``chunk``: texts per forward
    pass of the dev loss (training's ``optim.gradcache_chunk``; None: a whole batch at once)."""
    metrics: dict[str, float] = {}
    if dev.retrieval is not None:
        metrics.update(retrieval_metrics(module, dev.retrieval, prompts=prompts, batch_size=config.batch_size,
                                         candidate_mode=config.candidate_text, precision=config.precision))
    if dev.loss_pairs:
        metrics["dev_loss"] = dev_loss(module, dev.loss_pairs, featurizer=featurizer, loss=loss,
                                       batch_size=batch_size, device=device, chunk=chunk)
    return metrics


def retrieval_metrics(module, rset: RetrievalSet, *, prompts: Prompts, batch_size: int,
                      candidate_mode: str = "sentence", precision: str = "fp32") -> dict[str, float]:
    queries = encode(module, [q.text for q in rset.queries], kind="query", prompts=prompts, batch_size=batch_size,
                     cache=None, progress=False, precision=precision)
    candidates = encode(module, [candidate_text(c, candidate_mode) for c in rset.candidates], kind="passage",
                        prompts=prompts, batch_size=batch_size, cache=None, progress=False, precision=precision)
    result = evaluate_embeddings(rset, queries, candidates, measures=RETRIEVAL_MEASURES)
    metrics: dict[str, float] = {}
    for kind, values in result.summary().items():
        if isinstance(values, dict):
            metrics.update({f"{kind}/{m}": float(v) for m, v in values.items() if v is not None})
        elif values is not None:
            metrics[kind] = float(values)
    return metrics


def dev_loss(module, pairs: Sequence[Pair], *, featurizer: Featurizer, loss: InfoNCE, batch_size: int,
             device, chunk: int | None = None) -> float:
    """Mean InfoNCE over consecutive batches of ``pairs`` (a last batch of one pair is skipped:
    it has no negatives), weighted by batch size.  The texts of a batch are encoded ``chunk`` at
    a time, as training encodes them with GradCache (None: the whole batch in one forward pass),
    so that a batch of 4096 never puts 4096 texts through the model at once."""
    total, count = 0.0, 0
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(pairs), batch_size):
                batch = pairs[start:start + batch_size]
                if len(batch) < 2:
                    continue
                # masked as in training: same parallel group or same positive (the loss decides whether to mask)
                groups = mask_groups(np.array([hash((p.dataset, p.group)) for p in batch]),
                                     [p.positive for p in batch], len(batch))
                q = _embed(module, featurizer, [p.query for p in batch], "query", device, chunk)
                d = _embed(module, featurizer, [p.positive for p in batch], "passage", device, chunk)
                value = loss(q, d, torch.from_numpy(groups).to(q.device)).loss
                total += float(value) * len(batch)
                count += len(batch)
    finally:
        module.train(was_training)
    return total / max(count, 1)


def _embed(module, featurizer: Featurizer, texts: list[str], kind: str, device, chunk: int | None) -> torch.Tensor:
    size = chunk or len(texts)
    return torch.cat([_forward(module, featurizer, texts[start:start + size], kind, device)
                      for start in range(0, len(texts), size)])


def _forward(module, featurizer: Featurizer, texts: list[str], kind: str, device) -> torch.Tensor:
    from sentence_transformers.util import batch_to_device

    features = batch_to_device(featurizer.features(texts, kind), device)
    return module(features, task=featurizer.task(kind))["sentence_embedding"].float()
