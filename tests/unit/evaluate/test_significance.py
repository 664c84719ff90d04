import numpy as np
import pytest

from polyir.evaluate.significance import compare, holm, macro_mean, mean_std


def test_macro_mean_skips_missing_and_empty_settings():
    v = np.array([[1.0, 0.0, np.nan], [np.nan, np.nan, np.nan], [0.5, 0.5, 0.5]])
    assert macro_mean(v) == pytest.approx((0.5 + 0.5) / 2)


def test_identical_systems_are_not_significant():
    rng = np.random.default_rng(1)
    a = rng.random((5, 200))
    c = compare(a, a.copy(), n_resamples=2000, seed=0)
    assert c.delta == 0 and c.p_randomization == 1.0
    assert c.ci_low == pytest.approx(0) and c.ci_high == pytest.approx(0)


def test_clear_difference_is_significant_and_ci_covers_it():
    rng = np.random.default_rng(2)
    b = rng.random((4, 300))
    a = np.clip(b + 0.05 + rng.normal(0, 0.05, b.shape), 0, 1)
    c = compare(a, b, n_resamples=2000, seed=0)
    assert c.delta == pytest.approx(macro_mean(a) - macro_mean(b))
    assert c.ci_low < c.delta < c.ci_high and c.ci_low > 0
    assert c.p_randomization < 0.001 and c.p_bootstrap < 0.001


def test_deterministic_and_calibrated_under_the_null():
    rng = np.random.default_rng(3)
    a, b = rng.random((3, 100)), rng.random((3, 100))
    assert compare(a, b, n_resamples=500, seed=7) == compare(a, b, n_resamples=500, seed=7)
    # under H0 (A and B exchangeable) the test rejects at 5% about 5% of the time
    rejections = 0
    for trial in range(200):
        base = rng.random((3, 60))
        a = base + rng.normal(0, 0.1, base.shape)
        b = base + rng.normal(0, 0.1, base.shape)
        c = compare(a, b, n_resamples=400, seed=trial)
        rejections += c.p_randomization < 0.05
    assert 2 <= rejections <= 20  # 1%..10% of 200


def test_randomization_p_matches_exact_enumeration_on_tiny_case():
    # 4 questions, 1 setting: all 16 sign patterns enumerated by hand
    a = np.array([[1.0, 1.0, 1.0, 0.0]])
    b = np.array([[0.0, 0.0, 0.0, 0.0]])
    d = (a - b)[0]
    stats = [abs((np.array(s) * d).mean()) for s in np.array(np.meshgrid(*[[-1, 1]] * 4)).T.reshape(-1, 4)]
    exact = np.mean(np.array(stats) >= abs(d.mean()) - 1e-12)
    c = compare(a, b, n_resamples=20000, seed=0)
    assert c.p_randomization == pytest.approx(exact, abs=0.02)


def test_mismatched_query_sets_rejected():
    with pytest.raises(ValueError, match="different query sets"):
        compare(np.ones((2, 3)), np.ones((2, 4)))
    a = np.ones((1, 3))
    b = a.copy()
    b[0, 1] = np.nan
    with pytest.raises(ValueError, match="different query sets"):
        compare(a, b)


def test_holm_and_mean_std():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert mean_std([0.5, 0.7]) == pytest.approx((0.6, np.std([0.5, 0.7], ddof=1), 2))
    assert mean_std([0.5]) == (0.5, 0.0, 1)
