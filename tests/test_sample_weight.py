"""``sample_weight``: both loss terms weighted per row, normalised by the sum of weights."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from prunekd import DistillationClassifier, RandomPruner, make_pipeline
from prunekd.distillation import DKDLoss, MSELoss
from prunekd.models import MLP

from test_student_objective import _log_softmax, frozen_student


def _data(n=60):
    X, y = make_classification(n, 6, n_informative=4, n_classes=3, random_state=0)
    return X.astype("float32"), y


def _teacher(X, y):
    return LogisticRegression(max_iter=500).fit(X, y)


def _weighted_closed_form(s, codes, t, alpha, tau, w):
    ce = -_log_softmax(s)[np.arange(len(codes)), codes]
    log_pt, log_ps = _log_softmax(np.asarray(t) / tau), _log_softmax(np.asarray(s) / tau)
    kl = (np.exp(log_pt) * (log_pt - log_ps)).sum(1)
    return np.sum(w * ((1 - alpha) * ce + alpha * tau**2 * kl)) / np.sum(w)


@pytest.mark.parametrize("alpha, tau", [(0.0, 1.0), (0.3, 4.0), (1.0, 2.0)])
def test_train_loss_is_the_weighted_objective(alpha, tau):
    X, y = _data()
    teacher = _teacher(X, y)
    w = np.random.RandomState(1).uniform(0, 3, len(y))
    student = frozen_student(teacher=teacher, alpha=alpha, temperature=tau)
    student.fit(X, y, sample_weight=w)
    s = student.forward(X).numpy()
    t = np.log(teacher.predict_proba(X))
    expected = _weighted_closed_form(s, y, t, alpha, tau, w)
    assert student.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-5)
    unweighted = _weighted_closed_form(s, y, t, alpha, tau, np.ones(len(y)))
    assert abs(expected - unweighted) > 1e-3  # the weights make a difference


def _one_sgd_step(X, y, teacher, w=None, kd_loss="kd"):
    student = DistillationClassifier(
        MLP, module__hidden=(8,), teacher=teacher, alpha=0.6, kd_loss=kd_loss,
        optimizer=torch.optim.SGD, lr=0.5, max_epochs=1, batch_size=10_000,
        iterator_train__shuffle=False, verbose=0, random_state=0,
    )  # fmt: skip
    student.fit(X, y, sample_weight=w)
    return student


@pytest.mark.parametrize("kd_loss", ["kd", "dkd", "mse"])
def test_weight_two_is_the_row_duplicated(kd_loss):
    X, y = _data(40)
    teacher = _teacher(X, y)
    w = np.ones(len(y))
    w[[3, 17]] = 2.0
    w[5] = 0.0
    weighted = _one_sgd_step(X, y, teacher, w, kd_loss)
    rows = np.r_[np.delete(np.arange(40), 5), 3, 17]
    duplicated = _one_sgd_step(X[rows], y[rows], teacher, kd_loss=kd_loss)
    # same loss, and (one full-batch SGD step from the same start) the same gradient
    assert weighted.history[-1, "train_loss"] == pytest.approx(
        duplicated.history[-1, "train_loss"], rel=1e-5
    )
    for a, b in zip(weighted.module_.parameters(), duplicated.module_.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_unit_weights_change_nothing():
    X, y = _data()
    teacher = _teacher(X, y)
    a = _one_sgd_step(X, y, teacher, np.full(len(y), 3.0))
    b = _one_sgd_step(X, y, teacher)
    for p, q in zip(a.module_.parameters(), b.module_.parameters()):
        torch.testing.assert_close(p, q)


def test_pipeline_prunes_the_weights_with_the_rows():
    X, y = _data(90)
    teacher = _teacher(X, y)
    w = np.random.RandomState(2).uniform(0.1, 2, len(y))
    pruner = RandomPruner(fraction=0.5, random_state=0)
    pipe = make_pipeline(pruner, frozen_student(teacher=teacher, alpha=0.5))
    pipe.fit(X, y, distillationclassifier__sample_weight=w)
    kept = pruner.sample_indices_
    direct = frozen_student(teacher=teacher, alpha=0.5).fit(X[kept], y[kept], sample_weight=w[kept])
    assert pipe[-1].history[-1, "train_loss"] == pytest.approx(direct.history[-1, "train_loss"])


def test_grid_search_splits_the_weights_by_fold():
    X, y = _data(90)
    pipe = make_pipeline(RandomPruner(random_state=0), frozen_student(alpha=0.0, lr=0.01))
    search = GridSearchCV(pipe, {"randompruner__fraction": [0.5, 1.0]}, cv=3)
    search.fit(X, y, distillationclassifier__sample_weight=np.ones(len(y)))
    assert set(search.cv_results_["param_randompruner__fraction"]) == {0.5, 1.0}


def test_a_validation_split_and_partial_fit_take_weights():
    from skorch.dataset import ValidSplit

    X, y = _data(100)
    teacher = _teacher(X, y)
    student = frozen_student(teacher=teacher, alpha=0.5, train_split=ValidSplit(5),
                             cache_teacher=True)  # fmt: skip
    student.fit(X, y, sample_weight=np.linspace(0.5, 2, 100))
    assert np.isfinite(student.history[-1, "valid_loss"])
    student = frozen_student(teacher=teacher, alpha=0.5)
    student.partial_fit(X, y, sample_weight=np.ones(100)).partial_fit(X, y, sample_weight=np.ones(100))
    assert len(student.history) == 2


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.ones(5), "sample_weight has 5 values but X has 60 rows"),
        (-np.ones(60), "non-negative"),
        (np.zeros(60), "zero for every row"),
        (np.r_[np.nan, np.ones(59)], "finite"),
        (np.ones((60, 6)), "pass teacher_X by name"),
    ],
)
def test_bad_weights_are_refused_before_training(weights, match):
    X, y = _data()
    student = frozen_student(alpha=0.0)
    with pytest.raises(ValueError, match=match):
        student.fit(X, y, sample_weight=weights)
    assert not student.initialized_


def test_a_loss_that_is_not_per_sample_is_refused_naming_it():
    X, y = _data()
    with pytest.raises(ValueError, match="kd_loss=DISTLoss.*'kd', 'dkd' or 'mse'"):
        frozen_student(teacher=_teacher(X, y), kd_loss="dist").fit(X, y, sample_weight=np.ones(60))


def test_per_sample_losses_average_to_the_losses():
    s, t = torch.randn(7, 4), torch.log_softmax(torch.randn(7, 4), 1)
    y = torch.randint(0, 4, (7,))
    for loss in (DKDLoss(beta=3.0), MSELoss()):
        torch.testing.assert_close(loss.per_sample(s, t, y, 2.0).mean(), loss(s, t, y, 2.0))
