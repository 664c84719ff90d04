"""The SQLite translation cache."""
import sqlite3

import pytest

from polyir.errors import InputError
from polyir.translate.cache import TranslationCache, default_cache_path


def test_store_lookup_and_reopen(tmp_path):
    path = tmp_path / "c.sqlite"
    with TranslationCache(path) as cache:
        assert cache.lookup("fp1", "en", "de", ["a", "b"]) == {}
        cache.store("fp1", "en", "de", {"a": "A-de", "b": "B-de"}, name="model-1")
        cache.store("fp1", "en", "fr", {"a": "A-fr"}, name="model-1")
        cache.store("fp2", "en", "de", {"a": "A-other"}, name="model-2")
    with TranslationCache(path) as cache:  # committed: a new connection sees everything
        assert cache.lookup("fp1", "en", "de", ["a", "b", "c"]) == {"a": "A-de", "b": "B-de"}
        assert cache.lookup("fp1", "en", "fr", ["a", "b"]) == {"a": "A-fr"}
        assert cache.lookup("fp2", "en", "de", ["a", "b"]) == {"a": "A-other"}
        assert cache.lookup("fp1", "de", "en", ["a"]) == {}  # the direction is part of the key
        assert cache.count() == 4 and cache.count("fp1") == 3 and cache.count("unknown") == 0
        assert [name for _, name in cache.models()] == ["model-1", "model-2"]


def test_lookup_of_an_unknown_model_writes_nothing(tmp_path):
    path = tmp_path / "c.sqlite"
    with TranslationCache(path) as cache:
        cache.lookup("never-stored", "en", "de", ["x"])
    assert sqlite3.connect(path).execute("SELECT count(*) FROM model").fetchone()[0] == 0


def test_many_texts_and_odd_strings(tmp_path):
    texts = [f"text {i} \u00e9\u4e2d\U0001F600" for i in range(2500)] + ["", " ", "\x00nul"]
    with TranslationCache(tmp_path / "c.sqlite") as cache:
        cache.store("fp", "en", "zh", {t: t[::-1] for t in texts}, name="m")
        found = cache.lookup("fp", "en", "zh", texts)  # more keys than SQLite's parameter limit
    assert found == {t: t[::-1] for t in texts}


def test_memory_cache_and_default_path(tmp_path, monkeypatch):
    with TranslationCache(":memory:") as cache:
        cache.store("fp", "en", "de", {"a": "b"}, name="m")
        assert cache.lookup("fp", "en", "de", ["a"]) == {"a": "b"}
    monkeypatch.setenv("POLYIR_CACHE_DIR", str(tmp_path / "cachedir"))
    assert default_cache_path() == tmp_path / "cachedir" / "translations.sqlite"


@pytest.mark.parametrize("content", ["text", "other-sqlite", "directory"])
def test_a_cache_path_that_is_not_a_translation_cache_is_refused_unchanged(tmp_path, content):
    path = tmp_path / "cache.sqlite"
    if content == "text":
        path.write_text("not a database\n" * 50)
    elif content == "directory":
        path.mkdir()
    else:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE people (id INTEGER)")
        conn.close()
    before = sorted(p.name for p in tmp_path.iterdir()), (path.read_bytes() if path.is_file() else None)
    with pytest.raises(InputError, match=f"{path}: .*(not a translation cache|it is a directory)"):
        TranslationCache(path)
    assert (sorted(p.name for p in tmp_path.iterdir()), (path.read_bytes() if path.is_file() else None)) == before
