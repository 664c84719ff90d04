"""The in-place word-embedding gradient: same gradients and optimizer steps as the dense backward."""
from __future__ import annotations

import torch

from polyir.model_loading import Prompts
from polyir.train.train_config import ModelConfig, OptimConfig
from polyir.train.embedding_grad import EmbeddingGradBuffer
from polyir.featurize import Featurizer
from polyir.train.modeling import hf_model, load_training_model
from polyir.train.optim import build_optimizer

BATCHES = [(["Na Nete zasagaz?", "ke la"], ["Godonu zototo Nete bozosi.", "mu ri so"]),
           (["Nizafo ke la mu?", "zototo"], ["ke la mu ri so ta Nete", "Na bozosi"])]


def _train(model_dir, *, buffered: bool):
    """Two AdamW steps, each over two forward passes; the gradients seen before each step."""
    torch.manual_seed(0)
    module = load_training_model(ModelConfig(str(model_dir), dropout=0.0), device="cpu").module
    featurizer = Featurizer(module, Prompts("query: ", "passage: "))
    optimizer = build_optimizer(module, OptimConfig(lr=1e-2))
    buffer = EmbeddingGradBuffer.attach(module) if buffered else None
    seen = []
    for queries, passages in BATCHES:
        q = module(dict(featurizer.features(queries, "query")), task="query")["sentence_embedding"]
        p = module(dict(featurizer.features(passages, "passage")), task="document")["sentence_embedding"]
        (q @ p.T).logsumexp(1).sum().backward()
        seen.append({n: t.grad.clone() for n, t in module.named_parameters() if t.grad is not None})
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if buffer is not None:
            buffer.reset()
    return module, buffer, seen


def test_buffered_gradients_and_steps_equal_the_dense_ones(train_model_dir):
    dense, _, dense_grads = _train(train_model_dir, buffered=False)
    module, buffer, grads = _train(train_model_dir, buffered=True)
    assert buffer is not None and hf_model(module).get_input_embeddings().sparse
    for ours, theirs in zip(grads, dense_grads):
        assert ours.keys() == theirs.keys()
        for name in ours:
            assert not ours[name].is_sparse
            torch.testing.assert_close(ours[name], theirs[name], atol=1e-6, rtol=1e-5, msg=name)
    for (name, a), b in zip(module.named_parameters(), dense.parameters()):
        if "key.bias" not in name:  # its true gradient is 0 (softmax ignores it): AdamW amplifies the float noise
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5, msg=name)  # steps of lr 1e-2
    assert not buffer.grad.any() and buffer.zero_rows  # touched rows zeroed, nothing else was touched
    buffer.detach()
    embedding = hf_model(module).get_input_embeddings()
    assert not embedding.sparse and embedding.weight.grad is None


def test_a_gradient_outside_the_batch_rows_switches_to_zeroing_everything(train_model_dir):
    module = load_training_model(ModelConfig(str(train_model_dir), dropout=0.0), device="cpu").module
    featurizer = Featurizer(module, Prompts("query: ", "passage: "))
    buffer = EmbeddingGradBuffer.attach(module)
    module(dict(featurizer.features(["ke la"], "query")), task="query")["sentence_embedding"].sum().backward()
    used = set(torch.cat(buffer._ids).tolist())
    outside = next(row for row in range(buffer.grad.shape[0]) if row not in used)
    buffer.grad[outside] += 1.0  # as a second, dense use of the weight (tied weights) would do
    buffer.reset()
    assert not buffer.zero_rows and not buffer.grad.any()


def test_nothing_to_attach_to_a_frozen_embedding(train_model_dir):
    module = load_training_model(ModelConfig(str(train_model_dir), freeze_embeddings=True), device="cpu").module
    assert EmbeddingGradBuffer.attach(module) is None
