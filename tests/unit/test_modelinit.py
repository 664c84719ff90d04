import json

import numpy as np
import pytest

from polyir.errors import InputError
from polyir.modelinit import init_model, iter_corpus_lines


def test_tiny_model_loads_in_sentence_transformers(tiny_model_dir):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    assert model.prompts == {"query": "query: ", "document": "passage: "}
    emb = model.encode(["abc def", "ghi"], convert_to_numpy=True)
    assert emb.shape == (2, 64)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    meta = json.loads((tiny_model_dir / "polyir_init.json").read_text())
    assert meta["preset"] == "tiny" and meta["parameters"] > 0


def test_init_is_deterministic(tmp_path, word_corpus):
    from safetensors.numpy import load_file

    a = init_model("tiny", [word_corpus], tmp_path / "a", seed=3)
    b = init_model("tiny", [word_corpus], tmp_path / "b", seed=3)
    wa, wb = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    assert wa.keys() == wb.keys()
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    assert (a / "tokenizer.json").read_text() == (b / "tokenizer.json").read_text()


def test_corpus_reads_json_strings_and_dirs(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.json").write_text(json.dumps({"data": [{"context": "hello there", "n": "12"}]}))
    (tmp_path / "d" / "b.txt").write_text("line one\n\nline two\n")
    assert sorted(iter_corpus_lines([tmp_path / "d"])) == ["hello there", "line one", "line two"]


def test_missing_corpus_and_unknown_preset(tmp_path, word_corpus):
    with pytest.raises(InputError, match="not found"):
        list(iter_corpus_lines([tmp_path / "nope"]))
    with pytest.raises(InputError, match="unknown preset"):
        init_model("huge", [word_corpus], tmp_path / "m")


def test_tokenizer_is_a_function_of_the_corpus(synthetic_dir):
    """Multi-script corpora make the Unigram trainer append fallback characters in hash order."""
    from polyir.modelinit import iter_corpus_lines, train_tokenizer

    lines = list(iter_corpus_lines([synthetic_dir / "train"]))

    def vocabulary():
        return json.loads(train_tokenizer(lines, 2000, 126).backend_tokenizer.to_str())["model"]["vocab"]

    first = vocabulary()
    assert all(vocabulary() == first for _ in range(3))
