"""Sweep files: validation (every error names its key), grid expansion, run hashing."""
from __future__ import annotations

import copy

import pytest

from polyir.errors import ConfigError
from polyir.experiments.grid import NOT_HASHED, canonical_json, expand, hashed_content
from polyir.experiments.spec import parse_sweep
from polyir.sampling import DEFAULT_STRATEGY, Strategy


@pytest.fixture
def sweep(tmp_path):
    (tmp_path / "train.jsonl").write_text("")
    (tmp_path / "eval").mkdir()
    (tmp_path / "model").mkdir()
    return {
        "name": "t", "out": str(tmp_path / "out"),
        "base": {"model": {"name_or_path": str(tmp_path / "model")},
                 "data": {"sources": [f"syn={tmp_path / 'train.jsonl'}"]},
                 "optim": {"lr": 1e-3, "steps": 20}, "logging": {"every": 5}},
        "grid": {"strategy": ["mono", "cross", {"hybrid": [0.3, 0.5]}, "mixed(0.5)"], "seed": [0, 1],
                 "batch_size": [16, 32]},
        "evaluate": [{"dataset": "xquad-r", "data_dir": str(tmp_path / "eval"), "options": {"measures": ["AP"]}}],
    }


def test_grid_expands_to_every_point_with_baselines_first(sweep):
    runs = expand(parse_sweep(sweep))
    assert len(runs) == 1 + 5 * 2 * 2
    assert runs[0].kind == "baseline" and runs[0].axes["label"] == "untrained"
    trained = runs[1:]
    labels = [r.axes["label"] for r in trained[:5]]
    assert labels == ["X-X-mono", "X-Y", "hybrid(0.3)", "hybrid(0.5)", "mixed(0.5)"]  # strategies vary fastest
    assert [(r.axes["batch_size"], r.axes["seed"]) for r in trained[::5]] == [(16, 0), (16, 1), (32, 0), (32, 1)]
    hybrid = trained[2]
    assert hybrid.train["sampler"] == {**hybrid.train["sampler"], "strategy": "hybrid", "alpha": 0.3, "batch_size": 16}
    assert hybrid.train["seed"] == 0 and hybrid.train["optim"]["lr"] == 1e-3
    # the evaluation directory joins the leakage guard of every run
    assert sweep["evaluate"][0]["data_dir"] in hybrid.train["data"]["exclude"]


def test_hashes_are_distinct_and_stable(sweep):
    first = expand(parse_sweep(sweep))
    assert len({r.hash for r in first}) == len(first)
    reordered = copy.deepcopy(sweep)
    reordered["base"] = dict(reversed(list(sweep["base"].items())))
    reordered["base"]["optim"] = {"steps": 20, "lr": 0.001}  # same values, other order and spelling
    reordered["base"]["logging"] = {"every": 1}  # not hashed: cannot change results
    reordered["base"]["runtime"] = {"threads": 3}
    reordered["name"] = "renamed"
    assert [r.hash for r in expand(parse_sweep(reordered))] == [r.hash for r in first]
    # stable across processes: the hash is SHA-256 of canonical JSON, nothing random
    run = first[3]
    import hashlib

    assert run.hash == hashlib.sha256(canonical_json(hashed_content(run)).encode()).hexdigest()[:16]
    assert "logging" not in hashed_content(run)["train"] and "out" not in hashed_content(run)["train"]
    assert "threads" not in hashed_content(run)["train"]["runtime"] and "runtime.threads" in NOT_HASHED


def test_changes_that_matter_change_the_hash(sweep):
    base = {r.axes["label"] + str(r.axes.get("seed")) + str(r.axes.get("batch_size")): r.hash
            for r in expand(parse_sweep(sweep))}
    changed = copy.deepcopy(sweep)
    changed["base"]["optim"]["lr"] = 2e-3
    other = {r.axes["label"] + str(r.axes.get("seed")) + str(r.axes.get("batch_size")): r.hash
             for r in expand(parse_sweep(changed))}
    assert base["untrained" + "NoneNone"] == other["untrained" + "NoneNone"]  # the baseline does not train
    assert all(base[k] != other[k] for k in base if not k.startswith("untrained"))


def test_mono_and_cross_ignore_the_base_alpha(sweep):
    a, b = copy.deepcopy(sweep), copy.deepcopy(sweep)
    a["base"]["sampler"] = {"alpha": 0.2}
    b["base"]["sampler"] = {"alpha": 0.9}
    for x, y in zip(expand(parse_sweep(a)), expand(parse_sweep(b))):
        if x.axes["strategy"] in ("mono", "cross"):
            assert x.hash == y.hash


def test_extra_axes_and_named_models(sweep, tmp_path):
    (tmp_path / "other").mkdir()
    sweep["grid"] = {"strategy": ["hybrid"], "set": {"optim.lr": [1e-3, 3e-4]},
                     "model": [str(tmp_path / "model"), {"name": "big", "name_or_path": str(tmp_path / "other"),
                                                         "prompts": "e5"}]}
    runs = expand(parse_sweep(sweep))
    trained = [r for r in runs if r.kind == "train"]
    assert len(trained) == 4 and len(runs) == 6  # one baseline per model
    assert {(r.axes["model"], r.axes["optim.lr"]) for r in trained} == {("model", 1e-3), ("model", 3e-4),
                                                                        ("big", 1e-3), ("big", 3e-4)}
    big = next(r for r in trained if r.axes["model"] == "big")
    assert big.train["model"]["prompts"] == "e5" and big.axes["label"] == "hybrid(0.5)"


@pytest.mark.parametrize("edit,message", [
    (lambda s: s.update(stratgy=1), "unknown key 'stratgy'"),
    (lambda s: s["grid"].update(strategies=["mono"]), "t.yaml.grid: unknown key 'strategies'"),
    (lambda s: s["base"]["optim"].update(lrr=1), "optim: unknown key 'lrr'"),
    (lambda s: s["grid"].update(strategy=["mono", "hybird(0.5)"]), "unknown strategy 'hybird(0.5)'"),
    (lambda s: s["grid"].update(strategy=[{"hybrid": [0.5, 1.5]}]), "grid.strategy[0]: α must be a number in [0, 1]"),
    (lambda s: s["grid"].update(strategy=[{"mono": [0.5]}]), "only hybrid and mixed take α"),
    (lambda s: s["grid"].update(strategy=["hybrid(0.5)", {"hybrid": 0.5}]), "'hybrid(0.5)' appears twice"),
    (lambda s: s["grid"].update(seed=[0, -1]), "grid.seed: expected integers >= 0"),
    (lambda s: s["grid"].update(batch_size=[0]), "grid.batch_size: expected integers >= 1"),
    (lambda s: (s["grid"].pop("batch_size"), s["base"].update(sampler={"batch_size": "big"})),
     "t.yaml.base.sampler.batch_size: expected integers >= 1, got 'big'"),
    (lambda s: (s["grid"].pop("seed"), s["base"].update(seed=-2)), "t.yaml.base.seed: expected integers >= 0"),
    (lambda s: s["base"].update(sampler=5), "t.yaml.base.sampler: expected a mapping, got 5"),
    (lambda s: s["grid"].update(set={"seed": [1, 2]}), "grid.set.seed: this option has its own axis"),
    (lambda s: s["grid"].update(set={"optim.warmup_ratio": [0.1, 2.0]}), "optim.warmup_ratio must be in [0, 1)"),
    (lambda s: s["evaluate"][0].update(data_dir="/no/such/dir"), "evaluate[0].data_dir: evaluation directory not found"),
    (lambda s: s["evaluate"][0].update(dataset="squad"), "evaluate[0].dataset"),
    (lambda s: s["evaluate"][0]["options"].update(measures=["MAP@x"]), "evaluate[0].options.measures"),
    (lambda s: s["evaluate"][0]["options"].update(bogus=1), "evaluate[0].options: unknown key 'bogus'"),
    (lambda s: s.update(evaluate=[]), "evaluate: give at least one evaluation set"),
    (lambda s: s["base"]["data"].update(sources=["/no/such/train.jsonl"]), "training data not found: /no/such/train.jsonl"),
    (lambda s: s["base"]["model"].update(name_or_path="./no-model"), "model directory not found: ./no-model"),
    (lambda s: s.update(select="last"), "t.yaml.select: must be one of"),
    (lambda s: s.update(reference="hybrid"), "unknown strategy 'hybrid'"),
    (lambda s: s.pop("out"), "missing required key 'out'"),
])
def test_errors_name_the_key(sweep, edit, message):
    edit(sweep)
    with pytest.raises(ConfigError) as err:
        parse_sweep(sweep, source="t.yaml")
    assert message in str(err.value), str(err.value)


def test_identical_grid_points_are_rejected(sweep):
    sweep["grid"] = {"strategy": ["hybrid(0.5)"], "set": {"sampler.language_weighting": ["uniform", "uniform"]}}
    with pytest.raises(ConfigError, match="resolve to the same configuration"):
        parse_sweep(sweep, source="t.yaml")


def test_the_strategy_axis_holds_strategy_values(sweep):
    sweep["base"]["sampler"] = {"alpha": 0.7}
    sweep["grid"]["strategy"] = ["X-X-mono", "hybrid", {"mixed": [0.2]}, "hybrid:0.3"]
    spec = parse_sweep(sweep)
    assert spec.strategies == (Strategy("mono"), Strategy("hybrid", 0.7), Strategy("mixed", 0.2), Strategy("hybrid", 0.3))
    assert spec.reference == DEFAULT_STRATEGY  # the report's reference when the file names none


def test_the_example_sweep_file_is_valid(tmp_path, monkeypatch):
    from pathlib import Path

    from polyir.data import generate_synthetic
    from polyir.experiments.spec import load_sweep

    config = Path(__file__).resolve().parents[3] / "configs" / "sweeps" / "tiny.yaml"
    monkeypatch.chdir(tmp_path)
    generate_synthetic("data/synthetic", n_languages=2, n_groups=20, n_eval_questions=5)
    Path("models/tiny").mkdir(parents=True)
    spec = load_sweep(config)
    runs = expand(spec)
    assert len(runs) == 1 + 4 * 2 and spec.reference == Strategy("hybrid", 0.5) and spec.db_path == Path("runs/sweep-tiny/results.db")


def test_the_data_label_of_a_base_with_several_sources_names_them_all(sweep, tmp_path):
    assert expand(parse_sweep(sweep))[1].axes["data"] == "syn"
    (tmp_path / "more.jsonl").write_text("")
    sweep["base"]["data"]["sources"] += [{"name": "extra", "path": str(tmp_path / "more.jsonl")},
                                         str(tmp_path / "more.jsonl")]
    assert expand(parse_sweep(sweep))[1].axes["data"] == "syn+extra+more"


def test_precision_options_at_their_default_keep_the_hash_of_older_runs(sweep):
    """Runs recorded before the precision options existed keep their hash (and directory)."""
    from polyir.experiments.grid import RunSpec

    run = expand(parse_sweep(sweep))[3]
    assert run.train["eval"]["precision"] == "fp32" and run.evaluate[0]["options"]["precision"] == "fp32"
    older = copy.deepcopy(run.to_dict())  # as written before the options existed
    del older["train"]["eval"]["precision"], older["evaluate"][0]["options"]["precision"]
    older.pop("hash")
    assert RunSpec.from_dict(older).hash == run.hash
    for where in (("train", "eval"), ("evaluate", 0, "options")):
        changed = copy.deepcopy(run.to_dict())
        changed.pop("hash")
        node = changed
        for key in where:
            node = node[key]
        node["precision"] = "bf16"
        assert RunSpec.from_dict(changed).hash != run.hash


def test_variants_walk_one_factor_at_a_time(sweep, tmp_path):
    (tmp_path / "other.jsonl").write_text("")
    sweep["grid"] = {"strategy": ["mono", "hybrid(0.5)"], "variant": [
        {"name": "A"},
        {"name": "B", "data.sources": [f"other={tmp_path / 'other.jsonl'}"]},
        {"name": "C", "data.sources": [f"other={tmp_path / 'other.jsonl'}"], "optim.lr": 5e-5},
    ]}
    trained = [r for r in expand(parse_sweep(sweep)) if r.kind == "train"]
    assert len(trained) == 3 * 2  # a list of named configurations, not a product of factors
    by = {(r.axes["variant"], r.axes["label"]): r for r in trained}
    assert by[("A", "X-X-mono")].train["optim"]["lr"] == 1e-3 and by[("A", "X-X-mono")].axes["data"] == "syn"
    assert by[("B", "X-X-mono")].axes["data"] == "other"  # the label follows the data actually trained on
    assert by[("C", "hybrid(0.5)")].train["optim"]["lr"] == 5e-5
    assert by[("C", "hybrid(0.5)")].train["sampler"]["alpha"] == 0.5


@pytest.mark.parametrize("variant,message", [
    ([{"optim.lr": 1e-3}], "grid.variant[0]: expected a mapping with a 'name'"),
    ([{"name": "a", "seed": 3}], "grid.variant[0].seed: this option has its own axis"),
    ([{"name": "a"}, {"name": "a", "optim.lr": 1e-4}], "'a' appears twice"),
    ([{"name": "a", "optim.lrr": 1}], "optim: unknown key 'lrr'"),
])
def test_variant_errors_name_the_key(sweep, variant, message):
    sweep["grid"]["variant"] = variant
    with pytest.raises(ConfigError) as err:
        parse_sweep(sweep, source="t.yaml")
    assert message in str(err.value), str(err.value)


def test_training_only_options_share_one_baseline(sweep):
    sweep["grid"] = {"strategy": ["hybrid(0.5)"], "variant": [
        {"name": "short"}, {"name": "long", "model.max_query_length": 64, "model.freeze_embeddings": True,
                             "runtime.precision": "bf16", "model.dropout": 0.0}]}
    runs = expand(parse_sweep(sweep))
    assert [r.kind for r in runs] == ["baseline", "train", "train"]
    sweep["grid"]["variant"].append({"name": "cut", "model.truncate_layers": 2})  # evaluates another model
    assert [r.kind for r in expand(parse_sweep(sweep))].count("baseline") == 2
