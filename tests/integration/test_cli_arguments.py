"""Command-line arguments are checked when parsed: one line on stderr, exit 2, nothing done."""
from __future__ import annotations

import pytest

from polyir.cli import main


def usage_error(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("polyir: error: ") and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("argv, message", [
    (["sweep", "S.yaml", "--jobs", "0"], "polyir sweep: argument --jobs: must be a positive integer (>= 1), got 0"),
    (["sweep", "S.yaml", "--threads", "-3"], "argument --threads: must be a positive integer (>= 1), got -3"),
    (["data", "import", "squad", "x.json", "--out", "OUT.jsonl", "--min-languages", "-3"],
     "polyir data import: argument --min-languages: must be a positive integer (>= 1), got -3"),
    (["train", "--alpha", "1.5"], "argument --alpha: must be a number in [0, 1], got 1.5"),
    (["train", "--lr", "fast"], "argument --lr: expected a number, got 'fast'"),
    (["train", "--lr", "nan"], "argument --lr: must be a positive number, got nan"),
    (["evaluate", "--model", "m", "--dataset", "beir", "--data-dir", "d", "--out", "OUT", "--batch-size", "0"],
     "argument --batch-size: must be a positive integer (>= 1), got 0"),
    (["evaluate", "--model", "m", "--dataset", "beir", "--data-dir", "d", "--out", "OUT", "--no-cache",
      "--cache-dir", "c"], "argument --cache-dir: not allowed with argument --no-cache"),
    (["report", "r.db", "--out", "OUT", "--level", "1"], "argument --level: must be a number in (0, 1), got 1"),
    (["data", "split", "in.jsonl", "--train-out", "a.jsonl", "--heldout-out", "b.jsonl", "--fraction", "0"],
     "argument --fraction: must be a number in (0, 1), got 0"),
    (["demo", "--seeds", "0"], "argument --seeds: must be a positive integer"),
    (["evaluate", "--model", "m"], "the following arguments are required"),
    (["no-such-command"], "invalid choice: 'no-such-command'"),
])
def test_bad_arguments_are_one_line_and_nothing_is_written(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert message in usage_error(capsys, *argv)
    assert list(tmp_path.iterdir()) == []


def test_a_file_the_system_refuses_is_one_line(tmp_path, capsys, monkeypatch):
    """Permission problems cannot be staged as root: the command meets the error the system would raise."""
    import polyir.cli.data_prep as data_prep

    def refused(args):
        raise PermissionError(13, "Permission denied", str(tmp_path / "locked.json"))

    monkeypatch.setattr(data_prep, "_stats", refused)
    code = main(["data", "stats", str(tmp_path / "locked.json")])
    err = capsys.readouterr().err
    assert code == 2 and err == f"polyir: error: {tmp_path / 'locked.json'}: Permission denied\n"
