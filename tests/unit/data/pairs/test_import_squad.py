import json
import re
import tracemalloc
from collections import Counter

import pytest

from polyir.data.pairs.collection import ParallelCollection
from polyir.data.pairs.importers.squad_import import iter_squad_pairs
from polyir.data.pairs.pair_files import write_pairs
from polyir.data.pairs.sources import Source, parse_sources
from polyir.errors import ConfigError, InputError

from pair_fixtures import squad_doc, write_json


def pairs_of(*sources, **kw):
    return list(iter_squad_pairs(list(sources), **kw))


def test_parallel_files_align_by_question_id(tmp_path):
    en = write_json(tmp_path / "en.json", squad_doc("en"))
    de = write_json(tmp_path / "de.json.gz", squad_doc("de"))
    pairs = pairs_of(*parse_sources([str(en), str(de)]), dataset="toy")
    assert len(pairs) == 16 and {p.lang for p in pairs} == {"en", "de"}
    collection = ParallelCollection.from_pairs(pairs)
    assert collection.n_groups == 8 and (collection.language_table() >= 0).all()
    first = pairs[0]
    assert (first.group, first.query, first.dataset) == ("q0-0-0", "alpha question 0 0 0 en?", "toy")
    # question q answers sentence q: found by splitting the paragraph (no sentence_breaks here)
    assert first.positive == "alpha en article 0 paragraph 0 sentence 0."
    assert pairs[1].positive == "beta en article 0 paragraph 0 sentence 1."


def test_sentence_breaks_are_used_when_present(tmp_path):
    doc = squad_doc("en", breaks=True)
    doc["data"][0]["paragraphs"][0]["sentences"] = ["S0", "S1", "S2"]  # distinguishable from the context
    pairs = pairs_of(Source(write_json(tmp_path / "x.json", doc), "en"))
    assert [p.positive for p in pairs[:2]] == ["S0", "S1"]


def test_paragraph_mode(tmp_path):
    pairs = pairs_of(Source(write_json(tmp_path / "x.json", squad_doc("en")), "en"), positive="paragraph")
    assert pairs[0].positive.count("sentence") == 3


def test_v2_unanswerable_dropped_unless_asked(tmp_path):
    source = Source(write_json(tmp_path / "v2.json", squad_doc("en", v2_unanswerable=True)), "en")
    stats = Counter()
    assert len(pairs_of(source, stats=stats)) == 8
    assert stats["skipped: unanswerable (SQuAD v2)"] == 4
    kept = pairs_of(source, keep_unanswerable=True)
    unanswerable = [p for p in kept if p.group.startswith("u")]
    assert len(unanswerable) == 4 and unanswerable[0].positive == "gamma en article 0 paragraph 0 sentence 2."


def test_unaligned_answers_are_skipped_and_counted(tmp_path):
    doc = squad_doc("es")
    doc["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = -1  # squad-es marks them so
    stats = Counter()
    assert len(pairs_of(Source(write_json(tmp_path / "es.json", doc), "es"), stats=stats)) == 7
    assert stats["skipped: no answer located in the paragraph"] == 1


@pytest.mark.parametrize("mutate, message", [
    (lambda qa, p: qa["answers"][0].update(answer_start=10_000), "answer_start 10000 is not an offset"),
    (lambda qa, p: qa.update(question="  "), "missing or empty 'question'"),
    (lambda qa, p: qa.pop("id"), "missing question 'id'"),
    (lambda qa, p: p.update(context=""), "missing or empty 'context'"),
    (lambda qa, p: p.update(sentence_breaks=[[0, 999]]), "sentence_breaks outside the context"),
    (lambda qa, p: p.update(sentence_breaks=[[0]]), "sentence_breaks must be a list of [start, end] pairs"),
    (lambda qa, p: qa["answers"][0].update(text="nothing like it"), "answer text 'nothing like it' does not match the "
                                                                    "context at answer_start"),
    (lambda qa, p: qa["answers"][0].update(answer_start=qa["answers"][0]["answer_start"] + 2), "does not match"),
    (lambda qa, p: qa["answers"][0].update(text=5), "answer 'text' must be a string, got int"),
    (lambda qa, p: p.update(qas=5), "field 'qas' must be an array, got int"),
    (lambda qa, p: qa.update(id="q0-0-0"), "duplicate question id 'q0-0-0' (first at data[0].paragraphs[0].qas[0])"),
])
def test_invalid_records_raise_naming_file_and_record(tmp_path, mutate, message):
    doc = squad_doc("en")
    paragraph = doc["data"][1]["paragraphs"][0]
    mutate(paragraph["qas"][1], paragraph)
    path = write_json(tmp_path / "bad.json", doc)
    with pytest.raises(InputError) as err:
        pairs_of(Source(path, "en"))
    assert message in str(err.value) and str(path) in str(err.value) and "data[1].paragraphs[0]" in str(err.value)


def test_answers_are_compared_up_to_case_and_spacing(tmp_path):
    doc = squad_doc("en")
    answer = doc["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]
    answer["text"] = answer["text"].upper().replace(" ", "  ")  # squad-it's case, arcd's double spaces
    assert len(pairs_of(Source(write_json(tmp_path / "x.json", doc), "en"))) == 8


@pytest.mark.parametrize("doc, message", [
    ({"version": "1.1"}, "top level: missing field 'data' (not a SQuAD file?)"),
    ({"data": 5}, "top level: field 'data' must be an array, got a number"),
    ({"data": {"a": 1}}, "top level: field 'data' must be an array, got an object"),
    ([1, 2], "top level: expected a JSON object with a 'data' array (SQuAD format), got an array"),
    ("text", "top level: expected a JSON object with a 'data' array (SQuAD format), got a string"),
    ({"language": "de", "data": []}, "top level: 'language' is 'de', but the file is read as 'en'"),
    ({"data": [], "language": 7}, "top level: field 'language' must be a string, got a number"),
    ({"data": [{"paragraphs": 3}]}, "data[0]: field 'paragraphs' must be an array, got int"),
])
def test_json_that_is_not_squad_is_an_error(tmp_path, doc, message):
    path = write_json(tmp_path / "x.json", doc)
    with pytest.raises(InputError, match=re.escape(f"{path}: {message}")):
        pairs_of(Source(path, "en"))


@pytest.mark.parametrize("content, message", [
    (b'{"data": [{"paragraphs": [', "malformed JSON at line 1 column 27: Expecting value"),
    (b'{"version": 1,, "data": []}', "malformed JSON at line 1 column 15: Expecting property name enclosed in"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff binary", "not UTF-8 text: 'utf-8' codec can't decode byte 0x89 in position 0"),
    (b"", "malformed JSON at line 1 column 1: Expecting value"),
])
def test_truncated_and_binary_json_is_one_line_with_a_position(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        pairs_of(Source(path, "en"))
    assert str(err.value) == f"{path}: {message}" or str(err.value).startswith(f"{path}: {message}"), str(err.value)
    assert "\n" not in str(err.value) and "right here" not in str(err.value) and "b'" not in str(err.value)


def test_skip_invalid_counts_instead_of_failing(tmp_path):
    doc = squad_doc("en")
    doc["data"][1]["paragraphs"][0]["qas"][1]["question"] = ""
    stats = Counter()
    pairs = pairs_of(Source(write_json(tmp_path / "x.json", doc), "en"), stats=stats, skip_invalid=True)
    assert len(pairs) == 7 and stats["skipped: invalid record"] == 1


def test_malformed_json_and_language_errors(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"data": [{"paragraphs": [ {"context": "x", ')
    with pytest.raises(InputError, match="broken.json: malformed JSON"):
        pairs_of(Source(path, "en"))
    with pytest.raises(InputError, match="cannot tell the language"):
        pairs_of(Source(path, ""))
    with pytest.raises(ConfigError):
        pairs_of(Source(write_json(tmp_path / "ok.json", squad_doc("en")), "en"), positive="title")


def test_one_dataset_name_per_source_keeps_groups_apart(tmp_path):
    a = write_json(tmp_path / "a.json", squad_doc("en"))
    b = write_json(tmp_path / "b.json", squad_doc("en"))  # same ids, same language
    pairs = pairs_of(Source(a, "en"), Source(b, "en"), dataset=["set-a", "set-b"])
    assert ParallelCollection.from_pairs(pairs).n_groups == 16
    with pytest.raises(ConfigError, match="one per input"):
        pairs_of(Source(a, "en"), Source(b, "en"), dataset=["x", "y", "z"])


def test_reading_is_incremental(tmp_path):
    """The first pair comes before the parser reaches a syntax error at the end of a large file."""
    text = json.dumps(squad_doc("en", n_articles=300))
    path = tmp_path / "big.json"
    path.write_text(text[:-2] + ", oops}")
    pairs = iter_squad_pairs([Source(path, "en")])
    assert next(pairs).group == "q0-0-0"
    with pytest.raises(InputError, match="malformed JSON"):
        list(pairs)


def _peak_import_memory(tmp_path, n_articles: int) -> tuple[int, int]:
    src = write_json(tmp_path / f"en{n_articles}.json", squad_doc("en", n_articles=n_articles, paragraphs=5, questions=3))
    tracemalloc.start()
    try:
        count = write_pairs(iter_squad_pairs([Source(src, "en")]), tmp_path / f"out{n_articles}.jsonl")
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_import_memory_does_not_grow_with_file_size(tmp_path):
    _peak_import_memory(tmp_path, 2)  # first use imports modules and builds caches
    small_count, small_peak = _peak_import_memory(tmp_path, 100)
    large_count, large_peak = _peak_import_memory(tmp_path, 1000)
    assert large_count == 10 * small_count == 15_000
    # 10x the records (a 2.6 MB file; json.load of it peaks at ~15 MB): a loader that held the
    # file or the pairs would need several MB more; streaming adds only the duplicate
    # guard's 8 bytes per record (120 kB here)
    assert large_peak < small_peak + 1_000_000, (small_peak, large_peak)
