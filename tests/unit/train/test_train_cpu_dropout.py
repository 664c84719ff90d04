"""The counter-based CPU dropout: its statistics, its gradient, its determinism, and the
installed attention agreeing with transformers' own (CPU tensors; the GPU keeps torch's)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from polyir.model_loading import load_model
from polyir.train.cpu_dropout import ATTENTION_NAME, CPUDropout, fast_dropout, install, keep_mask


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_rate_is_one_minus_p(p):
    n = 2_000_000
    kept = keep_mask(torch.Size([n]), p, seed=123).float().mean().item()
    assert abs(kept - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)  # 5 standard errors


def test_masks_are_a_function_of_the_seed_and_look_independent():
    a, b = keep_mask(torch.Size([4, 50_000]), 0.5, 7), keep_mask(torch.Size([4, 50_000]), 0.5, 8)
    assert torch.equal(a, keep_mask(torch.Size([4, 50_000]), 0.5, 7))
    assert not torch.equal(a, b)
    # neighbouring elements and neighbouring seeds are uncorrelated (|r| within 5 s.e. of 0)
    x = a.reshape(-1).float()
    for y in (x.roll(1), b.reshape(-1).float()):
        r = np.corrcoef(x.numpy(), y.numpy())[0, 1]
        assert abs(r) < 5 / np.sqrt(x.numel())


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_forward_and_gradient_are_the_masked_scaled_identity(dtype):
    # no zeros in x (some CPUs' bf16 randn gives exact zeros): out != 0 is then exactly the mask
    gen = torch.Generator().manual_seed(5)
    magnitude = torch.rand(64, 33, generator=gen) + 0.5
    sign = torch.where(torch.rand(64, 33, generator=gen) < 0.5, -1.0, 1.0)
    x = (sign * magnitude).to(dtype).requires_grad_()
    torch.manual_seed(3)
    out = fast_dropout(x, 0.25)
    kept = out != 0
    assert out.dtype == dtype
    torch.testing.assert_close(out[kept], (x[kept].float() / 0.75).to(dtype))
    out.backward(torch.ones_like(out))
    torch.testing.assert_close(x.grad, (kept.to(dtype) / 0.75).to(dtype))


def test_the_default_generator_decides_the_mask():
    x = torch.ones(1000)
    torch.manual_seed(0)
    first = fast_dropout(x, 0.3)
    second = fast_dropout(x, 0.3)
    torch.manual_seed(0)
    assert torch.equal(fast_dropout(x, 0.3), first) and not torch.equal(first, second)


def test_evaluation_mode_and_p_zero_are_the_identity():
    layer = CPUDropout(0.4).eval()
    x = torch.randn(10, 10)
    assert torch.equal(layer(x), x) and torch.equal(fast_dropout(x, 0.0), x)


def test_installed_model_matches_transformers_without_dropout_and_saves_clean(train_model_dir, tmp_path):
    """With dropout probabilities at 0 the installed attention must give exactly what
    transformers' SDPA gives (padding masked the same way), in training mode; the saved
    model must not name polyir's attention function."""
    features = None
    embeddings = {}
    for installed in (False, True):
        module = load_model(train_model_dir, device="cpu").module
        for sub in module.modules():
            if isinstance(sub, torch.nn.Dropout):
                sub.p = 0.0
        if installed:
            assert install(module) > 0
            config = module[0].auto_model.config
            assert config._attn_implementation == ATTENTION_NAME
        features = features or module.tokenize(["a b c d e f g h", "a b"])  # padded: the mask matters
        module.train()
        embeddings[installed] = module(dict(features))["sentence_embedding"]
    torch.testing.assert_close(embeddings[True], embeddings[False], rtol=1e-5, atol=1e-6)
    module.save(str(tmp_path / "saved"))
    assert ATTENTION_NAME not in (tmp_path / "saved" / "config.json").read_text()
    reloaded = load_model(tmp_path / "saved", device="cpu").module.eval()
    assert not any(isinstance(m, CPUDropout) for m in reloaded.modules())
    module.eval()
    with torch.no_grad():
        torch.testing.assert_close(reloaded(dict(features))["sentence_embedding"],
                                   module(dict(features))["sentence_embedding"])


def test_installed_attention_applies_dropout_in_training(train_model_dir):
    module = load_model(train_model_dir, device="cpu").module
    install(module)
    features = module.tokenize(["a b c d e f g h", "a b"])
    module.train()
    torch.manual_seed(0)
    a = module(dict(features))["sentence_embedding"]
    b = module(dict(features))["sentence_embedding"]
    torch.manual_seed(0)
    assert torch.equal(module(dict(features))["sentence_embedding"], a) and not torch.equal(a, b)
    module.eval()
    with torch.no_grad():
        assert torch.equal(module(dict(features))["sentence_embedding"], module(dict(features))["sentence_embedding"])
