import json
import shutil

import pytest

from polyir.fingerprint import directory_digest, model_files, module_digest
from polyir.model_loading import load_model, model_fingerprint


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return load_model(tiny_model_dir, device="cpu")


def test_copied_or_moved_directory_keeps_fingerprint(tmp_path, tiny_model_dir, tiny):
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(tiny_model_dir, copy)
    assert load_model(copy, device="cpu").fingerprint == tiny.fingerprint
    moved = tmp_path / "moved"
    copy.rename(moved)
    assert directory_digest(moved) == tiny.content_digest


def test_changed_weight_saved_gives_new_fingerprint(tmp_path, tiny_model_dir, tiny):
    import torch

    model = load_model(tiny_model_dir, device="cpu")
    with torch.no_grad():
        next(model.module.parameters())[0, 0] += 1e-3
    model.module.save(str(tmp_path / "changed"))
    assert load_model(tmp_path / "changed", device="cpu").fingerprint != tiny.fingerprint


def test_files_that_cannot_change_embeddings_are_ignored(tmp_path, tiny_model_dir, tiny):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)
    (copy / "README.md").write_text("a different model card\n")
    (copy / "optimizer.pt").write_bytes(b"training state")
    (copy / ".hidden").write_text("x")
    assert directory_digest(copy) == tiny.content_digest
    names = {p.relative_to(copy).as_posix() for p in model_files(copy)}
    assert {"model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"} <= names


def test_module_and_tokenizer_configs_are_part_of_the_digest(tmp_path, tiny_model_dir, tiny):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)
    pooling = copy / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config["pooling_mode"] = "cls"
    pooling.write_text(json.dumps(config))
    assert directory_digest(copy) != tiny.content_digest
    shutil.copy(tiny_model_dir / "1_Pooling" / "config.json", pooling)
    assert directory_digest(copy) == tiny.content_digest
    tokenizer = copy / "tokenizer.json"
    tokenizer.write_text(tokenizer.read_text().replace('"<unk>"', '"<UNK>"'))
    assert directory_digest(copy) != tiny.content_digest


def test_in_memory_weights_change_is_detected(tiny_model_dir):
    import torch

    model = load_model(tiny_model_dir, device="cpu")
    before = model.fingerprint
    assert module_digest(model.module) == module_digest(load_model(tiny_model_dir, device="cpu").module)
    with torch.no_grad():
        next(model.module.parameters()).mul_(1.0)  # in place, same values: still a "write"
    assert model.fingerprint != before  # cannot trust the files any more: falls back to the tensors
    assert model.fingerprint == model_fingerprint(model.module)
    in_memory = model_fingerprint(model.module)
    with torch.no_grad():
        next(model.module.parameters())[0, 0] += 1.0
    assert model_fingerprint(model.module) != in_memory
