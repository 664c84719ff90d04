"""Statistics wiring and the report, on constructed results with known effects."""
from __future__ import annotations

import re

import numpy as np
import pytest

from expfixtures import fill, record, spec
from polyir.errors import ConfigError
from polyir.evaluate.significance import compare
from polyir.experiments.analysis import align, analyse
from polyir.experiments.sweep_report import MARK, lead_measure, main_table, measures_of, write_report
from polyir.experiments.store import ResultsStore
from polyir.sampling import Strategy

S = Strategy.parse  # systems are Strategy values; the tests name them by their labels

# cross: X-Y clearly better than the reference, X-X-mono clearly worse; mono: X-X-mono identical
SYSTEMS = {
    "X-X-mono": {"mono": 0.0, "cross": -0.2, "multi": -0.1, "rank_distance": 500.0},
    "X-Y": {"mono": -0.05, "cross": 0.05, "multi": 0.0},
    "hybrid(0.5)": {},
    "mixed(0.5)": {"mono": 0.0, "cross": 0.0, "multi": 0.0},
}


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "results.db"
    with ResultsStore(path) as store:
        fill(store, SYSTEMS, seeds=(0, 1, 2), noise=0.0)
    return path


def test_cells_are_means_and_stds_over_seeds(tmp_path):
    with ResultsStore(tmp_path / "r.db") as store:
        for seed, effect in enumerate((0.0, 0.1, 0.2)):
            store.record(record(spec("hybrid(0.5)", seed), {"cross": effect}))
        analysis = analyse(store, n_resamples=1000)
    (condition,) = analysis.conditions
    cell = analysis.cell(condition, S("hybrid(0.5)"), "set", "cross", "AP")
    assert cell.n == 3 and cell.std == pytest.approx(0.1, abs=1e-6)
    low, high = cell.interval()
    assert low < cell.mean < high and high - low == pytest.approx(2 * 4.302653 * 0.1 / np.sqrt(3), rel=1e-4)


def test_tests_against_the_reference(db):
    with ResultsStore(db, create=False) as store:
        analysis = analyse(store, n_resamples=2000)
    (c,) = analysis.conditions
    assert [s.label for s in analysis.systems[c]] == ["untrained", "X-X-mono", "X-Y", "hybrid(0.5)", "mixed(0.5)"]
    assert analysis.systems[c][1] == Strategy("mono") and analysis.reference == Strategy("hybrid", 0.5)
    worse = analysis.test(c, S("X-X-mono"), "set", "cross", "AP")
    assert worse.result.delta == pytest.approx(-0.2, abs=1e-3) and worse.significant() and not worse.better
    better = analysis.test(c, S("X-Y"), "set", "cross", "AP")
    assert better.result.delta == pytest.approx(0.05, abs=1e-3) and better.significant() and better.better
    same = analysis.test(c, S("mixed(0.5)"), "set", "mono", "AP")
    assert same.result.delta == pytest.approx(0.0, abs=1e-6) and same.p_holm == 1.0 and not same.significant()
    distance = analysis.test(c, S("X-X-mono"), "set", "bias", "rank_distance")
    assert distance.significant() and not distance.better  # higher rank distance is worse
    assert analysis.test(c, S("untrained"), "set", "cross", "AP") is None  # the baseline is not tested
    # Holm within the table: adjusted p >= raw p, and one family per (condition, set, measure)
    assert all(t.p_holm >= t.result.p_value for t in analysis.tests)
    assert len({t.family for t in analysis.tests}) == 2  # AP table and rank distance


def test_marks_appear_exactly_when_adjusted_p_is_below_the_level(db):
    with ResultsStore(db, create=False) as store:
        analysis = analyse(store, n_resamples=2000)
    table = main_table(analysis, "set", "AP")
    rows = {re.sub(r"[|*]|\(ref\)", "", line.split(" | ")[0]).strip(): line for line in table.splitlines()[2:]}
    columns = {"mono": 2, "cross": 3, "multi": 4}
    (c,) = analysis.conditions
    for t in analysis.tests:
        if t.kind not in columns:
            continue
        cell = rows[t.system.label].split(" | ")[columns[t.kind]]
        assert (MARK in cell) == (t.p_holm < 0.05), (t.system, t.kind, cell, t.p_holm)
        if MARK in cell:
            assert ("▲" in cell) == t.better
    assert MARK not in rows["hybrid(0.5)"] and MARK not in rows["untrained"]


def test_paired_test_averages_seeds_per_question_before_comparing():
    a = [record(spec("X-Y", s), {"cross": 0.1}, noise=0.05).matrices[1] for s in range(3)]
    b = [record(spec("hybrid(0.5)", s), {}, noise=0.05).matrices[1] for s in range(2)]
    va, vb = align(a, b)
    expected = np.mean([m.values.astype(np.float64) for m in a], axis=0)
    np.testing.assert_allclose(va, expected)
    result = compare(va, vb, n_resamples=1000)
    assert result.delta == pytest.approx(np.nanmean(va) - np.nanmean(vb)) and result.ci_low > 0


def test_alignment_follows_ids_not_positions():
    (m,) = [record(spec("X-Y"), {}, noise=0.05).matrices[0]]
    permuted_q = np.random.default_rng(0).permutation(len(m.questions))
    shuffled = type(m)(m.eval_set, m.kind, m.measure, m.settings[::-1], tuple(np.asarray(m.questions)[permuted_q]),
                       m.values[::-1][:, permuted_q])
    va, vb = align([m], [shuffled])
    np.testing.assert_array_equal(va, vb)


def test_reference_must_exist(db):
    with ResultsStore(db, create=False) as store:
        with pytest.raises(ConfigError, match="reference 'hybrid\\(0.9\\)' is not among the recorded strategies"):
            analyse(store, reference=S("hybrid(0.9)"))
        with pytest.raises(ConfigError, match="at least 1000 resamples"):
            analyse(store, n_resamples=100)
        other = analyse(store, reference=S("X-Y"), n_resamples=1000)
    assert {t.reference for t in other.tests} == {Strategy("cross")}


def test_report_files(db, tmp_path):
    out = tmp_path / "report"
    report = write_report(db, out, n_resamples=1000, all_pairs=True)
    text = (out / "report.md").read_text()
    for system in SYSTEMS:
        assert f"| {system} |" in text or f"**{system}**" in text
    assert "## Summary" in text and "hybrid(0.5) beats X-X-mono on cross-lingual AP: higher by 0.200" in text
    assert "X-Y beats hybrid(0.5) on cross-lingual AP: higher by 0.050" in text
    assert "no significant difference between mixed(0.5) and hybrid(0.5) on monolingual AP" in text
    assert "### All pairs" in text and "rank distance" in text
    figures = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(figures) == 2 and all((out / f).stat().st_size > 10_000 for f in figures)
    assert (out / figures[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2 and "<table>" in html and "X-X-mono" in html
    assert report.summary and report.table.startswith("| strategy | seeds | mono AP")
    assert "(t = 4.30 for 3 seeds: wide with few seeds)" in text  # the α figure's caption: 3 seeds here
    assert "**Leakage guard.**" in text and "- d: 3 groups (9 pairs, every language of a group) left out" in text


def test_batch_size_curves_and_condition_columns(tmp_path):
    path = tmp_path / "r.db"
    with ResultsStore(path) as store:
        fill(store, {"X-Y": {"cross": 0.05}, "hybrid(0.5)": {}}, seeds=(0, 1), batch_sizes=(16, 64))
    report = write_report(path, tmp_path / "rep", n_resamples=1000)
    text = report.markdown.read_text()
    assert "| batch_size | strategy |" in text and "| 16 | X-Y |" in text and "| 64 | **hybrid(0.5)** (ref) |" in text
    assert any(p.name.startswith("batch-size-") for p in report.figures)
    assert "AP vs batch size" in text


@pytest.mark.parametrize("measure, message", [
    ("BOGUS", "unknown measure 'BOGUS'"),
    ("R@10", "measure R@10 was not recorded in this database \\(recorded: AP\\)"),
])
def test_a_measure_that_is_not_recorded_is_an_error_not_a_substitute(db, tmp_path, measure, message):
    with pytest.raises(ConfigError, match=message):
        write_report(db, tmp_path / "report", measures=("AP", measure), n_resamples=1000)
    assert not (tmp_path / "report").exists()  # nothing written


def test_measure_names_are_canonical_in_the_report(db):
    with ResultsStore(db, create=False) as store:
        assert analyse(store, measures=("map",), n_resamples=1000).measures == ["AP"]


def test_an_output_path_that_is_a_file_is_an_error_and_stays_as_it_was(db, tmp_path):
    from polyir.errors import InputError

    taken = tmp_path / "taken"
    taken.write_text("mine")
    with pytest.raises(InputError, match="taken: exists and is not a directory"):
        write_report(db, taken, n_resamples=1000)
    assert taken.read_text() == "mine"


@pytest.mark.parametrize("seeds, caption", [
    ({"hybrid(0.5)": (0, 1, 2)}, "(t = 4.30 for 3 seeds: wide with few seeds)"),
    ({"hybrid(0.5)": (0, 1)}, "(t = 12.71 for 2 seeds: wide with few seeds)"),
    ({"hybrid(0.5)": (0,)}, "_One seed per point: no error bars."),
    ({"hybrid(0.5)": (0, 1), "X-Y": (0, 1, 2)}, "(t = 12.71 for 2 seeds, t = 4.30 for 3 seeds: wide with few seeds)"),
    ({"hybrid(0.5)": (0, 1), "X-Y": (0,)}, "(t = 12.71 for 2 seeds: wide with few seeds; points from one seed have"),
])
def test_the_error_bar_caption_states_t_for_the_seeds_shown(tmp_path, seeds, caption):
    from polyir.experiments.sweep_report import error_bars_caption

    with ResultsStore(tmp_path / "r.db") as store:
        for label, numbers in seeds.items():
            fill(store, {label: {}}, seeds=numbers, baseline=False)
        analysis = analyse(store, n_resamples=1000)
    assert caption in error_bars_caption(analysis, analysis.conditions, "set", "AP")


def test_the_leakage_note_says_what_was_left_out_and_why():
    from types import SimpleNamespace

    from polyir.experiments.sweep_report import leakage_note

    leak = {"dropped_groups": 7, "dropped_pairs": 28, "groups_by_reason": {"passage": 7}}
    runs = [{"data": "synthetic", "leakage": leak}, {"data": "synthetic", "leakage": leak},
            {"data": None, "leakage": None}]
    intro, lines = leakage_note(SimpleNamespace(runs=runs))
    assert "left out of training" in intro
    assert lines == ("- synthetic: 7 groups (28 pairs, every language of a group) left out: 7 by the same answer text "
                     "(a sentence or passage that is also an evaluation candidate)")
    assert leakage_note(SimpleNamespace(runs=runs[2:])) == []


def test_systems_and_alpha_curves_come_from_the_databases_columns_not_the_label(db, tmp_path):
    from polyir.experiments import plots

    import sqlite3

    with sqlite3.connect(db) as conn:  # a label no reader could parse: systems come from strategy and alpha
        conn.execute("UPDATE runs SET label = 'renamed' WHERE strategy = 'hybrid'")
    with ResultsStore(db, create=False) as store:
        analysis = analyse(store, n_resamples=1000)
    (c,) = analysis.conditions
    assert Strategy("hybrid", 0.5) in analysis.systems[c] and Strategy("cross") in analysis.systems[c]
    assert analysis.cell(c, Strategy("hybrid", 0.5), "set", "cross", "AP").n == 3
    path = plots.alpha_curves(analysis, c, "set", "AP", tmp_path / "alpha.png", "AP vs α")
    assert path is not None and path.stat().st_size > 0


def test_each_evaluation_set_shows_only_the_measures_it_recorded():
    # a sweep evaluating XQuAD-R with AP and a BEIR set with nDCG@10 only: no empty AP table for
    # the BEIR set, and its summary, language tables and figures use nDCG@10
    from types import SimpleNamespace

    recorded = {("xquad", "AP"), ("xquad", "nDCG@10"), ("beir", "nDCG@10")}
    analysis = SimpleNamespace(
        measures=("AP", "nDCG@10", "R@100"), conditions=("c",), systems={"c": [S("X-Y")]},
        cell=lambda c, s, eval_set, kind, m: 0.5 if (eval_set, m) in recorded and kind == "mono" else None)
    assert measures_of(analysis, "xquad") == ["AP", "nDCG@10"] and lead_measure(analysis, "xquad") == "AP"
    assert measures_of(analysis, "beir") == ["nDCG@10"] and lead_measure(analysis, "beir") == "nDCG@10"


def test_all_pairs_tests_each_strategy_against_the_untrained_model_too(db):
    # the fixture's untrained model is 0.15 AP below hybrid(0.5) on every kind
    with ResultsStore(db, create=False) as store:
        analysis = analyse(store, n_resamples=1000, all_pairs=True)
    against_untrained = [t for t in analysis.pair_tests if t.reference == S("untrained")]
    assert {t.system.label for t in against_untrained} == {"X-X-mono", "X-Y", "hybrid(0.5)", "mixed(0.5)"}
    hybrid = [t for t in against_untrained if t.system == S("hybrid(0.5)") and t.kind == "mono"]
    assert hybrid and hybrid[0].result.delta == pytest.approx(0.15, abs=1e-3) and hybrid[0].significant()
    assert not any(t.system == S("untrained") for t in analysis.tests)  # tests against the reference: unchanged
