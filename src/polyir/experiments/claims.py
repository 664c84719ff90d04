"""The report's generated summary: one sentence per comparison with the reference, phrased
from the significance tests only (a difference is called a win only when its Holm-adjusted
p-value is below the significance level; otherwise it is reported as no significant difference)."""
from __future__ import annotations

from .analysis import KINDS, LOWER_IS_BETTER, RANK_DISTANCE, Analysis, Condition, Test

KIND_WORDS = {"mono": "monolingual", "cross": "cross-lingual", "multi": "multilingual"}


def format_p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def statistic_name(kind: str, measure: str) -> str:
    if (kind, measure) == RANK_DISTANCE:
        return "rank distance (lower is better)"
    return f"{KIND_WORDS.get(kind, kind)} {measure}"


def _number(value: float, measure: str, sign: bool = False) -> str:
    digits = 1 if measure == "rank_distance" else 3
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def claim(test: Test, level: float = 0.05) -> str:
    """``hybrid(0.5) beats X-X-mono on cross-lingual AP: higher by 0.205 [0.192, 0.217], p<0.001 (Holm; ...)``."""
    r, m = test.result, test.measure
    what = statistic_name(test.kind, m)
    p = f"{format_p(test.p_holm)} (Holm; unadjusted {format_p(r.p_value)})"
    if not test.significant(level):
        return (f"no significant difference between {test.system} and {test.reference} on {what}: "
                f"Δ = {_number(r.delta, m, True)} [{_number(r.ci_low, m, True)}, {_number(r.ci_high, m, True)}], {p}")
    winner, loser = (test.system, test.reference) if test.better else (test.reference, test.system)
    # the margin in the winner's favour (positive), with its interval; the CI is of system − reference
    lower_is_better = m in LOWER_IS_BETTER
    k = (-1.0 if lower_is_better else 1.0) * (1.0 if winner == test.system else -1.0)
    low, high = sorted((k * r.ci_low, k * r.ci_high))
    word = "lower" if lower_is_better else "higher"
    return (f"{winner} beats {loser} on {what}: {word} by {_number(abs(r.delta), m)} "
            f"[{_number(low, m)}, {_number(high, m)}], {p}")


def summary_lines(analysis: Analysis, condition: Condition, eval_set: str, measure: str) -> list[str]:
    """Significant results first (largest margins first), then the non-significant ones."""
    tests = [t for t in analysis.tests if t.condition == condition and t.eval_set == eval_set
             and ((t.kind in KINDS and t.measure == measure) or (t.kind, t.measure) == RANK_DISTANCE)]
    significant = sorted((t for t in tests if t.significant(analysis.level)), key=_margin, reverse=True)
    rest = [t for t in tests if not t.significant(analysis.level)]
    return [claim(t, analysis.level) for t in significant + rest]


def _margin(test: Test) -> float:
    # rank distances are on another scale: order them after the retrieval measures
    return abs(test.result.delta) if test.kind in KINDS else -1.0


def headline(analysis: Analysis, condition: Condition, eval_set: str, measure: str) -> list[str]:
    """Per setting kind, the strategies not significantly worse than any other compared one
    (only the reference comparisons exist unless all pairs were tested)."""
    lines = []
    for kind in KINDS:
        tests = [t for t in analysis.tests if (t.condition, t.eval_set, t.kind, t.measure)
                 == (condition, eval_set, kind, measure)]
        if not tests:
            continue
        wins = [t.system.label for t in tests if t.significant(analysis.level) and t.better]
        losses = [t.system.label for t in tests if t.significant(analysis.level) and not t.better]
        ties = [t.system.label for t in tests if not t.significant(analysis.level)]
        parts = []
        if wins:
            parts.append(f"better than {analysis.reference}: {', '.join(wins)}")
        if ties:
            parts.append(f"not significantly different: {', '.join(ties)}")
        if losses:
            parts.append(f"worse: {', '.join(losses)}")
        lines.append(f"{KIND_WORDS[kind]} {measure}: " + "; ".join(parts))
    return lines
