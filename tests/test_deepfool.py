"""DeepFool against its closed form on affine classifiers, and as a proxy pruner."""

from unittest import mock

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from prunekd.pruning import DeepFoolPruner
from prunekd.pruning._deepfool import deepfool_norms


def test_an_affine_classifier_gets_its_exact_distance_to_the_boundary():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    X = torch.randn(40, 4)
    norms = deepfool_norms(model, X.numpy(), max_iter=1)
    W, b = model.weight.detach(), model.bias.detach()
    f = X @ W.T + b
    start = f.argmax(1)
    expected = []
    for i in range(40):  # the nearest hyperplane f_k = f_start, written out
        s = int(start[i])
        gaps = [abs(float(f[i, k] - f[i, s])) / float((W[k] - W[s]).norm())
                for k in range(3) if k != s]  # fmt: skip
        expected.append(1.02 * max(min(gaps), 1e-4))
    np.testing.assert_allclose(norms, expected, rtol=1e-4)
    # the step found does change every prediction
    assert (deepfool_norms(model, X.numpy(), max_iter=50) == norms).all()


def test_a_curved_boundary_takes_several_steps():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    X = torch.randn(30, 2) * 2
    one, many = deepfool_norms(model, X.numpy(), 1), deepfool_norms(model, X.numpy(), 50)
    start = model(X).argmax(1)
    assert not np.allclose(one, many)
    assert (many > 0).all() and start.shape == (30,)


def test_the_pruner_keeps_the_samples_nearest_the_boundary():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 2).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    pruner = DeepFoolPruner(fraction=0.25, n_proxies=1, max_epochs=20, lr=0.05, random_state=0)
    kept = pruner.fit_transform(X, y)
    assert len(kept) == 20
    assert np.median(np.abs(X[kept, 0])) < np.median(np.abs(X[:, 0])) / 2


def test_a_model_without_input_gradients_is_refused():
    X, y = np.random.RandomState(0).randn(20, 2), np.array([0, 1] * 10)
    with pytest.raises(TypeError, match="differentiates the model"):
        DeepFoolPruner(model=LogisticRegression().fit(X, y)).fit(X, y)


def test_the_work_done_is_reported():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    X = np.random.RandomState(0).randn(40, 4).astype("float32")
    pruner = DeepFoolPruner(model=model, deepfool_steps=1).fit(X, np.arange(40) % 3)
    # one forward pass per sample, then one step: a forward pass and a 3-row Jacobian each
    assert pruner.scoring_passes_ == 40 + 40 * (1 + 2 * 3)


def _cached_linear_setting(memory):
    """A 3-class linear model, 40 rows, and DeepFool's parameters with a score cache."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    X = np.random.RandomState(0).randn(40, 4).astype("float32")
    kw = dict(model=model, deepfool_steps=1, random_state=0, memory=str(memory))
    return X, np.arange(40) % 3, kw


def test_the_work_is_cached_with_the_scores(tmp_path):
    X, y, kw = _cached_linear_setting(tmp_path)
    first = DeepFoolPruner(**kw).fit(X, y)
    again = DeepFoolPruner(**kw)
    with mock.patch("prunekd.pruning._deepfool.deepfool_norms") as norms:
        again.fit(X, y)
    norms.assert_not_called()  # a cache hit ...
    assert again.scoring_passes_ == first.scoring_passes_ == 40 + 40 * (1 + 2 * 3)  # ... with its work
    np.testing.assert_array_equal(again.scores_, first.scores_)


def test_proxies_report_their_deepfool_work():
    X = np.random.RandomState(0).randn(30, 2).astype("float32")
    y = (X[:, 0] > 0).astype(int)
    pruner = DeepFoolPruner(n_proxies=2, max_epochs=1, deepfool_steps=1, random_state=0).fit(X, y)
    # per proxy: a forward pass per sample, then one step: a forward pass and a 2-row Jacobian
    assert pruner.scoring_passes_ == 2 * (30 + 30 * (1 + 2 * 2))


def test_a_scores_only_entry_of_an_earlier_version_is_not_read_as_scores_and_work(tmp_path):
    from prunekd._cache import cached_call, input_fingerprint, score_memory

    X, y, kw = _cached_linear_setting(tmp_path)
    pruner = DeepFoolPruner(**kw)
    seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=2)[0])
    key = pruner._cache_key(input_fingerprint(X), y, seed)
    assert key[0] == "scores-v2"
    # The cache as the earlier version wrote it: the scores alone, under the "scores" key.
    cached_call(score_memory(str(tmp_path)), lambda: np.zeros(len(y)), ("scores", *key[1:]))
    pruner.fit(X, y)
    assert np.all(pruner.scores_ < 0)  # computed, not read from the earlier entry
    assert pruner.scoring_passes_ == 40 + 40 * (1 + 2 * 3)
