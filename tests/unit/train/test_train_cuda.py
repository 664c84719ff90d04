"""The GPU paths of training: bf16 autocast, CUDA RNG state in checkpoints, GradCache on CUDA,
and resume.  Marked ``cuda``: they run where torch sees a GPU and are skipped elsewhere (the
CPU tests pin ``device: cpu``, fp32).

Tolerances come from the precision, as written next to each.  bf16 keeps 8 significant bits:
unit roundoff ``u = 2^-8`` (0.39%); fp32 on CUDA (TF32 off, torch's default) ``2^-24``.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from trainfixtures import base_config, max_weight_difference, read_log, weights

from polyir.train import build_config, train
from polyir.train.checkpoint import restore_rng_states, rng_states
from polyir.train.collate import SubBatch
from polyir.train.train_config import ModelConfig
from polyir.train.modeling import load_training_model
from polyir.train.setup import encoder

pytestmark = pytest.mark.cuda

BF16_UNIT = 2.0**-8
TEXTS = ["qaa wug blick", "a longer text with several words in it", "zorp", "blick wug wug qaa zorp"]


def cuda_run(tmp_path, name, model_dir, data_dir, *, callback=None, resume=False, **sections):
    runtime = {"threads": 1, "device": "cuda", "precision": "bf16", **sections.pop("runtime", {})}
    config = build_config(base_config(model_dir, data_dir, tmp_path / name, runtime=runtime, **sections))
    return train(config, progress=False, callback=callback, resume=resume)


def train_records(out):
    return [r for r in read_log(out) if r["event"] == "train"]


def test_bf16_autocast_stays_within_bf16_rounding_of_fp32(train_model_dir):
    module = load_training_model(ModelConfig(str(train_model_dir), dropout=0.0), device="cuda").module.eval()
    features = {k: v.to("cuda") if torch.is_tensor(v) else v for k, v in module.preprocess(TEXTS).items()}
    batch = SubBatch("query", features, np.arange(len(TEXTS)))
    device = torch.device("cuda")
    with torch.no_grad():
        fp32 = encoder(module, device, "fp32")(batch).float()
        bf16 = encoder(module, device, "bf16")(batch).float()
        auto = encoder(module, device, "auto")(batch).float()
    fp32, bf16, auto = (torch.nn.functional.normalize(e, dim=-1) for e in (fp32, bf16, auto))
    # each matmul rounds its two inputs to bf16 (<= 2u relative) and accumulates in fp32; the
    # tiny model has 2 layers of 4 matmuls in sequence (attention in/out, FFN up/down) and
    # layer norms that do not amplify relative errors: <= 2u x 8 = 16u on a unit vector
    difference = (fp32 - bf16).norm(dim=-1).max().item()
    assert 0 < difference <= 16 * BF16_UNIT  # 0 would mean autocast did nothing
    if torch.cuda.is_bf16_supported():
        assert torch.equal(auto, bf16)  # precision auto = bf16 on a GPU that has it


def test_cuda_rng_state_round_trips_through_a_checkpoint(tmp_path):
    torch.cuda.manual_seed(3)
    torch.rand(7, device="cuda")  # CUDA initialised and its generator moved on
    states = rng_states()
    assert "cuda" in states
    expected = torch.rand(5, device="cuda")
    torch.save(states, tmp_path / "rng.pt")
    torch.rand(11, device="cuda")
    restore_rng_states(torch.load(tmp_path / "rng.pt", weights_only=False))
    assert torch.equal(torch.rand(5, device="cuda"), expected)  # exact: generator states are integers


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_gradcache_on_cuda_equals_the_direct_step(tmp_path, train_model_dir, synthetic_dir, precision):
    common = dict(runtime={"precision": precision}, optim={"steps": 2, "eps": 1e-6})
    direct = cuda_run(tmp_path, "direct", train_model_dir, synthetic_dir / "train", **common)
    cached = cuda_run(tmp_path, "cached", train_model_dir, synthetic_dir / "train",
                      **{**common, "optim": {**common["optim"], "gradcache_chunk": 5}})
    # fp32: the two paths sum the batch in other orders; reductions of ~10^3 terms leave
    # ~sqrt(10^3) u = 2e-6 relative, and 1e-4 / 1e-3 leave a wide margin (a GradCache bug
    # changes them by O(1)).  bf16: every sub-batch's activations and gradients are rounded to
    # bf16 on their own (<= u each), so loss and gradient norm differ by a few u: 4u / 8u.
    # The replay re-runs identical kernels on identical inputs: 0, or a few roundings of a
    # unit vector if a kernel is not run-to-run deterministic (16 ulps fp32, one bf16 unit).
    loss_tol, grad_tol, replay_tol = (1e-4, 1e-3, 2.0**-20) if precision == "fp32" else \
        (4 * BF16_UNIT, 8 * BF16_UNIT, BF16_UNIT)
    for a, b in zip(train_records(direct.out), train_records(cached.out)):
        assert b["loss"] == pytest.approx(a["loss"], rel=loss_tol)
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=grad_tol)
        assert b["replay_error"] <= replay_tol


def test_stopped_and_resumed_run_is_bitwise_the_uninterrupted_one_in_deterministic_mode(
        tmp_path, train_model_dir, synthetic_dir):
    # the guarantee of docs/training.md ("Reproducibility on a GPU"): same GPU, same software,
    # runtime.deterministic: weights equal bit for bit, bf16 and dropout included
    sections = dict(runtime={"deterministic": True, "bucket_overhead": 8},
                    model={"name_or_path": str(train_model_dir), "dropout": 0.1},
                    optim={"steps": 6}, checkpoint={"every": 2, "keep_last": 2})
    before = torch.are_deterministic_algorithms_enabled()
    try:
        reference = cuda_run(tmp_path, "ref", train_model_dir, synthetic_dir / "train", **sections)
        stopped = cuda_run(tmp_path, "run", train_model_dir, synthetic_dir / "train",
                           callback=lambda info: info.step >= 3, **sections)
        assert stopped.steps == 3
        resumed = cuda_run(tmp_path, "run", train_model_dir, synthetic_dir / "train", resume=True, **sections)
    finally:
        torch.use_deterministic_algorithms(before)
    assert resumed.resumed_from == 2 and resumed.steps == 6
    assert max_weight_difference(weights(resumed.final_model), weights(reference.final_model)) == 0.0
    assert [r["loss"] for r in train_records(resumed.out)][-4:] == [r["loss"] for r in train_records(reference.out)][-4:]
