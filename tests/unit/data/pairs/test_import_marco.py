from collections import Counter

import pytest

from polyir.data.pairs.importers.msmarco_import import MarcoLanguage, iter_marco_pairs, select_training_ids
from polyir.errors import InputError

from pair_fixtures import write_lines


def language(root, lang, missing_query=None):
    queries = [f"{q}\t{lang} query {q}" for q in ("10", "11", "12") if q != missing_query]
    collection = [f"{p}\t{lang} passage {p}" for p in range(100, 106)]
    return MarcoLanguage(lang, write_lines(root / f"{lang}_queries.train.tsv", queries),
                         write_lines(root / f"{lang}_collection.tsv", collection))


TRIPLES = ["10\t100\t101", "11\t102\t103", "10\t100\t104", "10\t100\t101", "12\t105\t100"]


def test_triple_ids_give_one_group_per_query_in_every_language(tmp_path):
    triples = write_lines(tmp_path / "triples.train.ids.small.tsv", TRIPLES)
    stats = Counter()
    pairs = list(iter_marco_pairs(triples, [language(tmp_path, "en"), language(tmp_path, "pt", missing_query="11")],
                                  max_negatives=2, dataset="mmarco", stats=stats))
    assert [(p.group, p.lang) for p in pairs] == [("10", "en"), ("11", "en"), ("12", "en"), ("10", "pt"),
                                                  ("12", "pt")]
    assert pairs[0].query == "en query 10" and pairs[0].positive == "en passage 100"
    assert pairs[0].negatives == ("en passage 101", "en passage 104")  # distinct, file order, capped at 2
    assert stats["skipped (pt): query or positive missing from its files"] == 1


def test_max_groups_and_qrels(tmp_path):
    triples = write_lines(tmp_path / "t.tsv", TRIPLES)
    assert list(select_training_ids(triples, max_groups=1).positive) == ["10"]
    qrels = write_lines(tmp_path / "qrels.train.tsv", ["10\t0\t100\t1", "11\t0\t102\t0", "12\t0\t105\t1"])
    selection = select_training_ids(qrels)
    assert selection.positive == {"10": "100", "12": "105"} and selection.negatives["10"] == []
    bad = write_lines(tmp_path / "bad.tsv", ["10\t100"])
    with pytest.raises(InputError, match=r"bad\.tsv: line 1: expected 3 tab-separated columns"):
        select_training_ids(bad)
