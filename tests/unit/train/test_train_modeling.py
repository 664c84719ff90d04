"""The model being trained: CPU-study options, unused parameters, atomic sentence-transformers export."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from polyir.encode import encode
from polyir.errors import ConfigError
from polyir.train.train_config import ModelConfig
from polyir.train.modeling import count_parameters, freeze_unused_parameters, hf_model, load_training_model, save_model

TEXTS = ["Na Nete zasagaz bozosi?", "Godonu zototo Nete bozosi Nizafo.", "ke la mu"]


def test_freeze_embeddings_and_truncate_layers(train_model_dir):
    full = load_training_model(ModelConfig(str(train_model_dir)), device="cpu").module
    small = load_training_model(ModelConfig(str(train_model_dir), freeze_embeddings=True, truncate_layers=1),
                                device="cpu").module
    word = hf_model(small).get_input_embeddings().weight
    assert not word.requires_grad
    counts, full_counts = count_parameters(small), count_parameters(full)
    assert counts["trainable_parameters"] == counts["parameters"] - word.numel()
    assert counts["parameters"] < full_counts["parameters"]
    assert len(hf_model(small).encoder.layer) == 1 and hf_model(small).config.num_hidden_layers == 1
    with pytest.raises(ConfigError, match="only 2 layers"):
        load_training_model(ModelConfig(str(train_model_dir), truncate_layers=3), device="cpu")


def test_dropout_override(train_model_dir):
    module = load_training_model(ModelConfig(str(train_model_dir), dropout=0.0), device="cpu").module
    probabilities = {m.p for m in module.modules() if isinstance(m, torch.nn.Dropout)}
    assert probabilities == {0.0}


def test_unused_parameters_are_frozen(train_model_dir):
    module = load_training_model(ModelConfig(str(train_model_dir)), device="cpu").module
    features = module.preprocess(TEXTS, prompt="query: ", task="query")
    frozen = freeze_unused_parameters(module, features, "query")
    assert frozen and all("pooler" in name for name in frozen)  # BERT's pooler: unused by mean pooling
    assert all(p.grad is None for p in module.parameters())
    module(dict(features), task="query")["sentence_embedding"].sum().backward()
    assert all(p.grad is not None for p in module.parameters() if p.requires_grad)


def test_saved_model_loads_in_sentence_transformers_with_the_same_embeddings(train_model_dir, tmp_path):
    from sentence_transformers import SentenceTransformer

    loaded = load_training_model(ModelConfig(str(train_model_dir), truncate_layers=1), device="cpu")
    module = loaded.module
    with torch.no_grad():  # move the weights away from the files they were loaded from
        for p in module.parameters():
            p.add_(0.01 * torch.randn_like(p))
    out = save_model(module, tmp_path / "model")
    assert not any(p.name.startswith(".tmp") for p in tmp_path.iterdir())
    expected = {kind: encode(module, TEXTS, kind=kind, cache=None, progress=False) for kind in ("query", "passage")}
    reloaded = SentenceTransformer(str(out), device="cpu")
    assert reloaded[0].model.config.num_hidden_layers == 1
    got_query = reloaded.encode_query(TEXTS, convert_to_numpy=True)
    got_passage = reloaded.encode_document(TEXTS, convert_to_numpy=True)
    np.testing.assert_allclose(got_query, expected["query"], atol=1e-5)
    np.testing.assert_allclose(got_passage, expected["passage"], atol=1e-5)
    # saving again replaces the directory as a whole
    save_model(module, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
