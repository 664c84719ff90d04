"""A 30 MB question: `polyir evaluate` with texts cut before tokenisation (polyir.textclip)
against the same command with the cut turned off (the tokenizer truncating after tokenising).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/long_text_speed.py [--megabytes 30] [--out /tmp/long-text]

Builds a synthetic XQuAD-R set (3 languages, 40 questions) and a tiny encoder, replaces the
first question of the first language with a ~N MB one, and runs `polyir evaluate` twice,
each in its own process (wall time and peak RSS from `resource`); the metrics must be equal.
Prints a markdown table (paste into docs/benchmarks.md).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

RUN = """
import sys
import polyir.textclip as textclip
if sys.argv[1] == "off":
    textclip.char_bound = lambda max_tokens: None
from polyir.cli import main
sys.exit(main(sys.argv[2:]))
"""


def prepare(out: Path, megabytes: float) -> tuple[Path, Path]:
    from polyir.data.synthetic.synthetic_generator import generate_synthetic
    from polyir.modelinit import init_model

    generate_synthetic(out / "syn", n_languages=3, n_groups=200, n_eval_questions=40, seed=0)
    model = out / "model"
    if not (model / "modules.json").exists():
        init_model("tiny", [out / "syn" / "train"], model, seed=0)
    path = sorted((out / "syn" / "eval").glob("*.json"))[0]
    doc = json.loads(path.read_text(encoding="utf-8"))
    qa = doc["data"][0]["paragraphs"][0]["qas"][0]
    qa["question"] = (qa["question"] + " ") * int(megabytes * 1e6 // (len(qa["question"]) + 1))
    path.write_text(json.dumps(doc), encoding="utf-8")
    return model, out / "syn" / "eval"


def run(mode: str, model: Path, data: Path, out: Path) -> tuple[float, float]:
    argv = ["-q", "evaluate", "--model", str(model), "--dataset", "xquad-r", "--data-dir", str(data),
            "--out", str(out), "--no-cache"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", RUN, mode, *argv], check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        raise SystemExit("run 'on' first: RUSAGE_CHILDREN keeps the largest child's peak")
    return seconds, peak / 1024  # kB -> MB (Linux)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=30.0)
    parser.add_argument("--out", default="/tmp/polyir-long-text")
    args = parser.parse_args(argv)
    out = Path(args.out)
    model, data = prepare(out, args.megabytes)
    results = {mode: run(mode, model, data, out / f"eval-{mode}") for mode in ("on", "off")}
    metrics = [{k: v for k, v in json.loads((out / f"eval-{mode}" / "metrics.json").read_text()).items() if k != "run"}
               for mode in ("on", "off")]
    assert metrics[0] == metrics[1], "cutting long texts changed the metrics"
    print(f"| {args.megabytes:g} MB question | wall s | peak RSS MB |\n|---|---|---|")
    for mode, label in (("on", "cut before tokenisation (polyir)"), ("off", "tokenised whole, then truncated")):
        print(f"| {label} | {results[mode][0]:.1f} | {results[mode][1]:.0f} |")
    print(f"\nmetrics identical; time ratio {results['off'][0] / results['on'][0]:.1f}x, "
          f"memory ratio {results['off'][1] / results['on'][1]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
