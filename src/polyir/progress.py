"""Progress bars, and whether the command line shows them (``polyir -q``).

Functions that run long take ``progress=`` (train, encode, evaluate_model, run_one, run_sweep);
the bars deeper down (an importer's bytes, a translation direction, the scoring pass) follow
`show_progress`, which only the command line sets (``polyir -q``: off), never the environment:
a sweep passes ``-q`` to its run processes on their command line.
"""
from __future__ import annotations

_shown = True


def show_progress(shown: bool) -> None:
    """Show (or hide) the progress bars of this process; `polyir.cli.main` calls it for ``-q``."""
    global _shown
    _shown = shown


def progress_shown() -> bool:
    return _shown


def progress(iterable=None, *, total=None, desc: str = "", unit: str = "it", disable: bool | None = None, **kw):
    """A tqdm bar; ``disable`` None: hidden when `show_progress` turned bars off."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, dynamic_ncols=True, mininterval=0.5,
                disable=not _shown if disable is None else disable, **kw)
