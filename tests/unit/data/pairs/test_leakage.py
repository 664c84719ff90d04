import json

import pytest

from polyir.data.pairs.leakage import (LeakageIndex, filter_leakage, filter_leakage_file, find_leaks,
                                 normalise_text)
from polyir.data.pairs.pair_files import iter_pairs, write_pairs
from polyir.errors import InputError
from polyir.types import Candidate, Pair, Query, RetrievalSet

from pair_fixtures import squad_doc, write_json


def test_normalise_text():
    assert normalise_text("  Hello,\tWORLD!! ") == "hello world"
    assert normalise_text("Ｆｕｌｌ－ｗｉｄｔｈ。") == "fullwidth"  # NFKC, then punctuation removed
    assert normalise_text("Straße") == normalise_text("STRASSE")  # casefold, not lower
    assert normalise_text("黑豹队的防守丢了多少分？") == "黑豹队的防守丢了多少分"


def eval_index():
    return LeakageIndex.from_texts(ids=["sq1", "sq2"], questions=["How many points did they surrender?", "Why?"],
                                   passages=["The Panthers gave up 308 points."],
                                   paragraphs=["The Panthers gave up 308 points. They ranked sixth in the league."])


def test_reasons_counted_per_group_and_language():
    pairs = [
        Pair("sq1", "es", "¿Cuántos puntos?", "Los Panthers...", dataset="squad-es"),  # translated: id only
        Pair("sq1", "it", "Quanti punti?", "I Panthers...", dataset="squad-es"),
        Pair("t1", "en", "how many POINTS did they surrender", "x passage", dataset="other"),  # question
        Pair("t1", "de", "Wie viele Punkte?", "y passage", dataset="other"),
        Pair("t2", "en", "new question", "the panthers gave up 308 points", dataset="other"),  # passage
        Pair("t3", "en", "another", "They ranked sixth in the league.", dataset="other"),  # contained only
        Pair("t6", "en", "short one", "ranked sixth", dataset="other"),  # contained, but too short to tell
        Pair("t4", "en", "why", "a clean passage", dataset="other"),  # "why" is below min_chars
        Pair("t5", "en", "clean", "clean passage", dataset="other"),
    ]
    kept, report = filter_leakage(pairs, eval_index())
    assert [p.group for p in kept] == ["t3", "t6", "t4", "t5"]
    assert dict(report.groups_by_reason) == {"id": 1, "question": 1, "passage": 1}
    assert report.pairs_by_language == {("id", "es"): 1, ("id", "it"): 1, ("question", "en"): 1,
                                        ("question", "de"): 1, ("passage", "en"): 1}
    assert (report.dropped_groups, report.dropped_pairs, report.kept_pairs) == (3, 5, 4)
    kept, report = filter_leakage(pairs, eval_index(), contained=True)
    assert [p.group for p in kept] == ["t6", "t4", "t5"] and report.groups_by_reason["contained"] == 1
    assert "id: 1 groups; pairs per language: es 1, it 1" in report.summary()


def test_first_reason_wins_within_a_group():
    pairs = [Pair("g", "en", "x question text", "The Panthers gave up 308 points.", dataset="d"),
             Pair("g", "de", "How many points did they surrender?", "p", dataset="d")]
    assert find_leaks(pairs, eval_index()) == {("d", "g"): "question"}


def test_index_from_squad_directory_and_retrieval_set(tmp_path):
    write_json(tmp_path / "xq" / "en.json", squad_doc("en", breaks=True))
    write_json(tmp_path / "xq" / "de.json", squad_doc("de", breaks=True))
    index = LeakageIndex.from_path(tmp_path / "xq")
    assert "q1-1-1" in index.ids and len(index.ids) == 8
    assert normalise_text("zwei question 0 0 1 de?") in index.questions
    assert normalise_text("gamma en article 1 paragraph 0 sentence 2.") in index.passages  # a sentence
    rs = RetrievalSet("r", (Query("qa", "en", "Some question here"),),
                      (Candidate("c1", "en", "A sentence here.", context="A sentence here. More."),), {}, ("en",))
    rindex = LeakageIndex.from_retrieval_set(rs)
    assert rindex.ids == {"qa"} and normalise_text("a sentence here more") in rindex.passages
    both = index | rindex
    assert {"qa", "q0-0-0"} <= both.ids
    with pytest.raises(InputError, match="no .json files"):
        LeakageIndex.from_path(tmp_path)


def test_filter_file_streams_two_passes(tmp_path):
    source = tmp_path / "train.jsonl"
    write_pairs([Pair("q0-0-0", "es", "a question", "a positive"), Pair("q0-0-0", "en", "b question", "b positive"),
                 Pair("keep", "en", "c question", "c positive")], source)
    write_json(tmp_path / "eval" / "en.json", squad_doc("en"))
    report = filter_leakage_file(source, tmp_path / "clean.parquet", LeakageIndex.from_path(tmp_path / "eval"))
    assert [p.group for p in iter_pairs(tmp_path / "clean.parquet")] == ["keep"]
    assert report.to_dict()["pairs_by_reason_language"] == {"id/en": 1, "id/es": 1}
    assert json.dumps(report.to_dict())
    pair_index = LeakageIndex.from_path(tmp_path / "clean.parquet")
    assert pair_index.ids == {"keep"}


def test_contained_scans_the_pair_language_only():
    index = LeakageIndex.from_texts(paragraphs=[("de", "Erster Satz hier. Der zweite Satz ist lang genug zum Finden.")])
    positive = "der zweite Satz ist lang genug zum Finden"
    german, english = Pair("a", "de", "q1 text", positive), Pair("b", "en", "q2 text", positive)
    assert index.leak_reason(german, contained=True) == "contained"
    assert index.leak_reason(english, contained=True) is None
    assert index.leak_reason(german) is None  # containment is opt-in
