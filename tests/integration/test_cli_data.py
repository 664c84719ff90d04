"""`polyir data synthetic` and `polyir model init`, run in-process through `polyir.cli.main`."""
import json

import pytest

from polyir.cli import main
from polyir.data import load_lareqa


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # an option rejected when parsed
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_data_synthetic_writes_a_loadable_collection(tmp_path, capsys):
    code, _, err = run(capsys, "data", "synthetic", "--languages", "3", "--groups", "30", "--eval-questions", "20",
                       "--seed", "7", "--out", str(tmp_path / "syn"))
    assert code == 0
    assert "3 languages (qaa, qab, qac)" in err
    rs = load_lareqa(tmp_path / "syn" / "eval")
    assert rs.languages == ("qaa", "qab", "qac") and len(rs.qrels) == 20
    manifest = json.loads((tmp_path / "syn" / "manifest.json").read_text())
    assert manifest["command"].startswith("polyir data synthetic --languages 3 --groups 30")


def test_data_synthetic_partial(tmp_path, capsys):
    code, _, _ = run(capsys, "data", "synthetic", "--languages", "5", "--groups", "10", "--eval-questions", "40",
                     "--partial", "--out", str(tmp_path))
    assert code == 0
    rs = load_lareqa(tmp_path / "eval")
    assert {len(rel) for rel in rs.qrels.values()} <= {2, 3, 4}


@pytest.mark.parametrize("argv,message", [
    (["data", "synthetic", "--languages", "40", "--out", "X"], "number of synthetic languages must be between 1 and 26"),
    (["model", "init", "--corpus", "MISSING", "--out", "X"], "MISSING: corpus file or directory not found"),
    (["model", "init", "--corpus", "BROKEN", "--out", "X"], "BROKEN: malformed JSON at line 1"),
    (["model", "init", "--corpus", "BROKEN", "--out", "TMP"], "not a model directory; refusing to replace it"),
    (["model", "init", "--corpus", "BROKEN", "--out", "X", "--max-seq-length", "0"],
     "argument --max-seq-length: must be a positive integer (>= 1), got 0"),
])
def test_errors_are_one_line_without_traceback(tmp_path, capsys, argv, message):
    (tmp_path / "broken.json").write_text('{"data": [')
    names = {"X": str(tmp_path / "out"), "TMP": str(tmp_path), "MISSING": str(tmp_path / "missing"), "BROKEN": str(tmp_path / "broken.json")}
    argv = [names.get(a, a) for a in argv]
    message = message.replace("MISSING", names["MISSING"]).replace("BROKEN", names["BROKEN"])
    code, out, err = run(capsys, *argv)
    assert code != 0
    assert err.startswith("polyir: error: ") and err.count("\n") == 1 and message in err
    assert "Traceback" not in err and out == ""


def test_model_init_end_to_end(tmp_path, capsys):
    from sentence_transformers import SentenceTransformer

    assert run(capsys, "data", "synthetic", "--groups", "40", "--eval-questions", "10", "--out",
               str(tmp_path / "syn"))[0] == 0
    code, out, err = run(capsys, "model", "init", "--preset", "tiny", "--corpus", str(tmp_path / "syn" / "train"),
                         "--out", str(tmp_path / "model"), "--seed", "1", "--max-seq-length", "64")
    assert code == 0 and out.strip() == str(tmp_path / "model")
    assert "LOAD REPORT" not in err and "Loading weights" not in err  # transformers' noise is silenced
    info = json.loads((tmp_path / "model" / "polyir_init.json").read_text())
    assert info["preset"] == "tiny" and info["seed"] == 1 and info["corpus_lines"] > 100
    model = SentenceTransformer(str(tmp_path / "model"), device="cpu")
    assert model.max_seq_length == 64
    rs = load_lareqa(tmp_path / "syn" / "eval")
    assert model.encode([q.text for q in rs.queries[:3]]).shape == (3, 64)
    assert run(capsys, "model", "init", "--corpus", str(tmp_path / "syn" / "eval"), "--out",
               str(tmp_path / "model"))[0] == 0  # an earlier model may be replaced
