"""Where a sweep run's wall time goes, stage by stage (issue 9, item 5).

Every run of ``polyir sweep`` writes ``OUT/runs/HASH/record.json`` whose ``timings`` hold the
runner's stages (interpreter start, library imports, training, then per evaluation set: load,
encode, evaluate, write) and the trainer's own (load data, load model, tokenize, steps, save).
This prints their median / min / max over the trained runs of one or more sweeps::

    python benchmarks/sweep_overhead.py runs/study-me5-gpu                 # after make study-gpu
    python benchmarks/sweep_overhead.py runs/study-me5-gpu --save T.json   # keep the timings
    python benchmarks/sweep_overhead.py --timings docs/study/gpu/run-timings.json

``--save`` writes only the timings (small enough to commit next to a results database, which
keeps the trainer's stages in ``runs.train_summary`` but not the runner's).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


def read_timings(sweep_dirs: list[Path]) -> list[dict]:
    rows = []
    for sweep in sweep_dirs:
        for path in sorted((sweep / "runs").glob("*/record.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            rows.append({"hash": path.parent.name, "kind": record["spec"].get("kind", "train"),
                         "label": record["spec"].get("label"), "timings": record["timings"]})
    return rows


def stage_table(rows: list[dict]) -> list[tuple[str, float, float, float]]:
    """(stage, median, min, max) over trained runs; the runner's stages, then the trainer's."""
    trained = [r["timings"] for r in rows if r["kind"] == "train"]
    series: dict[str, list[float]] = {}
    for t in trained:
        series.setdefault("whole run (start to record)", []).append(t["wall_seconds"])
        series.setdefault("interpreter start, before the runner", []).append(t["startup_seconds"])
        for name, seconds in t["stages"].items():
            series.setdefault(name, []).append(seconds)
        for name, seconds in t.get("train_stages", {}).items():
            series.setdefault(f"train: {name}", []).append(seconds)
        series.setdefault("evaluation, all sets", []).append(t["eval_seconds"])
    return [(name, statistics.median(v), min(v), max(v)) for name, v in series.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="*", type=Path, help="sweep directories (OUT of polyir sweep)")
    parser.add_argument("--timings", type=Path, help="a file written by --save instead of sweep directories")
    parser.add_argument("--save", type=Path, help="write the runs' timings to this JSON file")
    args = parser.parse_args(argv)
    if bool(args.sweeps) == bool(args.timings):
        parser.error("give sweep directories or --timings, not both")
    rows = json.loads(args.timings.read_text(encoding="utf-8")) if args.timings else read_timings(args.sweeps)
    if not any(r["kind"] == "train" for r in rows):
        print("sweep_overhead: error: no trained run with a record.json", file=sys.stderr)
        return 1
    if args.save:
        args.save.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    n = sum(r["kind"] == "train" for r in rows)
    print(f"{n} trained runs; seconds per run\n")
    print("| stage | median | min | max |\n|---|---|---|---|")
    for name, med, lo, hi in stage_table(rows):
        print(f"| {name} | {med:.2f} | {lo:.2f} | {hi:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
