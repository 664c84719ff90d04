"""`polyir translate BEIR_DIR` then `polyir evaluate --translation`, end to end with tiny models.

A generated BEIR set always; a slice of ../shared/data/xglue-qam-de/beir (German, translated
into English and back) when the shared data are present.
"""
import json

import pytest

from beir_fixtures import slice_beir, write_beir
from polyir.cli import main
from polyir.data import load_beir
from shared_paths import shared_data

DECODING = ["--num-beams", "1", "--max-length", "8"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def models(root, corpus_file):
    """A tiny Marian translation model and a tiny sentence-transformers model, both trained on ``corpus_file``."""
    from polyir.modelinit import init_model
    from polyir.translate.tiny import build_tiny_translation_model

    texts = [json.loads(line)["text"] for line in corpus_file.read_text(encoding="utf-8").splitlines()]
    return (build_tiny_translation_model(root / "marian", texts),
            init_model("tiny", [corpus_file], root / "encoder", seed=0))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("beir-cli")
    src = write_beir(root / "beir", n_docs=20, n_queries=8)
    return (src, *models(root, src / "corpus.jsonl"))


def translate(capsys, src, out, model, cache, source, target, *extra):
    return run(capsys, "translate", src, "--out", out, "--source", source, "--targets", target, "--model", model,
               *DECODING, "--cache", cache, *extra)


def evaluate(capsys, encoder, original, lang, translation, out, cache, *extra):
    return run(capsys, "evaluate", "--model", encoder, "--dataset", "beir", "--data-dir", original,
               "--languages", lang, "--translation", translation, "--out", out, "--cache-dir", cache,
               "--resamples", "500", *extra)


def test_translate_then_evaluate_side_by_side(generated, tmp_path, capsys):
    src, marian, encoder = generated
    code, out, err = translate(capsys, src, tmp_path / "out", marian, tmp_path / "c.sqlite", "en", "de",
                               "--report", tmp_path / "r.json")
    assert code == 0 and out == "", err
    assert "de corpus: 20 records, 20 written;" in err and "0 cached" in err
    assert "quality filters (rejected fields per file, field and reason" in err and "qrels copied unchanged" in err
    manifest = json.loads((tmp_path / "out" / "de" / "polyir-translation.json").read_text())
    assert json.loads((tmp_path / "r.json").read_text())["de"] == manifest
    assert manifest["source"]["language"] == "en" and manifest["target"]["language"] == "de"

    code, _, err = translate(capsys, src, tmp_path / "out", marian, tmp_path / "c.sqlite", "en", "de")
    assert code == 0 and "model calls 0" in err

    code, out, err = evaluate(capsys, encoder, src, "en", f"de={tmp_path / 'out' / 'de'}", tmp_path / "eval",
                              tmp_path / "ec")
    assert code == 0, err
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["measures"] == ["nDCG@10", "R@100", "AP", "RR"]  # BEIR's defaults
    assert set(metrics["settings"]) == {"en-en", "de-de", "en-de", "de-en", "en-multi", "de-multi"}
    assert metrics["counts"]["queries"] == {"en": 8, "de": 8} and metrics["counts"]["candidates"] == {"en": 20, "de": 20}
    gap = json.loads((tmp_path / "eval" / "translation.json").read_text())
    rows = {(r["setting"], r["measure"]): r for r in gap["rows"]}
    assert rows["de-de", "nDCG@10"]["role"] == "translated" and rows["de-de", "nDCG@10"]["n_queries"] == 8
    assert rows["en-en", "nDCG@10"]["value"] == pytest.approx(metrics["settings"]["en-en"]["nDCG@10"])
    assert rows["de-en", "R@100"]["delta"] == pytest.approx(
        metrics["settings"]["de-en"]["R@100"] - metrics["settings"]["en-en"]["R@100"])
    assert "translation (original en; delta = setting - original" in out and "| original queries | en-de |" in out
    assert "## Translation: change against the original" in (tmp_path / "eval" / "report.md").read_text()


@pytest.mark.parametrize("argv, message", [
    (["--exclude", "EVAL"], "--exclude: only for pair files, not a BEIR directory"),
    (["--translations-only"], "--translations-only: only for pair files"),
    (["--on-reject", "drop", "--input", "PAIRS"], "--on-reject: only for a BEIR directory"),
    (["--input", "EMPTY"], "EMPTY: corpus.jsonl not found"),
])
def test_translate_option_errors_are_one_line(generated, tmp_path, capsys, argv, message):
    src, marian, _ = generated
    names = {"EVAL": str(tmp_path / "eval.jsonl"), "PAIRS": str(tmp_path / "pairs.jsonl"), "EMPTY": str(tmp_path)}
    (tmp_path / "pairs.jsonl").write_text('{"id": "a", "lang": "en", "query": "x?", "positive": "y."}\n')
    argv = [names.get(a, a) for a in argv]
    if "--input" in argv:
        src = argv.pop(argv.index("--input") + 1)
        argv.remove("--input")
    code, out, err = translate(capsys, src, tmp_path / "out", marian, tmp_path / "c.sqlite", "en", "de", *argv)
    assert code != 0 and out == "" and err.count("\n") == 1
    assert err.startswith("polyir: error: ") and message.replace("EMPTY", str(tmp_path)) in err


@pytest.mark.parametrize("translation, extra, message", [
    ("de", [], "--translation expects LANG=DIR, got 'de'"),
    ("de=NOWHERE", [], "NOWHERE: translation directory not found"),
    ("de=SELF", [], "language 'en' given twice"),
    ("de=SELF", ["--dataset", "xquad-r"], "translations (--translation LANG=DIR) are BEIR directories"),
])
def test_evaluate_translation_errors_are_one_line(generated, tmp_path, capsys, translation, extra, message):
    src, _, encoder = generated
    translation = translation.replace("NOWHERE", str(tmp_path / "nowhere")).replace("de=SELF", f"en={src}")
    code, _, err = evaluate(capsys, encoder, src, "en", translation, tmp_path / "eval", tmp_path / "ec", *extra)
    assert code != 0 and err.startswith("polyir: error: ") and "Traceback" not in err
    assert message.replace("NOWHERE", str(tmp_path / "nowhere")) in err


@pytest.mark.shared_data
def test_xglue_german_to_english_and_back(tmp_path, capsys):
    """Real German passages and Bing queries: ids and qrels survive de -> en -> de; the evaluation runs."""
    src = slice_beir(shared_data("xglue-qam-de", "beir"), tmp_path / "de", n_queries=8, n_extra_docs=4)
    marian, encoder = models(tmp_path, src / "corpus.jsonl")
    cache = tmp_path / "c.sqlite"
    code, _, err = translate(capsys, src, tmp_path / "to", marian, cache, "de", "en")
    assert code == 0, err
    code, _, err = translate(capsys, tmp_path / "to" / "en", tmp_path / "back", marian, cache, "en", "de")
    assert code == 0, err
    original = load_beir(src, "de")
    for directory, lang in ((tmp_path / "to" / "en", "en"), (tmp_path / "back" / "de", "de")):
        loaded = load_beir(directory, lang)
        assert [q.id for q in loaded.queries] == [q.id for q in original.queries]
        assert [c.id for c in loaded.candidates] == [c.id for c in original.candidates]
        assert (directory / "qrels" / "test.tsv").read_bytes() == (src / "qrels" / "test.tsv").read_bytes()
    manifest = json.loads((tmp_path / "back" / "de" / "polyir-translation.json").read_text())
    assert manifest["files"]["corpus"]["records"] == len(original.candidates)
    assert manifest["files"]["corpus"]["segments"]["unique_per_chunk"] > len(original.candidates)  # split into sentences

    code, _, err = evaluate(capsys, encoder, src, "de", f"en={tmp_path / 'to' / 'en'}", tmp_path / "eval",
                            tmp_path / "ec", "--measures", "nDCG@10", "R@100")
    assert code == 0, err
    gap = json.loads((tmp_path / "eval" / "translation.json").read_text())
    assert [(r["role"], r["setting"]) for r in gap["rows"][:4]] == [
        ("original", "de-de"), ("translated", "en-en"), ("original queries", "de-en"), ("translated queries", "en-de")]
    assert all(r["n_queries"] == 8 for r in gap["rows"])
