"""One process per output directory: refused while held, free again once the holder is gone."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from processes import child_env

from polyir.dirlock import LOCK_NAME, DirectoryInUse, DirectoryLock, lock_holder

HOLD = """
import sys, time
from polyir.dirlock import DirectoryLock
DirectoryLock(sys.argv[1], "run directory").acquire()
print("locked", flush=True)
time.sleep(600)
"""


def test_a_held_directory_is_refused_with_the_holder_named(tmp_path):
    with DirectoryLock(tmp_path / "run", "training output directory"):
        assert lock_holder(tmp_path / "run").startswith(f"pid {os.getpid()} on ")
        with pytest.raises(DirectoryInUse, match=f"run: this training output directory is in use by another polyir "
                                                 f"process \\(pid {os.getpid()} on .* since .*\\)"):
            DirectoryLock(tmp_path / "run", "training output directory").acquire()
    assert lock_holder(tmp_path / "run") is None
    with DirectoryLock(tmp_path / "run"):  # free again
        pass


def test_a_killed_holder_leaves_no_lock_behind(tmp_path):
    env = child_env()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert lock_holder(tmp_path) == f"pid {holder.pid} on " + lock_holder(tmp_path).split(" on ", 1)[1]
        with pytest.raises(DirectoryInUse, match=f"pid {holder.pid}"):
            DirectoryLock(tmp_path).acquire()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    with DirectoryLock(tmp_path):  # the kernel dropped the dead process's lock
        assert (tmp_path / LOCK_NAME).read_text().startswith(f"pid {os.getpid()} ")


def test_a_directory_the_lock_created_and_nothing_wrote_to_is_removed(tmp_path):
    with DirectoryLock(tmp_path / "new"):
        assert (tmp_path / "new" / LOCK_NAME).is_file()
    assert not (tmp_path / "new").exists()
    with DirectoryLock(tmp_path / "used"):
        (tmp_path / "used" / "output.txt").write_text("x")
    assert sorted(p.name for p in (tmp_path / "used").iterdir()) == [LOCK_NAME, "output.txt"]
    (tmp_path / "existing").mkdir()
    with DirectoryLock(tmp_path / "existing"):
        pass
    assert (tmp_path / "existing").is_dir()  # not created by the lock: kept
