"""Tiny XQuAD-R / MLQA-R and BEIR fixtures, written by the tests themselves (import the fixtures you use)."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest


def lareqa_file(articles: list[list[dict]]) -> dict:
    """SQuAD+sentences JSON from ``[[{"sentences": [...], "qas": [(id, question, sentence, word)]}]]``:
    each question's answer is ``word`` inside sentence number ``sentence``."""
    data = []
    for paragraphs in articles:
        out = []
        for para in paragraphs:
            context = " ".join(para["sentences"])
            breaks, offset = [], 0
            for s in para["sentences"]:
                breaks.append([offset, offset + len(s)])
                offset += len(s) + 1
            qas = []
            for qid, question, k, word in para["qas"]:
                start = breaks[k][0] + para["sentences"][k].index(word)
                qas.append({"id": qid, "question": question, "answers": [{"text": word, "answer_start": start}]})
            out.append({"context": context, "sentences": para["sentences"], "sentence_breaks": breaks, "qas": qas})
        data.append({"title": "t", "paragraphs": out})
    return {"version": "1.1", "data": data}


@pytest.fixture
def lareqa_dir(tmp_path) -> Path:
    """Three languages, two articles; q3 is missing in 'el' and the pools differ in size (MLQA-R shape)."""
    en = lareqa_file([
        [{"sentences": ["Ann lives in Oslo.", "She has two cats.", "Her cats are black."],
          "qas": [("q1", "Where does Ann live?", 0, "Oslo"), ("q2", "How many cats?", 1, "two")]}],
        [{"sentences": ["Bob plays chess.", "He won in 1999."],
          "qas": [("q3", "What does Bob play?", 0, "chess"), ("q4", "When did Bob win?", 1, "1999")]}],
    ])
    de = lareqa_file([
        [{"sentences": ["Ann wohnt in Oslo und hat zwei Katzen.", "Sie sind schwarz."],
          "qas": [("q1", "Wo wohnt Ann?", 0, "Oslo"), ("q2", "Wie viele Katzen?", 0, "zwei")]}],
        [{"sentences": ["Bob spielt Schach.", "Er gewann 1999.", "Das war schön."],
          "qas": [("q3", "Was spielt Bob?", 0, "Schach"), ("q4", "Wann gewann Bob?", 1, "1999")]}],
    ])
    el = lareqa_file([
        [{"sentences": ["Η Άννα ζει στο Όσλο.", "Έχει δύο γάτες."],
          "qas": [("q2", "Πόσες γάτες;", 1, "δύο"), ("q1", "Πού ζει η Άννα;", 0, "Όσλο")]}],
        [{"sentences": ["Ο Μπομπ κέρδισε το 1999."],
          "qas": [("q4", "Πότε κέρδισε ο Μπομπ;", 0, "1999")]}],
    ])
    root = tmp_path / "lareqa"
    root.mkdir()
    (root / "en.json").write_text(json.dumps(en))
    (root / "deu.json").write_text(json.dumps(de, ensure_ascii=False))  # ISO 639-2 code, normalised to "de"
    with gzip.open(root / "el.json.gz", "wt", encoding="utf-8") as f:
        json.dump(el, f, ensure_ascii=False)
    return root


def write_jsonl(path: Path, rows: list) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows))


@pytest.fixture
def beir_dir(tmp_path) -> Path:
    root = tmp_path / "beir"
    (root / "qrels").mkdir(parents=True)
    write_jsonl(root / "corpus.jsonl", [
        {"_id": "d1", "title": "Oslo", "text": "Oslo is the capital of Norway."},
        {"_id": "d2", "title": "", "text": "Cats sleep a lot."},
        {"_id": "d3", "text": "Chess is a board game."},
        {"_id": 4, "title": "Only a title", "text": ""},
    ])
    write_jsonl(root / "queries.jsonl", [
        {"_id": "q1", "text": "capital of norway"},
        {"_id": "q2", "text": "how much do cats sleep"},
        {"_id": "q3", "text": "a query without judgements"},
        {"_id": "q4", "text": "a query judged non-relevant only"},
    ])
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td3\t0\nq2\td2\t2\nq2\t4\t1\nq4\td3\t0\n")
    return root
