import gzip
import json

import pytest

from evalset_fixtures import beir_dir, write_jsonl  # noqa: F401  (beir_dir is a fixture)
from polyir.data import load_beir
from polyir.errors import InputError
from polyir.types import candidate_text


def test_load_hand_checked(beir_dir):
    rs = load_beir(beir_dir, "sw", split="test")
    assert rs.name == "beir" and rs.languages == ("sw",)
    assert [q.id for q in rs.queries] == ["q1", "q2"]  # q3: no judgements; q4: only non-relevant ones
    assert {q: dict(r) for q, r in rs.qrels.items()} == {"q1": {"d1": 1, "d3": 0}, "q2": {"d2": 2, "4": 1}}
    assert [c.id for c in rs.candidates] == ["d1", "d2", "d3", "4"]
    by_id = {c.id: c for c in rs.candidates}
    assert candidate_text(by_id["d1"]) == "Oslo Oslo is the capital of Norway."
    assert candidate_text(by_id["4"]) == "Only a title"  # a title-only passage keeps its title as text
    assert all(c.lang == "sw" for c in rs.candidates)
    assert rs.meta["queries_in_file"] == 4
    assert rs.meta["queries_without_judgements"] == 1 and rs.meta["queries_without_relevant"] == 1
    assert rs.meta["judgements"] == 5 and rs.meta["corpus_size"] == 4
    rs.validate()


def test_record_language_wins_and_gzip_and_trec_qrels(tmp_path):
    root = tmp_path / "mixed"
    (root / "qrels").mkdir(parents=True)
    with gzip.open(root / "corpus.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps({"_id": "a", "text": "hund", "lang": "deu"}) + "\n")
        f.write(json.dumps({"_id": "b", "text": "dog"}) + "\n")
    write_jsonl(root / "queries.jsonl", [{"_id": "1", "text": "Hund?", "language": "de"}, {"_id": "2", "text": "dog?"}])
    (root / "qrels" / "dev.tsv").write_text("1 Q0 a 1\n2 Q0 b 1\n")  # TREC style, no header
    rs = load_beir(root, "en", split="dev", name="mixed-dev")
    assert rs.name == "mixed-dev" and rs.languages == ("en", "de")
    assert {c.id: c.lang for c in rs.candidates} == {"a": "de", "b": "en"}
    assert {q.id: q.lang for q in rs.queries} == {"1": "de", "2": "en"}


def _dataset(tmp_path, corpus=None, queries=None, qrels=None):
    root = tmp_path / "ds"
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    write_jsonl(root / "corpus.jsonl", corpus or [{"_id": "d1", "text": "one"}, {"_id": "d2", "text": "two"}])
    write_jsonl(root / "queries.jsonl", queries or [{"_id": "q1", "text": "first"}])
    (root / "qrels" / "test.tsv").write_text(qrels or "query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    return root


BAD = [
    ("malformed corpus line", dict(corpus=[{"_id": "d1", "text": "one"}, "{not json"]),
     "corpus.jsonl: line 2: malformed JSON"),
    ("duplicate corpus id", dict(corpus=[{"_id": "d1", "text": "one"}, {"_id": "d1", "text": "again"}]),
     "corpus.jsonl: line 2 _id=d1: duplicate _id"),
    ("duplicate query id", dict(queries=[{"_id": "q1", "text": "a"}, {"_id": "q1", "text": "b"}]),
     "queries.jsonl: line 2 _id=q1: duplicate _id"),
    ("missing _id", dict(corpus=[{"text": "one"}]), "corpus.jsonl: line 1: '_id' must be a non-empty string"),
    ("missing text", dict(queries=[{"_id": "q1"}]), "queries.jsonl: line 1 _id=q1: missing field 'text'"),
    ("empty query", dict(queries=[{"_id": "q1", "text": "  "}]), "queries.jsonl: line 1 _id=q1: empty text"),
    ("empty passage", dict(corpus=[{"_id": "d1", "title": "", "text": ""}]), "corpus.jsonl: line 1 _id=d1: empty text"),
    ("text not a string", dict(corpus=[{"_id": "d1", "text": ["a"]}]), "'text' and 'title' must be strings"),
    ("unknown language", dict(corpus=[{"_id": "d1", "text": "one", "lang": "xx1"}]),
     "corpus.jsonl: line 1 _id=d1: unknown language code 'xx1'"),
    ("qrels unknown query", dict(qrels="q1\td1\t1\nq9\td1\t1\n"), "test.tsv: line 2: judgement names unknown query 'q9'"),
    ("qrels unknown doc", dict(qrels="q1\td1\t1\nq1\td7\t1\n"),
     "test.tsv: line 2: judgement names unknown corpus document 'd7'"),
    ("qrels bad score", dict(qrels="q1\td1\t1\nq1\td2\thigh\n"), "test.tsv: line 2: score must be an integer"),
    ("qrels wrong fields", dict(qrels="q1\td1\n"), "test.tsv: line 1: expected 3 tab-separated fields"),
    ("qrels conflict", dict(qrels="q1\td1\t1\nq1\td1\t0\n"), "test.tsv: line 2: conflicting judgements for (q1, d1)"),
    ("qrels first line bad", dict(qrels="q1\td1\tx\n"), "test.tsv: line 1: score must be an integer"),
    ("qrels empty", dict(qrels="query-id\tcorpus-id\tscore\n"), "test.tsv: no judgements"),
]


@pytest.mark.parametrize("files,expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_names_file_and_line(tmp_path, files, expected):
    with pytest.raises(InputError) as err:
        load_beir(_dataset(tmp_path, **files), "en")
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_missing_files_and_language(tmp_path):
    root = _dataset(tmp_path)
    with pytest.raises(InputError, match=r"dev\.tsv: qrels file not found \(is --split right\?\)"):
        load_beir(root, "en", split="dev")
    with pytest.raises(InputError, match="line 1 _id=q1: no language"):
        load_beir(root, None)
    with pytest.raises(InputError, match="unknown language code 'english'"):
        load_beir(root, "english")
    (root / "corpus.jsonl").unlink()
    with pytest.raises(InputError, match="corpus.jsonl not found"):
        load_beir(root, "en")


def test_per_language_directories_are_strict_about_language_and_completeness(tmp_path):
    from polyir.evaluate.eval_pipeline import EvalData, load_eval_set

    for lang in ("de", "en"):
        (tmp_path / lang / "qrels").mkdir(parents=True)
        write_jsonl(tmp_path / lang / "corpus.jsonl", [{"_id": "d", "text": f"doc {lang}"}])
        write_jsonl(tmp_path / lang / "queries.jsonl", [{"_id": "q", "text": f"query {lang}"}])
        (tmp_path / lang / "qrels" / "test.tsv").write_text("q\td\t1\n")
    assert load_eval_set(EvalData("beir", str(tmp_path))).languages == ("de", "en")
    write_jsonl(tmp_path / "de" / "queries.jsonl", [{"_id": "q", "text": "query", "lang": "fr"}])
    with pytest.raises(InputError, match="de/queries.jsonl: line 1 _id=q: record language 'fr' contradicts the "
                                         "directory's language 'de'"):
        load_eval_set(EvalData("beir", str(tmp_path)))
    write_jsonl(tmp_path / "de" / "queries.jsonl", [{"_id": "q", "text": "query"}])
    (tmp_path / "de" / "corpus.jsonl").unlink()
    (tmp_path / "de" / "corpus.jsonl.gz").mkdir()  # a language whose corpus cannot be read is not skipped
    with pytest.raises(InputError, match="de/corpus.jsonl.gz: cannot read it: a directory"):
        load_eval_set(EvalData("beir", str(tmp_path)))
