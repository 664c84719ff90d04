"""AdamW parameter groups, the fused update, and the learning-rate schedule."""
from __future__ import annotations

import pytest
import torch

from polyir.train.train_config import OptimConfig
from polyir.train.optim import build_optimizer, build_scheduler, lr_factor, parameter_groups, warmup_steps


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(50, 8)
        self.dense = torch.nn.Linear(8, 8)
        self.LayerNorm = torch.nn.LayerNorm(8)
        self.frozen = torch.nn.Linear(8, 8)
        self.frozen.requires_grad_(False)

    def forward(self, ids):
        return self.LayerNorm(self.dense(self.embed(ids))).sum()


def test_no_weight_decay_on_biases_and_layer_norm_and_frozen_left_out():
    model = Block()
    decay, plain = parameter_groups(model, 0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    assert sorted(names[id(p)] for p in decay["params"]) == ["dense.weight", "embed.weight"]
    assert sorted(names[id(p)] for p in plain["params"]) == ["LayerNorm.bias", "LayerNorm.weight", "dense.bias"]
    assert (decay["weight_decay"], plain["weight_decay"]) == (0.01, 0.0)


def test_fused_adamw_takes_the_same_steps_as_the_reference_loop():
    torch.manual_seed(0)
    a, b = Block(), Block()
    b.load_state_dict(a.state_dict())
    config = OptimConfig(lr=1e-2, weight_decay=0.1)
    fast = build_optimizer(a, config)
    reference = torch.optim.AdamW(parameter_groups(b, 0.1), lr=1e-2, foreach=False)
    ids = torch.randint(0, 50, (4, 6))
    for _ in range(5):
        for model, opt in ((a, fast), (b, reference)):
            opt.zero_grad()
            model(ids).backward()
            opt.step()
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-6, rtol=0), name
    assert not torch.equal(a.dense.weight, Block().dense.weight)


@pytest.mark.parametrize("schedule,hf_name", [("linear", "get_linear_schedule_with_warmup"),
                                              ("cosine", "get_cosine_schedule_with_warmup"),
                                              ("constant", "get_constant_schedule_with_warmup")])
def test_schedule_matches_transformers(schedule, hf_name):
    import transformers

    total, config = 50, OptimConfig(lr=1.0, schedule=schedule, warmup_ratio=0.2)
    ours = build_scheduler(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0), config, total)
    theirs_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    kwargs = {} if schedule == "constant" else {"num_training_steps": total}
    theirs = getattr(transformers, hf_name)(theirs_opt, num_warmup_steps=10, **kwargs)
    for _ in range(total):
        assert ours.get_last_lr()[0] == pytest.approx(theirs.get_last_lr()[0], abs=1e-12)
        ours.optimizer.step(), ours.step(), theirs_opt.step(), theirs.step()


def test_warmup_steps():
    assert warmup_steps(OptimConfig(warmup_ratio=0.1), 95) == 10
    assert warmup_steps(OptimConfig(warmup_steps=7), 95) == 7
    assert warmup_steps(OptimConfig(warmup_steps=700), 95) == 95
    assert lr_factor(0, warmup=0, total=10, schedule="linear") == 1.0
    assert lr_factor(9, warmup=0, total=10, schedule="linear") == pytest.approx(0.1)
