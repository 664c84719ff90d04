"""Invariants of every sampler on random collections (hypothesis): well-formed batches,
exact length, determinism, resume, DDP slicing."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from polyir.errors import ConfigError
from polyir.sampling import SamplerConfig, build_index, build_sampler, simulated_arrays

N_LANG = 5

collections = st.fixed_dictionaries({
    "groups": st.lists(st.integers(1, 40), min_size=1, max_size=3),
    "languages": st.lists(st.lists(st.integers(0, N_LANG - 1), min_size=1, max_size=N_LANG, unique=True),
                          min_size=3, max_size=3),
    "coverage": st.sampled_from([0.4, 0.8, 1.0]),
    "seed": st.integers(0, 2**16),
})
configs = st.builds(
    SamplerConfig, strategy=st.sampled_from(["mono", "cross", "hybrid", "mixed"]),
    batch_size=st.integers(1, 12), alpha=st.floats(0, 1), language_weighting=st.sampled_from(["uniform", "size"]),
    language_temperature=st.sampled_from([0.5, 1.0, 3.0]), dataset_temperature=st.sampled_from([1.0, 2.0, 0.7]),
    seed=st.integers(0, 2**16))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _make(collection, config, **kw):
    group, lang, dataset = simulated_arrays(collection["groups"], collection["languages"][:len(collection["groups"])],
                                            coverage=collection["coverage"], shuffle=True, seed=collection["seed"])
    index = build_index(group, lang, dataset, languages=[f"l{i}" for i in range(N_LANG)])
    try:
        return (group, lang, dataset), build_sampler(config, index, **kw)
    except ConfigError as err:
        assert "larger than every data set" in str(err)
        assume(False)


@SETTINGS
@given(collections, configs)
def test_batches_are_well_formed_and_len_is_exact(collection, config):
    (group, lang, dataset), sampler = _make(collection, config)
    batches = list(sampler)
    assert len(batches) == len(sampler) > 0
    if config.dataset_temperature == 1.0:
        kept = sampler.layout.datasets
        assert len(sampler) == sum(np.unique(group[dataset == d]).size // config.batch_size for d in kept)
    group_size = dict(zip(*np.unique(group, return_counts=True)))
    for batch in batches:
        assert len(batch) == config.batch_size
        assert np.unique(batch.group).size == len(batch)  # a parallel group at most once per batch
        assert np.all(group[batch.query_index] == batch.group) and np.all(group[batch.passage_index] == batch.group)
        assert np.all(dataset[batch.query_index] == batch.dataset)
        assert np.all(lang[batch.query_index] == batch.query_lang)
        assert np.all(lang[batch.passage_index] == batch.passage_lang)
        single = np.array([group_size[g] == 1 for g in batch.group])
        if batch.kind == "mono":
            assert np.all(batch.query_lang == batch.language) and np.all(batch.passage_lang == batch.language)
            assert np.array_equal(batch.query_index, batch.passage_index) and not batch.fallback.any()
        elif batch.kind == "cross":
            assert np.array_equal(batch.fallback, single)
            assert np.array_equal(batch.is_cross, ~single)
        else:
            assert np.all(single[batch.fallback]) and not np.any(batch.is_cross & batch.fallback)
        expected = {"mono": {"mono"}, "cross": {"cross"}, "hybrid": {"mono", "cross"}, "mixed": {"mixed"}}
        assert batch.kind in expected[config.strategy]
    assert sampler.epoch == 1 and sampler.position == 0  # iteration moved on to the next epoch


@SETTINGS
@given(collections, configs, st.integers(0, 10**6), st.integers(0, 3))
def test_same_seed_same_batches_and_resume_yields_the_rest(collection, config, cut, epoch):
    _, sampler = _make(collection, config)
    _, again = _make(collection, config)
    sampler.set_epoch(epoch)
    again.set_epoch(epoch)
    full = list(sampler)
    assert_same(full, list(again))
    cut = cut % (len(full) + 1)
    first = build_sampler(config, sampler.index)
    first.set_epoch(epoch)
    iterator = iter(first)
    head = [next(iterator) for _ in range(cut)]
    state = json.loads(json.dumps(first.state_dict()))  # checkpoints store it as JSON
    resumed = build_sampler(config, sampler.index)
    resumed.load_state_dict(state)
    assert_same(head + list(resumed), full)
    assert resumed.stats.state_dict() == sampler.stats.state_dict()
    assert resumed.epoch == epoch + 1


@SETTINGS
@given(collections, configs, st.sampled_from([2, 3, 4]))
def test_ranks_get_contiguous_slices_of_the_same_global_batch(collection, config, world_size):
    config = replace(config, batch_size=max(1, config.batch_size // world_size) * world_size)
    _, single = _make(collection, config)
    ranks = [build_sampler(config, single.index, world_size=world_size, rank=r) for r in range(world_size)]
    for position, parts in enumerate(zip(*ranks)):
        whole = single.batch_at(position)
        assert {p.kind for p in parts} == {whole.kind} and {p.global_size for p in parts} == {len(whole)}
        assert [p.offset for p in parts] == [r * len(whole) // world_size for r in range(world_size)]
        for name in ("query_index", "passage_index", "group", "query_lang", "passage_lang", "fallback"):
            assert np.array_equal(np.concatenate([getattr(p, name) for p in parts]), getattr(whole, name))
    assert all(r.stats.state_dict() == ranks[0].stats.state_dict() for r in ranks)


def assert_same(left, right):
    assert len(left) == len(right)
    for a, b in zip(left, right):
        assert (a.kind, a.step, a.dataset, a.language, a.alpha) == (b.kind, b.step, b.dataset, b.language, b.alpha)
        assert np.array_equal(a.query_index, b.query_index) and np.array_equal(a.passage_index, b.passage_index)


def test_epochs_differ_and_set_epoch_restarts():
    index = build_index(*simulated_arrays([200], [[0, 1, 2]]))
    sampler = build_sampler(SamplerConfig("hybrid", 10, seed=3), index)
    epoch0, epoch1 = list(sampler), list(sampler)
    assert epoch0[0].epoch == 0 and epoch1[0].epoch == 1 and epoch1[0].step == len(sampler)
    assert not np.array_equal(epoch0[0].group, epoch1[0].group)
    sampler.set_epoch(0)
    assert_same(list(sampler), epoch0)
    with pytest.raises(IndexError):
        sampler.batch_at(len(sampler))


def test_state_of_another_configuration_is_refused():
    index = build_index(*simulated_arrays([50], [[0, 1]]))
    state = build_sampler(SamplerConfig("hybrid", 10, seed=1), index).state_dict()
    with pytest.raises(ConfigError, match="config"):
        build_sampler(SamplerConfig("hybrid", 10, seed=2), index).load_state_dict(state)
    with pytest.raises(ConfigError, match="batches_per_epoch"):
        build_sampler(SamplerConfig("hybrid", 10, seed=1), build_index(*simulated_arrays([80], [[0, 1]]))
                      ).load_state_dict(state)


def test_resume_on_another_number_of_ranks_continues_the_same_global_batches():
    index = build_index(*simulated_arrays([120], [[0, 1, 2]]))
    config = SamplerConfig("hybrid", 12, seed=4)
    single = list(build_sampler(config, index))
    first = build_sampler(config, index)
    iterator = iter(first)
    [next(iterator) for _ in range(3)]
    ranks = [build_sampler(config, index, world_size=3, rank=r) for r in range(3)]
    for sampler in ranks:
        sampler.load_state_dict(first.state_dict())
    for whole, parts in zip(single[3:], zip(*ranks), strict=True):
        assert np.array_equal(np.concatenate([p.group for p in parts]), whole.group)
