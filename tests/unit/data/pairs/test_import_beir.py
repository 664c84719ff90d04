import json
from collections import Counter

import pytest

from polyir.data.pairs.importers.beir_import import iter_beir_pairs
from polyir.data.pairs.sources import Source
from polyir.errors import InputError

from pair_fixtures import write_lines


def beir_dir(root, lang, *, qrels=None):
    corpus = [{"_id": "d1", "title": f"T1 {lang}", "text": f"doc one {lang}"},
              {"_id": "d2", "title": "", "text": f"doc two {lang}"},
              {"_id": "d3", "title": "T3", "text": f"doc three {lang}"}]
    queries = [{"_id": "q1", "text": f"query one {lang}"}, {"_id": "q2", "text": f"query two {lang}"},
               {"_id": "q3", "text": f"query three {lang}"}]
    write_lines(root / "corpus.jsonl", [json.dumps(d) for d in corpus])
    write_lines(root / "queries.jsonl", [json.dumps(q) for q in queries])
    rows = qrels or ["q1\td2\t1", "q1\td1\t2", "q1\td3\t0", "q2\td2\t1", "q3\td3\t0"]
    write_lines(root / "qrels" / "train.tsv", ["query-id\tcorpus-id\tscore", *rows])
    return root


def test_beir_positive_is_highest_grade_with_title_and_negatives(tmp_path):
    stats = Counter()
    sources = [Source(beir_dir(tmp_path / "en", "en"), "en"), Source(beir_dir(tmp_path / "de", "de"), "de")]
    pairs = list(iter_beir_pairs(sources, max_negatives=2, stats=stats, dataset="toy"))
    assert [(p.group, p.lang) for p in pairs] == [("q1", "en"), ("q2", "en"), ("q1", "de"), ("q2", "de")]
    assert pairs[0].query == "query one en" and pairs[0].positive == "T1 en doc one en"
    assert pairs[0].negatives == ("T3 doc three en",) and pairs[1].positive == "doc two en"
    assert stats["skipped: no relevant document"] == 2  # q3 in both languages


def test_beir_errors(tmp_path):
    root = beir_dir(tmp_path / "x", "en", qrels=["q1\td1"])
    with pytest.raises(InputError, match=r"train\.tsv: line 2: expected 3 columns"):
        list(iter_beir_pairs([Source(root, "en")]))
    with pytest.raises(InputError, match="no test.tsv"):
        list(iter_beir_pairs([Source(beir_dir(tmp_path / "y", "en"), "en")], split="test"))
    with pytest.raises(InputError, match="expected a BEIR directory"):
        list(iter_beir_pairs([Source(tmp_path / "y" / "corpus.jsonl", "en")]))
    bad = beir_dir(tmp_path / "z", "en")
    write_lines(bad / "corpus.jsonl", [json.dumps({"_id": "d2", "text": "  "})])
    with pytest.raises(InputError, match=r"corpus\.jsonl: line 1 _id='d2': empty text"):
        list(iter_beir_pairs([Source(bad, "en")]))


@pytest.mark.parametrize("rows, message", [
    (["q1\td9\t1"], "train.tsv: line 2: judgement names unknown corpus document 'd9'"),
    (["q1\td1\t1", "q1\td9\t0"], "train.tsv: line 3: judgement names unknown corpus document 'd9'"),
    (["q9\td1\t1"], "train.tsv: line 2: judgement names unknown query 'q9'"),
])
def test_a_judgement_naming_an_unknown_id_is_an_error_as_in_evaluate(tmp_path, rows, message):
    root = beir_dir(tmp_path / "x", "en", qrels=[*rows, "q2\td2\t1"])
    with pytest.raises(InputError, match=message):
        list(iter_beir_pairs([Source(root, "en")], max_negatives=1))
    stats = Counter()
    pairs = list(iter_beir_pairs([Source(root, "en")], max_negatives=1, skip_invalid=True, stats=stats))
    assert [p.group for p in pairs] == ["q2"] and stats["skipped: invalid record"] == 1


def test_a_record_language_contradicting_the_directory_is_an_error(tmp_path):
    root = beir_dir(tmp_path / "x", "en")
    write_lines(root / "queries.jsonl", [json.dumps({"_id": "q1", "text": "eins", "lang": "de"}),
                                         json.dumps({"_id": "q2", "text": "two", "language": "en"})])
    with pytest.raises(InputError, match="queries.jsonl: line 1 _id='q1': record language 'de' contradicts the "
                                         "directory's language 'en'"):
        list(iter_beir_pairs([Source(root, "en")]))
