import json

import pytest

from polyir.data.pairs.splits import heldout_indices, split_pair_file, split_pairs, split_squad_directory
from polyir.data.pairs.pair_files import iter_pairs, write_pairs
from polyir.errors import ConfigError, InputError
from polyir.types import Pair

from pair_fixtures import squad_doc, write_json


def xquad_like(root, n_articles=10):
    for lang in ("en", "de", "es"):
        write_json(root / f"{lang}.json", squad_doc(lang, n_articles=n_articles, breaks=True))
    return root


def articles(path):
    return [a["title"] for a in json.loads(path.read_text())["data"]]


def test_split_by_article_is_disjoint_parallel_and_deterministic(tmp_path):
    src = xquad_like(tmp_path / "src")
    split = split_squad_directory(src, tmp_path / "train", tmp_path / "held", heldout_fraction=0.3, seed=5)
    assert len(split.heldout_articles) == 3 and len(split.train_articles) == 7
    assert set(split.train_articles).isdisjoint(split.heldout_articles)
    for lang in ("en", "de", "es"):
        train, held = articles(tmp_path / "train" / f"{lang}.json"), articles(tmp_path / "held" / f"{lang}.json")
        assert held == [f"Article_{i}" for i in split.heldout_articles]  # the same articles in every language
        assert sorted(train + held, key=lambda t: int(t.split("_")[1])) == [f"Article_{i}" for i in range(10)]
        doc = json.loads((tmp_path / "held" / f"{lang}.json").read_text())
        assert doc["version"] == "1.1" and "sentence_breaks" in doc["data"][0]["paragraphs"][0]
    again = split_squad_directory(src, tmp_path / "t2", tmp_path / "h2", heldout_fraction=0.3, seed=5)
    assert again == split
    assert (tmp_path / "h2" / "de.json").read_bytes() == (tmp_path / "held" / "de.json").read_bytes()
    other = split_squad_directory(src, tmp_path / "t3", tmp_path / "h3", heldout_fraction=0.3, seed=6)
    assert other.heldout_articles != split.heldout_articles


def test_heldout_indices_bounds():
    assert len(heldout_indices(48, 0.25, 0)) == 12
    assert len(heldout_indices(10, 0.01, 0)) == 1 and len(heldout_indices(10, 0.99, 0)) == 9
    for bad in (0.0, 1.0, -1):
        with pytest.raises(ConfigError):
            heldout_indices(10, bad, 0)


def test_non_parallel_files_are_rejected(tmp_path):
    write_json(tmp_path / "en.json", squad_doc("en", n_articles=3))
    write_json(tmp_path / "de.json", squad_doc("de", n_articles=3, id_prefix="other"))
    with pytest.raises(InputError, match=r"en\.json: data\[0\]: article questions differ from de\.json"):
        split_squad_directory(tmp_path, tmp_path / "a", tmp_path / "b", heldout_fraction=0.5)
    write_json(tmp_path / "de.json", squad_doc("de", n_articles=2))
    with pytest.raises(InputError, match="3 articles, but de.json has 2"):
        split_squad_directory(tmp_path, tmp_path / "a", tmp_path / "b", heldout_fraction=0.5)


def test_pair_split_keeps_groups_together(tmp_path):
    pairs = [Pair(f"g{i}", lang, "q", "p", dataset="d") for i in range(400) for lang in ("en", "de")]
    sides = {}
    for heldout, pair in split_pairs(pairs, 0.25, seed=1):
        assert sides.setdefault(pair.group, heldout) == heldout
    share = sum(sides.values()) / len(sides)
    assert 0.18 < share < 0.32
    write_pairs(pairs, tmp_path / "all.jsonl")
    n_train, n_held = split_pair_file(tmp_path / "all.jsonl", tmp_path / "tr.jsonl", tmp_path / "ho.jsonl",
                                      heldout_fraction=0.25, seed=1)
    assert n_train + n_held == 800 and n_held == 2 * sum(sides.values())
    assert {p.group for p in iter_pairs(tmp_path / "ho.jsonl")} == {g for g, h in sides.items() if h}
