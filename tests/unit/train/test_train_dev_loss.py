"""The dev-set loss encodes a batch ``optim.gradcache_chunk`` texts at a time, as training does,
and chunking does not change it (CPU, float32: chunks only change the padding of each forward
pass, which the attention mask and mean pooling ignore up to rounding)."""
from __future__ import annotations

import pytest
import torch

from polyir.featurize import Featurizer
from polyir.losses import InfoNCE
from polyir.model_loading import Prompts, load_model
from polyir.train.dev_evaluation import dev_loss
from polyir.train.train_config import DataSource
from polyir.train.train_data import read_source


@pytest.fixture(scope="module")
def setup(train_model_dir, synthetic_dir):
    module = load_model(train_model_dir, device="cpu").module
    pairs = read_source(DataSource(path=str(synthetic_dir / "train"), name="syn"))[:37]
    return module, pairs


@pytest.mark.parametrize("chunk", [1, 5, 12])
def test_chunked_dev_loss_equals_the_whole_batch_loss(setup, chunk):
    module, pairs = setup
    featurizer = Featurizer(module, Prompts("query: ", "passage: "))
    loss = InfoNCE(mask_same_group=True)
    whole = dev_loss(module, pairs, featurizer=featurizer, loss=loss, batch_size=12, device="cpu")
    forwards = []
    hook = module.register_forward_hook(lambda _m, args, _out: forwards.append(len(args[0]["input_ids"])))
    try:
        chunked = dev_loss(module, pairs, featurizer=featurizer, loss=loss, batch_size=12, device="cpu", chunk=chunk)
    finally:
        hook.remove()
    assert max(forwards) == min(chunk, 12)  # no forward pass saw more than one chunk
    assert chunked == pytest.approx(whole, rel=1e-6, abs=1e-7)
    assert whole > 0 and torch.isfinite(torch.tensor(whole))
