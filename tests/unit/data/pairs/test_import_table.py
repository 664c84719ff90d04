import json

import pytest

from polyir.data.pairs.importers.table_import import iter_table_pairs, parse_mapping, triples_mapping
from polyir.data.pairs.sources import Source
from polyir.errors import ConfigError, InputError

from pair_fixtures import write_lines


def test_parse_mapping():
    assert parse_mapping("query=question, positive=answer,id=qid") == {"query": "question", "positive": "answer",
                                                                       "id": "qid"}
    assert parse_mapping(["query=q", "positive=p,lang=l"])["lang"] == "l"
    with pytest.raises(ConfigError, match="needs positive"):
        parse_mapping("query=q")
    with pytest.raises(ConfigError, match="unknown mapping target 'answer'"):
        parse_mapping("query=q,positive=p,answer=a")
    with pytest.raises(ConfigError, match="target=column"):
        parse_mapping("query")


def test_jsonl_with_language_column_and_list_negatives(tmp_path):
    rows = [{"qid": 7, "language": "deu", "question": "Frage", "answer": "Antwort", "negs": ["n1", "n2"]},
            {"qid": "8", "language": "en", "question": "Q", "answer": "A", "negs": []}]
    path = write_lines(tmp_path / "t.jsonl", [json.dumps(r) for r in rows])
    mapping = parse_mapping("query=question,positive=answer,id=qid,lang=language,negatives=negs")
    pairs = list(iter_table_pairs([Source(path)], mapping, dataset="d"))
    assert [(p.group, p.lang, p.negatives) for p in pairs] == [("7", "de", ("n1", "n2")), ("8", "en", ())]


def test_csv_with_header_and_row_ids(tmp_path):
    path = write_lines(tmp_path / "t.csv", ["question,answer,neg_a,neg_b", '"Q, one",A1,x,y', "Q2,A2,,z"])
    pairs = list(iter_table_pairs([Source(path, "fr")], parse_mapping("query=question,positive=answer,"
                                                                       "negatives=neg_a+neg_b")))
    assert [(p.group, p.lang, p.query, p.negatives) for p in pairs] == [("1", "fr", "Q, one", ("x", "y")),
                                                                       ("2", "fr", "Q2", ("z",))]


def test_triples_preset_keeps_bare_quotes(tmp_path):
    path = write_lines(tmp_path / "triples.tsv", ['what is "x"?\tpassage "x" is\tneg one\tneg two'])
    (pair,) = iter_table_pairs([Source(path, "en")], triples_mapping(), header=False)
    assert pair.query == 'what is "x"?' and pair.negatives == ("neg one", "neg two") and pair.group == "1"
    ids = write_lines(tmp_path / "ids.tsv", ["q9\tquery\tpositive\tnegative"])
    (pair,) = iter_table_pairs([Source(ids, "en")], triples_mapping(with_ids=True), header=False)
    assert pair.group == "q9" and pair.negatives == ("negative",)


def test_table_errors(tmp_path):
    path = write_lines(tmp_path / "t.csv", ["question,answer", "Q1,", "Q2,A2"])
    mapping = parse_mapping("query=question,positive=answer")
    with pytest.raises(InputError, match=r"t\.csv: row 1 id='1': empty positive"):
        list(iter_table_pairs([Source(path, "en")], mapping))
    with pytest.raises(InputError, match="missing column 'answer'"):
        list(iter_table_pairs([Source(write_lines(tmp_path / "m.csv", ["question", "Q"]), "en")], mapping))
    with pytest.raises(InputError, match="no language"):
        list(iter_table_pairs([Source(write_lines(tmp_path / "n.csv", ["question,answer", "Q,A"]))], mapping))
    with pytest.raises(InputError, match="cannot tell the table format"):
        list(iter_table_pairs([Source(write_lines(tmp_path / "t.xml", ["<x/>"]), "en")], mapping))
    with pytest.raises(InputError, match=r"row 1 id='1': missing column 5 \(the row has 2\)"):
        list(iter_table_pairs([Source(write_lines(tmp_path / "h.tsv", ["a\tb"]), "en")],
                              {"query": "0", "positive": "5"}, header=False))
