"""SamplingIndex: the CSR layout against brute force, and input validation."""
from __future__ import annotations

import numpy as np
import pytest

from polyir.errors import InputError
from polyir.sampling import build_index, index_from_pairs, simulated_arrays
from polyir.types import Pair

LANGS = ("ar", "de", "en", "zh")


def _arrays(shuffle=True):
    return simulated_arrays([30, 20, 15], [[0, 1, 2, 3], [2], [0, 2]], coverage=0.6, shuffle=shuffle, seed=3)


def test_csr_layout_matches_brute_force():
    group, lang, dataset = _arrays()
    index = build_index(group, lang, dataset, languages=LANGS, datasets=("a", "b", "c"))
    assert index.n_examples == group.size and index.n_groups == np.unique(group).size
    for g in range(index.n_groups):
        members = index.members[index.group_offsets[g]:index.group_offsets[g + 1]]
        gid = index.group_ids[g]
        assert sorted(members.tolist()) == np.flatnonzero(group == gid).tolist()
        assert np.all(np.diff(lang[members]) > 0)  # sorted by language within the group
        assert np.array_equal(index.member_lang[index.group_offsets[g]:index.group_offsets[g + 1]], lang[members])
        assert set(dataset[members].tolist()) == {index.group_dataset[g]}
    for d in range(3):
        expected_groups = np.unique(group[dataset == d])
        assert np.array_equal(np.sort(index.group_ids[index.groups_of(d)]), expected_groups)
        for lang_code in range(len(LANGS)):
            count = int(np.sum((dataset == d) & (lang == lang_code)))
            assert index.language_counts[d, lang_code] == count
            pool = index.members[index.pool_of(d, lang_code)]
            if index.covers(d, lang_code) or count == 0:
                assert pool.size == 0
            else:
                assert sorted(pool.tolist()) == np.flatnonzero((dataset == d) & (lang == lang_code)).tolist()
    positions = np.arange(index.n_examples)
    owners = index.group_of_position(positions)
    assert np.array_equal(index.group_ids[owners], group[index.members])


def test_sorted_and_shuffled_input_give_the_same_groups():
    sorted_index = build_index(*_arrays(shuffle=False), languages=LANGS)
    group, lang, dataset = _arrays(shuffle=True)
    shuffled_index = build_index(group, lang, dataset, languages=LANGS)
    assert np.array_equal(sorted_index.group_ids, shuffled_index.group_ids)
    assert np.array_equal(sorted_index.group_offsets, shuffled_index.group_offsets)
    assert np.array_equal(sorted_index.member_lang, shuffled_index.member_lang)
    assert np.array_equal(group[shuffled_index.members], np.repeat(shuffled_index.group_ids,
                                                                   np.diff(shuffled_index.group_offsets)))


@pytest.mark.parametrize("arrays, names, message", [
    (([0, 1], [0], [0, 0]), {}, "lang has 1 entries"),
    (([0, 1], [0, -1], None), {}, "negative lang"),
    (([0, 1], [0, 3], None), {"languages": ("de", "en")}, "language 3 out of range"),
    (([5, 5, 6], [1, 1, 0], None), {"languages": ("de", "en")}, "group 5 has two examples in language 'en'"),
    (([4, 4], [0, 1], [0, 1]), {}, "group 4 spans data sets"),
    (([], [], None), {}, "no training examples"),
    (([[0]], [[0]], None), {}, "1-D integer array"),
    ((np.array([0.5]), [0], None), {}, "1-D integer array"),
    (([0], [0], None), {"languages": ("de", "de")}, "duplicate language names"),
])
def test_bad_arrays_raise_input_error(arrays, names, message):
    group, lang, dataset = arrays
    with pytest.raises(InputError, match=message):
        build_index(group, lang, dataset, **names)


def test_error_names_the_example():
    with pytest.raises(InputError) as err:
        build_index(np.array([0, 1, 0]), np.array([0, 0, 0]))
    assert err.value.record == "example 2" and "examples 0 and 2" in str(err.value)


def _pair(group, lang, dataset="squad"):
    return Pair(group=group, lang=lang, query=f"q {group}", positive=f"p {group}", dataset=dataset)


def test_index_from_pairs_numbers_by_sorted_names():
    pairs = [_pair("g1", "en"), _pair("g1", "de"), _pair("g2", "en", "nq"), _pair("g3", "de")]
    index = index_from_pairs(pairs)
    assert index.languages == ("de", "en") and index.datasets == ("nq", "squad")
    first = index.members[index.group_offsets[0]:index.group_offsets[1]]
    assert [pairs[i].lang for i in first] == ["de", "en"] and {pairs[i].group for i in first} == {"g1"}
    assert index.language_counts.tolist() == [[0, 1], [2, 1]]


@pytest.mark.parametrize("pairs, message", [
    ([_pair("g1", "en"), _pair("g1", "en")], "group 'g1' has two pairs in language 'en'"),
    ([_pair("g1", "en"), _pair("g1", "de", "nq")], "group 'g1' spans data sets 'squad' and 'nq'"),
    ([], "no training pairs"),
])
def test_index_from_pairs_errors_name_the_group(pairs, message):
    with pytest.raises(InputError, match=message):
        index_from_pairs(pairs)
