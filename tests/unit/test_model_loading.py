import json

import numpy as np
import pytest

from polyir.errors import ConfigError, InputError
from polyir.model_loading import (PROMPT_PRESETS, LoadedModel, Prompts, load_model, model_prompts, resolve_device,
                          resolve_prompts)


@pytest.fixture(scope="module")
def tiny(tiny_model_dir) -> LoadedModel:
    return load_model(tiny_model_dir, device="cpu")


def _with_prompts(tiny, prompts, default_prompt_name=None):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(modules=list(tiny.module), device="cpu", prompts=prompts,
                               default_prompt_name=default_prompt_name)


def test_prompts_default_to_the_models_own(tiny):
    assert tiny.prompts == Prompts(query="query: ", passage="passage: ")  # saved as query/document
    assert resolve_prompts(None, tiny.module) == tiny.prompts
    assert resolve_prompts("model", tiny.module) == tiny.prompts


def test_older_passage_key_and_default_prompt_name(tiny):
    assert model_prompts(_with_prompts(tiny, {"query": "q: ", "passage": "p: "})) == Prompts("q: ", "p: ")
    assert model_prompts(_with_prompts(tiny, {"corpus": "c: "})) == Prompts("", "c: ")
    both = _with_prompts(tiny, {"sts": "Represent: "}, default_prompt_name="sts")
    assert model_prompts(both) == Prompts("Represent: ", "Represent: ")
    assert model_prompts(_with_prompts(tiny, {})) == Prompts("", "")


def test_prompt_overrides_and_none(tiny):
    assert resolve_prompts("paper", tiny.module) == Prompts("Query: ", "Passage: ")
    assert resolve_prompts("none", tiny.module) == Prompts("", "")
    assert resolve_prompts({"query": "Q: "}, tiny.module) == Prompts("Q: ", "")
    explicit = Prompts("a ", "b ")
    assert resolve_prompts(explicit, tiny.module) is explicit
    assert Prompts("a ", "b ").for_kind("passage") == "b "
    with pytest.raises(ConfigError, match="unknown prompts 'Paper'"):
        resolve_prompts("Paper", tiny.module)
    with pytest.raises(ConfigError, match="unknown keys"):
        resolve_prompts({"document": "d: "}, tiny.module)
    with pytest.raises(ConfigError):
        explicit.for_kind("document")
    assert set(PROMPT_PRESETS) == {"none", "e5", "paper"}


def test_missing_model_is_one_line_input_error(tmp_path):
    missing = tmp_path / "no" / "model"
    with pytest.raises(InputError) as err:
        load_model(missing)
    assert str(err.value) == f"{missing}: model directory not found"
    assert "\n" not in str(err.value)
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(InputError, match="it is a file"):
        load_model(tmp_path / "file.bin")
    with pytest.raises(InputError, match="no modules.json or config.json"):
        load_model(tmp_path)


def test_unknown_hub_name_offline_is_input_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError) as err:
        load_model("polyir-test-org/no-such-model-xyz", device="cpu")
    assert str(err.value).startswith("polyir-test-org/no-such-model-xyz: cannot load model:")
    assert "\n" not in str(err.value)


def test_max_seq_length_override_changes_fingerprint(tiny_model_dir, tiny):
    short = load_model(tiny_model_dir, device="cpu", max_seq_length=16)
    assert short.max_seq_length == 16 and tiny.max_seq_length == 128
    assert short.fingerprint != tiny.fingerprint
    assert short.content_digest == tiny.content_digest
    with pytest.raises(ConfigError):
        load_model(tiny_model_dir, device="cpu", max_seq_length=0)


def test_dtype_choices(tiny_model_dir, tiny):
    import torch

    with pytest.raises(ConfigError, match="float16 needs a GPU"):
        load_model(tiny_model_dir, device="cpu", dtype="float16")
    with pytest.raises(ConfigError, match="dtype must be one of"):
        load_model(tiny_model_dir, device="cpu", dtype="int8")
    half = load_model(tiny_model_dir, device="cpu", dtype="bfloat16")
    assert half.dtype == "bfloat16" and tiny.dtype == "float32"
    assert all(p.dtype == torch.bfloat16 for p in half.module.parameters())
    assert half.fingerprint != tiny.fingerprint
    from polyir.encode import encode

    out = encode(half, ["abc def", "ghi"], progress=False)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, encode(tiny, ["abc def", "ghi"], progress=False), atol=0.05)


def test_device_auto(monkeypatch):
    import torch

    assert resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"


def test_plain_hugging_face_checkpoint_gets_mean_pooling(tmp_path, tiny, capfd):
    plain = tmp_path / "plain"
    tiny.module[0].auto_model.save_pretrained(plain)
    tiny.module.tokenizer.save_pretrained(plain)
    capfd.readouterr()
    model = load_model(plain, device="cpu")
    captured = capfd.readouterr()
    assert "Loading weights" not in captured.err  # transformers' progress bar is silenced
    assert [type(m).__name__ for m in model.module] == ["Transformer", "Pooling"]
    assert model.module[1].get_config_dict()["pooling_mode"] == "mean"
    assert model.prompts == Prompts("", "")
    assert not (plain / "modules.json").exists()
    assert json.loads((plain / "config.json").read_text())["model_type"] == "bert"
    raw = model.module.encode(["abc def"], convert_to_numpy=True)
    assert not np.isclose(np.linalg.norm(raw), 1.0)  # no Normalize module
