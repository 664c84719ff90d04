import copy
import json

import pytest

from polyir.data import load_lareqa
from polyir.data.evalsets.lareqa_reader import language_files
from polyir.errors import InputError
from polyir.types import candidate_text

from evalset_fixtures import lareqa_dir, lareqa_file  # noqa: F401  (lareqa_dir is a fixture)


def test_relevance_and_pools_hand_checked(lareqa_dir):
    rs = load_lareqa(lareqa_dir)
    assert rs.languages == ("de", "el", "en")
    assert rs.name == "lareqa"
    assert {lang: sum(c.lang == lang for c in rs.candidates) for lang in rs.languages} == {"de": 5, "el": 3, "en": 5}
    assert {lang: sum(q.lang == lang for q in rs.queries) for lang in rs.languages} == {"de": 4, "el": 3, "en": 4}
    assert {qid: dict(rel) for qid, rel in rs.qrels.items()} == {
        "q1": {"de/0/0/0": 1, "el/0/0/0": 1, "en/0/0/0": 1},
        "q2": {"de/0/0/0": 1, "el/0/0/1": 1, "en/0/0/1": 1},  # German has both facts in one sentence
        "q3": {"de/1/0/0": 1, "en/1/0/0": 1},  # not in Greek: two relevant items (MLQA-R shape)
        "q4": {"de/1/0/1": 1, "el/1/0/0": 1, "en/1/0/1": 1},
    }
    by_id = {c.id: c for c in rs.candidates}
    assert by_id["en/0/0/1"].text == "She has two cats."
    assert by_id["en/0/0/1"].context == "Ann lives in Oslo. She has two cats. Her cats are black."
    assert candidate_text(by_id["en/0/0/1"], "sentence+context").startswith("She has two cats.\nAnn lives")
    q = next(q for q in rs.queries if q.id == "q2" and q.lang == "el")
    assert q.text == "Πόσες γάτες;"
    assert rs.meta["queries_per_language"] == {"de": 4, "el": 3, "en": 4}
    assert rs.meta["files"]["el"] == "el.json.gz"


def test_language_subset_order_and_normalisation(lareqa_dir):
    rs = load_lareqa(lareqa_dir, ["eng", "el"])
    assert rs.languages == ("en", "el")
    assert {c.lang for c in rs.candidates} == {"en", "el"}
    assert dict(rs.qrels["q3"]) == {"en/1/0/0": 1}
    assert load_lareqa(lareqa_dir, "en,de").languages == ("en", "de")


def test_max_queries_keeps_translations_and_full_pools(lareqa_dir):
    rs = load_lareqa(lareqa_dir, ["el", "en"], max_queries=2)
    # order of first appearance through the files: el has q2 before q1
    assert sorted(rs.qrels) == ["q1", "q2"]
    assert sorted((q.id, q.lang) for q in rs.queries) == [("q1", "el"), ("q1", "en"), ("q2", "el"), ("q2", "en")]
    assert len(rs.candidates) == 8  # pools stay complete
    assert load_lareqa(lareqa_dir, ["en", "el"], max_queries=1).meta["question_ids"] == 1
    assert [q.id for q in load_lareqa(lareqa_dir, ["en"], max_queries=1).queries] == ["q1"]


def _one_file(tmp_path, obj, name="en.json"):
    (tmp_path / name).write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return tmp_path


def _valid():
    return lareqa_file([[{"sentences": ["Ann lives in Oslo.", "She has two cats."],
                          "qas": [("q1", "Where?", 0, "Oslo"), ("q2", "How many?", 1, "two")]}]])


def _set(path, value):
    def mutate(obj):
        *parents, last = path
        target = obj
        for key in parents:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return mutate


PARA = ("data", 0, "paragraphs", 0)
QA = (*PARA, "qas", 1)
BAD_FILES = [
    ("missing data", _set(("data",), KeyError), ["en.json: top level: missing field 'data'"]),
    ("data not a list", _set(("data",), {}), ["field 'data' must be an array, got dict"]),
    ("missing context", _set((*PARA, "context"), KeyError), ["data[0].paragraphs[0]: missing field 'context'"]),
    ("missing sentences", _set((*PARA, "sentences"), KeyError), ["missing field 'sentences'"]),
    ("missing question", _set((*QA, "question"), KeyError), ["data[0].paragraphs[0].qas[1] id=q2: missing field 'question'"]),
    ("missing id", _set((*QA, "id"), KeyError), ["qas[1]: question 'id' must be a non-empty string"]),
    ("answer_start as string", _set((*QA, "answers", 0, "answer_start"), "19"), ["'answer_start' must be an integer"]),
    ("no answers", _set((*QA, "answers"), []), ["qas[1] id=q2: question has no answers"]),
    ("sentence not a string", _set((*PARA, "sentences", 1), 7), ["sentences[1]: sentence must be a string"]),
    ("empty sentence", _set((*PARA, "sentences", 1), "  "), ["sentences[1]: empty sentence"]),
    ("empty question", _set((*QA, "question"), " "), ["qas[1] id=q2: empty question"]),
    ("breaks count", _set((*PARA, "sentence_breaks"), [[0, 18]]), ["2 sentences but 1 sentence_breaks"]),
    ("overlapping breaks", _set((*PARA, "sentence_breaks", 1), [10, 36]), ["sentence_breaks[1] = [10, 36] is not an ordered"]),
    ("break beyond context", _set((*PARA, "sentence_breaks", 1), [19, 99]), ["sentence_breaks[1] = [19, 99]"]),
    ("break not a pair", _set((*PARA, "sentence_breaks", 1), [19]), ["sentence_breaks[1] must be [start, end]"]),
    ("answer in a gap", _set((*QA, "answers", 0, "answer_start"), 18),
     ["en.json: data[0].paragraphs[0].qas[1] id=q2: answer_start 18 outside every sentence span"]),
    ("answer beyond context", _set((*QA, "answers", 0, "answer_start"), 500), ["answer_start 500 outside the context"]),
    ("duplicate id", _set((*QA, "id"), "q1"), ["qas[1] id=q1: duplicate question id (first at data[0].paragraphs[0].qas[0])"]),
]


@pytest.mark.parametrize("mutate,expected", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_bad_files_raise_one_line_errors(tmp_path, mutate, expected):
    obj = copy.deepcopy(_valid())
    mutate(obj)
    with pytest.raises(InputError) as err:
        load_lareqa(_one_file(tmp_path, obj))
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "en.json"))
    for part in expected:
        assert part in message


def test_span_text_mismatch_is_counted_not_fatal(tmp_path):
    obj = _valid()
    obj["data"][0]["paragraphs"][0]["sentences"][0] = "Ann lives in Oslo!"  # span text stays "...Oslo."
    rs = load_lareqa(_one_file(tmp_path, obj))
    assert rs.meta["span_text_mismatches"] == 1
    assert rs.candidates[0].text == "Ann lives in Oslo!"


def test_directory_errors(tmp_path, lareqa_dir):
    broken = tmp_path / "broken"
    broken.mkdir()
    with pytest.raises(InputError, match=r"en\.json: malformed JSON at line 1"):
        load_lareqa(_one_file(broken, '{"data": ['))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no json here")
    with pytest.raises(InputError, match="no language files"):
        load_lareqa(empty)
    with pytest.raises(InputError, match="not a directory"):
        load_lareqa(tmp_path / "missing")
    with pytest.raises(InputError, match=r"requested language\(s\) fr not found \(available: de, el, en\)"):
        load_lareqa(lareqa_dir, ["en", "fr"])
    with pytest.raises(InputError, match="unknown language code 'xx1'"):
        load_lareqa(lareqa_dir, ["xx1"])
    with pytest.raises(InputError, match="max_queries must be positive"):
        load_lareqa(lareqa_dir, max_queries=0)


def test_file_name_must_be_a_language(tmp_path, lareqa_dir):
    (lareqa_dir / "english.json").write_text(json.dumps(_valid()))
    with pytest.raises(InputError, match=r"english\.json: language code from the file name: unknown language code"):
        language_files(lareqa_dir)
    (lareqa_dir / "english.json").unlink()
    (lareqa_dir / "de.json").write_text(json.dumps(_valid()))
    with pytest.raises(InputError, match="two files for language 'de': de.json and deu.json"):
        language_files(lareqa_dir)


def test_an_answer_that_is_not_at_its_answer_start_is_an_error(tmp_path):
    obj = _valid()
    obj["data"][0]["paragraphs"][0]["qas"][1]["answers"][0]["text"] = "dogs"
    with pytest.raises(InputError, match="en.json: data\\[0\\].paragraphs\\[0\\].qas\\[1\\] id=q2 answers\\[0\\]: answer "
                                         "text 'dogs' does not match the context at answer_start"):
        load_lareqa(_one_file(tmp_path, obj))


def test_a_language_field_must_agree_with_the_file_name(tmp_path):
    obj = {**_valid(), "language": "de"}
    with pytest.raises(InputError, match="en.json: top level: 'language' is 'de', but the file is read as 'en'"):
        load_lareqa(_one_file(tmp_path, obj))
    assert load_lareqa(_one_file(tmp_path, {**_valid(), "language": "eng"})).languages == ("en",)


@pytest.mark.parametrize("kind", ["directory", "broken link"])
def test_a_language_file_that_cannot_be_read_is_an_error_not_a_missing_language(tmp_path, kind):
    _one_file(tmp_path, _valid())
    if kind == "directory":
        (tmp_path / "de.json").mkdir()
    else:
        (tmp_path / "de.json").symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(InputError, match=f"de.json: cannot read this language file: it is a {kind}"):
        load_lareqa(tmp_path)
