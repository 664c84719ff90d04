"""Translating a BEIR directory: ids, order, qrels, fields, sentence splitting, filters, cache, chunks."""
import gzip
import json
from dataclasses import replace

import pytest

from beir_fixtures import write_beir
from polyir.data import load_beir
from polyir.data.evalsets.sentences import split_sentences
from polyir.errors import ConfigError, InputError
from polyir.translate.backends import ModelChoice, TranslatorPool
from polyir.translate.beir_pipeline import BeirTranslateOptions, translate_beir
from polyir.translate.beir_report import MANIFEST, REJECTS
from polyir.translate.cache import TranslationCache
from polyir.translate.filters import FilterConfig

from translate_fixtures import TOY_DECODING

OPTIONS = BeirTranslateOptions(source="en", targets=("de",), batch_size=8, chunk_size=5)


class ReversingTranslator:
    """Reverses every word: a stand-in whose output is a known function of its input."""

    name = "reverse"

    def __init__(self, broken=None):
        self.model_calls, self.seen, self.broken = 0, [], broken or {}

    def check_pair(self, src, tgt):
        pass

    def token_lengths(self, texts, src, tgt):
        return [len(t.split()) for t in texts]

    def translate(self, texts, src, tgt):
        self.model_calls += 1
        self.seen += list(texts)
        return [self.broken.get(t, " ".join(w[::-1] for w in t.split())) for t in texts]


def reverse(text):
    return " ".join(w[::-1] for w in text.split())


def fake_pool(model_dir, translator):
    loads = []

    def loader(name, settings):
        loads.append(name)
        return translator

    return TranslatorPool(ModelChoice(str(model_dir)), TOY_DECODING, loader=loader), loads


def lines(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_ids_order_fields_qrels_and_sentences(tiny_marian, tmp_path):
    src = write_beir(tmp_path / "beir")
    translator = ReversingTranslator()
    pool, _ = fake_pool(tiny_marian, translator)
    with TranslationCache(":memory:") as cache:
        [report] = translate_beir(src, tmp_path / "out", OPTIONS, pool, cache)
    out = tmp_path / "out" / "de"
    docs, translated = lines(src / "corpus.jsonl"), lines(out / "corpus.jsonl")
    assert [d["_id"] for d in translated] == [d["_id"] for d in docs]  # the integer id stays an integer
    for doc, new in zip(docs, translated):
        assert list(new) == list(doc) and new["url"] == doc["url"]  # other fields kept, in order
        assert new["title"] == reverse(doc["title"])  # titles whole
        assert new["text"] == " ".join(reverse(s) for s in split_sentences(doc["text"], "en"))
    assert translated[0]["lang"] == "de"
    queries = lines(out / "queries.jsonl")
    assert [(q["_id"], q["text"]) for q in queries] == [(q["_id"], reverse(q["text"])) for q in lines(src / "queries.jsonl")]
    for split in ("test.tsv", "dev.tsv"):
        assert (out / "qrels" / split).read_bytes() == (src / "qrels" / split).read_bytes()
    sentences = {s for d in docs for s in split_sentences(d["text"], "en")}
    assert sentences <= set(translator.seen) and not any(d["text"] in translator.seen for d in docs if len(
        split_sentences(d["text"], "en")) > 1)  # multi-sentence texts are never sent whole
    loaded = load_beir(out, "de")
    assert loaded.languages == ("de",) and len(loaded.candidates) == len(docs)

    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["model"]["name"] == str(tiny_marian) and len(manifest["model"]["fingerprint"]) == 64
    assert manifest["decoding"]["num_beams"] == 1 and manifest["decoding"]["batch_size"] == 8
    assert manifest["segmentation"]["chunk_size"] == 5 and manifest["on_reject"] == "source"
    corpus = manifest["files"]["corpus"]
    assert corpus["records"] == corpus["written"] == len(docs)
    assert corpus["fields_translated"] == {"text": len(docs), "title": len(docs) // 2}
    assert manifest["qrels"]["test.tsv"]["removed"] == 0 and manifest["rejections"]["count"] == 0
    assert (out / REJECTS).read_text() == "" and manifest["model_calls"] == translator.model_calls


def test_rejected_fields_fall_back_or_are_dropped(tiny_marian, tmp_path):
    src = write_beir(tmp_path / "beir")
    docs = lines(src / "corpus.jsonl")
    copied = next(d for d in docs[5:] if len(split_sentences(d["text"], "en")) == 1)  # the model copies it
    broken = {copied["text"]: copied["text"], docs[3]["title"]: ""}  # and writes nothing for a title
    broken.update({s: "abc " * 30 for s in split_sentences(docs[4]["text"], "en")})  # a decoding loop
    expected = {(copied["_id"], "text", "untranslated"), ("d3", "title", "empty"), ("d4", "text", "repetition")}
    for policy in ("source", "drop"):
        pool, _ = fake_pool(tiny_marian, ReversingTranslator(broken))
        with TranslationCache(":memory:") as cache:
            [report] = translate_beir(src, tmp_path / policy, replace(OPTIONS, on_reject=policy), pool, cache)
        out = tmp_path / policy / "de"
        rejects = [json.loads(line) for line in (out / REJECTS).read_text().splitlines()]
        assert {(r["_id"], r["field"], r["reason"]) for r in rejects} == expected and report.rejections == 3
        assert all(r["action"] == ("drop" if policy == "drop" and r["field"] == "text" else "source") for r in rejects)
        by_id = {d["_id"]: d for d in lines(out / "corpus.jsonl")}
        assert by_id["d3"]["title"] == docs[3]["title"]  # a failing title keeps its source, whatever the policy
        assert by_id["d3"]["text"] == " ".join(reverse(s) for s in split_sentences(docs[3]["text"], "en"))
        manifest = json.loads((out / MANIFEST).read_text())
        files = manifest["files"]["corpus"]
        assert files["fell_back"]["title"] == {"empty": 1}
        if policy == "source":
            assert by_id["d4"]["text"] == docs[4]["text"] and len(by_id) == len(docs)
            assert files["fell_back"]["text"] == {"repetition": 1, "untranslated": 1} and files["dropped"] == {}
            assert (out / "qrels" / "test.tsv").read_bytes() == (src / "qrels" / "test.tsv").read_bytes()
        else:
            assert set(by_id) == {d["_id"] for d in docs} - {"d4", copied["_id"]} and files["written"] == len(docs) - 2
            assert files["dropped"] == {"repetition": 1, "untranslated": 1} and "text" not in files["fell_back"]
            original = (src / "qrels" / "test.tsv").read_text().splitlines()
            kept = [line for line in original if line.split("\t")[1] not in ("d4", copied["_id"])]
            assert (out / "qrels" / "test.tsv").read_text().splitlines() == kept
            assert manifest["qrels"]["test.tsv"]["removed"] == len(original) - len(kept) > 0


def test_rerun_is_cached_and_chunk_size_does_not_change_the_bytes(tiny_marian, tmp_path):
    src = write_beir(tmp_path / "beir", n_docs=12, n_queries=4, gz=True)
    options = replace(OPTIONS, filters=FilterConfig(quality=False))
    outputs, calls = set(), []
    for run, chunk_size in enumerate((5, 5, 1, 1000)):
        pool = TranslatorPool(ModelChoice(str(tiny_marian)), TOY_DECODING)
        cache_path = tmp_path / ("shared.sqlite" if run < 2 else f"c{run}.sqlite")
        with TranslationCache(cache_path) as cache:
            [report] = translate_beir(src, tmp_path / f"out{run}", replace(options, chunk_size=chunk_size), pool, cache)
        out = tmp_path / f"out{run}" / "de"
        outputs.add(tuple((out / name).read_bytes() for name in ("corpus.jsonl.gz", "queries.jsonl.gz", REJECTS)))
        calls.append((report.model_calls, pool.models_loaded))
    assert len(outputs) == 1  # a re-run from the cache and other chunk sizes write the same bytes
    assert calls[0][0] > 0 and calls[1] == (0, 0)  # the re-run loads no model
    with gzip.open(tmp_path / "out0" / "de" / "corpus.jsonl.gz", "rb") as f:
        assert f.read().count(b"\n") == 12


def test_several_targets_each_get_a_directory(tiny_marian, tmp_path):
    src = write_beir(tmp_path / "beir", n_docs=6, n_queries=3)
    pool, loads = fake_pool(tiny_marian, ReversingTranslator())
    with TranslationCache(":memory:") as cache:
        reports = translate_beir(src, tmp_path / "out", replace(OPTIONS, targets=("de", "fr")), pool, cache)
    assert [r.target for r in reports] == ["de", "fr"] and loads == [str(tiny_marian)]
    for lang in ("de", "fr"):
        assert load_beir(tmp_path / "out" / lang, lang).languages == (lang,)


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "corpus.jsonl").open("a").write('{"_id": "d1", "text": "again"}\n'),
     "corpus.jsonl: line 25 _id=d1: duplicate _id"),
    (lambda d: (d / "queries.jsonl").open("a").write('{"_id": "q9", "text": 5}\n'), "line 9 _id=q9: 'text' must be"),
    (lambda d: (d / "corpus.jsonl").open("a").write('{"_id": "x", "title": "", "text": " "}\n'), "empty text"),
    (lambda d: (d / "qrels" / "test.tsv").open("a").write("q1\td1\tmany\n"), "score must be an integer"),
    (lambda d: (d / "queries.jsonl").unlink(), "queries.jsonl not found"),
])
def test_bad_input_fails_before_any_translation(tiny_marian, tmp_path, damage, message):
    src = write_beir(tmp_path / "beir")
    damage(src)
    pool, loads = fake_pool(tiny_marian, ReversingTranslator())
    with TranslationCache(":memory:") as cache, pytest.raises(InputError, match=message):
        translate_beir(src, tmp_path / "out", OPTIONS, pool, cache)
    assert loads == [] and not (tmp_path / "out").exists()


def test_bad_options(tiny_marian, tmp_path):
    src = write_beir(tmp_path / "beir", n_docs=4, n_queries=2)
    pool, _ = fake_pool(tiny_marian, ReversingTranslator())
    with TranslationCache(":memory:") as cache:
        for options, message in [(replace(OPTIONS, on_reject="keep"), "on_reject must be one of"),
                                 (replace(OPTIONS, chunk_size=0), "chunk size"),
                                 (replace(OPTIONS, targets=("en",)), "also a target")]:
            with pytest.raises(ConfigError, match=message):
                translate_beir(src, tmp_path / "out", options, pool, cache)
        write_beir(tmp_path / "de", n_docs=4, n_queries=2)
        with pytest.raises(ConfigError, match="is the source directory"):
            translate_beir(tmp_path / "de", tmp_path, OPTIONS, pool, cache)
