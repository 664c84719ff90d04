"""`polyir translate` and `polyir data filter`, run in-process through `polyir.cli.main`."""
import json
import random
import shutil
from pathlib import Path

import pytest

from polyir.cli import main
from polyir.data.pairs.pair_files import iter_pairs

WORDS = ["".join(random.Random(i).choice("abcdefghijklmnop") for _ in range(3 + i % 5)) for i in range(150)]


def records(n, seed=0):
    rng = random.Random(seed)
    sentence = lambda end: " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))).capitalize() + end
    return [{"id": f"q{seed}-{i}", "lang": "en", "query": sentence("?"),
             "positive": f"{sentence('.')} {sentence('.')}", "dataset": "toy"} for i in range(n)]


def write(path, recs):
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return str(path)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from polyir.translate.tiny import build_tiny_translation_model

    root = tmp_path_factory.mktemp("translation-models")
    texts = [f"{r['query']} {r['positive']}" for r in records(40, seed=100)]
    return {"marian": str(build_tiny_translation_model(root / "marian", texts)),
            "nllb": str(build_tiny_translation_model(root / "nllb", texts, family="nllb", languages=["en", "de"]))}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_translate_then_rerun_from_the_cache(models, tmp_path, capsys):
    src = write(tmp_path / "in.jsonl", records(6))
    argv = ["translate", src, "--out", tmp_path / "out.jsonl", "--targets", "de", "--model", models["marian"],
            "--num-beams", "1", "--max-length", "8", "--cache", tmp_path / "c.sqlite", "--report", tmp_path / "r.json"]
    code, out, err = run(capsys, *argv)
    assert code == 0 and out == ""
    report = json.loads((tmp_path / "r.json").read_text())
    n = report["directions"]["de"]["segments"]
    assert f"de: {n} segments, 0 cached, {n} translated" in err
    assert "quality filters (pairs dropped per language and reason):" in err and "length_ratio" in err
    assert report["filters"]["checked"] == 6 and report["model_calls"] >= 1
    written = list(iter_pairs(tmp_path / "out.jsonl"))
    assert {p.lang for p in written} <= {"en", "de"} and sum(p.lang == "en" for p in written) == 6
    assert f"wrote {len(written)} pairs" in err

    code, _, err = run(capsys, *argv)
    assert code == 0
    assert f"de: {n} segments, {n} cached, 0 translated" in err and "model calls 0, models loaded 0" in err


def test_translate_with_leakage_guard_and_no_filter(models, tmp_path, capsys):
    recs = records(4, seed=1)
    src = write(tmp_path / "in.jsonl", recs)
    evaluation = write(tmp_path / "eval.jsonl", [dict(recs[0], positive="Something else entirely here.")])
    code, _, err = run(capsys, "translate", src, "--out", tmp_path / "out.jsonl", "--targets", "de", "--model",
                       models["marian"], "--num-beams", "1", "--max-length", "8", "--no-cache", "--no-filter",
                       "--exclude", evaluation, "--translations-only")
    assert code == 0
    assert "leakage guard: dropped 1 groups (1 pairs), kept 3 pairs" in err and "(before translation)" in err
    assert [(p.group, p.lang) for p in iter_pairs(tmp_path / "out.jsonl")] == [(r["id"], "de") for r in recs[1:]]


def test_data_filter_command(tmp_path, capsys):
    en = "The committee approved the new budget for the city library after a long debate."
    de = "Der Ausschuss genehmigte nach langer Debatte das neue Budget für die Stadtbibliothek."
    recs = [{"id": "a", "lang": "en", "query": en, "positive": en}, {"id": "a", "lang": "de", "query": de, "positive": de},
            {"id": "b", "lang": "en", "query": en, "positive": en}, {"id": "b", "lang": "de", "query": en, "positive": de},
            {"id": "b", "lang": "zh", "query": "委员会批准了预算。", "positive": en + " " + en}]
    src = write(tmp_path / "in.jsonl", recs)
    code, _, err = run(capsys, "data", "filter", src, "--out", tmp_path / "out.jsonl", "--langid",
                       "--report", tmp_path / "r.json")
    assert code == 0 and "kept 1 of 3 checked pairs" in err
    rows = {line.split()[0]: line.split() for line in err.splitlines() if line.split() and line.split()[0] in ("de", "zh")}
    assert rows["de"][:5] == ["de", "2", "1", "0", "1"] and rows["zh"][1:3] == ["1", "0"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["per_language"]["de"]["dropped"] == {"untranslated": 1}
    assert len(report["per_language"]["zh"]["dropped"]) == 1
    assert [(p.group, p.lang) for p in iter_pairs(tmp_path / "out.jsonl")] == [("a", "en"), ("a", "de"), ("b", "en")]


@pytest.mark.parametrize("argv,message", [
    (["--targets", "xx-yy-zz"], "unknown language code 'xx-yy-zz'"),
    (["--targets", "de", "th", "--model", "NLLB"], "does not know language 'th' (no token 'tha_Thai')"),
    (["--targets", "de", "--model", "MISSING"], "MISSING: translation model directory not found"),
    (["--targets", "de", "--model", "NOTAMODEL"], "NOTAMODEL: not a Hugging Face translation model directory (no config.json)"),
    (["--targets", "de", "--model", "BROKENMODEL"], "BROKENMODEL: cannot load translation model: "),
    (["--targets", "de", "--cache", "BROKEN"], "BROKEN: not a translation cache (SQLite) file: file is not a database"),
    (["--targets", "de", "--input", "BROKEN"], "BROKEN: line 1: malformed JSON"),
    (["--targets", "de", "--input", "NOFILE"], "NOFILE: file not found"),
    (["--targets", "de", "--source", "fr"], "no pairs in the source language 'fr'"),
    (["--targets", "de", "--out", "OUT.txt"], "a pair file must end in one of"),
])
def test_errors_are_one_line(models, tmp_path, capsys, argv, message):
    names = {"NLLB": models["nllb"], "MISSING": str(tmp_path / "missing-model"), "BROKEN": str(tmp_path / "broken.jsonl"),
             "NOFILE": str(tmp_path / "nofile.jsonl"), "OUT.txt": str(tmp_path / "out.txt"),
             "NOTAMODEL": str(tmp_path / "empty-dir"), "BROKENMODEL": str(tmp_path / "broken-model")}
    (tmp_path / "broken.jsonl").write_text('{"id": "a", "lang": \n')
    (tmp_path / "empty-dir").mkdir()
    shutil.copytree(models["marian"], names["BROKENMODEL"])
    (Path(names["BROKENMODEL"]) / "config.json").write_text('{"model_type": "no-such-architecture"}')
    src = write(tmp_path / "in.jsonl", records(2, seed=3))
    argv = [names.get(a, a) for a in argv]
    if "--input" in argv:
        src = argv.pop(argv.index("--input") + 1)
        argv.remove("--input")
    out = str(tmp_path / "out.jsonl")
    if "--out" in argv:
        out = argv.pop(argv.index("--out") + 1)
        argv.remove("--out")
    model = [] if "--model" in argv else ["--model", models["marian"]]
    argv = ["translate", src, "--out", out, *model, "--num-beams", "1", "--max-length", "8", "--no-cache", *argv]
    argv = [x for x in argv if x != "--no-cache"] if "--cache" in argv else argv
    code, stdout, err = run(capsys, *argv)
    for name in ("BROKENMODEL", "NOTAMODEL", "MISSING", "BROKEN", "NOFILE"):
        message = message.replace(name, names[name])
    assert code != 0 and stdout == ""
    assert err.startswith("polyir: error: ") and message in err and "Traceback" not in err
    assert err.count("\n") == 1, err
