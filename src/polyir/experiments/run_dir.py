"""The files of a sweep run directory besides its record: ``spec.json`` (what the run is, written
before it starts), ``error.txt`` (why it failed), ``run.log`` (its output), and the run's status
read from them.  Layout: docs/experiments.md ("Run directory")."""
from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, InputError
from ..io import atomic_write_json, read_json
from .grid import RunSpec
from .record import has_record

SPEC_FILE = "spec.json"
ERROR_FILE = "error.txt"
LOG_FILE = "run.log"


def write_spec(run_dir: str | Path, spec: RunSpec) -> Path:
    """Write ``spec.json`` (once; an existing one must describe the same run)."""
    path = Path(run_dir) / SPEC_FILE
    if path.exists():
        existing = read_spec(path)
        if existing.hash != spec.hash:
            raise InputError(f"holds run {existing.hash}, not {spec.hash}", path=path)
        return path
    atomic_write_json(path, spec.to_dict())
    return path


def load_spec(run_dir: str | Path) -> RunSpec:
    path = Path(run_dir) / SPEC_FILE
    if not path.exists():
        if path.is_symlink():
            raise InputError("cannot read it: a broken link", path=path)
        raise InputError("not a sweep run directory (no spec.json)", path=run_dir)
    return read_spec(path)


def read_spec(path: Path) -> RunSpec:
    """A run's ``spec.json``; a file that is not one is an `InputError` naming it."""
    doc = read_json(path)
    try:
        return RunSpec.from_dict(doc)
    except ConfigError as err:
        raise InputError(str(err), path=path) from None
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(f"not a run spec (written by polyir sweep): {type(err).__name__}: {err}", path=path) from None


def run_status(run_dir: str | Path) -> str:
    """``finished`` (record written), ``failed``, ``partial`` (training started) or ``todo``."""
    run_dir = Path(run_dir)
    if has_record(run_dir):
        return "finished"
    if (run_dir / ERROR_FILE).exists():
        return "failed"
    train = run_dir / "train"
    if (train / "summary.json").exists() or (train / "checkpoints").is_dir() or (train / "config.yaml").exists():
        return "partial"
    return "todo"
