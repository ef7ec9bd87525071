"""The statistics primitives every verdict rests on, against closed forms and slow loops."""

import numpy as np
import pytest
from scipy import stats

from prunekd.experiments import bootstrap_interval, t_interval
from prunekd.experiments._findings import _cell

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


@pytest.mark.parametrize("n_cells", [1, 3, 48])
def test_cells_get_the_95_percent_and_the_bonferroni_interval(n_cells):
    mean, ci, adjusted = _cell(D, n_cells)
    sem = D.std(ddof=1) / np.sqrt(len(D))
    assert mean == pytest.approx(D.mean())
    assert (ci[1] - ci[0]) / 2 == pytest.approx(stats.t.ppf(0.975, len(D) - 1) * sem)
    corrected = stats.t.ppf(1 - 0.05 / (2 * n_cells), len(D) - 1) * sem
    assert (adjusted[1] - adjusted[0]) / 2 == pytest.approx(corrected, rel=1e-12)


def test_a_cell_ignores_missing_seeds():
    with_gap = np.r_[D, np.nan]
    mean, ci, adjusted = _cell(with_gap, 4)
    assert (mean, ci, adjusted) == _cell(D, 4)
