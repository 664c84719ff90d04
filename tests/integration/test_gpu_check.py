"""`benchmarks/gpu_check.py --tiny`: the GPU check end to end in its CPU smoke-test mode (tiny
model, generated data).  On a machine with CUDA the same run exercises the GPU paths."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from processes import child_env

REPO = Path(__file__).resolve().parents[2]


def test_gpu_check_writes_every_section(tmp_path):
    torch = pytest.importorskip("torch")
    env = child_env(HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--tiny", "--out", str(tmp_path),
                           "--budget-seconds", "1500", "--threads", "1"], env=env, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["schema"] == "polyir.gpu-check/1" and report["mode"] == "tiny"
    assert report["environment"]["gpu"] == torch.cuda.is_available() == report["checks"]["on_gpu"]
    tests = report["cuda_tests"]
    assert tests["status"] == "ok" and sum(tests["counts"].values()) >= 4, tests
    for precision, tolerance in (("fp32", 1e-5), ("bf16", 0.05)):
        encoded = report["encode"][precision]
        assert encoded["speedup"] > 0 and encoded["max_abs_diff"] < tolerance, encoded
        assert encoded["cached_rerun_forward_batches"] == 0
    trained = report["train"]["fp32"]
    assert trained["polyir"]["status"] == "ok" and trained["polyir"]["pairs_per_second"] > 0
    assert trained["sentence_transformers"]["status"] in ("ok", "skipped")
    evaluation = report["evaluation"]
    assert evaluation["status"] == "ok" and evaluation["texts"] > 0, evaluation
    assert {"load synthetic", "encode synthetic", "evaluate synthetic"} <= set(evaluation["stages"])
    assert (tmp_path / "evaluation" / "synthetic" / "metrics.json").is_file()
    assert report["reference"]["encode_fp32_texts_per_second"]["polyir"] == 3546
    assert set(report["checks"]) >= {"encode_speedup_at_least_1.3", "evaluation_at_most_5_s", "within_8_minutes"}
