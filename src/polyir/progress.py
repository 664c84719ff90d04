"""Progress bars that respect ``polyir -q`` (``POLYIR_QUIET=1``) and non-interactive logs."""
from __future__ import annotations

import os


def quiet() -> bool:
    return os.environ.get("POLYIR_QUIET", "") not in ("", "0")


def progress(iterable=None, *, total=None, desc: str = "", unit: str = "it", disable: bool | None = None, **kw):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, dynamic_ncols=True, mininterval=0.5,
                disable=quiet() if disable is None else disable, **kw)
