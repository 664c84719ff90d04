import numpy as np
import pytest

from polyir.data.pairs.collection import ParallelCollection, read_collection
from polyir.data.pairs.pair_files import write_pairs
from polyir.errors import InputError
from polyir.types import Pair


def make_pairs():
    return [Pair("g1", "en", "q", "p", dataset="a"), Pair("g1", "de", "q", "p", dataset="a"),
            Pair("g2", "en", "q", "p", dataset="a"), Pair("g1", "es", "q", "p", dataset="b"),
            Pair("g3", "zh", "q", "p", dataset="a"), Pair("g3", "de", "q", "p", dataset="a")]


def test_sampler_arrays():
    c = ParallelCollection.from_pairs(make_pairs())
    assert c.languages == ("de", "en", "es", "zh") and c.datasets == ("a", "b")
    # groups are (dataset, id): g1 of data set b is another group than g1 of a
    assert c.group_keys == (("a", "g1"), ("a", "g2"), ("b", "g1"), ("a", "g3"))
    assert c.group_index.tolist() == [0, 0, 1, 2, 3, 3]
    assert c.lang_index.tolist() == [1, 0, 1, 2, 3, 0]
    assert c.dataset_index.tolist() == [0, 0, 0, 1, 0, 0]
    assert c.group_index.dtype == np.int64 and c.lang_index.dtype == np.int32
    with pytest.raises(ValueError):
        c.group_index[0] = 5  # read-only
    assert len(c) == 6 and c.n_groups == 4 and c[3].lang == "es"
    assert c.group_dataset_index().tolist() == [0, 0, 1, 0]


def test_language_table_and_coverage():
    c = ParallelCollection.from_pairs(make_pairs())
    table = c.language_table()
    assert table.tolist() == [[1, 0, -1, -1], [-1, 2, -1, -1], [-1, -1, 3, -1], [5, -1, -1, 4]]
    for g, row in enumerate(table):
        for lang, i in enumerate(row):
            if i >= 0:
                assert c.group_index[i] == g and c.lang_index[i] == lang
    cov = c.coverage()
    assert cov[0].tolist() == [2, 1, 0, 1]  # de: g1(a), g3; de+en: g1; de+zh: g3
    assert np.array_equal(cov, cov.T) and cov.trace() == 6


def test_duplicate_in_memory_names_both_pairs():
    pairs = make_pairs() + [Pair("g2", "en", "again", "p", dataset="a")]
    with pytest.raises(InputError, match=r"src: pair 7: group 'g2' has language 'en' twice \(first at pair 3\)"):
        ParallelCollection.from_pairs(pairs, source="src")


def test_subset_and_select_reindex():
    c = ParallelCollection.from_pairs(make_pairs())
    s = c.subset([4, 5, 0])
    assert s.languages == ("de", "en", "zh") and s.group_index.tolist() == [0, 0, 1]
    only_b = c.select(datasets=["b"])
    assert len(only_b) == 1 and only_b.datasets == ("b",)
    assert [p.lang for p in c.select(languages=["de"])] == ["de", "de"]


def test_read_collection_names_datasets(tmp_path):
    write_pairs([Pair("x", "en", "q", "p")], tmp_path / "first.jsonl")
    write_pairs([Pair("x", "de", "q", "p", dataset="keep")], tmp_path / "second.parquet")
    c = read_collection([tmp_path / "first.jsonl", tmp_path / "second.parquet"])
    assert c.datasets == ("first", "keep") and c.n_groups == 2  # the empty name became the file stem
    # a mapping names each file's data set; the same name makes the two files' "x" one group
    same = read_collection({"s": tmp_path / "first.jsonl", "t": tmp_path / "second.parquet"})
    assert same.datasets == ("s", "t") and same.n_groups == 2
    with pytest.raises(InputError, match="group 'x' has language 'en' twice"):
        read_collection([tmp_path / "first.jsonl", tmp_path / "first.jsonl"])
