import json

import pytest

from polyir.data.evalsets.squad_reader import answer_matches_context, read_squad
from polyir.errors import InputError


def _write(tmp_path, qas, **paragraph):
    obj = {"version": "2.0", "data": [{"title": "T", "paragraphs": [{"context": "Ann lives in Oslo. Bob too.",
                                                                      "qas": qas, **paragraph}]}]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(obj))
    return path


def test_plain_squad_v2_with_unanswerable_questions(tmp_path):
    qas = [{"id": 7, "question": "Where?", "answers": [{"text": "Oslo", "answer_start": 13}]},
           {"id": "u1", "question": "Why?", "answers": [], "is_impossible": True},
           {"id": "bad", "question": "Who?", "answers": [{"text": "Bobby", "answer_start": 19}]}]
    path = _write(tmp_path, qas)
    (para,) = read_squad(path, allow_unanswerable=True)
    assert para.title == "T" and para.record == "data[0].paragraphs[0]" and para.sentences == ()
    assert [q.id for q in para.questions] == ["7", "u1", "bad"]  # integer ids become strings
    assert para.questions[1].answers == ()
    assert answer_matches_context(para, para.questions[0].answers[0])
    assert not answer_matches_context(para, para.questions[2].answers[0])
    with pytest.raises(InputError, match=r"qas\[1\] id=u1: question has no answers"):
        read_squad(path)


def test_is_impossible_with_answers_is_an_error(tmp_path):
    qas = [{"id": "x", "question": "Where?", "answers": [{"text": "Oslo", "answer_start": 13}], "is_impossible": True}]
    with pytest.raises(InputError, match="marked is_impossible but has answers"):
        read_squad(_write(tmp_path, qas), allow_unanswerable=True)


def test_sentence_lookup(tmp_path):
    qas = [{"id": "a", "question": "Where?", "answers": [{"text": "Oslo", "answer_start": 13}]}]
    (para,) = read_squad(_write(tmp_path, qas, sentences=["Ann lives in Oslo.", "Bob too."],
                                sentence_breaks=[[0, 18], [19, 27]]), require_sentences=True)
    assert [para.sentence_at(i) for i in (0, 17, 18, 19, 26, 27)] == [0, 0, None, 1, 1, None]
    with pytest.raises(InputError, match=r"data\[0\]\.paragraphs\[0\]: missing field 'sentences'"):
        read_squad(_write(tmp_path, qas), require_sentences=True)
