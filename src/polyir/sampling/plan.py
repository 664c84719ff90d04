"""What an epoch draws: which data sets and languages can fill a batch (`Layout`), and the
per-batch plan of an epoch (`EpochPlan`: data set, kind, language, stream, draw number).

A *stream* is a pool that batches take items from without replacement: the groups of a
data set (cross, mixed, and mono batches in a language every group of the set has), or the
examples of a language only some of the set's groups have.  A stream is shuffled once per
pass (``cycle``); a batch takes the next ``batch_size`` entries and the at most
``batch_size - 1`` entries left at the end of a pass are skipped, so no stream ever puts a
group twice into one batch and the k-th draw of a stream is found by arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .sampler_config import SamplerConfig, alpha_at
from .index import SamplingIndex

KIND_CODES = {"mono": 0, "cross": 1, "mixed": 2}
KIND_NAMES = tuple(KIND_CODES)
# independent random streams per purpose, so e.g. the data-set order of an epoch is the
# same whatever the strategy (runs that differ only in batch composition see the same groups)
TAG_DATASET, TAG_KIND, TAG_LANGUAGE, TAG_ITEMS, TAG_SHUFFLE = range(5)


@dataclass(frozen=True, eq=False)
class Layout:
    """Which data sets / languages are used, with their probabilities and batch counts."""

    datasets: np.ndarray              # eligible data sets
    dataset_probability: np.ndarray   # p_d over ``datasets``
    batches_per_dataset: np.ndarray   # batches of each eligible data set in one epoch
    mono_languages: tuple[np.ndarray, ...]    # per eligible data set: languages of mono batches
    language_probability: tuple[np.ndarray, ...]
    skipped: tuple[str, ...]          # human-readable reasons for anything left out

    @property
    def batches_per_epoch(self) -> int:
        return int(self.batches_per_dataset.sum())


def make_layout(index: SamplingIndex, config: SamplerConfig) -> Layout:
    batch = config.batch_size
    needs_mono = config.strategy in ("mono", "hybrid")
    kept, languages, skipped = [], [], []
    for d, name in enumerate(index.datasets):
        groups = int(index.group_counts[d])
        counts = index.language_counts[d]
        eligible = np.flatnonzero(counts >= batch)
        for lang in np.flatnonzero((counts > 0) & (counts < batch)):
            if needs_mono:
                skipped.append(f"language {index.languages[lang]!r} of data set {name!r}: "
                               f"{counts[lang]} examples < batch size {batch}, no mono batches")
        if groups < batch or (needs_mono and eligible.size == 0):
            why = f"{groups} groups" if groups < batch else "no language"
            skipped.append(f"data set {name!r}: {why} < batch size {batch}, skipped")
            continue
        kept.append(d)
        languages.append(eligible)
    if not kept:
        raise ConfigError(f"batch size {config.batch_size} is larger than every data set "
                          f"({'; '.join(skipped)})")
    kept = np.asarray(kept)
    sizes = index.group_counts[kept].astype(np.float64)
    probability = _tempered(sizes, config.dataset_temperature)
    full_batches = (index.group_counts[kept] // batch).astype(np.int64)
    if config.dataset_temperature == 1.0:
        batches = full_batches  # in proportion to size, exactly: every group once per epoch
    else:
        batches = _largest_remainder(int(full_batches.sum()), probability)
    return Layout(kept, probability, batches, tuple(languages),
                  tuple(_language_probability(index, config, d, langs) for d, langs in zip(kept, languages)),
                  tuple(skipped))


@dataclass(frozen=True, eq=False)
class EpochPlan:
    """Per batch of one epoch; every array has one entry per batch."""

    epoch: int
    dataset: np.ndarray
    kind: np.ndarray       # codes of KIND_CODES
    language: np.ndarray   # mono batches: the language; -1 otherwise
    alpha: np.ndarray
    stream: np.ndarray     # stream id: d for the groups of data set d, else n_datasets + d * n_lang + L
    draw: np.ndarray       # how many earlier batches of this epoch took from the same stream


def make_plan(index: SamplingIndex, config: SamplerConfig, layout: Layout, epoch: int,
              total_steps: int | None) -> EpochPlan:
    n = layout.batches_per_epoch
    seed = config.seed
    order = np.random.default_rng([seed, epoch, TAG_DATASET]).permutation(n)
    slot = np.repeat(np.arange(layout.datasets.size), layout.batches_per_dataset)[order]
    alpha = alpha_at(config, epoch * n + np.arange(n), total_steps)
    kind = _kinds(config.strategy, np.random.default_rng([seed, epoch, TAG_KIND]).random(n), alpha)
    language = _languages(layout, slot, np.random.default_rng([seed, epoch, TAG_LANGUAGE]).random(n))
    dataset = layout.datasets[slot]
    mono = kind == KIND_CODES["mono"]
    language = np.where(mono, language, -1)
    n_lang = len(index.languages)
    covered = index.language_counts == index.group_counts[:, None]
    own_pool = mono & ~covered[dataset, np.maximum(language, 0)]
    stream = np.where(own_pool, len(index.datasets) + dataset * n_lang + language, dataset)
    return EpochPlan(epoch, dataset, kind, language, alpha, stream, _rank_within(stream))


def _kinds(strategy: str, uniform: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    if strategy == "hybrid":
        return np.where(uniform < alpha, KIND_CODES["mono"], KIND_CODES["cross"]).astype(np.int8)
    return np.full(uniform.shape, KIND_CODES[strategy], dtype=np.int8)


def _languages(layout: Layout, slot: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """A mono language for every batch (drawn even where unused, so draws stay aligned)."""
    language = np.full(slot.size, -1, dtype=np.int64)
    for s, (langs, probability) in enumerate(zip(layout.mono_languages, layout.language_probability)):
        here = slot == s
        if langs.size == 0:  # cross / mixed strategies on a set with no mono-eligible language
            continue
        cumulative = np.cumsum(probability)
        pick = np.searchsorted(cumulative / cumulative[-1], uniform[here], side="right")
        language[here] = langs[np.minimum(pick, langs.size - 1)]
    return language


def _language_probability(index, config, dataset, langs) -> np.ndarray:
    if langs.size == 0:
        return np.zeros(0)
    if config.language_weighting == "uniform":
        return np.full(langs.size, 1.0 / langs.size)
    return _tempered(index.language_counts[dataset, langs].astype(np.float64), config.language_temperature)


def _tempered(sizes: np.ndarray, temperature: float) -> np.ndarray:
    """p ∝ size^(1/T), computed in log space so huge sizes and small T do not overflow."""
    logits = np.log(sizes) / temperature
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def _largest_remainder(total: int, probability: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total`` that are closest to ``total * probability``."""
    quota = total * probability
    counts = np.floor(quota).astype(np.int64)
    extra = total - int(counts.sum())
    counts[np.argsort(-(quota - counts), kind="stable")[:extra]] += 1
    return counts


def _rank_within(stream: np.ndarray) -> np.ndarray:
    """For each entry, how many earlier entries have the same value."""
    order = np.argsort(stream, kind="stable")
    ordered = stream[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, ordered.size]))
    rank = np.empty(stream.size, dtype=np.int64)
    rank[order] = np.arange(stream.size) - run_start
    return rank
