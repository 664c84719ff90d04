"""Collate: cached token ids give exactly the model's own features; mask groups; hard negatives."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from polyir.model_loading import Prompts, load_model
from polyir.sampling import Batch
from polyir.train.collate import BatchTexts, Bucketing, batch_texts, choose_negatives, mask_groups, sub_batches
from polyir.featurize import Featurizer
from polyir.types import Pair

TEXTS = ["Na Nete zasagaz bozosi?", "a", "Godonu zototo Nete bozosi Nizafo ke la mu ri so ta", "a",
         "zototo " * 40]


@pytest.fixture(scope="module")
def module(train_model_dir):
    return load_model(train_model_dir, device="cpu").module


@pytest.mark.parametrize("kind,max_length", [("query", None), ("passage", 12), ("query", 5)])
def test_cached_features_equal_the_models_preprocess(module, kind, max_length):
    prompts = Prompts("query: ", "passage: ")
    cached = Featurizer(module, prompts, max_query_length=max_length, max_passage_length=max_length)
    plain = Featurizer(module, prompts, max_query_length=max_length, max_passage_length=max_length, cache=False)
    cached.features(TEXTS[:2], kind)  # fill the cache with part of the texts first
    got, expected = cached.features(TEXTS, kind), plain.features(TEXTS, kind)
    assert got.keys() == expected.keys() and {"input_ids", "attention_mask", "prompt_length"} <= set(got)
    for key, value in expected.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(got[key], value), key
        else:
            assert got[key] == value, key
    assert cached.cache  # still caching: nothing it could not rebuild
    with torch.no_grad():
        module.eval()
        a = module(dict(got), task=cached.task(kind))["sentence_embedding"]
        b = module(dict(expected), task=cached.task(kind))["sentence_embedding"]
    assert torch.equal(a, b)


def test_the_tokenizer_shortcut_is_checked_and_used(module):
    featurizer = Featurizer(module, Prompts("query: ", "passage: "), max_query_length=8)
    featurizer.features(TEXTS[:2], "query")
    assert featurizer._direct == {"query": True}  # the plain tokenizer call gave preprocess's ids
    later = TEXTS[2:] + ["Nizafo ke " * 20, "Óscar ÉLAN naïve"]
    got = featurizer.features(later, "query")  # tokenised by the shortcut
    expected = Featurizer(module, featurizer.prompts, max_query_length=8, cache=False).features(later, "query")
    assert all(torch.equal(got[k], expected[k]) for k in ("input_ids", "attention_mask"))
    assert got["prompt_length"] == expected["prompt_length"]


def test_joint_features_pad_all_kinds_into_one_batch(module):
    featurizer = Featurizer(module, Prompts("query: ", "passage: "))
    queries, passages = TEXTS[:2], ["Godonu zototo Nete.", "ke la mu ri"]
    joint = featurizer.joint_features([(queries, "query"), (passages, "passage"), ([], "passage")])
    assert joint is not None and joint["input_ids"].shape[0] == 4 and "prompt_length" not in joint
    module.eval()
    with torch.no_grad():
        together = module(dict(joint), task="query")["sentence_embedding"]
        apart = torch.cat([module(dict(featurizer.features(queries, "query")), task="query")["sentence_embedding"],
                           module(dict(featurizer.features(passages, "passage")), task="document")[
                               "sentence_embedding"]])
    assert torch.allclose(together, apart, atol=1e-5)
    # one long passage among short queries: padding everything to its length is refused
    assert featurizer.joint_features([(queries, "query"), (["zototo " * 40], "passage")]) is None


def test_sub_batches_and_split_give_back_each_kind(module):
    featurizer = Featurizer(module, Prompts("query: ", "passage: "))
    texts = BatchTexts(queries=["q a", "q b", "q c"], passages=["p a", "p b", "p c"], negatives=["n a"] * 5,
                       mask_groups=torch.arange(3))
    for chunk, expected in ((None, [(3, 3, 5)]), (2, [(2, 2, 2), (1, 1, 2), (0, 0, 1)])):
        plan = sub_batches(featurizer, texts, chunk, "cpu")
        assert [tuple(int(((b.rows >= lo) & (b.rows < hi)).sum()) for lo, hi in ((0, 3), (3, 6), (6, 11)))
                for b in plan.batches] == expected
        _check_split(plan, texts)


def _check_split(plan, texts):
    """Each pass's rows are real texts, every text is encoded once, and `split` puts them back."""
    rows = np.concatenate([b.rows for b in plan.batches])
    total = len(texts.queries) + len(texts.passages) + len(texts.negatives)
    assert sorted(rows.tolist()) == list(range(total))
    for batch in plan.batches:
        assert batch.features["input_ids"].shape[0] == len(batch.rows)
    q, p, n = plan.split(torch.from_numpy(rows).float()[:, None])  # "embedding" = the text's position
    assert q.flatten().tolist() == list(range(3)) and p.flatten().tolist() == list(range(3, 6))
    assert (n is None and not texts.negatives) or n.flatten().tolist() == list(range(6, total))


@pytest.mark.parametrize("chunk", [None, 2])
def test_length_buckets_group_similar_lengths(module, chunk):
    featurizer = Featurizer(module, Prompts("query: ", "passage: "))
    texts = BatchTexts(queries=["a", "Na Nete", "b"], passages=["zototo " * 30, "ke la", "zototo " * 31],
                       negatives=["c", "zototo " * 29], mask_groups=torch.arange(3))
    plan = sub_batches(featurizer, texts, chunk, "cpu", Bucketing(overhead=4))
    _check_split(plan, texts)
    assert len(plan.batches) >= 2  # the three long passages do not pad the short texts
    widths = [b.features["input_ids"].shape[1] for b in plan.batches]
    long = next(b for b in plan.batches if 3 in b.rows.tolist())
    assert 5 in long.rows.tolist() and max(widths) > 3 * min(widths)
    if chunk:  # GradCache: at most chunk x the longest text per pass
        assert all(b.features["attention_mask"].numel() <= chunk * max(widths) for b in plan.batches)


def test_each_distinct_text_is_tokenised_once(module):
    featurizer = Featurizer(module, Prompts("q: ", "p: "))
    featurizer.features(TEXTS, "query")
    featurizer.features(TEXTS[::-1], "query")
    assert featurizer.tokenized_texts == len(set(TEXTS))
    featurizer.features(TEXTS, "passage")  # another prompt: another cache
    assert featurizer.tokenized_texts == 2 * len(set(TEXTS))


def test_mask_groups_join_shared_groups_and_shared_positives():
    groups = np.array([10, 11, 12, 10, 13, 14])
    positives = ["p0", "p1", "p2", "p3", "p1", "p5"]
    ids = mask_groups(groups, positives, 6)
    assert ids.tolist() == [0, 1, 2, 0, 1, 5]
    assert mask_groups(groups, None, 6).tolist() == [0, 1, 2, 0, 4, 5]
    assert mask_groups(None, positives, 6).tolist() == [0, 1, 2, 3, 1, 5]
    assert mask_groups(None, None, 3).tolist() == [0, 1, 2]
    # transitive: 0~3 by group, 3~4 by positive text -> one component
    chained = mask_groups(np.array([1, 2, 3, 1, 4]), ["a", "b", "c", "d", "d"], 5)
    assert chained.tolist() == [0, 1, 2, 0, 0]


def test_choose_negatives_is_deterministic_and_bounded():
    negatives = tuple(f"n{i}" for i in range(10))
    first = choose_negatives(negatives, 3, seed=0, step=5, example=7)
    assert len(first) == 3 and len(set(first)) == 3 and set(first) <= set(negatives)
    assert choose_negatives(negatives, 3, seed=0, step=5, example=7) == first
    assert any(choose_negatives(negatives, 3, seed=0, step=s, example=7) != first for s in range(6, 12))
    assert choose_negatives(negatives[:2], 3, 0, 0, 0) == negatives[:2]
    assert choose_negatives(negatives, 0, 0, 0, 0) == ()


def _batch(query_index, passage_index, group, **kw):
    n = len(query_index)
    return Batch(kind="cross", epoch=0, position=0, step=0, dataset=0, language=-1, alpha=0.0,
                 query_index=np.array(query_index), passage_index=np.array(passage_index), group=np.array(group),
                 query_lang=np.zeros(n, np.int64), passage_lang=np.ones(n, np.int64), fallback=np.zeros(n, bool),
                 **kw)


def test_batch_texts_take_this_ranks_texts_and_global_masks():
    pairs = [Pair("g0", "de", "q0", "shared", ("n0a", "n0b")), Pair("g0", "en", "q1", "p1"),
             Pair("g1", "de", "q2", "shared"), Pair("g2", "en", "q3", "p3", ("n3",))]
    batch = _batch([0, 2, 3, 1], [1, 0, 3, 2], [0, 1, 2, 3])
    local = batch.slice(1, 2)
    texts = batch_texts(pairs, batch, local, hard_negatives=1, seed=0)
    assert texts.queries == ["q3", "q1"] and texts.passages == ["p3", "shared"]
    assert texts.negatives == ["n3"]  # the passage-language pair's negatives; pair 2 has none
    # items 1 and 3 share the positive text "shared" (pairs 0 and 2)
    assert texts.mask_groups.tolist() == [0, 1, 2, 1]
    unmasked = batch_texts(pairs, batch, local, mask_same_positive=False)
    assert unmasked.mask_groups.tolist() == [0, 1, 2, 3] and unmasked.negatives == []


def test_warm_tokenises_everything_before_use(module):
    featurizer = Featurizer(module, Prompts("q: ", "p: "))
    texts = [f"word{i} ke la" for i in range(150)]
    assert featurizer.warm(texts + texts[:10], "query") == 150
    assert featurizer.tokenized_texts == 150 and featurizer._direct == {"query": True}
    featurizer.features(texts[::7], "query")
    assert featurizer.tokenized_texts == 150  # nothing new to tokenise
    assert featurizer.warm(texts, "query") == 0
