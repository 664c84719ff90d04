"""Start-up time of the ``polyir`` command: ``polyir --help`` and ``polyir COMMAND --help``.

Each command line runs in a fresh process, ``--runs`` times, the trees taking turns (side by
side, so that the load of a busy machine falls on all of them alike); the table gives the
median wall time and the median CPU time (user + system, of the process and its children),
which a loaded machine disturbs less.  A tree is this checkout's ``src`` or a git revision,
exported to a temporary directory and put first on ``PYTHONPATH``:

    python benchmarks/cli_startup.py [--runs 5] [--revision main --revision 2d6daee^] [--commands all]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("model", "data", "translate", "evaluate", "train", "sweep", "report", "demo")
POLYIR = Path(sys.executable).with_name("polyir")  # the console script of this environment


def export(revision: str, into: Path) -> Path:
    """``src`` of ``revision`` under ``into`` (git archive: no checkout, no worktree)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def timed(argv: list[str], src: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``polyir ARGV`` with ``src`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([str(POLYIR), *argv], env=env, check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--revision", action="append", default=[], help="git revision to compare (repeatable)")
    parser.add_argument("--commands", nargs="*", default=["all"], help="commands whose --help is timed (all)")
    args = parser.parse_args()
    commands = COMMANDS if args.commands == ["all"] else tuple(args.commands)
    lines = [["--help"]] + [[c, "--help"] for c in commands]
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT / "src"}
        for i, revision in enumerate(args.revision):
            trees[revision] = export(revision, Path(tmp) / str(i))
        times = {(tree, " ".join(argv)): [] for tree in trees for argv in lines}
        for _ in range(args.runs):
            for argv in lines:
                for tree, src in trees.items():  # the trees take turns: side by side
                    times[(tree, " ".join(argv))].append(timed(argv, src))
    print(f"median of {args.runs} runs, seconds wall / CPU ({POLYIR})")
    print("| command | " + " | ".join(trees) + " |")
    print("|---|" + "---|" * len(trees))
    for argv in lines:
        cells = []
        for tree in trees:
            runs = times[(tree, " ".join(argv))]
            cells.append(f"{statistics.median(w for w, _ in runs):.2f} / {statistics.median(c for _, c in runs):.2f}")
        print(f"| `polyir {' '.join(argv)}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
