"""``polyir sweep``'s options (what the command does: `polyir.cli.sweep`, imported when it runs).

    polyir sweep CONFIG.yaml [--jobs N] [--executor local|ray] [--only KEY=VALUE ...]
                 [--devices 0,1,2,3 --runs-per-device 2 | --executor ray --gpus-per-run 0.5]
    polyir sweep CONFIG.yaml --dry-run [--calibrate]     the plan, statuses and estimated cost
    polyir sweep CONFIG.yaml --print-commands            one command per pending run (SLURM, ...)
    polyir sweep CONFIG.yaml --collect                   record finished run directories
    polyir sweep --run-one OUT/runs/HASH                 one run (what every executor starts)
"""
from __future__ import annotations

import argparse

from .argtypes import non_negative_float, positive_float, positive_int


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Expand the grid of a sweep file (strategy / alpha, batch size, seed, model, data, any option), "
                     "train and evaluate every run in its own process and directory (OUT/runs/HASH), and record "
                     "each finished run in OUT/results.db. Re-running skips finished runs and resumes interrupted "
                     "ones. See docs/experiments.md.")
    p.add_argument("config", nargs="?", metavar="CONFIG.yaml", help="sweep file (see configs/sweeps/*.yaml)")
    p.add_argument("--out", help="sweep directory (overrides 'out' in the file)")
    p.add_argument("--only", action="append", default=[], metavar="KEY=VALUE|HASH",
                   help="restrict to runs whose axis KEY has VALUE (e.g. label=hybrid(0.5), seed=0, batch_size=64; "
                        "repeat a key for alternatives) or whose hash starts with HASH; repeatable")
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="runs at a time (default: one per GPU slot, see --devices; 1 without GPUs)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads per run process (OMP/MKL/NUMBA_NUM_THREADS); default: the library defaults")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: subprocesses on this machine; ray: Ray tasks (pip install 'polyir[ray]')")
    p.add_argument("--ray-address", default=None, help="Ray cluster address (default: start a local Ray instance)")
    g = p.add_argument_group("GPUs")
    g.add_argument("--devices", default=None, metavar="IDS",
                   help="local executor: GPUs to place runs on, e.g. 0,1,2,3 (each run sees only its own: "
                        "CUDA_VISIBLE_DEVICES); 'none': runs see no GPU; default: the visible GPUs")
    g.add_argument("--runs-per-device", type=positive_int, default=1, metavar="N",
                   help="local executor: runs sharing one GPU at a time (default 1)")
    g.add_argument("--gpus-per-run", type=non_negative_float, default=None, metavar="G",
                   help="Ray executor: GPUs each run asks Ray for (0.5: two runs per GPU; default: 1 when the "
                        "cluster has GPUs, else 0)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the plan (hash, axes, status, estimated cost)")
    mode.add_argument("--print-commands", action="store_true",
                      help="print one shell command per pending run (and write their spec.json)")
    mode.add_argument("--collect", action="store_true", help="record finished run directories in the database")
    mode.add_argument("--run-one", metavar="RUN_DIR", help="train + evaluate one run directory (spec.json)")
    p.add_argument("--parent-pid", type=positive_int, default=None, help=argparse.SUPPRESS)  # set by the executors
    p.add_argument("--calibrate", action="store_true",
                   help="with --dry-run: time a few training steps per model and batch size for the estimate")
    p.add_argument("--pairs-per-second", type=positive_float, default=None,
                   help="with --dry-run: training speed assumed when nothing was measured")
    p.set_defaults(handler="sweep:run", on_interrupt="finished runs are recorded; interrupted runs continue from their last "
                                        "checkpoint when you re-run the same command")
