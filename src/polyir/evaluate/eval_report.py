"""The per-evaluation report: ``report.md`` (paper-style tables) and ``heatmap.png``."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..io import atomic_write_bytes, atomic_write_text
from .result import EvaluationResult
from .settings import KINDS


def write_report(result: EvaluationResult, out_dir: str | Path, *, title: str | None = None,
                 heatmap_measure: str | None = None, appendix: str | None = None) -> list[Path]:
    """Write ``report.md`` and ``heatmap.png`` (query x candidate language) into ``out_dir``;
    ``appendix``: markdown sections added at the end (e.g. the translation gap)."""
    out = Path(out_dir)
    measure = heatmap_measure or result.measure_names[0]
    heatmap = out / "heatmap.png"
    plot_heatmap(result, heatmap, measure)
    report = out / "report.md"
    text = render_markdown(result, title=title, heatmap=heatmap.name, heatmap_measure=measure)
    atomic_write_text(report, text + (f"\n{appendix.strip()}\n" if appendix else ""))
    return [report, heatmap]


def render_markdown(result: EvaluationResult, *, title: str | None = None, heatmap: str | None = None,
                    heatmap_measure: str | None = None) -> str:
    parts = [f"# {title or f'Evaluation: {result.dataset}'}", _overview(result),
             "## Summary (macro averages, as Table 1 of the paper)", summary_table(result),
             "## Per query language", _language_table(result)]
    if result.bias is not None:
        parts += ["## Rank distance (multilingual pool, lower is better)", _rank_distance_table(result),
                  f"## Language preference and strong alignment (top-{result.bias.k})", _bias_table(result)]
    measure = heatmap_measure or result.measure_names[0]
    parts += [f"## {measure} by query language (rows) and candidate language (columns)", _pair_table(result, measure)]
    if heatmap:
        parts.append(f"![{measure} heatmap]({heatmap})")
    return "\n\n".join(parts) + "\n"


def _fmt(value, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _overview(result: EvaluationResult) -> str:
    counts = ", ".join(f"{lang} {result.n_queries[lang]}" for lang in result.query_languages)
    pools = ", ".join(f"{lang} {result.n_candidates[lang]}" for lang in result.candidate_languages)
    kinds = {kind: sum(s.kind == kind for s in result.settings.values()) for kind in KINDS}
    depth = "full ranking" if result.depth is None else f"top {result.depth}"
    return "\n".join([
        f"- Queries: {sum(result.n_queries.values())} ({counts})",
        f"- Candidates: {sum(result.n_candidates.values())} ({pools})",
        f"- Settings: {kinds['mono']} monolingual, {kinds['cross']} cross-lingual, {kinds['multi']} multilingual",
        f"- Depth: {depth}; ties broken by candidate id descending (trec_eval)",
        f"- Queries without any relevant candidate (not evaluated): {result.n_queries_without_relevant}",
    ])


def summary_table(result: EvaluationResult) -> str:
    summary = result.summary()
    rows = [[m, *(_fmt(summary[kind][m]) for kind in KINDS)] for m in result.measure_names]
    if summary["rank_distance"] is not None:
        rows.append(["rank distance", "", "", _fmt(summary["rank_distance"], 1)])
    return _table(["measure", *KINDS], rows)


def _language_columns(result: EvaluationResult) -> list[tuple[str, str]]:
    names = result.measure_names
    wanted = [("mono", "AP"), ("mono", "R@1"), ("cross", "AP"), ("cross", "R@1"), ("multi", "AP"), ("multi", "R@10")]
    columns = [(kind, m) for kind, m in wanted if m in names]
    present = {kind for kind in KINDS if any(s.kind == kind for s in result.settings.values())}
    return [(kind, m) for kind, m in (columns or [(k, names[0]) for k in KINDS]) if kind in present]


def _language_table(result: EvaluationResult) -> str:
    columns = _language_columns(result)
    table = result.per_language()
    with_distance = result.bias is not None
    rows = []
    for lang in result.query_languages:
        row = [lang, str(result.n_queries[lang])]
        row += [_fmt((table[lang][kind] or {}).get(m)) for kind, m in columns]
        rows.append(row + ([_fmt(table[lang]["rank_distance"], 1)] if with_distance else []))
    mean = ["mean", ""] + [_fmt(result.kind_mean(kind, m)) for kind, m in columns]
    if with_distance:
        mean.append(_fmt(result.summary()["rank_distance"], 1))
    header = ["query lang", "queries", *(f"{kind} {m}" for kind, m in columns)]
    return _table(header + (["rank distance"] if with_distance else []), rows + [mean])


def _rank_distance_table(result: EvaluationResult) -> str:
    per = result.bias.per_language()
    rows = [[lang, _fmt(per[lang]["rank_distance"], 1), str(per[lang]["rank_distance_queries"])]
            for lang in result.query_languages]
    rows.append(["macro", _fmt(result.bias.macro()["rank_distance"], 1), ""])
    return _table(["query lang", "rank distance", "queries (≥ 2 relevant)"], rows)


def _bias_table(result: EvaluationResult) -> str:
    per, macro = result.bias.per_language(), result.bias.macro()
    keys = ("same_language_share", "pool_share", "same_language_ratio", "strong_alignment")
    rows = [[lang, *(_fmt(per[lang][key]) for key in keys)] for lang in result.query_languages]
    rows.append(["macro", *(_fmt(macro[key]) for key in keys)])
    return _table(["query lang", f"own language in top-{result.bias.k}", "own language in pool", "ratio",
                   "strong alignment"], rows)


def _pair_table(result: EvaluationResult, measure: str) -> str:
    matrix = result.pair_matrix(measure)
    multi = [result.setting(x, "multi") for x in result.query_languages]
    with_multi = any(s is not None for s in multi)
    rows = []
    for i, x in enumerate(result.query_languages):
        row = [x, *(_fmt(v) for v in matrix[i])]
        rows.append(row + ([_fmt(multi[i].means[measure] if multi[i] else None)] if with_multi else []))
    return _table(["query \\ candidates", *result.candidate_languages, *(["multi"] if with_multi else [])], rows)


def plot_heatmap(result: EvaluationResult, path: str | Path, measure: str) -> None:
    """Annotated query-language x candidate-language heatmap (headless Agg backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matrix = result.pair_matrix(measure)
    rows, cols = result.query_languages, result.candidate_languages
    fig = Figure(figsize=(1.0 + 0.62 * len(cols), 0.8 + 0.5 * len(rows)), dpi=150, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(cols)):
            if not np.isnan(matrix[i, j]):
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="black" if matrix[i, j] > 0.6 else "white")
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("candidate language")
    ax.set_ylabel("query language")
    ax.set_title(f"{result.dataset}: {measure}", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())
