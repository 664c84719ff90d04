"""Canonical scores: a function of the two vectors alone, and the bound on fast products."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from polyir.evaluate.search.exact_scores import (REDUCED_INPUT_UNIT, ScoreVectors, canonical_scores, matmul_input_unit,
                                 product_error_unit)


def exact_dot(q, c) -> Fraction:
    return sum((Fraction(float(a)) * Fraction(float(b)) for a, b in zip(q, c)), Fraction(0))


def test_canonical_scores_are_the_exact_dot_product_rounded_once():
    rng = np.random.default_rng(0)
    for dim in (1, 7, 384, 1025):  # odd lengths exercise the tree's odd-one-out step
        q = rng.normal(size=(5, dim)).astype(np.float32)
        c = rng.normal(size=(9, dim)).astype(np.float32)
        rows, cols = np.repeat(np.arange(5), 9), np.tile(np.arange(9), 5)
        got = canonical_scores(q, c, rows, cols)
        # float64 pairwise sums of exact products are within ~1e-15 of the exact value, so
        # the float32 rounding is the exact value's rounding unless it sits on a midpoint
        expected = [np.float32(float(exact_dot(q[r], c[k]))) for r, k in zip(rows, cols)]
        np.testing.assert_array_equal(got, expected)


def test_canonical_scores_do_not_depend_on_where_the_vectors_are():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(4, 384)).astype(np.float32)
    c = rng.normal(size=(6, 384)).astype(np.float32)
    rows, cols = np.arange(4).repeat(6), np.tile(np.arange(6), 4)
    first = canonical_scores(q, c, rows, cols)
    stacked = np.concatenate([c[::-1], c])  # the same vectors at other positions of a larger array
    again = canonical_scores(q, stacked, rows, cols + 6)
    np.testing.assert_array_equal(first, again)
    strided = np.zeros((6, 768), np.float32)
    strided[:, ::2] = c
    np.testing.assert_array_equal(canonical_scores(q, strided[:, ::2], rows, cols), first)


def test_fast_products_stay_within_the_slack():
    # the bound holds for any order of summation; check it on torch's product and on
    # sequential float32 sums in both directions (the worst orders differ)
    rng = np.random.default_rng(2)
    q = rng.normal(size=(50, 384)).astype(np.float32)
    c = (rng.normal(size=(80, 384)) * rng.uniform(0.1, 3, size=(80, 1))).astype(np.float32)
    vectors = ScoreVectors.build(q, c)
    rows, cols = np.arange(50).repeat(80), np.tile(np.arange(80), 50)
    canonical = canonical_scores(q, c, rows, cols).reshape(50, 80).astype(np.float64)
    fast = [(torch.from_numpy(q) @ torch.from_numpy(c).T).numpy()]
    for order in (slice(None), slice(None, None, -1)):
        acc = np.zeros((50, 80), np.float32)
        for i in range(384)[order]:
            acc += np.outer(q[:, i], c[:, i]).astype(np.float32)
        fast.append(acc)
    for scores in fast:
        assert (np.abs(scores.astype(np.float64) - canonical) <= vectors.slack[:, None]).all()


def test_the_error_unit_is_float32s_gamma_and_grows_with_rounded_inputs():
    d = 384
    gamma = d * 2.0**-24 / (1 - d * 2.0**-24)
    assert gamma < product_error_unit(d) < gamma * 1.01
    assert product_error_unit(d, REDUCED_INPUT_UNIT) > 2 * REDUCED_INPUT_UNIT


def test_reduced_matmul_precision_widens_the_slack():
    assert matmul_input_unit("cpu") == 0.0  # torch's default: true float32
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("medium")
        assert matmul_input_unit("cpu") == REDUCED_INPUT_UNIT
        assert matmul_input_unit("cuda") == REDUCED_INPUT_UNIT
    finally:
        torch.set_float32_matmul_precision(before)


@pytest.mark.parametrize("dim", [3, 384])
def test_slack_scales_with_the_norms(dim):
    q = np.ones((2, dim), np.float32)
    q[1] *= 4
    c = np.ones((3, dim), np.float32)
    slack = ScoreVectors.build(q, c).slack
    assert slack[1] == pytest.approx(4 * slack[0], rel=1e-6)
    assert slack[0] == pytest.approx(product_error_unit(dim) * dim, rel=2e-3)
