"""Generated fixtures for the training-data tests (SQuAD-format files, pair records)."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

WORDS = {"en": ["alpha", "beta", "gamma", "delta", "omega", "sigma"],
         "de": ["eins", "zwei", "drei", "vier", "fuenf", "sechs"],
         "es": ["uno", "dos", "tres", "cuatro", "cinco", "seis"]}


def squad_doc(lang: str, n_articles: int = 2, paragraphs: int = 2, questions: int = 2, *,
              breaks: bool = False, v2_unanswerable: bool = False, id_prefix: str = "q") -> dict:
    """A SQuAD v1.1 document; question ids ``{id_prefix}{a}-{p}-{q}`` are shared across languages.

    Each paragraph has three sentences; question q answers sentence q (start of its 2nd word).
    """
    words = WORDS[lang]
    data = []
    for a in range(n_articles):
        paras = []
        for p in range(paragraphs):
            sentences = [f"{words[s]} {lang} article {a} paragraph {p} sentence {s}." for s in range(3)]
            context = " ".join(sentences)
            starts, pos = [], 0
            for s in sentences:
                starts.append(pos)
                pos += len(s) + 1
            qas = []
            for q in range(questions):
                answer = f"{lang} article"
                qas.append({"id": f"{id_prefix}{a}-{p}-{q}", "question": f"{words[q]} question {a} {p} {q} {lang}?",
                            "answers": [{"text": answer, "answer_start": starts[q % 3] + len(words[q % 3]) + 1}]})
            if v2_unanswerable:
                qas.append({"id": f"u{a}-{p}", "question": f"unanswerable {a} {p} {lang}?", "answers": [],
                            "is_impossible": True,
                            "plausible_answers": [{"text": words[2], "answer_start": starts[2]}]})
            para = {"context": context, "qas": qas}
            if breaks:
                para["sentence_breaks"] = [[st, st + len(s)] for st, s in zip(starts, sentences)]
                para["sentences"] = sentences
            paras.append(para)
        data.append({"title": f"Article_{a}", "paragraphs": paras})
    return {"version": "1.1", "data": data}


def write_json(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, ensure_ascii=False)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_lines(path: Path, lines) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def record(id="g1", lang="en", query="what is it?", positive="it is a thing.", **extra) -> dict:
    return {"id": id, "lang": lang, "query": query, "positive": positive, **extra}
