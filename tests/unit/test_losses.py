"""InfoNCE against an explicit sum-of-exponentials loop, plus its invariants."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from polyir.errors import ConfigError
from polyir.losses import InfoNCE, false_negative_mask, group_ids, info_nce


def naive_loss(q, p, groups, negatives, tau, sym_weight, mask):
    """The formula of docs/training.md, one exponential at a time (Python floats)."""
    q, p = q.tolist(), p.tolist()
    negs = negatives.tolist() if negatives is not None else []
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    n = len(q)
    keep = lambda i, j: i == j or not mask or groups is None or groups[i] != groups[j]  # noqa: E731

    def term(anchors, candidates, extra):
        total = 0.0
        for i in range(n):
            denom = sum(math.exp(dot(anchors[i], candidates[j]) / tau) for j in range(n) if keep(i, j))
            denom += sum(math.exp(dot(anchors[i], e) / tau) for e in extra)
            total += -dot(anchors[i], candidates[i]) / tau + math.log(denom)
        return total / n

    loss = term(q, p, negs)
    if sym_weight > 0:
        loss += sym_weight * term(p, q, [])
    return loss


def random_batch(seed, n=6, d=5, k=2, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    unit = lambda *s: torch.nn.functional.normalize(torch.randn(*s, generator=gen, dtype=dtype), dim=-1)  # noqa: E731
    groups = torch.randint(0, max(1, n // 2), (n,), generator=gen)
    return unit(n, d), unit(n, d), groups, unit(n * k, d) if k else None


@pytest.mark.parametrize("tau", [0.05, 0.5, 1.0])
@pytest.mark.parametrize("k", [0, 1, 3])
@pytest.mark.parametrize("sym_weight", [0.0, 0.7])
@pytest.mark.parametrize("mask", [True, False])
def test_matches_naive_loop(tau, k, sym_weight, mask):
    q, p, groups, negs = random_batch(seed=k * 100 + int(tau * 10), k=k)
    assert (groups[:, None] == groups[None, :]).sum() > len(groups), "fixture must contain shared groups"
    out = info_nce(q, p, groups, negs, temperature=tau, symmetric_weight=sym_weight, mask_same_group=mask)
    expected = naive_loss(q, p, groups.tolist(), negs, tau, sym_weight, mask)
    assert out.loss.item() == pytest.approx(expected, rel=1e-10, abs=1e-10)


def test_mask_changes_loss_only_when_groups_repeat():
    q, p, _, negs = random_batch(seed=3)
    distinct = torch.arange(6)
    repeated = torch.tensor([0, 0, 1, 2, 2, 2])
    assert info_nce(q, p, distinct, negs).loss.item() == pytest.approx(
        info_nce(q, p, distinct, negs, mask_same_group=False).loss.item(), rel=1e-12)
    assert info_nce(q, p, None, negs).loss.item() == pytest.approx(
        info_nce(q, p, distinct, negs).loss.item(), rel=1e-12)
    masked = info_nce(q, p, repeated, negs)
    unmasked = info_nce(q, p, repeated, negs, mask_same_group=False)
    assert masked.loss.item() < unmasked.loss.item()  # removing candidates can only lower the loss
    assert masked.masked_per_query.item() == pytest.approx((2 * 1 + 3 * 2) / 6)  # pairs: 2 x 1, triple: 3 x 2


def test_mask_never_removes_the_positive_and_is_symmetric():
    groups = torch.tensor([4, 4, 9, 4, 1])
    mask = false_negative_mask(groups)
    assert not mask.diagonal().any()
    assert torch.equal(mask, mask.T)
    assert mask.sum().item() == 6  # three items of group 4: 3 * 2 ordered pairs


def test_gradients_are_finite_with_masking_and_fully_masked_rows():
    q, p, _, _ = random_batch(seed=5, n=4, k=0)
    q.requires_grad_(), p.requires_grad_()
    out = info_nce(q, p, torch.zeros(4, dtype=torch.long), symmetric_weight=1.0)  # every row fully masked
    out.loss.backward()
    assert out.loss.item() == pytest.approx(0.0, abs=1e-12)  # only the positive is left
    assert torch.isfinite(q.grad).all() and torch.isfinite(p.grad).all()
    assert out.accuracy.item() == 1.0
    assert math.isnan(out.hardest_negative_similarity.item())


def test_statistics_match_definitions():
    q, p, groups, negs = random_batch(seed=11, n=8, k=1)
    out = info_nce(q, p, groups, negs, symmetric_weight=0.5)
    scores = torch.cat([(q @ p.T).masked_fill(false_negative_mask(groups), float("-inf")), q @ negs.T], 1)
    positive = scores.diagonal()
    hardest = scores.masked_fill(torch.eye(8, 16, dtype=torch.bool), float("-inf")).max(1).values
    assert out.positive_similarity.item() == pytest.approx(positive.mean().item())
    assert out.hardest_negative_similarity.item() == pytest.approx(hardest.mean().item())
    assert out.accuracy.item() == pytest.approx((positive > hardest).double().mean().item())
    floats = out.as_floats()
    assert floats["loss"] == pytest.approx(floats["query_loss"] + 0.5 * floats["passage_loss"], rel=1e-6)
    assert not out.query_loss.requires_grad


def test_half_precision_inputs_are_scored_in_float32():
    q, p, groups, negs = random_batch(seed=2, dtype=torch.float32)
    out = info_nce(q.bfloat16(), p.bfloat16(), groups, negs.bfloat16())
    assert out.loss.dtype == torch.float32
    ref = info_nce(q.bfloat16().float(), p.bfloat16().float(), groups, negs.bfloat16().float())
    assert out.loss.item() == pytest.approx(ref.loss.item(), rel=1e-6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = info_nce(q, p, groups, negs)
    assert inside.loss.dtype == torch.float32
    assert inside.loss.item() == pytest.approx(info_nce(q, p, groups, negs).loss.item(), rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 7), k=st.integers(0, 2))
def test_invariant_to_batch_order(seed, n, k):
    q, p, groups, negs = random_batch(seed, n=n, k=k)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    a = info_nce(q, p, groups, negs, symmetric_weight=0.3)
    b = info_nce(q[perm], p[perm], groups[perm], negs, symmetric_weight=0.3)
    assert a.loss.item() == pytest.approx(b.loss.item(), rel=1e-9, abs=1e-12)
    assert a.accuracy.item() == pytest.approx(b.accuracy.item())


def test_config_object_and_validation():
    q, p, groups, negs = random_batch(seed=1)
    cfg = InfoNCE(temperature=0.1, symmetric_weight=0.2, mask_same_group=False)
    assert cfg(q, p, groups, negs).loss.item() == pytest.approx(
        info_nce(q, p, groups, negs, temperature=0.1, symmetric_weight=0.2, mask_same_group=False).loss.item())
    for bad in ({"temperature": 0.0}, {"temperature": float("nan")}, {"symmetric_weight": -1.0}):
        with pytest.raises(ConfigError):
            InfoNCE(**bad)
    with pytest.raises(ValueError, match="groups"):
        info_nce(q, p, groups.double())
    with pytest.raises(ValueError, match="negatives"):
        info_nce(q, p, groups, negs[:, :3])
    with pytest.raises(ValueError, match="queries and passages"):
        info_nce(q, p[:3])


def test_group_ids_are_stable_and_distinct():
    ids = group_ids(["squad/1", "squad/2", "squad/1"])
    assert ids.dtype == torch.long
    assert ids[0] == ids[2] and ids[0] != ids[1]
    assert torch.equal(ids, group_ids(["squad/1", "squad/2", "squad/1"]))
    # fixed value: ranks in different processes must agree (no per-process hash seed)
    assert group_ids(["a"]).item() == int.from_bytes(__import__("hashlib").blake2b(b"a", digest_size=8).digest(),
                                                     "little", signed=True)
