"""TrainConfig: YAML in and out, strict keys, overrides, and every shipped config parses."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from polyir.config_io import from_dict
from polyir.errors import ConfigError
from polyir.sampling import DEFAULT_STRATEGY, SamplerConfig, Strategy
from polyir.train.train_config import DataSource, TrainConfig, build_config, load_train_config, metric_direction

CONFIGS = sorted((Path(__file__).resolve().parents[3] / "configs").glob("*.yaml"))
MINIMAL = {"model": {"name_or_path": "m"}, "data": {"sources": ["d.jsonl"]}}


def test_configs_directory_has_the_documented_recipes():
    assert {p.name for p in CONFIGS} >= {"xlmr-paper.yaml", "labse-paper.yaml", "me5-small-cpu.yaml",
                                         "tiny-offline.yaml"}


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_parses_and_round_trips(path, tmp_path):
    config = load_train_config(path)
    assert config.model.name_or_path and config.data.sources and config.out
    saved = tmp_path / "config.yaml"
    saved.write_text(config.to_yaml())
    assert load_train_config(saved) == config


@pytest.mark.parametrize("name", ["xlmr-paper.yaml", "labse-paper.yaml"])
def test_paper_recipes_use_the_paper_hyper_parameters(name):
    config = load_train_config(Path(CONFIGS[0]).parent / name)
    assert (config.optim.lr, config.optim.weight_decay) == (3e-5, 0.01)
    assert (config.sampler.strategy, config.sampler.batch_size, config.sampler.alpha) == ("hybrid", 100, 0.5)
    assert config.model.prompts == "paper"


def test_defaults_are_the_paper_where_it_speaks():
    config = build_config(MINIMAL)
    assert config.optim.lr == 3e-5 and config.optim.weight_decay == 0.01
    assert config.sampler.batch_size == 100 and config.sampler.alpha == 0.5 and config.sampler.strategy == "hybrid"
    assert config.eval.metric == "multi/AP"
    assert config.data.sources == (DataSource(path="d.jsonl"),)


def test_the_training_config_holds_the_samplers_own_config():
    config = build_config({**MINIMAL, "seed": 5, "sampler": {"strategy": "mixed", "batch_size": 8, "alpha": 0.3}})
    assert isinstance(config.sampler, SamplerConfig) and config.sampler.batch_strategy == Strategy("mixed", 0.3)
    assert config.seeded_sampler == SamplerConfig("mixed", 8, alpha=0.3, seed=5)  # seed null: the run's seed
    assert build_config({**MINIMAL, "seed": 5, "sampler": {"seed": 2}}).seeded_sampler.seed == 2
    # the YAML users write and the resolved config.yaml (and with it every sweep's run hash) keep their shape
    assert config.to_dict()["sampler"] == {"strategy": "mixed", "batch_size": 8, "alpha": 0.3, "alpha_end": None,
                                           "language_weighting": "uniform", "language_temperature": 1.0,
                                           "dataset_temperature": 1.0, "seed": None}
    assert SamplerConfig().batch_strategy == DEFAULT_STRATEGY and SamplerConfig().batch_size == 100


@pytest.mark.parametrize("data,message", [
    ({**MINIMAL, "optim": {"lrr": 1}}, "config.optim: unknown key 'lrr'"),
    ({**MINIMAL, "bogus": 1}, "config: unknown key 'bogus'"),
    ({**MINIMAL, "optim": {"lr": "fast"}}, "config.optim.lr: expected a number"),
    ({"data": {"sources": ["x"]}}, "missing required key 'model'"),
    ({**MINIMAL, "data": {"sources": []}}, "data.sources is empty"),
    ({**MINIMAL, "sampler": {"strategy": "random"}}, "sampler strategy must be one of"),
    ({**MINIMAL, "eval": {"metric": "multi/XYZ"}}, "XYZ"),
    ({**MINIMAL, "eval": {"metric": "best"}}, "eval.metric must be KIND/MEASURE"),
    ({**MINIMAL, "runtime": {"precision": "fp16"}}, "use bf16"),
    ({**MINIMAL, "optim": {"warmup_ratio": 1.5}}, "optim.warmup_ratio"),
    ({**MINIMAL, "optim": {"pairs": 100, "steps": 5}}, "are alternatives: set one"),
    ({**MINIMAL, "optim": {"pairs": 0}}, "optim.pairs"),
    ({**MINIMAL, "model": {"name_or_path": "m", "truncate_layers": 0}}, "model.truncate_layers"),
    ({**MINIMAL, "data": {"sources": [{"path": "x", "format": "csv"}]}}, "data source format must be one of"),
])
def test_bad_configs_name_the_key(data, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        build_config(data)


def test_overrides_apply_in_order_and_parse_values_as_yaml():
    config = build_config(MINIMAL, ["sampler.alpha=0.25", "optim.betas=[0.8, 0.99]", "sampler.alpha=0.75",
                                    "eval.dev=dev", "model.prompts={query: 'q: ', passage: 'p: '}"])
    assert config.sampler.alpha == 0.75 and config.optim.betas == (0.8, 0.99)
    assert config.model.prompts == {"query": "q: ", "passage": "p: "}
    with pytest.raises(ConfigError, match="not of the form key=value"):
        build_config(MINIMAL, ["sampler.alpha"])
    with pytest.raises(ConfigError, match="unknown key 'alpah'"):
        build_config(MINIMAL, ["sampler.alpah=1"])


def test_yaml_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model: {name_or_path: m}\ndata: {sources: [x]}\noptim:\n  lr: [\n")
    with pytest.raises(ConfigError, match="bad.yaml: malformed YAML"):
        load_train_config(path)
    path.write_text("model: {name_or_path: m}\ndata: {sources: [x]}\noptim: {foo: 1}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml.optim: unknown key 'foo'"):
        load_train_config(path)


def test_data_source_shorthand():
    assert DataSource.parse("squad=a/b.jsonl") == DataSource(path="a/b.jsonl", name="squad")
    assert DataSource.parse("a/b.jsonl") == DataSource(path="a/b.jsonl")
    assert DataSource.parse("dir/x=y.jsonl") == DataSource(path="dir/x=y.jsonl")
    source = from_dict(DataSource, {"path": ["de=a.json", "en=b.json"], "format": "squad"})
    assert source.inputs == ("de=a.json", "en=b.json")


def test_metric_direction():
    assert metric_direction("multi/AP") == "max" and metric_direction("cross/R@10") == "max"
    assert metric_direction("dev_loss") == "min" and metric_direction("rank_distance") == "min"


def test_resolved_config_is_plain_data():
    config = build_config(MINIMAL)
    data = config.to_dict()
    assert data["data"]["sources"] == [{"path": "d.jsonl", "name": "", "format": "auto", "options": {}}]
    assert from_dict(TrainConfig, data) == config


def test_a_pair_budget_gives_equal_data_across_batch_sizes():
    from polyir.train.train_config import pair_budget_steps

    assert pair_budget_steps(None, 32) is None
    assert [pair_budget_steps(1000, b) for b in (32, 100, 128, 1000, 4096)] == [32, 10, 8, 1, 1]
