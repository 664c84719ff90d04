"""`polyir evaluate` end to end with a tiny model on a generated multilingual set."""
import gzip
import json

import pytest

from polyir.cli import main


def evaluate(capsys, tmp_path, model, data, out, *extra):
    code = main(["evaluate", "--model", str(model), "--dataset", "xquad-r", "--data-dir", str(data),
                 "--out", str(out), "--cache-dir", str(tmp_path / "cache"), *extra])
    return code, *capsys.readouterr()


def test_evaluate_writes_outputs_and_second_run_hits_the_cache(tmp_path, capsys, synthetic_dir, synthetic_model_dir):
    code, out, err = evaluate(capsys, tmp_path, synthetic_model_dir, synthetic_dir / "eval", tmp_path / "a",
                              "--save-runs", "--run-depth", "20")
    assert code == 0, err
    assert "| AP |" in out and "rank distance" in out
    doc = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert doc["schema"] == "polyir.metrics/1"
    assert doc["languages"]["query"] == ["qaa", "qab", "qac"]
    assert len(doc["settings"]) == 3 + 6 + 3  # mono, cross, multi
    assert doc["run"]["encoding"]["forward_batches"] > 0
    assert doc["run"]["prompts"] == {"query": "query: ", "passage": "passage: "}
    for name in ("report.md", "heatmap.png", "per_query.tsv.gz", "runs/qaa-qab.trec", "qrels/multi.qrels"):
        assert (tmp_path / "a" / name).stat().st_size > 0, name
    with gzip.open(tmp_path / "a" / "per_query.tsv.gz", "rt") as f:
        assert sum(1 for _ in f) > 40 * 3

    code, out2, err = evaluate(capsys, tmp_path, synthetic_model_dir, synthetic_dir / "eval", tmp_path / "b")
    assert code == 0
    doc2 = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert doc2["run"]["encoding"]["forward_batches"] == 0  # everything came from the cache
    assert doc2["run"]["encoding"]["cache_hits"] == doc["run"]["encoding"]["encoded_texts"]
    assert doc2["summary"] == doc["summary"]


def test_trec_files_reproduce_the_metrics(tmp_path, capsys, synthetic_dir, synthetic_model_dir):
    import pytrec_eval

    code, _, _ = evaluate(capsys, tmp_path, synthetic_model_dir, synthetic_dir / "eval", tmp_path / "o",
                          "--save-runs", "--run-depth", "30", "--depth", "30", "--measures", "AP", "R@10")
    assert code == 0
    doc = json.loads((tmp_path / "o" / "metrics.json").read_text())

    def read(path, run):
        table = {}
        for line in path.read_text().splitlines():
            parts = line.split()
            q, d, v = (parts[0], parts[2], float(parts[4])) if run else (parts[0], parts[2], int(parts[3]))
            table.setdefault(q, {})[d] = v
        return table

    qrels = read(tmp_path / "o" / "qrels" / "qab.qrels", run=False)
    run = read(tmp_path / "o" / "runs" / "qaa-qab.trec", run=True)
    scores = pytrec_eval.RelevanceEvaluator(qrels, {"map", "recall_10"}).evaluate(run)
    ap = sum(s["map"] for s in scores.values()) / len(scores)
    assert ap == pytest.approx(doc["settings"]["qaa-qab"]["AP"], abs=1e-6)


def test_sentence_context_mode_and_prompts_change_what_is_encoded(tmp_path, capsys, synthetic_dir,
                                                                   synthetic_model_dir):
    code, _, _ = evaluate(capsys, tmp_path, synthetic_model_dir, synthetic_dir / "eval", tmp_path / "c",
                          "--candidate-text", "sentence+context", "--prompts", "paper", "--languages", "qaa", "qab",
                          "--max-queries", "10")
    assert code == 0
    doc = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert doc["run"]["candidate_text"] == "sentence+context"
    assert doc["run"]["prompts"] == {"query": "Query: ", "passage": "Passage: "}
    assert doc["counts"]["total_queries"] == 20


@pytest.mark.parametrize("extra, message", [
    (["--languages", "qaa", "xx-nope"], "unknown language code"),
    (["--languages", "de"], "de"),
    (["--measures", "MAGIC"], "MAGIC"),
    (["--prompts", "paper", "--query-prompt", "Q: "], "not both"),
])
def test_bad_input_is_one_line(tmp_path, capsys, synthetic_dir, synthetic_model_dir, extra, message):
    code, out, err = evaluate(capsys, tmp_path, synthetic_model_dir, synthetic_dir / "eval", tmp_path / "x", *extra)
    assert code != 0
    assert err.startswith("polyir: error: ") and message in err and "Traceback" not in err


def test_an_output_path_that_is_a_file_fails_before_the_work(tmp_path, capsys, synthetic_dir, synthetic_model_dir):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    code, _, err = evaluate(capsys, tmp_path, synthetic_model_dir, synthetic_dir / "eval", taken)
    assert code == 2 and err == f"polyir: error: {taken}: exists and is not a directory, so nothing can be written " \
                                "into it\n"
    assert taken.read_text() == "mine"


def test_missing_data_dir_and_model(tmp_path, capsys, synthetic_dir, synthetic_model_dir):
    code, _, err = evaluate(capsys, tmp_path, synthetic_model_dir, tmp_path / "nowhere", tmp_path / "x")
    assert code != 0 and "evaluation data directory not found" in err
    code, _, err = evaluate(capsys, tmp_path, tmp_path / "no-model", synthetic_dir / "eval", tmp_path / "x")
    assert code != 0 and err.startswith("polyir: error: ") and "Traceback" not in err
