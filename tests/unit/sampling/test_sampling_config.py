"""SamplerConfig validation, the α schedule and build_sampler's argument checks."""
from __future__ import annotations

import math

import numpy as np
import pytest

from polyir.errors import ConfigError
from polyir.sampling import SamplerConfig, alpha_at, build_index, build_sampler, simulated_arrays


@pytest.mark.parametrize("changes", [
    {"strategy": "random"}, {"batch_size": 0}, {"batch_size": -4}, {"batch_size": 2.5}, {"batch_size": True},
    {"alpha": 1.5}, {"alpha": -0.1}, {"alpha": "0.5"}, {"alpha_end": 2.0},
    {"strategy": "mono", "alpha_end": 0.0}, {"strategy": "cross", "alpha_end": 1.0},
    {"language_weighting": "tokens"}, {"language_temperature": 0}, {"dataset_temperature": -1.0},
    {"dataset_temperature": math.inf}, {"language_temperature": math.nan}, {"seed": -1}, {"seed": 1.0},
])
def test_bad_values_raise_config_error(changes):
    values = {"strategy": "hybrid", "batch_size": 8} | changes
    with pytest.raises(ConfigError):
        SamplerConfig(**values)


def test_from_mapping_round_trips_and_rejects_unknown_keys():
    config = SamplerConfig("mixed", 16, alpha=0.25, alpha_end=0.75, language_weighting="size",
                           language_temperature=2.0, dataset_temperature=3.0, seed=7)
    assert SamplerConfig.from_mapping(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown sampler option"):
        SamplerConfig.from_mapping({"strategy": "mono", "batch_size": 4, "alhpa": 0.5})
    with pytest.raises(ConfigError, match="batch_size"):
        SamplerConfig.from_mapping({"strategy": "mono"})


def test_mono_and_cross_are_alpha_one_and_zero():
    assert SamplerConfig("mono", 4, alpha=0.3).mono_probability == 1.0
    assert SamplerConfig("cross", 4, alpha=0.3).mono_probability == 0.0
    assert SamplerConfig("hybrid", 4, alpha=0.3).mono_probability == 0.3


def test_linear_schedule_runs_from_alpha_to_alpha_end_and_stays():
    config = SamplerConfig("hybrid", 4, alpha=0.2, alpha_end=0.8)
    values = alpha_at(config, np.array([0, 5, 10, 11, 50]), total_steps=11)
    np.testing.assert_allclose(values, [0.2, 0.5, 0.8, 0.8, 0.8])
    np.testing.assert_allclose(alpha_at(SamplerConfig("hybrid", 4, alpha=0.3), np.arange(3), None), 0.3)
    with pytest.raises(ConfigError, match="total_steps"):
        alpha_at(config, np.arange(3), None)


def _index():
    return build_index(*simulated_arrays([40], [[0, 1, 2]]), languages=("de", "en", "fr"))


def test_build_sampler_checks_world_size_rank_and_schedule():
    index = _index()
    with pytest.raises(ConfigError, match="not divisible"):
        build_sampler(SamplerConfig("cross", 10), index, world_size=4)
    with pytest.raises(ConfigError, match="rank"):
        build_sampler(SamplerConfig("cross", 8), index, world_size=4, rank=4)
    with pytest.raises(ConfigError, match="total_steps"):
        build_sampler(SamplerConfig("hybrid", 8, alpha_end=0.0), index)
    assert len(build_sampler(SamplerConfig("hybrid", 8, alpha_end=0.0), index, total_steps=10)) == 5


def test_a_run_of_epochs_is_known_once_the_sampler_has_laid_out_its_epoch():
    index = _index()
    scheduled = SamplerConfig("hybrid", 8, alpha=1.0, alpha_end=0.0)
    by_epochs = build_sampler(scheduled, index, epochs=3)
    assert by_epochs.total_steps == 3 * len(by_epochs) == 15
    by_steps = build_sampler(scheduled, index, total_steps=15)
    assert [b.alpha for b in by_epochs] == [b.alpha for b in by_steps]
    assert build_sampler(scheduled, index, total_steps=4, epochs=3).total_steps == 4  # total_steps wins


def test_the_runs_length_must_match_on_resume_only_under_an_alpha_schedule():
    index = _index()
    constant = SamplerConfig("hybrid", 8, seed=1)
    build_sampler(constant, index, total_steps=7).load_state_dict(build_sampler(constant, index, epochs=2).state_dict())
    scheduled = SamplerConfig("hybrid", 8, alpha_end=0.0, seed=1)
    state = build_sampler(scheduled, index, epochs=2).state_dict()
    with pytest.raises(ConfigError, match="total_steps"):
        build_sampler(scheduled, index, total_steps=7).load_state_dict(state)


def test_a_config_without_a_seed_draws_with_seed_0():
    index = _index()
    unseeded, zero = build_sampler(SamplerConfig("mixed", 8), index), build_sampler(SamplerConfig("mixed", 8, seed=0), index)
    assert unseeded.config.seed == 0
    assert all(np.array_equal(a.query_index, b.query_index) for a, b in zip(unseeded, zero, strict=True))
