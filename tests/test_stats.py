"""The statistics primitives every verdict rests on, against closed forms and slow loops."""

import numpy as np
import pytest
from scipy import stats

from prunekd.experiments import bootstrap_interval, t_interval

D = np.array([0.4, -0.2, 1.3, 0.8, 0.1, 0.9, -0.5])


@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_t_interval_half_width_is_the_student_t_quantile(level):
    mean, low, high = t_interval(D, level=level)
    half = stats.t.ppf(1 - (1 - level) / 2, len(D) - 1) * D.std(ddof=1) / np.sqrt(len(D))
    assert mean == pytest.approx(D.mean())
    assert (high - low) / 2 == pytest.approx(half, rel=1e-12)
    assert (low + high) / 2 == pytest.approx(D.mean())


def test_default_t_interval_is_95_percent():
    _, low, high = t_interval(D)
    half = stats.t.ppf(0.975, len(D) - 1) * D.std(ddof=1) / np.sqrt(len(D))
    assert (high - low) / 2 == pytest.approx(half, rel=1e-12)


def test_bootstrap_interval_is_the_2_5_and_97_5_percentiles_of_the_resamples():
    values = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 4.0])
    estimate, low, high = bootstrap_interval(len(values), lambda s: values[s].mean(),
                                             random_state=3)  # fmt: skip
    # The slow oracle: the same resamples, drawn one by one.
    rng = np.random.RandomState(3)
    draws = [values[rng.randint(len(values), size=len(values))].mean() for _ in range(2000)]
    assert estimate == values.mean()
    assert (low, high) == pytest.approx(tuple(np.percentile(draws, [2.5, 97.5])), rel=1e-12)
