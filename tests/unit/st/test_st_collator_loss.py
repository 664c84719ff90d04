"""`HybridDataCollator` + `MaskedInfoNCELoss`: the texts, mask groups and loss of polyir's own trainer.

CPU, float32, dropout off (eval mode): the comparisons are exact up to float rounding.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("datasets", reason="the `st` extra (datasets, accelerate) is not installed")

import torch  # noqa: E402

from polyir.errors import ConfigError  # noqa: E402
from polyir.losses import info_nce  # noqa: E402
from polyir.st import HybridBatchSampler, HybridDataCollator, MaskedInfoNCELoss, pairs_dataset  # noqa: E402
from polyir.train.collate import batch_texts  # noqa: E402
from polyir.types import Pair  # noqa: E402

LANGS = ("de", "en", "fr")


def make_pairs() -> list[Pair]:
    """40 groups in 3 languages with 2 hard negatives each; groups 2k and 2k+1 share their positives
    (SQuAD-style: two questions on one sentence), so positive-text masking has work to do."""
    return [Pair(group=str(g), lang=lang, query=f"question {g} {lang}", positive=f"answer {g // 2} {lang}",
                 negatives=(f"wrong {g} {lang} a", f"wrong {g} {lang} b"), dataset="syn")
            for g in range(40) for lang in LANGS]


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_model_dir), device="cpu").eval()


def features_of(batch: dict, columns) -> list[dict]:
    return [{k[len(c) + 1:]: v for k, v in batch.items() if k.startswith(c + "_")} for c in columns]


@pytest.mark.parametrize("mask_same_positive", [True, False])
def test_collator_gives_polyirs_texts_and_mask_groups(model, mask_same_positive):
    pairs = make_pairs()
    dataset = pairs_dataset(pairs, hard_negatives=2)
    sampler = HybridBatchSampler(dataset, batch_size=12, strategy="mixed", alpha=0.3, seed=1)
    collator = HybridDataCollator(model.preprocess, mask_same_positive=mask_same_positive)
    masked_something = False
    for position in range(len(sampler)):
        batch = sampler.polyir_sampler.batch_at(position, 0)
        rows = collator.pair_rows(dataset.__getitems__(sampler.rows(position, 0)))
        texts = batch_texts(pairs, batch, batch, hard_negatives=2, mask_same_positive=mask_same_positive)
        assert [r["query"] for r in rows] == texts.queries
        assert [r["positive"] for r in rows] == texts.passages
        assert [r[f"negative_{k}"] for r in rows for k in (1, 2)] == texts.negatives
        labels = np.array([r["label"] for r in rows])
        assert np.array_equal(labels, texts.mask_groups.numpy())
        masked_something |= len(set(labels)) < len(labels)
    assert masked_something == mask_same_positive  # groups never repeat in a batch; positives do


def test_loss_is_polyirs_info_nce_on_the_models_embeddings(model):
    pairs = make_pairs()
    dataset = pairs_dataset(pairs, hard_negatives=2)
    sampler = HybridBatchSampler(dataset, batch_size=12, strategy="cross", seed=0)
    collator = HybridDataCollator(model.preprocess, prompts={"query": "query: ", "positive": "passage: "})
    batch = collator(dataset.__getitems__(sampler.rows(0, 0)))
    features = features_of(batch, ["query", "positive", "negative_1", "negative_2"])
    loss = MaskedInfoNCELoss(model, temperature=0.05)(features, batch["label"])
    with torch.no_grad():
        q, p, n1, n2 = (model(dict(f))["sentence_embedding"] for f in features)
        expected = info_nce(q, p, batch["label"], torch.cat([n1, n2]), temperature=0.05).loss
    assert loss.requires_grad
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-5)


def test_unmasked_loss_is_multiple_negatives_ranking_loss(model):
    from sentence_transformers.losses import MultipleNegativesRankingLoss

    dataset = pairs_dataset(make_pairs())
    sampler = HybridBatchSampler(dataset, batch_size=12, strategy="hybrid", seed=0)
    batch = HybridDataCollator(model.preprocess)(dataset.__getitems__(sampler.rows(1, 0)))
    features = features_of(batch, ["query", "positive"])
    ours = MaskedInfoNCELoss(model, temperature=0.05, mask_same_group=False)(features, batch["label"])
    theirs = MultipleNegativesRankingLoss(model, scale=20.0)(features_of(batch, ["query", "positive"]), None)
    assert float(ours.detach()) == pytest.approx(float(theirs.detach()), rel=1e-5)  # the tiny model L2-normalises


def test_misuse_is_a_clear_error(model):
    dataset = pairs_dataset(make_pairs())
    collator = HybridDataCollator(model.preprocess)
    with pytest.raises(ConfigError, match="needs the batches of HybridBatchSampler"):
        collator(dataset.__getitems__([0, 1, 2]))
    with pytest.raises(ConfigError, match="different groups"):
        collator(dataset.__getitems__([0, 3]))  # rows 0 and 3: groups 0 and 1
    features = features_of(collator(dataset.__getitems__([0, 3, 1, 4])), ["query", "positive"])
    with pytest.raises(ConfigError, match="needs the parallel-group ids as labels"):
        MaskedInfoNCELoss(model)(features, None)
