"""Realised composition matches the configured probabilities (fixed seeds, generous
significance level, so these tests are exact reproductions, not flaky), coverage, fallbacks
and small pools."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from polyir.errors import ConfigError
from polyir.sampling import SamplerConfig, alpha_at, build_index, build_sampler, simulated_arrays

LEVEL = 1e-3  # reject only when the realised counts are very unlikely under the configuration


def _parallel_index(groups=2000, languages=4):
    return build_index(*simulated_arrays([groups], [list(range(languages))]),
                       languages=[f"l{i}" for i in range(languages)])


def _draw(config, index, epochs=1, **kw):
    sampler = build_sampler(config, index, **kw)
    batches = [batch for _ in range(epochs) for batch in sampler]
    return sampler, batches


def test_hybrid_mono_share_is_alpha():
    sampler, _ = _draw(SamplerConfig("hybrid", 4, alpha=0.3, seed=11), _parallel_index(), epochs=2)
    mono, total = sampler.stats.batches["mono"], sampler.stats.n_batches
    assert total == 1000 and sampler.stats.batches["mono"] + sampler.stats.batches["cross"] == total
    assert scipy_stats.binomtest(mono, total, 0.3).pvalue > LEVEL
    assert sampler.stats.summary()["share_batches_mono"] == mono / total


def test_mixed_item_share_is_alpha_and_batches_mix_both():
    sampler, batches = _draw(SamplerConfig("mixed", 20, alpha=0.6, seed=5), _parallel_index())
    cross, items = sampler.stats.cross_items, sampler.stats.n_items
    assert scipy_stats.binomtest(items - cross, items, 0.6).pvalue > LEVEL
    assert sum(0 < b.is_cross.sum() < len(b) for b in batches) > 0.9 * len(batches)


def test_mono_languages_uniform():
    sampler, _ = _draw(SamplerConfig("mono", 4, seed=2), _parallel_index(languages=5), epochs=2)
    counts = sampler.stats.mono_batches_by_language
    assert counts.sum() == 1000 and scipy_stats.chisquare(counts).pvalue > LEVEL


def test_mono_languages_weighted_by_size_with_temperature():
    # every group has l0; l1 in 1/2 of the groups, l2 in 1/8: sizes 4000, 2000, 500
    groups = np.arange(4000)
    group = np.concatenate([groups, groups[:2000], groups[:500]])
    lang = np.repeat([0, 1, 2], [4000, 2000, 500])
    index = build_index(group, lang, languages=("l0", "l1", "l2"))
    config = SamplerConfig("mono", 4, language_weighting="size", language_temperature=2.0, seed=9)
    sampler, batches = _draw(config, index, epochs=3)
    expected = np.sqrt([4000, 2000, 500]) / np.sqrt([4000, 2000, 500]).sum()
    np.testing.assert_allclose(sampler.layout.language_probability[0], expected)
    counts = sampler.stats.mono_batches_by_language
    assert scipy_stats.chisquare(counts, counts.sum() * expected).pvalue > LEVEL
    for batch in batches:  # partially covered languages draw from their own pool, still one per group
        assert np.unique(batch.group).size == len(batch)


def test_cross_pairs_uniform_over_ordered_language_pairs():
    sampler, batches = _draw(SamplerConfig("cross", 50, seed=4), _parallel_index(languages=4), epochs=3)
    pairs = sampler.stats.pairs
    assert np.trace(pairs) == 0 and sampler.stats.fallback_items == 0
    off_diagonal = pairs[~np.eye(4, dtype=bool)]
    assert scipy_stats.chisquare(off_diagonal).pvalue > LEVEL
    assert all(len(set(zip(b.query_lang, b.passage_lang))) > 1 for b in batches)  # pairs mix inside a batch


def test_dataset_mixing_by_size_with_temperature():
    group, lang, dataset = simulated_arrays([3000, 600, 120], [[0, 1], [0, 1], [0]])
    index = build_index(group, lang, dataset, datasets=("big", "mid", "small"))
    exact, _ = _draw(SamplerConfig("hybrid", 10, seed=1), index)
    assert exact.layout.batches_per_dataset.tolist() == [300, 60, 12]  # T = 1: every group once
    assert exact.stats.batches_by_dataset.tolist() == [300, 60, 12]
    tempered, _ = _draw(SamplerConfig("hybrid", 10, dataset_temperature=2.0, seed=1), index)
    p = np.sqrt([3000, 600, 120]) / np.sqrt([3000, 600, 120]).sum()
    np.testing.assert_allclose(tempered.layout.dataset_probability, p)
    assert len(tempered) == 372 and np.all(np.abs(tempered.stats.batches_by_dataset - 372 * p) < 1)


def test_linear_alpha_schedule_is_followed():
    index = _parallel_index()
    total = 1000
    config = SamplerConfig("hybrid", 4, alpha=1.0, alpha_end=0.0, seed=8)
    sampler, batches = _draw(config, index, epochs=2, total_steps=total)
    alphas = np.array([b.alpha for b in batches])
    np.testing.assert_allclose(alphas, alpha_at(config, np.arange(total), total))
    assert alphas[0] == 1.0 and alphas[-1] == 0.0 and batches[0].kind == "mono" and batches[-1].kind == "cross"
    mono = np.array([b.kind == "mono" for b in batches])
    z = (mono.sum() - alphas.sum()) / np.sqrt(np.sum(alphas * (1 - alphas)))
    assert abs(z) < 3.3  # two-sided p > 1e-3 under the schedule's Poisson-binomial law
    assert mono[:250].mean() > 0.8 and mono[-250:].mean() < 0.2


def test_english_only_data_set_falls_back_to_mono_in_cross_draws():
    group, lang, dataset = simulated_arrays([400, 400], [[0, 1, 2], [1]])
    index = build_index(group, lang, dataset, languages=("de", "en", "fr"), datasets=("mt", "en-only"))
    sampler, batches = _draw(SamplerConfig("cross", 8, seed=0), index)
    for batch in batches:
        assert batch.fallback.all() == (batch.dataset == 1) and batch.fallback.any() == (batch.dataset == 1)
    assert sampler.stats.fallback_items == 50 * 8
    assert sampler.stats.summary()["share_items_fallback"] == 0.5
    assert sampler.stats.pair_table()["en-en"] == 400
    # mixed: only the items drawn cross-lingual (probability 1 - α) of one-language groups fall back
    mixed, batches = _draw(SamplerConfig("mixed", 8, alpha=0.25, seed=0), index, epochs=3)
    fallback = sum(int(b.fallback.sum()) for b in batches if b.dataset == 1)
    assert scipy_stats.binomtest(fallback, 3 * 50 * 8, 0.75).pvalue > LEVEL


def test_same_groups_in_same_batches_whatever_the_strategy():
    """With T = 1 every group of a fully parallel data set is used exactly once per epoch,
    and runs that differ only in strategy see identical groups batch by batch."""
    group, lang, dataset = simulated_arrays([203, 97], [[0, 1, 2], [0, 1]])
    index = build_index(group, lang, dataset)
    runs = {s: _draw(SamplerConfig(s, 10, seed=6), index)[1] for s in ("mono", "cross", "hybrid", "mixed")}
    reference = runs["cross"]
    used = np.concatenate([b.group for b in reference])
    assert np.unique(used).size == used.size == 290  # 20 + 9 batches of 10, nothing twice
    for batches in runs.values():
        assert [b.group.tolist() for b in batches] == [b.group.tolist() for b in reference]


def test_hybrid_with_alpha_one_or_zero_is_mono_or_cross():
    index = build_index(*simulated_arrays([300], [[0, 1, 2]], coverage=0.7, seed=1))
    for alpha, strategy in ((1.0, "mono"), (0.0, "cross")):
        hybrid = _draw(SamplerConfig("hybrid", 6, alpha=alpha, seed=3), index)[1]
        pure = _draw(SamplerConfig(strategy, 6, seed=3), index)[1]
        assert [(b.kind, b.query_index.tolist(), b.passage_index.tolist()) for b in hybrid] == \
               [(b.kind, b.query_index.tolist(), b.passage_index.tolist()) for b in pure]


def test_languages_and_data_sets_smaller_than_the_batch_are_skipped():
    # data set "a": 30 groups in de, 5 of them also in fr; data set "b": 6 groups
    group = np.concatenate([np.arange(30), np.arange(5), 100 + np.arange(6)])
    lang = np.concatenate([np.zeros(30, int), np.ones(5, int), np.zeros(6, int)])
    dataset = np.repeat([0, 0, 1], [30, 5, 6])
    index = build_index(group, lang, dataset, languages=("de", "fr"), datasets=("a", "b"))
    sampler, batches = _draw(SamplerConfig("hybrid", 8, seed=0), index, epochs=4)
    assert len(sampler) == 3 and {b.dataset for b in batches} == {0}
    assert {b.language for b in batches if b.kind == "mono"} == {0}
    assert any("'fr' of data set 'a'" in s for s in sampler.layout.skipped)
    assert any("data set 'b': 6 groups" in s for s in sampler.layout.skipped)
    assert sampler.summary()["skipped"] == list(sampler.layout.skipped)
    with pytest.raises(ConfigError, match="larger than every data set"):
        build_sampler(SamplerConfig("cross", 31), index)


def test_batch_equal_to_pool_and_multi_pass_epochs():
    # T != 1 can give a data set more batches than one pass holds: passes reshuffle, batches stay distinct
    group, lang, dataset = simulated_arrays([1000, 25], [[0, 1], [0, 1]])
    index = build_index(group, lang, dataset)
    sampler, batches = _draw(SamplerConfig("cross", 25, dataset_temperature=50.0, seed=2), index)
    small = [b for b in batches if b.dataset == 1]
    assert len(small) > 5 and all(np.unique(b.group).size == 25 for b in small)
