"""Where runs execute: each run is one process (``polyir sweep --run-one RUN_DIR``).

`execute_run` is the unit of work for every executor: it starts that process, appends its
output to ``RUN_DIR/run.log`` and returns a small, picklable result.  The local executor
runs it on a thread pool (``--jobs N``), each run on its own GPU slot (`polyir.experiments.devices`);
the Ray executor submits the very same function as Ray tasks that ask Ray for CPUs and GPUs
(``--executor ray``; a cluster needs a shared filesystem, docs/experiments.md).  Either way a
run's process sees only the GPUs it was given (``CUDA_VISIBLE_DEVICES``).
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..dirlock import lock_holder
from ..errors import ConfigError
from .devices import DevicePlan, DeviceSlots, gpu_env
from .run_dir import ERROR_FILE, LOG_FILE

EXECUTORS = ("local", "ray")
# driver settings a remote run keeps (Hugging Face cache and offline mode, tokenizer threads)
REMOTE_PREFIXES = ("HF_", "HUGGINGFACE_", "TRANSFORMERS_", "TOKENIZERS_")


@dataclass(frozen=True)
class RunResult:
    run_dir: str
    returncode: int
    seconds: float
    message: str = ""  # why the run did not start (its error.txt belongs to another process then)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def error(self) -> str:
        """The first line of the run's ``error.txt`` (or the exit status)."""
        if self.message:
            return self.message
        path = Path(self.run_dir) / ERROR_FILE
        if path.exists():
            lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            if lines:
                return lines[0]
        return f"exit status {self.returncode}"


def run_command(run_dir: str | Path, python: str | None = None, *, quiet: bool = False) -> list[str]:
    """``python -m polyir.cli [-q] sweep --run-one RUN_DIR`` (``quiet``: no progress bars in run.log)."""
    return [python or sys.executable, "-m", "polyir.cli", *(["-q"] if quiet else []), "sweep", "--run-one", str(run_dir)]


def worker_env(threads: int | None = None) -> dict[str, str]:
    """The environment of a local run process: this one's, with this polyir first on the path,
    and a thread count when given (runs share the machine: ``--jobs N`` processes × ``threads``)."""
    env = dict(os.environ)
    source_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([source_root, *filter(None, [env.get("PYTHONPATH")])])
    return {**env, **thread_env(threads)}


def thread_env(threads: int | None) -> dict[str, str]:
    names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
    return {name: str(threads) for name in names} if threads else {}


def remote_env(threads: int | None = None) -> dict[str, str]:
    """What a Ray task's run needs from the driver: the thread count and the Hugging Face
    settings the user chose (cache, offline mode, token parallelism).  Nothing else of the
    driver's environment (its paths, credentials) reaches a node, whose own environment applies;
    polyir must be installed there (docs/experiments.md, "Executors")."""
    chosen = {name: value for name, value in os.environ.items() if name.startswith(REMOTE_PREFIXES)}
    return {**chosen, **thread_env(threads)}


def execute_run(run_dir: str, cwd: str, env: dict[str, str] | None = None,
                command: list[str] | None = None) -> RunResult:
    """Run one run in its own process (``command``, default `run_command`), which stops if this
    one dies (``--parent-pid``, `polyir.experiments.parent_watch`); its output goes to
    ``RUN_DIR/run.log``.  A run directory that another live process holds is left alone (not
    even its log is touched)."""
    started = time.perf_counter()
    holder = lock_holder(run_dir)
    if holder is not None:
        return RunResult(str(run_dir), 1, 0.0, f"run directory in use by another process ({holder}); not started")
    log_path = Path(run_dir) / LOG_FILE
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = env or worker_env()
    command = [*(command or run_command(run_dir)), "--parent-pid", str(os.getpid())]
    with open(log_path, "ab") as log:
        devices = f" [CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']}]" if "CUDA_VISIBLE_DEVICES" in env else ""
        log.write(f"\n==== {_stamp()} start, pid {os.getpid()}: {' '.join(command)}{devices}\n".encode())
        log.flush()
        process = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, check=False)
        seconds = time.perf_counter() - started
        log.write(f"==== {_stamp()} end, exit status {process.returncode} after {seconds:.1f} s\n".encode())
    return RunResult(str(run_dir), process.returncode, seconds)


def _stamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


def local_executor(run_dirs: Iterable[Path], *, jobs: int = 1, cwd: str | Path = ".", threads: int | None = None,
                   on_start: Callable[[Path], None] | None = None, devices: DevicePlan | None = None,
                   command: Callable[[Path], list[str]] | None = None, quiet: bool = False) -> Iterator[RunResult]:
    """Run on this machine, ``jobs`` at a time, each on a free slot of ``devices``; results in
    order of completion.  ``quiet``: the runs show no progress bars (``-q``)."""
    command = command or functools.partial(run_command, quiet=quiet)
    if jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {jobs}")
    env = worker_env(threads)
    lock = threading.Lock()
    slots = DeviceSlots(devices or DevicePlan())

    def task(run_dir: Path) -> RunResult:
        with slots.device() as device_env:
            if on_start is not None:
                with lock:
                    on_start(run_dir)
            return execute_run(str(run_dir), str(cwd), {**env, **device_env}, command(run_dir))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(task, d) for d in run_dirs]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def ray_executor(run_dirs: Iterable[Path], *, address: str | None = None, jobs: int = 1, cwd: str | Path = ".",
                 threads: int | None = None, on_start: Callable[[Path], None] | None = None,
                 gpus_per_run: float | None = None,
                 command: Callable[[Path], list[str]] | None = None, quiet: bool = False) -> Iterator[RunResult]:
    """Submit `execute_run` as Ray tasks asking for ``num_cpus = threads or 1`` and ``num_gpus =
    gpus_per_run`` (None: 1 when the cluster has GPUs, else 0; a fraction such as 0.5 puts two
    runs on one GPU).  Without ``address`` a local Ray instance with ``jobs × threads`` CPUs (and
    the machine's GPUs) is started; with one, the cluster must see ``cwd`` and the sweep
    directory at the same paths (a shared filesystem) and have polyir installed.  ``command``
    (default: `run_command`, built on the node that runs the task, with its Python; ``quiet``: ``-q``)."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray: pip install 'polyir[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        kwargs = {"address": address} if address else {"num_cpus": jobs * (threads or 1)}
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **kwargs)
    try:
        gpus = ray_gpus_per_run(gpus_per_run, ray.cluster_resources().get("GPU", 0.0))
        # Ray sets these variables in the worker before the task runs (runtime_env "env_vars")
        remote = ray.remote(execute_ray_task).options(num_cpus=threads or 1, num_gpus=gpus, max_retries=0,
                                                      runtime_env={"env_vars": remote_env(threads)})
        pending = {}
        for run_dir in run_dirs:
            if on_start is not None:
                on_start(run_dir)
            run_path = Path(run_dir).resolve()
            argv = command(run_path) if command is not None else None
            pending[remote.remote(str(run_path), str(Path(cwd).resolve()), argv, gpus, quiet)] = run_dir
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                pending.pop(ref)
                yield ray.get(ref)
    finally:
        if started_here:
            ray.shutdown()


def execute_ray_task(run_dir: str, cwd: str, command: list[str] | None, gpus: float, quiet: bool = False) -> RunResult:
    """`execute_run` inside a Ray task: the run's process gets the worker's environment (the
    node's, plus `remote_env` through the task's runtime_env) and sees the GPUs Ray assigned to
    the task (none when the task asked for none)."""
    import ray

    return execute_run(run_dir, cwd, {**os.environ, **gpu_env(ray.get_gpu_ids() if gpus else ())},
                       command or run_command(run_dir, quiet=quiet))


def ray_gpus_per_run(requested: float | None, cluster_gpus: float) -> float:
    """GPUs a run asks Ray for; refuses requests the cluster can never grant (they would wait forever)."""
    if requested is None:
        return 1.0 if cluster_gpus >= 1 else 0.0
    if requested < 0 or (requested > 1 and requested != int(requested)):
        raise ConfigError(f"--gpus-per-run must be 0, a fraction below 1 or a whole number, got {requested}")
    if requested > cluster_gpus:
        raise ConfigError(f"--gpus-per-run {requested:g}: the Ray cluster has {cluster_gpus:g} GPU(s)")
    return float(requested)


def make_executor(name: str):
    if name not in EXECUTORS:
        raise ConfigError(f"--executor must be one of {EXECUTORS}, got {name!r}")
    return local_executor if name == "local" else ray_executor
