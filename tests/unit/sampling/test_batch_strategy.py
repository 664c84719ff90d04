"""`Strategy`: one value for a strategy and its α, whose label parses back to the same value."""
from __future__ import annotations

import pytest

from polyir.errors import ConfigError
from polyir.sampling import DEFAULT_ALPHA, DEFAULT_STRATEGY, STRATEGIES, SamplerConfig, Strategy


@pytest.mark.parametrize("text,strategy", [
    ("mono", Strategy("mono")), ("X-X-mono", Strategy("mono")), ("x-y", Strategy("cross")), ("cross", Strategy("cross")),
    ("hybrid(0.5)", Strategy("hybrid", 0.5)), ("mixed:0.25", Strategy("mixed", 0.25)), ("mixed=0.3", Strategy("mixed", 0.3)),
    ("hybrid(1)", Strategy("hybrid", 1.0)), (" hybrid ( 0.2 ) ", Strategy("hybrid", 0.2)), ("untrained", Strategy("untrained")),
    ("hybrid(1e-05)", Strategy("hybrid", 1e-5)),
])
def test_labels_and_names_parse_and_labels_round_trip(text, strategy):
    assert Strategy.parse(text) == strategy
    assert Strategy.parse(strategy.label) == strategy and str(strategy) == strategy.label


@pytest.mark.parametrize("text", ["hybird(0.5)", "hybrid", "mixed", "hybrid(1.5)", "hybrid(0.5.1)", "mono(0.5)", ""])
def test_bad_labels_are_config_errors(text):
    with pytest.raises(ConfigError):
        Strategy.parse(text)


def test_labels_are_the_papers_names():
    assert [Strategy.of(name, 0.3).label for name in STRATEGIES] == ["X-X-mono", "X-Y", "hybrid(0.3)", "mixed(0.3)"]
    assert DEFAULT_STRATEGY == Strategy("hybrid", DEFAULT_ALPHA) and DEFAULT_STRATEGY.label == "hybrid(0.5)"


def test_alpha_belongs_to_hybrid_and_mixed_only():
    with pytest.raises(ConfigError, match="has no α"):
        Strategy("mono", 0.5)
    with pytest.raises(ConfigError, match="needs its α"):
        Strategy("mixed")
    with pytest.raises(ConfigError, match="α must be a number in"):
        Strategy("hybrid", -0.1)
    assert Strategy.of("cross", 0.7) == Strategy("cross")  # a sampler's unused α is dropped


def test_mono_probability_and_report_order():
    assert [s.mono_probability for s in (Strategy("mono"), Strategy("cross"), Strategy("mixed", 0.2))] == [1.0, 0.0, 0.2]
    with pytest.raises(ConfigError, match="not a sampler strategy"):
        Strategy("untrained").mono_probability
    systems = [Strategy("mixed", 0.5), Strategy("hybrid", 0.2), Strategy("cross"), Strategy("hybrid", 0.8),
               Strategy("untrained"), Strategy("mono")]
    assert [s.label for s in sorted(systems, key=lambda s: s.sort_key)] == [
        "untrained", "X-X-mono", "X-Y", "hybrid(0.8)", "hybrid(0.2)", "mixed(0.5)"]


def test_the_sampler_config_carries_one_strategy():
    assert SamplerConfig("mono", 4, alpha=0.3).batch_strategy == Strategy("mono")
    assert SamplerConfig("mixed", 4, alpha=0.3).batch_strategy == Strategy("mixed", 0.3)
    assert SamplerConfig("hybrid", 4, alpha=0.2, alpha_end=0.8).label == "hybrid(0.2->0.8)"
    assert SamplerConfig("cross", 4).label == "X-Y"
    for strategy in (Strategy("mono"), Strategy("mixed", 0.3)):
        assert SamplerConfig(batch_size=4, **strategy.sampler_fields()).batch_strategy == strategy
    with pytest.raises(ConfigError, match="sampler strategy must be one of"):
        SamplerConfig("untrained", 4)
