"""Length buckets: the planner is optimal under its cost model, and bucketed forward passes give
the unbucketed step's embeddings, loss and gradients (dropout off)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from trainfixtures import base_config, max_weight_difference, read_log, weights

from polyir.errors import ConfigError
from polyir.gradcache import cached_step, direct_step
from polyir.losses import InfoNCE
from polyir.model_loading import Prompts
from polyir.train import build_config, train
from polyir.train.buckets import default_overhead, padded_tokens, plan_buckets
from polyir.train.collate import BatchTexts, Bucketing, sub_batches
from polyir.train.train_config import ModelConfig
from polyir.featurize import Featurizer
from polyir.train.modeling import load_training_model


def _brute_force(lengths: np.ndarray, overhead: float) -> float:
    """The cheapest cut of the sorted lengths into consecutive buckets, trying every cut."""
    ordered = np.sort(lengths)
    best = np.inf
    for cuts in itertools.product((False, True), repeat=len(ordered) - 1):
        bounds = [0] + [i + 1 for i, c in enumerate(cuts) if c] + [len(ordered)]
        cost = sum((b - a) * ordered[b - 1] + overhead for a, b in zip(bounds, bounds[1:]))
        best = min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(40))
def test_plan_is_the_cheapest_cut(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 40, size=rng.integers(1, 9))
    overhead = float(rng.choice([0.5, 5, 20, 100]))
    buckets = plan_buckets(lengths, overhead=overhead)
    assert sorted(np.concatenate(buckets).tolist()) == list(range(len(lengths)))  # each text once
    cost = padded_tokens(lengths, buckets) + overhead * len(buckets)
    assert cost == pytest.approx(_brute_force(lengths, overhead))
    assert all(lengths[a].max() <= lengths[b].min() for a, b in zip(buckets, buckets[1:]))  # sorted
    assert [b.tolist() for b in plan_buckets(lengths, overhead=overhead)] == [b.tolist() for b in buckets]


def test_plan_extremes_and_token_budget():
    assert plan_buckets([], overhead=10) == []
    assert [b.tolist() for b in plan_buckets([7], overhead=10)] == [[0]]
    assert len(plan_buckets([5] * 50, overhead=1)) == 1  # equal lengths: nothing to gain from a cut
    lengths = np.array([10] * 20 + [200] * 3)
    assert len(plan_buckets(lengths, overhead=1e9)) == 1
    assert [len(b) for b in plan_buckets(lengths, overhead=10)] == [20, 3]
    budget = plan_buckets(lengths, overhead=10, max_tokens=400)  # GradCache: <= 400 padded tokens a pass
    assert all(len(b) * lengths[b].max() <= 400 for b in budget)
    assert sorted(np.concatenate(budget).tolist()) == list(range(len(lengths)))
    assert default_overhead(64) == 512 and default_overhead(384) == 85


TEXTS = BatchTexts(
    queries=["Na Nete?", "Godonu zototo Nete bozosi Nizafo ke la mu?", "ke?", "zasagaz bozosi Nete?"],
    passages=["zototo " * 30, "ke la mu ri", "Godonu zototo Nete bozosi.", "zototo Nete " * 12],
    negatives=["la", "zototo " * 25, "mu ri so ta Nete"], mask_groups=torch.arange(4))


@pytest.fixture(scope="module")
def model(train_model_dir):
    torch.manual_seed(0)
    module = load_training_model(ModelConfig(str(train_model_dir), dropout=0.0), device="cpu").module
    return module, Featurizer(module, Prompts("query: ", "passage: "))


def _step(module, featurizer, bucketing, chunk=None):
    plan = sub_batches(featurizer, TEXTS, chunk, "cpu", bucketing)
    seen = {}

    def loss_fn(embeddings):
        q, p, n = plan.split(embeddings)
        seen.update(q=q.detach().clone(), p=p.detach().clone(), n=n.detach().clone())
        return InfoNCE()(q, p, TEXTS.mask_groups, n)

    encode = lambda batch: module(dict(batch.features), task=batch.task)["sentence_embedding"]  # noqa: E731
    module.zero_grad(set_to_none=True)
    step = cached_step if chunk else direct_step
    result = step(encode, [plan.batches], loss_fn)
    grads = {name: p.grad.clone() for name, p in module.named_parameters() if p.grad is not None}
    return plan, seen, float(result.loss), grads


@pytest.mark.parametrize("chunk", [None, 3])
def test_bucketed_step_equals_the_unbucketed_step(model, chunk):
    module, featurizer = model
    reference_plan, reference, reference_loss, reference_grads = _step(module, featurizer, Bucketing(None))
    plan, got, loss, grads = _step(module, featurizer, Bucketing(overhead=2.0), chunk)
    assert len(plan.batches) >= 3 and plan.padded_tokens < reference_plan.padded_tokens  # it did bucket
    assert plan.tokens == reference_plan.tokens
    for kind in "qpn":
        torch.testing.assert_close(got[kind], reference[kind], atol=1e-5, rtol=1e-5)
    assert loss == pytest.approx(reference_loss, abs=1e-5)
    assert grads.keys() == reference_grads.keys() and grads
    for name, grad in grads.items():
        torch.testing.assert_close(grad, reference_grads[name], atol=1e-5, rtol=1e-4, msg=name)


def test_the_loop_with_and_without_buckets_learns_the_same_weights(tmp_path, train_model_dir, synthetic_dir):
    def run(name, **runtime):
        config = build_config(base_config(train_model_dir, synthetic_dir / "train", tmp_path / name,
                                          runtime={"threads": 1, **runtime}, optim={"steps": 3}))
        return train(config, progress=False)

    plain, bucketed = run("plain", length_buckets=False), run("bucketed", length_buckets=True, bucket_overhead=4)
    p, b = ([r for r in read_log(s.out) if r["event"] == "train"] for s in (plain, bucketed))
    assert all(r["forward_passes"] <= 2 for r in p) and all(r["forward_passes"] >= 3 for r in b)
    assert all(rb["padding"] < rp["padding"] for rp, rb in zip(p, b))
    for rp, rb in zip(p, b):
        assert rb["loss"] == pytest.approx(rp["loss"], rel=1e-5)
        assert rb["grad_norm"] == pytest.approx(rp["grad_norm"], rel=1e-4)
    assert max_weight_difference(weights(plain.final_model), weights(bucketed.final_model)) < 1e-5


def test_length_bucket_options_are_checked(tmp_path, train_model_dir, synthetic_dir):
    for bad, message in (({"length_buckets": "sometimes"}, "length_buckets"),
                         ({"bucket_overhead": 0}, "bucket_overhead")):
        with pytest.raises(ConfigError, match=message):
            build_config(base_config(train_model_dir, synthetic_dir, tmp_path, runtime=bad))


def test_kinds_that_must_not_share_a_pass_are_bucketed_apart(model):
    module, _ = model
    pooling = module[1]
    pooling.include_prompt = False  # pooling that drops prompt tokens: queries and passages differ
    try:
        featurizer = Featurizer(module, Prompts("query: ", "passage: "))
        _, reference, reference_loss, _ = _step(module, featurizer, Bucketing(None))
        plan, got, loss, _ = _step(module, featurizer, Bucketing(overhead=2.0))
    finally:
        pooling.include_prompt = True
    assert len(plan.batches) >= 3
    for batch in plan.batches:
        queries = batch.rows < len(TEXTS.queries)
        assert queries.all() or not queries.any()
        assert batch.task == ("query" if queries.all() else "document") and "prompt_length" in batch.features
    for kind in "qpn":
        torch.testing.assert_close(got[kind], reference[kind], atol=1e-5, rtol=1e-5)
    assert loss == pytest.approx(reference_loss, abs=1e-5)
