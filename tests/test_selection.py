import numpy as np
import pytest

from prunekd.pruning import class_quotas
from prunekd.pruning._selection import n_kept, rank, select


@pytest.mark.parametrize(
    "fraction, n, expected",
    [(0.1, 100, 10), (0.25, 10, 2), (0.35, 10, 4), (1.0, 7, 7), (0.001, 50, 1), (0.5, 5, 2)],
)
def test_n_kept_is_round_of_fraction_times_n(fraction, n, expected):
    assert n_kept(fraction, n) == expected


def test_largest_remainder_quotas_known_values():
    # exact shares 3.5, 2.1, 1.4 -> floors 3, 2, 1 (6) + one for the largest remainder (.5)
    assert class_quotas(np.array([50, 30, 20]), 7).tolist() == [4, 2, 1]
    # exact shares 2.5, 2.5 tie -> the lower class index gets the extra sample
    assert class_quotas(np.array([10, 10]), 5).tolist() == [3, 2]


def test_quotas_give_every_class_one_sample():
    # exact shares 4.95, 0.05: the tiny class gets one, taken from the big one
    assert class_quotas(np.array([99, 1]), 5).tolist() == [4, 1]


def test_quotas_exact_total_bounds_and_minimum_on_random_cases():
    rng = np.random.RandomState(0)
    for _ in range(500):
        counts = rng.randint(1, 40, size=rng.randint(2, 8))
        n_keep = rng.randint(len(counts), counts.sum() + 1)
        q = class_quotas(counts, n_keep)
        assert q.sum() == n_keep
        assert np.all(q >= 1) and np.all(q <= counts)
        # proportional up to the rounding and the one-per-class adjustment
        assert np.all(np.abs(q - n_keep * counts / counts.sum()) < 1 + len(counts))


def test_rank_orders_by_score_then_tiebreak():
    scores = np.array([1.0, 3.0, 3.0, 0.0])
    tiebreak = np.array([0, 2, 1, 3])
    assert rank(scores, tiebreak, "hard").tolist() == [2, 1, 0, 3]
    assert rank(scores, tiebreak, "easy").tolist() == [3, 0, 2, 1]


def test_select_class_balanced_exact_indices():
    scores = np.array([5, 1, 4, 2, 9, 8, 7, 0], dtype=float)
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    tb = np.arange(8)
    assert select(scores, y, 4, "hard", tb, True).tolist() == [0, 2, 4, 5]
    assert select(scores, y, 4, "easy", tb, True).tolist() == [1, 3, 6, 7]
    assert select(scores, y, 4, "hard", tb, False).tolist() == [0, 4, 5, 6]
