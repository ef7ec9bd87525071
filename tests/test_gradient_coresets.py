"""Craig and GradMatch against slow loops, and their weights reaching the student."""

import numpy as np
import pytest
import torch
from scipy.optimize import nnls
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from prunekd import make_pipeline
from prunekd.pruning import CraigPruner, GradMatchPruner
from prunekd.pruning._gradients import craig_select, gradmatch_select, last_layer_gradients

from test_student_objective import frozen_student


def _craig_loop(G, k):
    D = np.array([[np.linalg.norm(a - b) for b in G] for a in G])
    S = D.max() - D
    chosen = []
    for _ in range(k):
        best = [S[:, chosen].max(1) if chosen else np.zeros(len(G))][0]
        gains = [-np.inf if j in chosen else np.maximum(S[:, j] - best, 0).sum()
                 for j in range(len(G))]  # fmt: skip
        chosen.append(int(np.argmax(gains)))
    nearest = [chosen[int(np.argmax(S[i, chosen]))] for i in range(len(G))]
    return chosen, [float(nearest.count(j)) for j in chosen]


def test_craig_equals_the_loop():
    G = np.random.RandomState(0).randn(25, 4)
    chosen, weights = craig_select(G, 6)
    expected_chosen, expected_weights = _craig_loop(G, 6)
    assert chosen.tolist() == expected_chosen
    assert weights.tolist() == expected_weights


def test_craig_keeps_one_of_identical_gradients_with_their_count():
    G = np.r_[np.zeros((5, 2)), [[10.0, 0.0]], [[0.0, 10.0]]]
    chosen, weights = craig_select(G, 3)
    assert sorted(chosen.tolist())[1:] == [5, 6] and len(set(chosen) & set(range(5))) == 1
    assert sorted(weights.tolist()) == [1.0, 1.0, 5.0]


def _omp_loop(G, k, lam):
    A, b = G.T, G.mean(0)
    chosen, r = [], b.copy()
    for _ in range(k):
        proj = [-np.inf if j in chosen else A[:, j] @ r for j in range(A.shape[1])]
        chosen.append(int(np.argmax(proj)))
        A_S = A[:, chosen]
        w, _ = nnls(np.vstack([A_S, np.sqrt(lam) * np.eye(len(chosen))]), np.r_[b, np.zeros(len(chosen))])
        r = b - A_S @ w
    return chosen, w


def test_gradmatch_equals_the_loop():
    G = np.random.RandomState(1).randn(30, 5)
    chosen, weights = gradmatch_select(G, 7, lam=0.5)
    expected_chosen, expected_weights = _omp_loop(G, 7, 0.5)
    assert chosen.tolist() == expected_chosen
    np.testing.assert_allclose(weights, expected_weights)


def test_last_layer_gradients_equal_autograd():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 4))
    X = torch.randn(6, 3)
    y = np.array([0, 1, 2, 3, 1, 0])
    G = last_layer_gradients(model, X.numpy(), y, np.arange(4))
    for i in range(6):
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(X[i : i + 1]), torch.tensor([y[i]])).backward()
        last = model[2]
        expected = np.r_[last.bias.grad.numpy(), last.weight.grad.numpy().ravel()]
        np.testing.assert_allclose(G[i], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("pruner", [CraigPruner, GradMatchPruner])
def test_the_weights_reach_the_student_through_the_pipeline(pruner):
    X, y = make_classification(90, 6, n_informative=4, n_classes=3, random_state=0)
    X = X.astype("float32")
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    step = pruner(model=teacher, fraction=0.3)
    pipe = make_pipeline(step, frozen_student(teacher=teacher, alpha=0.5))  # the default: "auto"
    pipe.fit(X, y)
    kept, weights = step.sample_indices_, step.sample_weight_
    assert len(weights) == len(kept) == 27 and (weights >= 0).all()
    assert np.isclose(weights.sum(), 90)  # a class's weights add up to its size
    direct = frozen_student(teacher=teacher, alpha=0.5).fit(X[kept], y[kept], sample_weight=weights)
    assert pipe[-1].history[-1, "train_loss"] == pytest.approx(direct.history[-1, "train_loss"])
    unweighted = make_pipeline(pruner(model=teacher, fraction=0.3),
                               frozen_student(teacher=teacher, alpha=0.5),
                               use_pruner_weights=False).fit(X, y)  # fmt: skip
    assert unweighted[-1].history[-1, "train_loss"] != pytest.approx(direct.history[-1, "train_loss"])


def test_pruner_weights_need_a_final_step_that_takes_them():
    X, y = make_classification(60, 4, random_state=0)
    teacher = LogisticRegression().fit(X, y)
    from sklearn.neighbors import KNeighborsClassifier

    for setting in ("auto", True):
        pipe = make_pipeline(CraigPruner(model=teacher), KNeighborsClassifier(),
                             use_pruner_weights=setting)  # fmt: skip
        with pytest.raises(ValueError, match="takes no sample_weight.*use_pruner_weights=False"):
            pipe.fit(X, y)
    pipe.set_params(use_pruner_weights=False).fit(X, y)  # unweighted, as asked


def test_the_ridge_fit_without_ridge_falls_back_on_singular_gradients():
    # lam=0 with a zero gradient (a sample fitted exactly): A^T A is singular, the Cholesky
    # factor does not exist, and the stacked problem gives the non-negative least squares.
    from scipy.optimize import nnls

    from prunekd.pruning._gradients import _ridge_nnls

    rng = np.random.RandomState(0)
    A, b = np.c_[rng.randn(5, 3), np.zeros(5)], rng.randn(5)
    w = _ridge_nnls(A, b, 0.0)
    assert (w >= 0).all()
    best = np.linalg.norm(A @ nnls(A, b)[0] - b)
    np.testing.assert_allclose(np.linalg.norm(A @ w - b), best, rtol=1e-9)


def test_craig_weights_follow_their_kept_rows():
    # The greedy picks rows out of index order: each weight must stay with its own row.
    from prunekd.pruning._selection import budgets

    X, y = make_classification(60, 6, n_informative=4, n_classes=3, random_state=1)
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    pruner = CraigPruner(model=teacher, fraction=0.3).fit(X, y)
    G = last_layer_gradients(teacher, X, y, np.unique(y))
    expected = {}
    for members, quota in budgets(y, 18, True):
        chosen, weights = _craig_loop(G[members], quota)
        assert chosen != sorted(chosen)  # the case this test is about
        expected.update(zip(members[chosen].tolist(), weights))
    assert dict(zip(pruner.sample_indices_.tolist(), pruner.sample_weight_.tolist())) == expected


class _WeightRecorder(ClassifierMixin, BaseEstimator):
    """A final step that keeps the ``sample_weight`` its ``fit`` was given."""

    def fit(self, X, y, sample_weight=None):
        self.sample_weight_ = sample_weight
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def _weighted_setting():
    X, y = make_classification(90, 6, n_informative=4, n_classes=3, random_state=0)
    return X, y, LogisticRegression(max_iter=500).fit(X, y)


def test_chained_weighting_pruners_multiply_their_weights():
    X, y, teacher = _weighted_setting()
    first, second = CraigPruner(model=teacher, fraction=0.6), GradMatchPruner(model=teacher,
                                                                              fraction=0.5)  # fmt: skip
    pipe = make_pipeline(first, second, _WeightRecorder()).fit(X, y)
    # a kept row's weight: the first pruner's weight of it times the second's
    expected = first.sample_weight_[second.sample_indices_] * second.sample_weight_
    np.testing.assert_allclose(pipe[-1].sample_weight_, expected)
    assert not np.allclose(expected, second.sample_weight_)


def test_a_given_sample_weight_multiplies_the_pruners_weights():
    X, y, teacher = _weighted_setting()
    given = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    pruner = CraigPruner(model=teacher, fraction=0.3)
    pipe = make_pipeline(pruner, _WeightRecorder())
    pipe.fit(X, y, _weightrecorder__sample_weight=given)
    np.testing.assert_allclose(pipe[-1].sample_weight_,
                               pruner.sample_weight_ * given[pruner.sample_indices_])  # fmt: skip
