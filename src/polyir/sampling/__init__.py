"""Batch samplers: batch composition (mono / cross / hybrid / mixed) lives here and only here.

    index = build_index(group, lang, dataset, languages=("de", "en"), datasets=("squad",))
    sampler = build_sampler(SamplerConfig("hybrid", batch_size=100, alpha=0.5), index)
    SamplerConfig().batch_strategy == Strategy.parse("hybrid(0.5)")  # the paper's defaults
    for batch in sampler: ...  # Batch(kind, query_index, passage_index, group, ...)

See docs/sampling.md for the exact probabilities, the epoch definition and the invariants.
"""
from .batch import BATCH_KINDS, Batch, slice_for_rank
from .batch_strategy import DEFAULT_ALPHA, DEFAULT_STRATEGY, STRATEGIES, UNTRAINED, WITH_ALPHA, Strategy
from .sampler_config import DEFAULT_BATCH_SIZE, LANGUAGE_WEIGHTINGS, SamplerConfig, alpha_at
from .index import SamplingIndex, build_index, index_from_pairs
from .sampler import BatchSampler, build_sampler
from .simulate import simulated_arrays
from .sampling_shares import SamplingStats

__all__ = ["BATCH_KINDS", "Batch", "BatchSampler", "DEFAULT_ALPHA", "DEFAULT_BATCH_SIZE", "DEFAULT_STRATEGY",
           "LANGUAGE_WEIGHTINGS", "STRATEGIES", "SamplerConfig", "SamplingIndex", "SamplingStats", "Strategy",
           "UNTRAINED", "WITH_ALPHA", "alpha_at", "build_index", "build_sampler", "index_from_pairs",
           "simulated_arrays", "slice_for_rank"]
