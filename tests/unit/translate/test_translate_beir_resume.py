"""kill -9 in the middle of a BEIR translation, re-run: the same directory as an uninterrupted run."""
import json
import subprocess
import sys

from beir_fixtures import write_beir
from polyir.cli import main
from polyir.translate.beir_report import MANIFEST, REJECTS
from processes import child_env, sigkill_when

from test_translate_resume import cached_rows

FILES = ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv", "qrels/dev.tsv", REJECTS)


def command(src, out, model, cache):
    return [sys.executable, "-m", "polyir.cli", "-q", "translate", str(src), "--out", str(out), "--targets", "de",
            "--model", str(model), "--num-beams", "1", "--max-length", "8", "--batch-size", "2",
            "--chunk-size", "4", "--cache", str(cache)]


def test_sigkill_then_rerun_gives_the_uninterrupted_directory(tiny_marian, tmp_path):
    src = write_beir(tmp_path / "beir", n_docs=16, n_queries=6)
    env = child_env(HF_HUB_OFFLINE="1")
    cache = tmp_path / "c1.sqlite"
    killed = subprocess.Popen(command(src, tmp_path / "resumed", tiny_marian, cache), env=env, stderr=subprocess.PIPE)
    sigkill_when(killed, lambda: cached_rows(cache) >= 10, what="10 cached segments")  # in the corpus, after the queries
    kept = cached_rows(cache)
    assert not (tmp_path / "resumed" / "de" / MANIFEST).exists()
    assert not (tmp_path / "resumed" / "de" / "corpus.jsonl").exists()  # only complete files appear

    subprocess.run(command(src, tmp_path / "resumed", tiny_marian, cache), env=env, check=True, capture_output=True)
    assert main(command(src, tmp_path / "straight", tiny_marian, tmp_path / "c2.sqlite")[3:]) == 0

    for name in FILES:
        assert (tmp_path / "resumed" / "de" / name).read_bytes() == (tmp_path / "straight" / "de" / name).read_bytes()
    resumed = json.loads((tmp_path / "resumed" / "de" / MANIFEST).read_text())["files"]
    straight = json.loads((tmp_path / "straight" / "de" / MANIFEST).read_text())["files"]
    cached = sum(resumed[kind]["segments"]["cached"] for kind in resumed)
    assert cached >= kept and cached_rows(cache) == cached_rows(tmp_path / "c2.sqlite")
    assert resumed["corpus"]["fell_back"] == straight["corpus"]["fell_back"]
