"""`polyir demo --quick` end to end (reduced sizes: docs/experiments.md, "The demo"), and its reuse of
finished runs when run again."""
from __future__ import annotations

import pytest
import yaml

from polyir.cli import main
from polyir.experiments.store import ResultsStore


def run(capsys, *argv):
    code = main(["-q", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_quick_end_to_end_and_rerun(tmp_path, capsys):
    out = tmp_path / "demo"
    argv = ["demo", "--quick", "--out", out, "--strategies", "mono", "cross", "hybrid(0.5)", "--steps", "20"]
    code, stdout, stderr = run(capsys, *argv)
    assert code == 0, stderr
    table = [line for line in stdout.splitlines() if line.startswith("| ")]
    assert table[0] == "| strategy | seeds | mono AP | cross AP | multi AP | rank distance |"
    assert [row.split(" | ")[0].strip("| ") for row in table[1:]] == [
        "untrained", "X-X-mono", "X-Y", "**hybrid(0.5)** (ref)"]
    assert "Summary (paired tests over questions):" in stdout
    assert f"report: {out / 'report' / 'report.html'}" in stdout
    assert "4 runs trained/evaluated, 0 reused" in stderr
    assert (out / "report" / "report.md").stat().st_size > 1000
    assert {p.suffix for p in (out / "report").iterdir()} == {".md", ".html", ".png"}
    sweep = yaml.safe_load((out / "sweep.yaml").read_text())
    assert sweep["base"]["optim"] == {"lr": 1e-3, "steps": 20} and sweep["grid"]["seed"] == [0]
    with ResultsStore(out / "sweep" / "results.db", create=False) as store:
        runs = store.runs()
    assert len(runs) == 4 and {r["steps"] for r in runs if r["kind"] == "train"} == {20}

    code, stdout_again, stderr = run(capsys, *argv)
    assert code == 0 and "0 runs trained/evaluated, 4 reused" in stderr
    assert stdout_again.split("report:")[0] == stdout.split("report:")[0]  # same results, same tests


def test_demo_options_are_checked(tmp_path, capsys):
    code, _, stderr = run(capsys, "demo", "--out", tmp_path / "d", "--data", "x.jsonl")
    assert code == 2 and "--data needs --eval" in stderr
    code, _, stderr = run(capsys, "demo", "--quick", "--out", tmp_path / "d", "--strategies", "hybird")
    assert code == 2 and "unknown strategy 'hybird'" in stderr


@pytest.mark.shared_data
def test_demo_on_real_data_builds_the_same_sweep(tmp_path):
    """--data/--eval/--model give a sweep over real inputs (the sweep file only; no training here)."""
    from shared_paths import shared_data
    from polyir.experiments.demo_study import DemoOptions, demo_sweep

    xquad = shared_data("xquad-r")
    options = DemoOptions(out=tmp_path, data=(f"squad-es={shared_data('qa', 'squad-es')}",), eval_dir=str(xquad),
                          model="/models/me5", max_queries=100)
    sweep = demo_sweep(options, list(options.data), str(xquad), "/models/me5")
    assert sweep["base"]["optim"]["lr"] == 3e-5 and sweep["evaluate"][0]["max_queries"] == 100
    assert sweep["grid"]["model"] == [{"name": "me5", "name_or_path": "/models/me5"}]
