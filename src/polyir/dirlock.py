"""One process per output directory: an exclusive lock that a dead process cannot leave behind.

`DirectoryLock` holds an advisory lock on ``DIR/.polyir.lock`` (``flock`` on POSIX,
``msvcrt.locking`` on Windows) for as long as a training run, a sweep or one sweep run
works in ``DIR``.  The operating system drops the lock when the holder exits, however it
exits (``kill -9``, a crash, a lost machine's NFS client), so there is no stale lock to
clean up; a second process is refused at once with the holder's pid, host and start time.
The lock file itself stays (deleting it would let two processes lock two different files).
"""
from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

from .errors import InputError

LOCK_NAME = ".polyir.lock"

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


class DirectoryInUse(InputError):
    """Another live process holds the directory."""


class DirectoryLock:
    """``with DirectoryLock(out, "training output directory"): ...``"""

    def __init__(self, directory: str | Path, what: str = "directory"):
        self.directory = Path(directory)
        self.what = what
        self._fd: int | None = None
        self._created = False

    @property
    def path(self) -> Path:
        return self.directory / LOCK_NAME

    def acquire(self) -> "DirectoryLock":
        self._created = not self.directory.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        if not _try_lock(fd):
            holder = _read(fd)
            os.close(fd)
            raise DirectoryInUse(f"this {self.what} is in use by another polyir process ({holder or 'unknown'}); "
                                 "wait for it to finish or stop it first", path=self.directory)
        os.ftruncate(fd, 0)
        stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        os.write(fd, f"pid {os.getpid()} on {platform.node()} since {stamp}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Unlock; a directory this lock created and nothing else wrote into is removed again
        (a run that failed on its input leaves nothing behind)."""
        if self._fd is None:
            return
        if self._created and [p.name for p in self.directory.iterdir()] == [LOCK_NAME]:
            self.path.unlink()  # while still locked: nobody can hold the name we remove
            self.directory.rmdir()
        _unlock(self._fd)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "DirectoryLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def lock_holder(directory: str | Path) -> str | None:
    """Who holds ``directory`` now (``"pid 123 on host since ..."``), or None when nobody does.
    A probe: it takes the lock for an instant when it is free."""
    path = Path(directory) / LOCK_NAME
    if not path.is_file():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        if _try_lock(fd):
            _unlock(fd)
            return None
        return _read(fd) or "unknown"
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except OSError:  # BlockingIOError (POSIX) / PermissionError (Windows): held by another process
        return False


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _read(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 500).decode("utf-8", "replace").strip()
    except OSError:  # Windows: the holder's locked byte cannot be read
        return ""
