"""``polyir demo`` (``make demo``): the main job end to end, offline, in a few minutes on a CPU.

generate the synthetic multilingual set -> initialise a tiny encoder -> a sweep of X-X-mono,
X-Y, hybrid(0.5) and mixed(0.5) over a few seeds (plus the untrained model) -> the report.
The demo IS a sweep (``OUT/sweep.yaml``, ``OUT/sweep/results.db``): re-running it reuses
finished runs.  ``--data`` / ``--eval`` / ``--model`` put real data and a real model through
the same pipeline.  Defaults and timings: docs/experiments.md ("The demo").
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..config_io import dump_yaml
from ..data.synthetic.synthetic_generator import generate_synthetic
from ..errors import ConfigError
from ..io import atomic_write_text, output_directory, read_json
from ..modelinit import init_model
from ..sampling import DEFAULT_STRATEGY
from .demo_settings import PRETRAINED_LR, SCRATCH_LR, DemoOptions
from .sweep_report import write_report
from .spec import parse_strategies, parse_sweep
from .sweep_driver import ensure_finished, run_sweep


@dataclass(frozen=True)
class DemoResult:
    sweep_file: Path
    db_path: Path
    report: object  # ReportFiles
    seconds: float
    finished: int
    reused: int
    steps: dict[str, float] = field(default_factory=dict)  # seconds per stage


def run_demo(options: DemoOptions = DemoOptions(), echo: Callable[[str], None] | None = None, *,
             progress: bool = True) -> DemoResult:
    echo = echo or (lambda line: None)
    started = time.perf_counter()
    stages: dict[str, float] = {}
    out = output_directory(options.out, create=False)
    train_sources, eval_dir = _data(options, echo)
    stages["data"] = time.perf_counter() - started
    model = options.model or _tiny_model(out / "model", train_sources, options, echo)
    stages["model"] = time.perf_counter() - started - stages["data"]
    sweep = demo_sweep(options, train_sources, eval_dir, model)
    sweep_file = out / "sweep.yaml"
    atomic_write_text(sweep_file, "# written by polyir demo; re-run with: polyir sweep " f"{sweep_file}\n"
                      + dump_yaml(sweep))
    spec = parse_sweep(sweep, source=str(sweep_file))
    tick = time.perf_counter()
    outcome = run_sweep(spec, jobs=options.jobs, threads=options.threads, echo=echo, progress=progress)
    ensure_finished(outcome)
    stages["sweep"] = time.perf_counter() - tick
    tick = time.perf_counter()
    report = write_report(spec.db_path, out / "report", reference=spec.reference, measures=options.measures,
                          n_resamples=options.resamples, title="polyir demo: batch composition")
    stages["report"] = time.perf_counter() - tick
    return DemoResult(sweep_file, spec.db_path, report, time.perf_counter() - started, len(outcome.finished),
                      outcome.already_done, stages)


def _data(options: DemoOptions, echo) -> tuple[list[str], str]:
    """Training sources and the evaluation directory (the synthetic set where none is given)."""
    if options.data and options.eval_dir:
        return list(options.data), options.eval_dir

    root = options.out / "data"
    if not _synthetic_matches(root, options):
        summary = generate_synthetic(root, n_languages=options.languages, n_groups=options.groups,
                                     n_eval_questions=options.eval_questions, seed=0)
        echo(f"generated the synthetic set: {len(summary.languages)} languages ({', '.join(summary.languages)}), "
             f"{options.groups} training groups, {options.eval_questions} evaluation questions -> {root}")
    train = list(options.data) or [f"synthetic={root / 'train'}"]
    return train, options.eval_dir or str(root / "eval")


def _synthetic_matches(root: Path, options: DemoOptions) -> bool:
    """The synthetic set is deterministic: regenerate only when its parameters changed."""
    manifest = root / "manifest.json"
    if not manifest.exists():
        return False
    expected = (f"--languages {options.languages} --groups {options.groups} "
                f"--eval-questions {options.eval_questions} --seed 0")
    return expected in str(read_json(manifest).get("command", ""))


def _tiny_model(path: Path, sources: list[str], options: DemoOptions, echo) -> str:
    stamp = path / "polyir-demo.txt"
    corpus = [s.split("=", 1)[1] if "=" in s and not Path(s).exists() else s for s in sources]
    key = f"tiny preset, seed 0, corpus {corpus}, max_seq_length 64\n"
    if not (stamp.exists() and stamp.read_text(encoding="utf-8") == key):
        init_model("tiny", corpus, path, seed=0, max_seq_length=64)
        atomic_write_text(stamp, key)
        echo(f"initialised a tiny encoder (tokenizer trained on the training data) -> {path}")
    return str(path)


def demo_sweep(options: DemoOptions, sources: list[str], eval_dir: str, model: str) -> dict:
    """The demo's sweep file as plain data."""
    if options.seeds < 1 or options.steps < 1:
        raise ConfigError("--seeds and --steps must be positive")
    lr = options.lr or (PRETRAINED_LR if options.model else SCRATCH_LR)
    strategies = parse_strategies(list(options.strategies), {}, "--strategies")
    evaluate = {"name": Path(eval_dir.rstrip("/")).name if options.eval_dir else "synthetic",
                "dataset": options.eval_format, "data_dir": eval_dir,
                "options": {"batch_size": 128, "measures": list(options.measures)}}
    if options.max_queries:
        evaluate["max_queries"] = options.max_queries
    return {
        "name": "demo",
        "out": str(options.out / "sweep"),
        "base": {
            "data": {"sources": sources},
            "sampler": {"batch_size": options.batch_size},
            "optim": {"lr": lr, "steps": options.steps},
            "runtime": {"threads": options.threads},
            # checkpoints make an interrupted demo resume mid-run; the final model is always saved
            "checkpoint": {"every": max(options.steps // 3, 1), "keep_last": 1, "save_best": False},
        },
        "grid": {"strategy": [s.label for s in strategies], "seed": list(range(options.seeds)),
                 "model": [{"name": "tiny" if not options.model else Path(model.rstrip("/")).name,
                            "name_or_path": model}]},
        "evaluate": [evaluate],
        "baseline": True,
        "reference": (DEFAULT_STRATEGY if DEFAULT_STRATEGY in strategies else strategies[-1]).label,
    }
