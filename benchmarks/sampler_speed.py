"""Batch-sampler speed and memory at mMARCO scale (simulated integer arrays, no texts).

    python benchmarks/sampler_speed.py           # 40M examples: 5.7M groups x 7 languages
    python benchmarks/sampler_speed.py --quick   # 4M examples

Reports, as a markdown table: index build time and size; for each strategy the latency
of the first batch of an epoch (epoch plan + first shuffle of the group pool) and the
steady-state throughput in examples (batch items) per second; and the memory allocated
while drawing N and 10 N batches (tracemalloc peak), which must not grow with N.
The examples are given in language-major order (as read from one file per language), so
the build includes the sort by (group, language).
"""
from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

import numpy as np

from polyir.sampling import STRATEGIES, SamplerConfig, build_index, build_sampler, simulated_arrays


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MiB."""
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def language_major_arrays(n_groups: int, n_languages: int):
    group, lang, dataset = simulated_arrays([n_groups], [list(range(n_languages))])
    order = np.argsort(lang, kind="stable")  # one block per language, groups ascending inside
    return group[order], lang[order], dataset[order]


def throughput(sampler, n_batches: int) -> tuple[float, float]:
    """(first-batch seconds, steady examples/s over the next n_batches)."""
    sampler.set_epoch(0)
    iterator = iter(sampler)
    start = time.perf_counter()
    first = next(iterator)
    first_seconds = time.perf_counter() - start
    start = time.perf_counter()
    items = 0
    for _ in range(n_batches):
        items += len(next(iterator))
    return first_seconds, items / (time.perf_counter() - start)


def allocation_peak(sampler, n_batches: int) -> float:
    """Peak KiB allocated (tracemalloc) while drawing n_batches, after the epoch is set up."""
    sampler.set_epoch(1)
    iterator = iter(sampler)
    next(iterator)
    gc.collect()
    tracemalloc.start()
    for _ in range(n_batches):
        next(iterator)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4M examples instead of 40M")
    parser.add_argument("--languages", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=100, help="global batch size (paper: 100)")
    parser.add_argument("--batches", type=int, default=2000, help="batches timed per strategy (N)")
    args = parser.parse_args()
    n_groups = (571_000 if args.quick else 5_711_000)
    start = time.perf_counter()
    group, lang, dataset = language_major_arrays(n_groups, args.languages)
    make_seconds = time.perf_counter() - start
    before = rss_mib()[0]
    start = time.perf_counter()
    index = build_index(group, lang, dataset, languages=[f"l{i}" for i in range(args.languages)])
    build_seconds = time.perf_counter() - start
    build_peak = rss_mib()[1]
    del group, lang, dataset
    gc.collect()
    print(f"## Sampler speed: {index.n_examples:,} examples, {index.n_groups:,} groups, "
          f"{args.languages} languages, batch size {args.batch_size}\n")
    print("| stage | figure |\n|---|---|")
    print(f"| simulate arrays | {make_seconds:.1f} s |")
    print(f"| build index (sort by group, language) | {build_seconds:.1f} s |")
    print(f"| index size | {index.nbytes() / 2**20:.0f} MiB ({index.nbytes() / index.n_examples:.1f} B/example) |")
    print(f"| process RSS before build / peak during build | {before:.0f} / {build_peak:.0f} MiB |\n")
    print(f"| strategy | first batch of an epoch | examples/s (N = {args.batches} batches) "
          f"| alloc. peak, N batches | alloc. peak, 10 N batches | RSS after |")
    print("|---|---|---|---|---|---|")
    for strategy in STRATEGIES:
        sampler = build_sampler(SamplerConfig(strategy, args.batch_size, seed=0), index)
        first, rate = throughput(sampler, args.batches)
        peak_n = allocation_peak(sampler, args.batches)
        peak_10n = allocation_peak(sampler, 10 * args.batches)
        print(f"| {strategy} | {first * 1000:.0f} ms | {rate:,.0f} | {peak_n:.0f} KiB | {peak_10n:.0f} KiB "
              f"| {rss_mib()[0]:.0f} MiB |", flush=True)


if __name__ == "__main__":
    main()
