"""Batch samplers: batch composition (mono / cross / hybrid / mixed) lives here and only here.

    index = build_index(group, lang, dataset, languages=("de", "en"), datasets=("squad",))
    sampler = build_sampler(SamplerConfig("hybrid", batch_size=100, alpha=0.5), index)
    for batch in sampler: ...  # Batch(kind, query_index, passage_index, group, ...)
    Strategy.parse("hybrid(0.5)") == SamplerConfig().batch_strategy  # the paper's defaults

See docs/sampling.md for the exact probabilities, the epoch definition and the invariants.
Names are resolved on first use, so that `Strategy` and the strategy list (a command's options)
do not load numpy.
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "BATCH_KINDS": "batch",
    "Batch": "batch",
    "slice_for_rank": "batch",
    "DEFAULT_ALPHA": "batch_strategy",
    "DEFAULT_STRATEGY": "batch_strategy",
    "STRATEGIES": "batch_strategy",
    "UNTRAINED": "batch_strategy",
    "WITH_ALPHA": "batch_strategy",
    "Strategy": "batch_strategy",
    "DEFAULT_BATCH_SIZE": "sampler_config",
    "LANGUAGE_WEIGHTINGS": "sampler_config",
    "SamplerConfig": "sampler_config",
    "alpha_at": "sampler_config",
    "SamplingIndex": "index",
    "build_index": "index",
    "index_from_pairs": "index",
    "BatchSampler": "sampler",
    "build_sampler": "sampler",
    "simulated_arrays": "simulate",
    "SamplingStats": "sampling_shares",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
