import numpy as np
import pytest

from polyir.embcache import EmbeddingCache, default_cache_dir, text_key
from polyir.errors import ConfigError

FP = "ab" * 32


def test_store_and_lookup_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    keys = [text_key("query: ", f"text {i}") for i in range(2000)]  # more than one lookup chunk
    vectors = rng.standard_normal((2000, 8)).astype(np.float32)
    with EmbeddingCache(tmp_path) as cache:
        cache.store(FP, keys[:1500], vectors[:1500], source="tiny")
        found = cache.lookup(FP, keys)
        assert cache.count(FP) == 1500
    assert set(found) == set(keys[:1500])
    assert all(np.array_equal(found[k], v) for k, v in zip(keys, vectors[:1500]))
    with EmbeddingCache(tmp_path) as reopened:  # persisted
        assert np.array_equal(reopened.lookup(FP, [keys[7]])[keys[7]], vectors[7])
        assert reopened.lookup("cd" * 32, keys) == {}  # other model: nothing
    assert not (tmp_path / "embeddings" / f"{'cd' * 32}.sqlite").exists()


def test_two_processes_worth_of_connections_share_the_file(tmp_path):
    writer, reader = EmbeddingCache(tmp_path), EmbeddingCache(tmp_path)
    key = text_key("", "x")
    writer.store(FP, [key], np.ones((1, 4), np.float32))
    assert reader.lookup(FP, [key])[key].tolist() == [1, 1, 1, 1]
    writer.store(FP, [key], np.zeros((1, 4), np.float32))  # replace
    assert reader.lookup(FP, [key])[key].tolist() == [0, 0, 0, 0]
    writer.close(), reader.close()


def test_keys_separate_prompt_text_and_route():
    assert text_key("query: ", "x") != text_key("query:", " x")
    assert text_key("", "x") != text_key("", "x", route="query")
    assert text_key("p", "x") == text_key("p", "x") and len(text_key("p", "x")) == 16


def test_default_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("POLYIR_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert EmbeddingCache().directory == tmp_path / "c"
    monkeypatch.delenv("POLYIR_CACHE_DIR")
    assert default_cache_dir().parts[-2:] == (".cache", "polyir")


def test_unusable_directory_is_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="cannot open embedding cache"):
        EmbeddingCache(blocker).store(FP, [b"k" * 16], np.zeros((1, 2), np.float32))
    with pytest.raises(ValueError):
        EmbeddingCache(tmp_path).store(FP, [b"k" * 16], np.zeros((2, 2), np.float32))
