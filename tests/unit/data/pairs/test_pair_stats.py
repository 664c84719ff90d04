from polyir.data.pairs.pair_stats import collection_stats, format_stats
from polyir.types import Pair


def test_stats_coverage_and_lengths():
    pairs = [Pair("g1", "en", "aa", "pppp", ("n",), "d1"), Pair("g1", "de", "aaaa", "pp", dataset="d1"),
             Pair("g2", "en", "a", "p", dataset="d1"), Pair("g3", "de", "aaa", "ppp", dataset="d2"),
             Pair("g3", "zh", "a", "p", dataset="d2"), Pair("g3", "en", "aa", "pp", dataset="d2")]
    s = collection_stats(pairs)
    assert (s.pairs, s.groups, s.languages) == (6, 3, ("de", "en", "zh"))
    assert s.coverage.tolist() == [[2, 2, 1], [2, 3, 1], [1, 1, 1]]
    assert s.groups_by_language_count == {1: 1, 2: 1, 3: 1}
    assert s.pairs_per_language == {"de": 2, "en": 3, "zh": 1}
    assert s.pairs_per_dataset == {"d1": 3, "d2": 3}
    assert s.query_chars["en"].max == 2 and s.query_chars["de"].mean == 3.5
    assert s.positive_chars["all"].max == 4 and s.negatives_per_pair == 1 / 6
    text = format_stats(s)
    assert "pairs 6   groups 3   languages 3" in text
    matrix_rows = [line.split() for line in text.splitlines()]
    assert ["en", "2", "3", "1"] in matrix_rows and ["de", "en", "zh"] in matrix_rows
    assert s.to_dict()["coverage"][1] == [2, 3, 1]


def test_stats_of_nothing():
    s = collection_stats([])
    assert s.pairs == 0 and s.groups == 0 and s.coverage.shape == (0, 0)
    assert "pairs 0" in format_stats(s)
