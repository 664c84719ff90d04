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


def test_streamed_beir_evaluation_equals_the_in_memory_one_at_its_depth(tmp_path, capsys, synthetic_model_dir):
    import random

    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(3, 7))) for _ in range(60)]
    root = tmp_path / "beir"
    (root / "qrels").mkdir(parents=True)
    docs = [{"_id": f"d{i}", "title": "", "text": " ".join(rng.choice(words) for _ in range(rng.randint(3, 15)))}
            for i in range(150)]
    (root / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (root / "queries.jsonl").write_text("".join(json.dumps({"_id": f"q{i}", "text": docs[i * 7]["text"][:20]}) + "\n"
                                                for i in range(20)))
    (root / "qrels" / "test.tsv").write_text("".join(f"q{i}\td{i * 7}\t1\n" for i in range(20)))
    common = ["--model", str(synthetic_model_dir), "--dataset", "beir", "--data-dir", str(root), "--languages", "sw",
              "--no-cache", "--measures", "AP", "nDCG@10", "R@5"]
    assert main(["evaluate", *common, "--depth", "10", "--out", str(tmp_path / "full")]) == 0
    assert main(["evaluate", *common, "--stream-corpus", "--run-depth", "10", "--save-runs",
                 "--out", str(tmp_path / "streamed")]) == 0
    capsys.readouterr()
    full = json.loads((tmp_path / "full" / "metrics.json").read_text())["summary"]["mono"]
    streamed = json.loads((tmp_path / "streamed" / "metrics.json").read_text())
    assert streamed["schema"] == "polyir.streamed-metrics/1" and streamed["depth"] == 10
    assert streamed["counts"] == {"queries": 20, "passages": 150}
    for measure in ("AP", "nDCG@10", "R@5"):
        assert streamed["summary"][measure] == pytest.approx(full[measure], abs=1e-9), measure
    run_lines = (tmp_path / "streamed" / "run.trec").read_text().splitlines()
    assert len(run_lines) == 20 * 10 and run_lines[0].split()[1] == "Q0"
    assert main(["evaluate", *common, "--stream-corpus", "--depth", "5", "--out", str(tmp_path / "x")]) == 2
    assert "--run-depth" in capsys.readouterr().err
