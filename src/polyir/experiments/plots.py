"""Report figures (matplotlib, headless Agg): language-pair heatmaps, metric-vs-α and
metric-vs-batch-size curves with 95% t-intervals across seeds."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import numpy as np

from ..io import atomic_write_bytes
from ..sampling import Strategy
from ..sampling.batch_strategy import MONO_PROBABILITY
from .analysis import KINDS, Analysis, Condition
from .tables import SeedTables

KIND_TITLES = {"mono": "monolingual", "cross": "cross-lingual", "multi": "multilingual"}
# X-X-mono and X-Y: hybrid at α = 1 and α = 0, mixed at α = 0
ENDPOINTS = {Strategy(name): alpha for name, alpha in MONO_PROBABILITY.items()}
FAMILY_STYLES = {"hybrid": dict(marker="o", color="tab:blue"), "mixed": dict(marker="s", color="tab:orange")}


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())
    return path


def heatmaps(tables: SeedTables, condition: Condition, systems: Sequence[Strategy], eval_set: str, measure: str,
             path: Path, title: str) -> Path:
    """One panel per system: query language (rows) × candidate language (+ the multilingual pool)."""
    queries, pools = tables.languages(eval_set)
    columns = [*pools, "multi"]
    n = len(systems)
    per_row = min(n, 3)
    rows = -(-n // per_row)
    cell = 0.42 if len(columns) <= 6 else 0.3
    fig = _figure(0.9 + per_row * (0.6 + cell * len(columns)), 0.7 + rows * (0.7 + cell * len(queries)))
    axes = fig.subplots(rows, per_row, squeeze=False)
    image = None
    annotate = len(columns) <= 8
    for ax, system in zip(axes.flat, systems):
        matrix = tables.pair_matrix(condition, system, eval_set, measure)
        image = ax.imshow(np.ma.masked_invalid(matrix), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        if annotate:
            for i in range(matrix.shape[0]):
                for j in range(matrix.shape[1]):
                    if not np.isnan(matrix[i, j]):
                        ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=6,
                                color="black" if matrix[i, j] > 0.6 else "white")
        ax.axvline(len(pools) - 0.5, color="white", linewidth=1.5)  # separates the multilingual pool
        ax.set_xticks(range(len(columns)), columns, fontsize=7, rotation=90 if len(columns) > 8 else 0)
        ax.set_yticks(range(len(queries)), queries, fontsize=7)
        ax.set_title(system.label, fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("query language", fontsize=8)
    for i, ax in enumerate(list(axes.flat)[:n]):
        if i + per_row >= n:  # the lowest panel of its column
            ax.set_xlabel("candidate language", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), fraction=0.04, pad=0.02, label=measure)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def _errorbar(ax, xs, cells, **style) -> None:
    means = [c.mean for c in cells]
    low, high = [], []
    for c in cells:
        interval = c.interval()
        low.append(c.mean - interval[0] if interval else 0.0)
        high.append(interval[1] - c.mean if interval else 0.0)
    ax.errorbar(xs, means, yerr=[low, high], capsize=3, **style)


def alpha_curves(analysis: Analysis, condition: Condition, eval_set: str, measure: str, path: Path,
                 title: str) -> Path | None:
    """Metric vs α for hybrid (per-batch) and mixed (per-item) composition.  Hybrid at α = 1 is
    X-X-mono and at α = 0 X-Y (the sampler's end points), mixed at α = 0 is X-Y: the lines run
    through those runs, drawn as their own markers.  Error bars: 95% t-interval across seeds."""
    families: dict[str, list[tuple[float, Strategy]]] = {}
    for s in analysis.systems[condition]:
        if s.alpha is not None:  # the strategies that take α (the database's alpha column)
            families.setdefault(s.name, []).append((s.alpha, s))
    if not families:
        return None
    fig = _figure(10.5, 3.3)
    axes = fig.subplots(1, len(KINDS), squeeze=False)[0]
    for ax, kind in zip(axes, KINDS):
        for family, points in sorted(families.items()):
            ends = [(a, s) for s, a in ENDPOINTS.items() if family == "hybrid" or a == 0.0]
            taken = {a for a, _ in points}
            line = sorted(points + [(a, s) for a, s in ends if a not in taken], key=lambda point: point[0])
            cells = [(a, analysis.cell(condition, s, eval_set, kind, measure)) for a, s in line]
            cells = [(a, c) for a, c in cells if c is not None]
            if cells:
                _errorbar(ax, [a for a, _ in cells], [c for _, c in cells], label=f"{family} (α per {_unit(family)})",
                          linewidth=1.5, **FAMILY_STYLES.get(family, {}))
        for end, alpha in ENDPOINTS.items():
            cell = analysis.cell(condition, end, eval_set, kind, measure)
            if cell is not None:
                _errorbar(ax, [alpha], [cell], label=end.label, linestyle="none", marker="D" if alpha else "^",
                          color="tab:green" if alpha else "tab:red", markersize=8, zorder=3)
        ax.set_title(f"{KIND_TITLES[kind]} {measure}", fontsize=9)
        ax.set_xlabel("α = P(monolingual)", fontsize=8)
        ax.set_xlim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    return _finish_panels(fig, axes, measure, title, path)


def _finish_panels(fig, axes, measure: str, title: str, path: Path) -> Path:
    """A row of panels: y label on the first, one legend on the right, the title, saved."""
    axes[0].set_ylabel(measure, fontsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def _unit(family: str) -> str:
    return "batch" if family == "hybrid" else "item"


def batch_size_curves(analysis: Analysis, conditions: Sequence[Condition], eval_set: str, measure: str, path: Path,
                      title: str) -> Path | None:
    """Metric vs batch size (log scale) for each strategy; ``conditions`` differ only in batch size."""
    conditions = sorted(conditions, key=lambda c: c.batch_size)
    if len(conditions) < 2:
        return None
    systems = sorted({s for c in conditions for s in analysis.systems[c] if s.trains}, key=lambda s: s.sort_key)
    fig = _figure(10.5, 3.3)
    axes = fig.subplots(1, len(KINDS), squeeze=False)[0]
    for ax, kind in zip(axes, KINDS):
        for system in systems:
            points = [(c.batch_size, analysis.cell(c, system, eval_set, kind, measure)) for c in conditions]
            points = [(b, cell) for b, cell in points if cell is not None]
            if points:
                _errorbar(ax, [b for b, _ in points], [cell for _, cell in points], label=system.label, marker="o")
        ax.set_xscale("log", base=2)
        sizes = [c.batch_size for c in conditions]
        ax.set_xticks(sizes, [str(b) for b in sizes])
        ax.set_title(f"{KIND_TITLES[kind]} {measure}", fontsize=9)
        ax.set_xlabel("batch size", fontsize=8)
        ax.grid(alpha=0.3)
    return _finish_panels(fig, axes, measure, title, path)
