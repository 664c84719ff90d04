"""`polyir.st.HybridBatchSampler`: polyir's batches, row for row, inside sentence-transformers' sampler API."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("datasets", reason="the `st` extra (datasets, accelerate) is not installed")

from polyir.data.pairs.collection import ParallelCollection  # noqa: E402
from polyir.errors import ConfigError, InputError  # noqa: E402
from polyir.sampling import SamplerConfig, build_index, build_sampler, simulated_arrays  # noqa: E402
from polyir.st import HybridBatchSampler, index_from_dataset, pairs_dataset  # noqa: E402
from polyir.types import Pair  # noqa: E402

LANGS = ("de", "en", "zh", "ar")


def make_pairs(seed: int = 0) -> list[Pair]:
    """Two data sets with partial language coverage, in shuffled order; group ids repeat across
    data sets (the same id in two data sets is two groups)."""
    group, lang, dataset = simulated_arrays([70, 45], [[0, 1, 2, 3], [1, 3]], coverage=0.7, shuffle=True, seed=seed)
    names = ("web", "qa")
    first = (0, 70)  # data set 1's groups are numbered after data set 0's: restart its ids at 0
    return [Pair(group=f"g{int(g) - first[int(d)]}", lang=LANGS[int(lg)], query=f"q {g} {LANGS[int(lg)]}",
                 positive=f"p {g} {LANGS[int(lg)]}", dataset=names[int(d)]) for g, lg, d in zip(group, lang, dataset)]


def polyir_index(pairs):
    """The index polyir's own trainer builds (`polyir.train.train_data.load_training_data`)."""
    c = ParallelCollection.from_pairs(pairs)
    return build_index(c.group_index, c.lang_index, c.dataset_index, languages=c.languages, datasets=c.datasets)


def test_index_from_dataset_is_polyirs_index():
    pairs = make_pairs()
    ours, theirs = index_from_dataset(pairs_dataset(pairs)), polyir_index(pairs)
    assert ours.languages == theirs.languages and ours.datasets == theirs.datasets
    for name in ("members", "member_lang", "group_offsets", "group_ids", "group_dataset", "dataset_groups",
                 "language_counts", "pool_positions", "pool_offsets"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name)), name


@pytest.mark.parametrize("strategy", ["mono", "cross", "hybrid", "mixed"])
def test_same_batches_as_polyirs_sampler(strategy):
    pairs = make_pairs()
    st = HybridBatchSampler(pairs_dataset(pairs), batch_size=8, drop_last=False, seed=3, strategy=strategy, alpha=0.4)
    own = build_sampler(SamplerConfig(strategy, 8, alpha=0.4, seed=3), polyir_index(pairs))
    assert len(st) == len(own) > 0
    for epoch in (0, 1):
        st.set_epoch(epoch)
        expected = [b.query_index.tolist() + b.passage_index.tolist() for b in own]
        assert list(st) == expected
    assert list(st) != [st.rows(p, 0) for p in range(len(st))]  # epochs differ


def test_batches_hold_distinct_groups_and_matching_rows():
    pairs = make_pairs(seed=1)
    st = HybridBatchSampler(pairs_dataset(pairs), batch_size=8, drop_last=False, strategy="mixed", alpha=0.5)
    for rows in st:
        queries, passages = rows[:8], rows[8:]
        assert len(rows) == 16
        groups = [(pairs[i].dataset, pairs[i].group) for i in queries]
        assert len(set(groups)) == 8
        assert groups == [(pairs[i].dataset, pairs[i].group) for i in passages]


def test_processes_get_whole_batches_in_turn_under_accelerate():
    from accelerate.data_loader import BatchSamplerShard

    st = HybridBatchSampler(pairs_dataset(make_pairs()), batch_size=8, drop_last=False, seed=0)
    batches = list(st)
    shards = [BatchSamplerShard(st, num_processes=3, process_index=rank, even_batches=False) for rank in range(3)]
    rounds = len(batches) // 3
    for rank, shard in enumerate(shards):
        assert len(shard) == rounds  # the same number on every process: DDP never waits for a missing batch
        assert list(shard) == batches[rank:3 * rounds:3]


def test_an_alpha_schedule_needs_total_steps():
    dataset = pairs_dataset(make_pairs())
    with pytest.raises(ConfigError, match="total_steps"):
        HybridBatchSampler(dataset, 8, alpha=0.2, alpha_end=0.8)
    scheduled = HybridBatchSampler(dataset, 8, alpha=0.2, alpha_end=0.8, total_steps=40)
    assert scheduled.polyir_sampler.batch_at(0).alpha == pytest.approx(0.2)


def test_using_checks_options_at_once():
    factory = HybridBatchSampler.using(strategy="mixed", alpha=0.3)
    sampler = factory(pairs_dataset(make_pairs()), batch_size=8, drop_last=False, valid_label_columns=["label"],
                      generator=None, seed=0)
    assert sampler.config.strategy == "mixed" and sampler.config.alpha == 0.3
    with pytest.raises(ConfigError, match="alpha"):
        HybridBatchSampler.using(alpha=1.5)
    with pytest.raises(ConfigError, match="unknown sampler option"):
        HybridBatchSampler.using(alhpa=0.5)
    with pytest.raises(ConfigError, match="per_device_train_batch_size"):
        HybridBatchSampler.using(batch_size=8)


def test_composition_replays_the_runs_batches():
    pairs = make_pairs()
    st = HybridBatchSampler(pairs_dataset(pairs), batch_size=8, drop_last=False, seed=0, alpha=0.5)
    own = build_sampler(SamplerConfig("hybrid", 8, alpha=0.5), polyir_index(pairs))
    n = len(st) + 3  # into the second epoch
    for _, batch in zip(range(n), (b for _ in range(2) for b in own)):
        pass
    assert st.composition(n).state_dict() == own.stats.state_dict()
    part = st.composition(5)
    assert st.composition(n, part, start=5).state_dict() == own.stats.state_dict()


def test_bad_datasets_are_one_line_errors():
    from datasets import Dataset

    with pytest.raises(InputError, match="no column 'lang'"):
        index_from_dataset(Dataset.from_dict({"query": ["a"], "positive": ["b"], "group": [1]}))
    with pytest.raises(InputError, match="'label' is reserved"):
        index_from_dataset(Dataset.from_dict({"query": ["a"], "positive": ["b"], "lang": ["en"], "group": [1],
                                              "label": [0]}))
    with pytest.raises(InputError, match="two examples in language"):
        index_from_dataset(Dataset.from_dict({"query": ["a", "b"], "positive": ["b", "c"], "lang": ["en", "en"],
                                              "group": [1, 1]}))
    with pytest.raises(InputError, match="row 1: missing language"):
        index_from_dataset(Dataset.from_dict({"query": ["a", "b"], "positive": ["b", "c"], "lang": ["en", None],
                                              "group": [1, 2]}))
    with pytest.raises(InputError, match="pair 0: has 0 hard negatives"):
        pairs_dataset(make_pairs()[:3], hard_negatives=1)


def test_the_seed_of_a_seeded_generator_is_used_when_no_seed_is_passed():
    # sentence-transformers 6.0 passes only generator=torch.Generator().manual_seed(args.seed)
    import torch

    dataset = pairs_dataset(make_pairs())
    by_seed = HybridBatchSampler(dataset, batch_size=8, seed=7)
    by_generator = HybridBatchSampler(dataset, batch_size=8, generator=torch.Generator().manual_seed(7))
    unseeded = HybridBatchSampler(dataset, batch_size=8, generator=torch.Generator())
    assert list(by_generator) == list(by_seed) != list(unseeded)
    assert list(unseeded) == list(HybridBatchSampler(dataset, batch_size=8, seed=0))
    assert by_generator.config.seed == 7 and unseeded.config.seed == 0
