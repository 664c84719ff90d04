"""One GPU check: CUDA tests, encoding and training against sentence-transformers, evaluation time.

    python benchmarks/gpu_check.py --out DIR [--model DIR] [--data NAME=PATH]
                                   [--eval-set NAME=FORMAT:DIR ...] [--budget-seconds 480]
    python benchmarks/gpu_check.py --out DIR --tiny      # minutes on a CPU: tiny model, generated data

Runs, each section in its own process(es), within ``--budget-seconds`` (8 minutes), and writes
``DIR/gpu_check.json`` after every section (a section that did not fit is marked skipped):

* ``environment``  versions, the device, bf16 support;
* ``cuda_tests``   ``pytest -m cuda`` (every test that needs a CUDA device; all skip without one);
* ``encode``       `polyir.encode.encode` against `SentenceTransformer.encode` on the same model,
                   texts (12,000 distinct passages), batch size (256) and precision, fp32 and bf16
                   (both under autocast), alternated, medians of 3 (benchmarks/encode_speed.py);
* ``train``        `polyir.train.train` against `SentenceTransformerTrainer` +
                   `MultipleNegativesRankingLoss`, batch 128, max length 128, 60 steps (pairs/s
                   after 10 warm-up steps), bf16 and fp32, each run in a fresh process (the
                   approach of ../shared/gpu/gpu_speed.py; the ST trainer needs the ``bench`` extra);
* ``evaluation``   a sweep run's evaluation after the model is loaded: each set loaded, encoded
                   (batch 256) and scored, seconds per stage (target: ~32k texts in <= 5 s).

The model: ``--model``, default ``models/me5-small``; when absent it is built from the GPU kit
(``../shared/gpu/me5-small-pruned.bin.xz`` with ``../shared/tools/build_me5_small.py``).  Texts and
training pairs: ``--data`` (a training source), default polyir's synthetic collection;
evaluation sets: ``--eval-set``, default ``../shared/data/xquad-r`` when present.  ``checks``
compares the figures with the targets of issue 9 and ``reference`` carries the H200 figures
they replace (docs/benchmarks.md).  Without CUDA everything runs on the CPU and ``gpu`` is false:
the timings then say nothing about a GPU.
"""
from __future__ import annotations

import argparse
import datetime
import json
import lzma
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared"
PROMPTS = {"query": "query: ", "passage": "passage: "}
# ../shared/gpu/README.md: one NVIDIA H200, 2026-11-26, polyir at commit 70c2bf7
REFERENCE = {"machine": "one NVIDIA H200 (polyir 70c2bf7, 2026-11-26)",
             "train_bf16_pairs_per_second": {"polyir": 1058, "sentence_transformers": 610, "ratio": 1.73},
             "train_peak_gpu_gib": {"polyir": 5.81, "sentence_transformers": 5.81},
             "encode_fp32_texts_per_second": {"polyir": 3546, "sentence_transformers": 4724, "ratio": 0.75},
             "sweep_evaluation_seconds": "21-27 (12 held-out XQuAD-R articles + an MLQA-R-format set, ~32k texts)",
             "pytest": "662 passed, 12 skipped, 4 failed, 4 errors"}
TARGETS = {"encode_speedup_min": 1.3, "evaluation_seconds_max": 5.0, "total_seconds_max": 480}
FULL = {"encode_texts": 12000, "encode_batch": 256, "encode_repeats": 3, "train_batch": 128, "train_steps": 60,
        "train_warmup": 10, "max_length": 128, "eval_batch": 256}
TINY = {"encode_texts": 120, "encode_batch": 32, "encode_repeats": 1, "train_batch": 8, "train_steps": 4,
        "train_warmup": 1, "max_length": 32, "eval_batch": 64}


# ----------------------------------------------------------------------------- children
def child_environment(job: dict) -> dict:
    import sentence_transformers
    import torch
    import transformers

    cuda = torch.cuda.is_available()
    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "sentence_transformers": sentence_transformers.__version__, "python": sys.version.split()[0],
            "gpu": cuda, "device": torch.cuda.get_device_name(0) if cuda else "cpu",
            "bf16_supported": bool(cuda and torch.cuda.is_bf16_supported()), "cpu_count": os.cpu_count()}


def child_encode(job: dict) -> dict:
    sys.path.insert(0, str(HERE))
    import encode_speed

    texts = _texts(job)
    return {precision: encode_speed.run(job["model"], texts, job["encode_batch"], repeats=job["encode_repeats"],
                                        threads=job["threads"], device=job["device"], precision=precision)
            for precision in job["encode_precisions"]}


def child_train_polyir(job: dict) -> dict:
    from polyir.train import build_config, train

    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = build_config({
            "model": {"name_or_path": job["model"], "prompts": PROMPTS, "max_query_length": job["max_length"],
                      "max_passage_length": job["max_length"]},
            "data": {"sources": [job["data"]]}, "out": f"{tmp}/run",
            "sampler": {"strategy": "hybrid", "batch_size": job["train_batch"]},
            "optim": {"steps": job["train_steps"], "lr": 3e-5},
            "runtime": {"device": job["device"], "precision": job["precision"], "threads": job["threads"]},
            "checkpoint": {"every": 0}, "logging": {"every": 10}})
        train(config, progress=False, callback=lambda info: _tick(times, job["device"]))
    return _train_result(times, job)


def child_train_st(job: dict) -> dict:
    import torch
    from datasets import Dataset
    from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                       SentenceTransformerTrainingArguments, losses)
    from transformers import TrainerCallback

    torch.set_num_threads(job["threads"])
    queries, passages = _pairs(job["data"], job["train_batch"] * job["train_steps"])
    times: list[float] = []

    class Timer(TrainerCallback):
        def on_step_end(self, *_, **__):
            _tick(times, job["device"])

    model = SentenceTransformer(job["model"], device=job["device"])
    model.max_seq_length = job["max_length"]
    with tempfile.TemporaryDirectory() as tmp:
        arguments = SentenceTransformerTrainingArguments(
            output_dir=tmp, per_device_train_batch_size=job["train_batch"], max_steps=job["train_steps"],
            learning_rate=3e-5, warmup_ratio=0.1, weight_decay=0.01, lr_scheduler_type="linear", max_grad_norm=1.0,
            save_strategy="no", report_to=[], dataloader_drop_last=True, disable_tqdm=True, seed=0,
            bf16=job["precision"] == "bf16", use_cpu=job["device"] == "cpu",
            prompts={"anchor": PROMPTS["query"], "positive": PROMPTS["passage"]})
        SentenceTransformerTrainer(model=model, args=arguments,
                                   train_dataset=Dataset.from_dict({"anchor": queries, "positive": passages}),
                                   loss=losses.MultipleNegativesRankingLoss(model, scale=20.0),
                                   callbacks=[Timer()]).train()
    return _train_result(times, job)


def child_evaluation(job: dict) -> dict:
    from polyir.evaluate.eval_pipeline import EvalData, EvalOptions, evaluate_model, load_eval_set, write_metrics
    from polyir.experiments.record import evaluation_rows
    from polyir.model_loading import load_model
    from polyir.stages import StageClock

    import torch

    torch.set_num_threads(job["threads"])
    model = load_model(job["model"], device=job["device"])

    def evaluate_all() -> tuple[int, float, dict]:
        clock, texts = StageClock("evaluation", log_stages=False), 0
        started = time.perf_counter()
        for name, (dataset, data_dir) in job["eval_sets"].items():
            rset = load_eval_set(EvalData(dataset=dataset, data_dir=data_dir, name=name))
            clock.mark(f"load {name}")
            run = evaluate_model(model, rset, EvalOptions(batch_size=job["eval_batch"],
                                                          measures=("AP", "R@1", "R@10")), progress=False)
            for stage, seconds in run.info["seconds"].items():
                clock.add(f"{stage} {name}", seconds)
            clock.restart()
            write_metrics(run, Path(job["out"]) / "evaluation" / name)
            evaluation_rows(name, run.result)
            clock.mark(f"write {name}")
            texts += run.info["encoding"]["texts"]
        return texts, time.perf_counter() - started, clock.rounded()

    # the first pass right after loading (what the target counts: CUDA's lazy set-up included);
    # the second with the model warm, as in a sweep run, where training ran on it first
    texts, seconds, stages = evaluate_all()
    _, warm_seconds, warm_stages = evaluate_all()
    return {"texts": texts, "seconds_after_model_load": seconds, "stages": stages,
            "warm_seconds": warm_seconds, "warm_stages": warm_stages, "device": str(model.module.device)}


def _tick(times: list[float], device: str) -> bool:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
    times.append(time.perf_counter())
    return False


def _train_result(times: list[float], job: dict) -> dict:
    warm = job["train_warmup"]
    out = {"pairs_per_second": (len(times) - warm) * job["train_batch"] / (times[-1] - times[warm - 1]),
           "steps": len(times)}
    if job["device"].startswith("cuda"):
        import torch

        out["peak_gpu_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return out


def _read_pairs(source: str):
    from polyir.train.train_config import DataConfig
    from polyir.train.train_data import load_training_data

    return load_training_data(DataConfig(sources=(source,))).collection.pairs


def _pairs(source: str, n: int) -> tuple[list[str], list[str]]:
    """``n`` (query, positive) texts of the training data, repeated as needed."""
    pairs = _read_pairs(source)
    queries, passages = [p.query for p in pairs], [p.positive for p in pairs]
    return (queries * (n // len(queries) + 1))[:n], (passages * (n // len(passages) + 1))[:n]


def _texts(job: dict) -> list[str]:
    """Distinct passages (then queries) of the training data: the texts of the encoding comparison."""
    pairs = _read_pairs(job["data"])
    return list(dict.fromkeys([p.positive for p in pairs] + [p.query for p in pairs]))[:job["encode_texts"]]


CHILDREN = {"environment": child_environment, "encode": child_encode, "train_polyir": child_train_polyir,
            "train_st": child_train_st, "evaluation": child_evaluation}


# ----------------------------------------------------------------------------- parent
class Budget:
    def __init__(self, seconds: float):
        self.seconds, self.started = seconds, time.perf_counter()

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.started)


def spawn(kind: str, job: dict, budget: Budget, timeout: float) -> dict:
    """Run one child; ``{"status": "ok", ...}``, or ``failed`` / ``skipped`` with the reason."""
    limit = min(timeout, budget.left())
    if limit < 20:
        return {"status": "skipped", "reason": "time budget spent"}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, __file__, "--child", kind, "--job", json.dumps(job)], env=env,
                              capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "reason": f"timed out after {limit:.0f} s"}
    if done.returncode:
        return {"status": "failed", "reason": done.stderr.strip()[-2000:]}
    return {"status": "ok", **json.loads(done.stdout.strip().splitlines()[-1])}


def cuda_tests(budget: Budget, paths: list[str]) -> dict:
    limit = min(300.0, budget.left() - 200)  # leave room for the measurements
    if limit < 30:
        return {"status": "skipped", "reason": "time budget spent"}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    # a test module that cannot be imported (a package the machine lacks) is reported, not fatal
    command = [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               "-rfEs", "--continue-on-collection-errors", *paths]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "reason": f"timed out after {limit:.0f} s"}
    counts = {key: int(n) for n, key in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)",
                                                   done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "")}
    status = "ok" if done.returncode == 0 else ("failed" if done.returncode != 5 else "ok")  # 5: nothing collected
    return {"status": status, "returncode": done.returncode, "counts": counts,
            "seconds": round(time.perf_counter() - started, 1), "command": " ".join(command[1:]),
            "output_tail": done.stdout[-3000:]}


def train_section(job: dict, budget: Budget, st_available: bool) -> dict:
    out: dict = {}
    for precision in job["train_precisions"]:
        run = {**job, "precision": precision}
        row = {"polyir": spawn("train_polyir", run, budget, 240)}
        row["sentence_transformers"] = (spawn("train_st", run, budget, 240) if st_available else
                                        {"status": "skipped", "reason": "needs the bench extra (datasets, accelerate)"})
        if all(r.get("status") == "ok" for r in row.values()):
            row["ratio"] = row["polyir"]["pairs_per_second"] / row["sentence_transformers"]["pairs_per_second"]
        out[precision] = row
    return out


def checks(report: dict) -> dict:
    """Each figure against its target of issue 9 (None: not measured)."""
    encode = report.get("encode", {})
    evaluation = report.get("evaluation", {})
    gpu = report.get("environment", {}).get("gpu", False)
    speedups = {p: r.get("speedup") for p, r in encode.items() if isinstance(r, dict) and "speedup" in r}
    return {"on_gpu": gpu,
            "encode_speedup_at_least_1.3": {p: s >= TARGETS["encode_speedup_min"] for p, s in speedups.items()},
            "evaluation_at_most_5_s": (evaluation.get("seconds_after_model_load", float("inf"))
                                       <= TARGETS["evaluation_seconds_max"]) if "texts" in evaluation else None,
            "cuda_tests_passed": report.get("cuda_tests", {}).get("counts", {}).get("failed", 0) == 0
            and report.get("cuda_tests", {}).get("status") == "ok",
            "within_8_minutes": report.get("seconds", 0) <= TARGETS["total_seconds_max"]}


def prepare(args, work: Path) -> dict:
    """The job every child gets: model, training data, evaluation sets, sizes, device, precisions."""
    import torch

    xquad = SHARED / "data" / "xquad-r"
    need_synthetic = args.tiny or not args.data or not (args.eval_set or xquad.is_dir())
    synthetic = _synthetic(work, tiny=args.tiny) if need_synthetic else None
    data = args.data or f"syn={synthetic / 'train'}"
    if args.eval_set:
        eval_sets = dict(args.eval_set)
    elif args.tiny or not xquad.is_dir():
        eval_sets = {"synthetic": ("xquad-r", str(synthetic / "eval"))}
    else:
        eval_sets = {"xquad-r": ("xquad-r", str(xquad))}
    model = _tiny_model(work, synthetic) if args.tiny else _me5(Path(args.model))
    return {**(TINY if args.tiny else FULL), "model": str(model), "data": data, "eval_sets": eval_sets,
            "out": str(args.out), "device": "cuda" if torch.cuda.is_available() else "cpu", "threads": args.threads,
            "encode_precisions": ["fp32", "bf16"], "train_precisions": ["fp32"] if args.tiny else ["bf16", "fp32"]}


def _synthetic(work: Path, *, tiny: bool) -> Path:
    """Generated data: tiny, or 4 languages x 3,000 groups (24,000 distinct texts: the
    encoding comparison takes 12,000 of them, as the reference did)."""
    from polyir.data.synthetic.synthetic_generator import generate_synthetic

    sizes = {"n_languages": 3, "n_groups": 200, "n_eval_questions": 30} if tiny else {"n_groups": 3000}
    generate_synthetic(work / "synthetic", **sizes)
    return work / "synthetic"


def _tiny_model(work: Path, synthetic: Path) -> Path:
    from polyir.modelinit import init_model

    return init_model("tiny", [synthetic / "train"], work / "tiny", seed=0)


def _me5(path: Path) -> Path:
    """``path``, built from the GPU kit when it is not there yet."""
    if (path / "modules.json").exists():
        return path
    kit, tool = SHARED / "gpu" / "me5-small-pruned.bin.xz", SHARED / "tools" / "build_me5_small.py"
    if not (kit.exists() and tool.exists()):
        sys.exit(f"gpu_check: error: {path}: no model (give --model, or bring {kit} and {tool})")
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "me5.bin"
        binary.write_bytes(lzma.decompress(kit.read_bytes()))
        subprocess.run([sys.executable, str(tool), str(binary), str(path)], check=True, capture_output=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="directory for gpu_check.json (and the evaluation outputs)")
    parser.add_argument("--model", default=str(REPO / "models" / "me5-small"))
    parser.add_argument("--data", help="training source (as in data.sources, e.g. pairs=FILE.jsonl or squad=DIR): "
                                       "training data and the texts of the encoding comparison")
    parser.add_argument("--eval-set", action="append", type=_eval_set, metavar="NAME=FORMAT:DIR")
    parser.add_argument("--budget-seconds", type=float, default=TARGETS["total_seconds_max"])
    parser.add_argument("--threads", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument("--tiny", action="store_true", help="tiny model and generated data (a CPU smoke test)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](json.loads(args.job))), flush=True)
        return 0
    if args.out is None:
        parser.error("--out is required")
    return run_check(args)


def _eval_set(text: str) -> tuple[str, tuple[str, str]]:
    name, sep, rest = text.partition("=")
    dataset, sep2, directory = rest.partition(":")
    if not (sep and sep2 and name and directory):
        raise argparse.ArgumentTypeError(f"expected NAME=FORMAT:DIR, got {text!r}")
    return name, (dataset, directory)


def run_check(args) -> int:
    budget = Budget(args.budget_seconds)
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict = {"schema": "polyir.gpu-check/1", "started_at": _now(), "mode": "tiny" if args.tiny else "full",
                    "command": " ".join(sys.argv), "targets": TARGETS, "reference": REFERENCE}
    with tempfile.TemporaryDirectory() as tmp:
        job = prepare(args, Path(tmp))
        report["job"] = {k: v for k, v in job.items() if k != "out"}
        sections = [("environment", lambda: spawn("environment", job, budget, 120)),
                    ("cuda_tests", lambda: cuda_tests(budget, ["tests/unit/test_encode_cuda.py"] if args.tiny
                                                       else ["tests"])),
                    ("encode", lambda: spawn("encode", job, budget, 240)),
                    ("train", lambda: train_section(job, budget, _has_bench_extra())),
                    ("evaluation", lambda: spawn("evaluation", job, budget, 180))]
        for name, section in sections:
            report[name] = section()
            report["seconds"] = round(time.perf_counter() - budget.started, 1)
            report["checks"] = checks(report)
            _write(args.out / "gpu_check.json", report)
    print(json.dumps({"checks": report["checks"], "seconds": report["seconds"], "out": str(args.out)}, indent=2))
    return 0


def _has_bench_extra() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("datasets", "accelerate"))


def _write(path: Path, report: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


if __name__ == "__main__":
    sys.exit(main())
