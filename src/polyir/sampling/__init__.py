"""Batch samplers: batch composition (mono / cross / hybrid / mixed) lives here and only here.

    index = build_index(group, lang, dataset, languages=("de", "en"), datasets=("squad",))
    sampler = build_sampler(SamplerConfig("hybrid", batch_size=100, alpha=0.5), index)
    for batch in sampler: ...  # Batch(kind, query_index, passage_index, group, ...)

See docs/sampling.md for the exact probabilities, the epoch definition and the invariants.
"""
from .batch import BATCH_KINDS, Batch, slice_for_rank
from .sampler_config import LANGUAGE_WEIGHTINGS, STRATEGIES, STRATEGY_NAMES, SamplerConfig, alpha_at, strategy_label
from .index import SamplingIndex, build_index, index_from_pairs
from .sampler import BatchSampler, build_sampler
from .simulate import simulated_arrays
from .sampling_shares import SamplingStats

__all__ = ["BATCH_KINDS", "Batch", "BatchSampler", "LANGUAGE_WEIGHTINGS", "STRATEGIES", "STRATEGY_NAMES",
           "SamplerConfig", "SamplingIndex", "SamplingStats", "alpha_at", "build_index", "build_sampler",
           "index_from_pairs", "simulated_arrays", "slice_for_rank", "strategy_label"]
