"""A BEIR directory and its translations as one parallel collection (shared query ids)."""
import json
import shutil

import pytest

from beir_fixtures import write_beir
from polyir.data.evalsets.beir_parallel import load_parallel_beir
from polyir.errors import ConfigError, InputError


def translated_copy(src, dst, lang, *, drop_doc=None):
    """A stand-in translation: the same records with a language tag, optionally without one document."""
    shutil.copytree(src, dst)
    docs = [json.loads(line) for line in (src / "corpus.jsonl").read_text().splitlines()]
    docs = [dict(d, text=f"[{lang}] {d['text']}") for d in docs if str(d["_id"]) != drop_doc]
    for d in docs:
        d.pop("lang", None)
    (dst / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    if drop_doc:
        qrels = (src / "qrels" / "test.tsv").read_text().splitlines(keepends=True)
        (dst / "qrels" / "test.tsv").write_text("".join(x for x in qrels if f"\t{drop_doc}\t" not in x))
    return dst


def test_queries_share_ids_documents_are_prefixed_and_qrels_span_languages(tmp_path):
    src = write_beir(tmp_path / "en")
    rset = load_parallel_beir(src, [("de", translated_copy(src, tmp_path / "de", "de"))], lang="en")
    assert rset.languages == ("en", "de") and rset.meta["original_language"] == "en"
    en_ids = [q.id for q in rset.queries if q.lang == "en"]
    assert en_ids == [q.id for q in rset.queries if q.lang == "de"] == [f"q{i}" for i in range(8)]
    assert {c.id for c in rset.candidates} == {f"{lang}:{d}" for lang in ("en", "de")
                                                for d in [*(f"d{i}" for i in range(23)), "7000"]}
    assert dict(rset.qrels["q1"]) == {"en:d3": 1, "en:d4": 1, "de:d3": 1, "de:d4": 1}
    de = {c.id: c for c in rset.candidates}["de:d1"]
    assert de.lang == "de" and de.text.startswith("[de] ") and de.title  # titles travel with their text
    rset.validate()


def test_a_translation_without_some_records_keeps_its_own_judgements(tmp_path):
    src = write_beir(tmp_path / "en")
    rset = load_parallel_beir(src, [("de", translated_copy(src, tmp_path / "de", "de", drop_doc="d4"))], lang="en")
    assert dict(rset.qrels["q1"]) == {"en:d3": 1, "en:d4": 1, "de:d3": 1}
    assert "de:d4" not in {c.id for c in rset.candidates}


def test_mismatches_are_one_line_errors(tmp_path):
    src = write_beir(tmp_path / "en")
    other = translated_copy(write_beir(tmp_path / "other", n_docs=30), tmp_path / "other-de", "de")
    with pytest.raises(InputError, match=r"document id 'd23' is not in the original \(6 such ids\): not a translation"):
        load_parallel_beir(src, [("de", other)], lang="en")  # d23..d28: the original has 7000 for d23
    with pytest.raises(ConfigError, match="given twice"):
        load_parallel_beir(src, [("en", translated_copy(src, tmp_path / "en2", "en"))], lang="en")
    tagged = translated_copy(src, tmp_path / "fr", "fr")
    queries = (tagged / "queries.jsonl").read_text().splitlines()
    queries[0] = json.dumps(dict(json.loads(queries[0]), lang="es"))
    (tagged / "queries.jsonl").write_text("\n".join(queries) + "\n")
    with pytest.raises(InputError, match="expected a 'fr' translation, found languages"):
        load_parallel_beir(src, [("fr", tagged)], lang="en")
