"""``polyir report``: a results database -> ``report.md`` + ``report.html`` + figures.

Tables follow the paper (mono / cross / multilingual macro averages per strategy), with
mean ± std over seeds, significance marks against the reference and the tests themselves
(Δ, 95% CI, p, Holm-adjusted p); then per-language tables, heatmaps, α and batch-size
curves, a generated summary and the list of runs.  Statistics: docs/metrics.md.
"""
from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import markdown

from ..io import atomic_write_text, output_directory
from ..sampling import DEFAULT_STRATEGY, Strategy
from . import plots
from .analysis import KINDS, RANK_DISTANCE, Analysis, Cell, Condition, Test, analyse
from .claims import format_p, headline, summary_lines
from .store import ResultsStore
from .tables import SeedTables

MARK = "†"


@dataclass(frozen=True)
class ReportFiles:
    markdown: Path
    html: Path
    figures: tuple[Path, ...]
    summary: tuple[str, ...]  # the generated summary sentences
    table: str  # the first main table (markdown), for printing
    analysis: Analysis


def write_report(db_path: str | Path, out_dir: str | Path, *, reference: Strategy | None = None,
                 measures: Sequence[str] = ("AP",), n_resamples: int = 10_000, seed: int = 0,
                 all_pairs: bool = False, level: float = 0.05, title: str | None = None) -> ReportFiles:
    output_directory(out_dir, create=False)  # a bad --out fails before the analysis
    with ResultsStore(db_path, create=False) as store:
        if reference is None:  # the sweep's, as its file named it
            reference = Strategy.parse(store.get_meta("reference") or DEFAULT_STRATEGY.label)
        analysis = analyse(store, reference=reference, measures=measures, n_resamples=n_resamples, seed=seed,
                           all_pairs=all_pairs, level=level)
        tables = SeedTables(store, analysis)
        sweep = ", ".join(sorted({r["sweep"] for r in analysis.runs}))
    out = output_directory(out_dir)  # only once the database read well: a refused one leaves nothing behind
    figures = _figures(analysis, tables, out)
    parts, summary = _body(analysis, tables, figures, out)
    header = _overview(analysis, Path(db_path), title or f"Sweep report: {sweep}")
    text = "\n\n".join([header, *parts]) + "\n"
    atomic_write_text(out / "report.md", text)
    atomic_write_text(out / "report.html", render_html(text, out, title or f"Sweep report: {sweep}"))
    first = main_table(analysis, analysis.eval_sets[0], analysis.measures[0])
    return ReportFiles(out / "report.md", out / "report.html", tuple(p for p in figures.values() if p),
                       tuple(summary), first, analysis)


def _overview(analysis: Analysis, db_path: Path, title: str) -> str:
    trained = [r for r in analysis.runs if r["kind"] == "train"]
    seeds = sorted({r["seed"] for r in trained})
    return "\n".join([
        f"# {title}", "",
        f"- Results database: `{db_path}`: {len(trained)} trained runs, "
        f"{len(analysis.runs) - len(trained)} untrained baselines; seeds {', '.join(map(str, seeds)) or '-'}",
        f"- Evaluation sets: {', '.join(analysis.eval_sets)}; measures: {', '.join(analysis.measures)} "
        "(macro averages over settings; rank distance: multilingual pool, lower is better)",
        f"- Values: mean ± sample std over seeds. Reference: **{analysis.reference}**. Δ = strategy − reference "
        f"with a 95% paired cluster-bootstrap CI over question ids and the paired randomisation-test p-value "
        f"({analysis.n_resamples:,} resamples each; each question's values averaged over seeds first); "
        f"Holm-adjusted within each table. ▲{MARK} / ▼{MARK}: significantly better / worse than the reference "
        f"(Holm-adjusted p < {analysis.level}); no mark: not significant. Formulas: docs/metrics.md.",
    ])


def _shown(analysis: Analysis) -> list[str]:
    return sorted(analysis.varying())


def _condition_cells(analysis: Analysis, condition: Condition) -> list[str]:
    shown = analysis.varying()
    cells = [condition.model] if "model" in shown else []
    cells += [condition.data] if "data" in shown else []
    cells += [str(condition.batch_size)] if "batch_size" in shown else []
    cells += [", ".join(f"{k}={v}" for k, v in condition.extra)] if "extra" in shown else []
    return cells


def _condition_header(analysis: Analysis) -> list[str]:
    shown = analysis.varying()
    return [name for name in ("model", "data", "batch_size") if name in shown] + (["options"] if "extra" in shown else [])


def format_cell(cell: Cell | None, test: Test | None, level: float, digits: int = 3) -> str:
    if cell is None:
        return "–"
    text = f"{cell.mean:.{digits}f}" + (f" ± {cell.std:.{digits}f}" if cell.n > 1 else "")
    if test is not None and test.significant(level):
        text += f" {'▲' if test.better else '▼'}{MARK}"
    return text


def main_table(analysis: Analysis, eval_set: str, measure: str) -> str:
    """Paper-style table: one row per condition × strategy; mono / cross / multi and rank distance."""
    header = [*_condition_header(analysis), "strategy", "seeds", *(f"{k} {measure}" for k in KINDS), "rank distance"]
    rows = []
    for c in analysis.conditions:
        for system in analysis.systems[c]:
            stats = [(k, measure) for k in KINDS] + [RANK_DISTANCE]
            cells = [analysis.cell(c, system, eval_set, k, m) for k, m in stats]
            if all(x is None for x in cells):
                continue
            n = max((x.n for x in cells if x is not None), default=0)
            name = f"**{system.label}** (ref)" if system == analysis.reference else system.label
            rows.append([*_condition_cells(analysis, c), name, str(n)] + [
                format_cell(x, analysis.test(c, system, eval_set, k, m), analysis.level, 1 if m == "rank_distance" else 3)
                for x, (k, m) in zip(cells, stats)])
    return _table(header, rows)


def significance_table(analysis: Analysis, tests: list[Test], eval_set: str, measure: str) -> str:
    header = [*_condition_header(analysis), "strategy", "vs", "statistic", "Δ", "95% CI", "p", "p (Holm)", "questions"]
    rows = []
    for t in tests:
        if t.eval_set != eval_set or not (t.measure == measure or (t.kind, t.measure) == RANK_DISTANCE):
            continue
        r = t.result
        digits = 1 if t.measure == "rank_distance" else 3
        what = "rank distance" if t.kind == "bias" else f"{t.kind} {t.measure}"
        mark = f" {MARK}" if t.significant(analysis.level) else ""
        rows.append([*_condition_cells(analysis, t.condition), t.system.label, t.reference.label, what,
                     f"{r.delta:+.{digits}f}", f"[{r.ci_low:+.{digits}f}, {r.ci_high:+.{digits}f}]",
                     format_p(r.p_value), format_p(t.p_holm) + mark, str(r.n_questions)])
    return _table(header, rows) if rows else "_No comparisons (the reference is missing from these runs)._"


def _language_tables(analysis: Analysis, tables: SeedTables, condition: Condition, eval_set: str,
                     measure: str) -> list[str]:
    systems = analysis.systems[condition]
    per = {s: tables.per_language(condition, s, eval_set, measure) for s in systems}
    languages = list(next(iter(per.values())).keys()) if per else []
    parts = []
    for key, title, digits in [(k, f"{k} {measure}", 3) for k in KINDS] + [("rank_distance", "rank distance", 1)]:
        rows = [[lang, *(_num(per[s][lang][key], digits) for s in systems)] for lang in languages]
        if any(cell != "–" for row in rows for cell in row[1:]):
            parts += [f"**{title}** by query language (mean over seeds)",
                      _table(["query lang", *(s.label for s in systems)], rows)]
    return parts


def _num(value, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-").lower() or "all"


def _figures(analysis: Analysis, tables: SeedTables, out: Path) -> dict[tuple, Path | None]:
    figures: dict[tuple, Path | None] = {}
    for eval_set in analysis.eval_sets:
        measure = lead_measure(analysis, eval_set)
        for c in analysis.conditions:
            name = _slug(f"{eval_set}-{c.describe()}")
            label = f"{eval_set}, {c.describe()}"
            figures[("heatmap", eval_set, c)] = plots.heatmaps(
                tables, c, analysis.systems[c], eval_set, measure, out / f"heatmap-{name}.png",
                f"{measure} by language pair — {label}")
            figures[("alpha", eval_set, c)] = plots.alpha_curves(
                analysis, c, eval_set, measure, out / f"alpha-{name}.png", f"{measure} vs α — {label}")
        for key, group in _batch_groups(analysis).items():
            label = _slug(f"{eval_set}-{key.describe(('model', 'data', 'extra'))}")
            figures[("batch", eval_set, key)] = plots.batch_size_curves(
                analysis, group, eval_set, measure, out / f"batch-size-{label}.png",
                f"{measure} vs batch size — {eval_set}, {key.describe(('model', 'data', 'extra'))}")
    return figures


def measures_of(analysis: Analysis, eval_set: str) -> list[str]:
    """The requested measures that ``eval_set`` recorded (a BEIR set has no AP when it was
    evaluated with nDCG@10 / R@100 / RR@10 only): a report shows no empty tables."""
    return [m for m in analysis.measures
            if any(analysis.cell(c, s, eval_set, k, m) is not None
                   for c in analysis.conditions for s in analysis.systems[c] for k in KINDS)]


def lead_measure(analysis: Analysis, eval_set: str) -> str:
    """The measure of ``eval_set``'s summary, language tables and figures: the first recorded."""
    return next(iter(measures_of(analysis, eval_set)), analysis.measures[0])


def _batch_groups(analysis: Analysis) -> dict[Condition, list[Condition]]:
    groups: dict[Condition, list[Condition]] = {}
    for c in analysis.conditions:
        groups.setdefault(Condition(c.model, c.data, 0, c.extra), []).append(c)
    return {k: v for k, v in groups.items() if len(v) > 1}


def _body(analysis: Analysis, tables: SeedTables, figures: dict, out: Path) -> tuple[list[str], list[str]]:
    parts, summary = ["## Summary"], []
    for eval_set in analysis.eval_sets:
        measure = lead_measure(analysis, eval_set)
        for c in analysis.conditions:
            lines = headline(analysis, c, eval_set, measure) + summary_lines(analysis, c, eval_set, measure)
            if lines:
                parts.append(f"**{eval_set}, {c.describe()}** (reference {analysis.reference}):")
                parts.append("\n".join(f"- {line}" for line in lines))
                summary += [f"{eval_set}, {c.describe()}: {line}" for line in lines]
    if not summary:
        parts.append(f"_No significance tests: the reference {analysis.reference} was not run in any condition._")
    for eval_set in analysis.eval_sets:
        measure = lead_measure(analysis, eval_set)
        for m in measures_of(analysis, eval_set):
            parts += [f"## {eval_set}: {m}, macro averages", main_table(analysis, eval_set, m),
                      f"### Tests against {analysis.reference}", significance_table(analysis, analysis.tests, eval_set, m)]
            if analysis.pair_tests:
                parts += ["### All pairs", significance_table(analysis, analysis.pair_tests, eval_set, m)]
        for c in analysis.conditions:
            parts.append(f"## {eval_set}, {c.describe()}: per language and language pair")
            parts += _language_tables(analysis, tables, c, eval_set, measure)
            for kind, caption in (("heatmap", f"{measure} heatmaps"), ("alpha", f"{measure} vs α")):
                path = figures.get((kind, eval_set, c))
                if path:
                    parts.append(f"![{caption}]({path.name})")
                    if kind == "alpha":
                        parts.append(error_bars_caption(analysis, [c], eval_set, measure))
        groups = _batch_groups(analysis)
        for (kind, es, key), path in figures.items():
            if kind == "batch" and es == eval_set and path:
                parts += [f"## {eval_set}: {measure} vs batch size ({key.describe(('model', 'data', 'extra'))})",
                          f"![{measure} vs batch size]({path.name})",
                          error_bars_caption(analysis, groups[key], eval_set, measure)]
    parts += ["## Runs", _runs_table(analysis), *leakage_note(analysis)]
    return parts, summary


def error_bars_caption(analysis: Analysis, conditions: Sequence[Condition], eval_set: str, measure: str) -> str:
    """What a figure's error bars are, with the t quantile for the numbers of seeds it shows."""
    from scipy.stats import t

    seeds = sorted({cell.n for c in conditions for s in analysis.systems[c] if s.trains for kind in KINDS
                    for cell in [analysis.cell(c, s, eval_set, kind, measure)] if cell is not None})
    several = [n for n in seeds if n > 1]
    if not several:
        return "_One seed per point: no error bars. The paired per-question tests in the tables above compare " \
               "the strategies._"
    quantiles = ", ".join(f"t = {t.ppf(0.975, n - 1):.2f} for {n} seeds" for n in several)
    single = "; points from one seed have none" if 1 in seeds else ""
    return (f"_Error bars: 95% Student-t interval of the mean across seeds ({quantiles}: wide with few seeds"
            f"{single}). The paired per-question tests in the tables above are the sharper comparison._")


def _runs_table(analysis: Analysis) -> str:
    header = ["run", "strategy", "model", "data", "batch", "seed", "steps", "train s", "pairs/s", "mono batches",
              "cross items", "fallback items", "leakage: dropped groups"]
    rows = []
    for r in analysis.runs:
        fallback = (r["sampling"] or {}).get("share_items_fallback")
        rows.append([f"`{r['hash']}`", r["label"], str(r["model"]), str(r["data"] or "–"), _num_or(r["batch_size"]),
                     _num_or(r["seed"]), _num_or(r["steps"]), _num_or(r["train_seconds"], "{:.0f}"),
                     _num_or(r["pairs_per_second"], "{:.0f}"), _num_or(r["share_mono_batches"], "{:.2f}"),
                     _num_or(r["share_items_cross"], "{:.2f}"), _num_or(fallback, "{:.2f}"),
                     _num_or(r["leakage_dropped_groups"])])
    return _table(header, rows)


LEAK_REASONS = {"id": "the same question id", "question": "the same question text",
                "passage": "the same answer text (a sentence or passage that is also an evaluation candidate)",
                "contained": "an answer text contained in an evaluation paragraph"}


def leakage_note(analysis: Analysis) -> list[str]:
    """Why the runs table shows dropped groups: what the leakage guard removed, per training data."""
    dropped: dict[str, dict] = {}
    for r in analysis.runs:
        if (r["leakage"] or {}).get("dropped_groups"):
            dropped.setdefault(str(r["data"] or "–"), r["leakage"])
    if not dropped:
        return []
    lines = []
    for data, leak in sorted(dropped.items()):
        reasons = "; ".join(f"{n} by {LEAK_REASONS.get(reason, reason)}"
                            for reason, n in sorted((leak.get("groups_by_reason") or {}).items()))
        lines.append(f"- {data}: {leak['dropped_groups']} groups ({leak.get('dropped_pairs', '?')} pairs, every "
                     f"language of a group) left out" + (f": {reasons}" if reasons else ""))
    return ["**Leakage guard.** Training groups that share text with an evaluation set are left out of training "
            "(`data.exclude`, which a sweep fills with its evaluation sets), so no evaluation question or answer is "
            "seen in training:", "\n".join(lines)]


def _num_or(value, fmt: str = "{}") -> str:
    return "–" if value is None else fmt.format(value)


HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}
th {{ background: #f3f3f3; }} td:first-child, th:first-child {{ text-align: left; }}
img {{ max-width: 100%; }} code {{ background: #f3f3f3; padding: 0 0.2em; }}
</style></head><body>
{body}
</body></html>
"""


def render_html(markdown_text: str, figure_dir: Path, title: str) -> str:
    """Markdown -> a self-contained HTML page (figures embedded as data URIs)."""
    body = markdown.markdown(markdown_text, extensions=["tables"], output_format="html")

    def embed(match: re.Match) -> str:
        path = figure_dir / match.group(1)
        if not path.is_file():
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode("ascii")}"'

    body = re.sub(r'src="([^"/:]+\.png)"', embed, body)
    return HTML_TEMPLATE.format(title=html.escape(title), body=body)
