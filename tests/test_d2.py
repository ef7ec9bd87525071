"""D2 pruning against a slow loop of its message passing, and its balance of difficulty and cover."""

import numpy as np
import pytest

from prunekd.pruning import D2Pruner, PrecomputedPruner
from prunekd.pruning._d2 import d2_select


def _d2_loop(Z, scores, k, n_neighbors, gf, gr):
    n = len(Z)
    D = np.linalg.norm(Z[:, None] - Z[None], axis=2)
    neighbours = [sorted((j for j in range(n) if j != i), key=lambda j: (D[i, j], j))[:n_neighbors]
                  for i in range(n)]  # fmt: skip
    s = [scores[i] + sum(np.exp(-gf * D[i, j]) * scores[j] for j in neighbours[i]) for i in range(n)]
    chosen = []
    for _ in range(k):
        i = max((j for j in range(n) if j not in chosen), key=lambda j: (s[j], -j))
        chosen.append(i)
        for j in neighbours[i]:
            s[j] -= np.exp(-gr * D[i, j]) * s[i]
    return chosen


@pytest.mark.parametrize("gf, gr", [(1.0, 1.0), (0.3, 2.0)])
def test_d2_equals_the_loop(gf, gr):
    rng = np.random.RandomState(0)
    Z, scores = rng.randn(25, 3), rng.rand(25)
    assert d2_select(Z, scores, 8, 4, gf, gr).tolist() == _d2_loop(Z, scores, 8, 4, gf, gr)


def test_bunched_hard_samples_give_way_to_cover():
    X = np.r_[np.zeros((4, 1)) + [[0.0], [0.01], [0.02], [0.03]], [[8.0], [9.0]]]
    hard = np.array([1.0, 0.99, 0.98, 0.97, 0.3, 0.2])
    y = np.zeros(6, int)
    d2 = D2Pruner(PrecomputedPruner(hard), n_neighbors=3, fraction=0.5, class_balanced=False)
    kept = d2.fit_transform(X, y)
    top = PrecomputedPruner(hard, fraction=0.5, class_balanced=False).fit_transform(X, y)
    assert top.tolist() == [0, 1, 2] and 4 in kept  # D2 reaches the far region
    np.testing.assert_array_equal(d2.scores_, hard)


def test_per_class_quotas():
    rng = np.random.RandomState(1)
    X, y = rng.randn(40, 2), np.repeat([0, 1], 20)
    kept = D2Pruner(PrecomputedPruner(rng.rand(40)), fraction=0.25).fit_transform(X, y)
    assert np.bincount(y[kept]).tolist() == [5, 5]
