"""kill -9 in the middle of a translation, re-run: nothing lost, nothing duplicated, same bytes."""
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from polyir.cli import main

from translate_fixtures import toy_records, write_records
from processes import child_env


def command(src, out, model, cache, report):
    return [sys.executable, "-m", "polyir.cli", "-q", "translate", str(src), "--out", str(out), "--targets", "de",
            "--model", str(model), "--num-beams", "1", "--max-length", "8", "--batch-size", "2",
            "--cache", str(cache), "--no-filter", "--report", str(report)]


def cached_rows(cache: Path) -> int:
    if not cache.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT count(*) FROM translation").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is being created
        return 0


def test_sigkill_then_rerun_gives_the_uninterrupted_output(tiny_marian, tmp_path):
    src = write_records(tmp_path / "in.jsonl", toy_records(20, seed=11))
    env = child_env(HF_HUB_OFFLINE="1")

    killed = subprocess.Popen(command(src, tmp_path / "resumed.jsonl", tiny_marian, tmp_path / "c1.sqlite",
                                      tmp_path / "r1.json"), env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while cached_rows(tmp_path / "c1.sqlite") < 4 and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read().decode()[-2000:]
    kept = cached_rows(tmp_path / "c1.sqlite")
    assert kept >= 4 and kept % 2 == 0  # whole batches of 2 were committed
    assert not (tmp_path / "resumed.jsonl").exists()

    subprocess.run(command(src, tmp_path / "resumed.jsonl", tiny_marian, tmp_path / "c1.sqlite",
                           tmp_path / "r1.json"), env=env, check=True, capture_output=True)
    # the uninterrupted run, in this process: the same code as the command
    assert main(command(src, tmp_path / "straight.jsonl", tiny_marian, tmp_path / "c2.sqlite",
                        tmp_path / "r2.json")[3:]) == 0

    assert (tmp_path / "resumed.jsonl").read_bytes() == (tmp_path / "straight.jsonl").read_bytes()
    resumed = json.loads((tmp_path / "r1.json").read_text())["directions"]["de"]
    straight = json.loads((tmp_path / "r2.json").read_text())["directions"]["de"]
    assert resumed["cached"] >= kept and resumed["cached"] + resumed["translated"] == straight["segments"]
    assert cached_rows(tmp_path / "c1.sqlite") == cached_rows(tmp_path / "c2.sqlite") == straight["segments"]
