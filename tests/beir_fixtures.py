"""A generated BEIR directory (``from beir_fixtures import write_beir``) and a slice of a real one.

The words are those of `translate_fixtures.toy_records` (the tiny translation models of the
tests are trained on them), so the tiny models tokenise these texts without unknown tokens.
"""
from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

LETTERS = "abcdefghijklmnop"


def _words() -> list[str]:
    rng = random.Random(12345)  # the vocabulary of translate_fixtures.toy_records
    return ["".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 7))) for _ in range(200)]


def _sentence(rng: random.Random, words: list[str], end: str = ".") -> str:
    return " ".join(rng.choice(words) for _ in range(rng.randint(3, 8))).capitalize() + end


def _write_jsonl(path: Path, records: list[dict]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")


def write_beir(root: Path, *, n_docs: int = 24, n_queries: int = 8, seed: int = 0, gz: bool = False) -> Path:
    """corpus (every other document titled, 1-4 sentences, an extra ``url`` field, one integer id,
    one record with a ``lang`` field), queries, and qrels/test.tsv + qrels/dev.tsv."""
    rng, words = random.Random(seed), _words()
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    docs = [{"_id": f"d{i}", "title": _sentence(rng, words, "") if i % 2 else "",
             "text": " ".join(_sentence(rng, words) for _ in range(rng.randint(1, 4))), "url": f"http://x/{i}"}
            for i in range(n_docs)]
    docs[-1]["_id"] = 7000  # BEIR allows integer ids
    docs[0]["lang"] = "en"
    queries = [{"_id": f"q{i}", "text": _sentence(rng, words, "?")} for i in range(n_queries)]
    suffix = ".jsonl.gz" if gz else ".jsonl"
    _write_jsonl(root / f"corpus{suffix}", docs)
    _write_jsonl(root / f"queries{suffix}", queries)
    doc_ids = [str(d["_id"]) for d in docs]
    test = [(f"q{i}", doc_ids[(3 * i + k) % n_docs]) for i in range(n_queries) for k in range(1 + i % 2)]
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in test))
    (root / "qrels" / "dev.tsv").write_text(f"q0\t{doc_ids[1]}\t1\r\n")  # no header, CRLF: copied as bytes
    return root


def slice_beir(source: Path, out: Path, *, n_queries: int, n_extra_docs: int) -> Path:
    """The first ``n_queries`` judged queries of a BEIR directory, their judged documents and
    ``n_extra_docs`` other documents, written to ``out`` (a temporary directory: never the repository)."""
    qrels_lines = (source / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    header, judgements = qrels_lines[0], [line.split("\t") for line in qrels_lines[1:] if line.strip()]
    wanted = list(dict.fromkeys(q for q, _, _ in judgements))[:n_queries]
    kept = [j for j in judgements if j[0] in set(wanted)]
    judged = {d for _, d, _ in kept}
    docs, extra = [], 0
    with open(source / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            if doc["_id"] in judged or extra < n_extra_docs:
                extra += doc["_id"] not in judged
                docs.append(doc)
    with open(source / "queries.jsonl", encoding="utf-8") as f:
        queries = [q for q in map(json.loads, f) if q["_id"] in set(wanted)]
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / "corpus.jsonl", docs)
    _write_jsonl(out / "queries.jsonl", queries)
    (out / "qrels" / "test.tsv").write_text("\n".join([header, *("\t".join(j) for j in kept)]) + "\n", encoding="utf-8")
    return out
