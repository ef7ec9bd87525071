"""GLISTER's greedy on the last layer, against a slow loop written from its definition."""

import numpy as np
import pytest
import torch

from prunekd.pruning import GlisterPruner
from prunekd.pruning._glister import glister_select


def _softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def _loop(H, y, H_val, y_val, W, k, eta):
    W = W.copy()
    chosen = []
    grads = []
    P = _softmax(H @ W.T)
    for i in range(len(H)):  # every row's gradient at the model's weights
        e = P[i].copy()
        e[y[i]] -= 1
        grads.append(np.outer(e, H[i]))
    for _ in range(k):
        Pv = _softmax(H_val @ W.T)
        Pv[np.arange(len(y_val)), y_val] -= 1
        g_val = Pv.T @ H_val / len(y_val)
        gains = [-np.inf if i in chosen else -np.sum(grads[i] * g_val) for i in range(len(H))]
        j = int(np.argmax(gains))
        chosen.append(j)
        W = W - eta * grads[j]
    return chosen


@pytest.mark.parametrize("eta, n_val", [(0.05, 8), (1.0, 8), (0.5, 1)])
def test_glister_equals_the_loop(eta, n_val):
    rng = np.random.RandomState(0)
    H = np.c_[rng.randn(30, 3), np.ones(30)]
    y = rng.randint(0, 3, 30)
    H_val, y_val = H[:n_val], y[:n_val]
    W = rng.randn(3, 4)
    got = glister_select(*(torch.as_tensor(a) for a in (H, y, H_val, y_val, W)), 6, eta)
    assert got.tolist() == _loop(H, y, H_val, y_val, W, 6, eta)


def test_the_pruner_reads_the_last_layer_and_keeps_the_budget():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    rng = np.random.RandomState(1)
    X = rng.randn(60, 2).astype("float32")
    y = rng.randint(0, 3, 60)
    pruner = GlisterPruner(model=model, fraction=0.2, random_state=0).fit(X, y)
    assert np.bincount(y[pruner.sample_indices_]).sum() == 12
    assert not hasattr(pruner, "_fit_layer")
    assert pruner.scores_.shape == (60,) and np.isfinite(pruner.scores_).all()


def test_a_model_without_a_last_layer_to_update_is_refused():
    from sklearn.linear_model import LogisticRegression

    X, y = np.random.RandomState(0).randn(20, 2), np.array([0, 1] * 10)
    with pytest.raises(TypeError, match="updates the model's last linear layer"):
        GlisterPruner(model=LogisticRegression().fit(X, y)).fit(X, y)


def test_classes_side_by_side_equal_one_greedy_per_class():
    # The pruner runs every class's greedy in one batch; each equals its own loop.
    from prunekd.pruning._glister import glister_groups

    rng = np.random.RandomState(3)
    H = np.c_[rng.randn(40, 3), np.ones(40)]
    y = rng.randint(0, 3, 40)
    H_val, y_val, W = H[:10], y[:10], rng.randn(3, 4)
    groups = [(np.flatnonzero(y == c), k) for c, k in enumerate((2, 5, 1))]
    got = glister_groups(*(torch.as_tensor(a) for a in (H, y, H_val, y_val, W)), groups, 0.5)
    for (members, k), picked in zip(groups, got):
        assert picked.tolist() == _loop(H[members], y[members], H_val, y_val, W, k, 0.5)
