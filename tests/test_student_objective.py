"""The student's objective on the rows skorch trains on, against closed forms.

Each test fits a student with ``lr=0`` (its weights stay the initial ones) and
one batch per epoch, so the logged ``train_loss`` is the objective of the
initial student on exactly the rows it trained on, and is compared with the
objective written out in NumPy from the student's and the teacher's logits.
"""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from torch.utils.data import Subset

from prunekd import DistillationClassifier
from prunekd.models import MLP


def _log_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def closed_form_objective(student_logits, codes, teacher_logits, alpha, tau):
    """``(1 - alpha) * CE(s, y) + alpha * tau**2 * KL(softmax(t/tau) || softmax(s/tau))``."""
    ce = -_log_softmax(student_logits)[np.arange(len(codes)), codes].mean()
    log_pt = _log_softmax(np.asarray(teacher_logits) / tau)
    log_ps = _log_softmax(np.asarray(student_logits) / tau)
    kl = (np.exp(log_pt) * (log_pt - log_ps)).sum(1).mean()
    return (1 - alpha) * ce + alpha * tau**2 * kl


def frozen_student(**kwargs):
    """A student whose weights never move (lr=0), trained in one batch per epoch."""
    params = dict(module__hidden=(8,), lr=0.0, max_epochs=1, batch_size=1000,
                  iterator_train__shuffle=False, verbose=0, random_state=0)  # fmt: skip
    params.update(kwargs)
    return DistillationClassifier(MLP, **params)


def student_logits(student, X):
    with torch.no_grad():
        return student.module_(torch.as_tensor(X)).numpy()


def teacher_logits(teacher, X):
    return np.log(np.clip(teacher.predict_proba(X), 1e-12, None))


@pytest.mark.parametrize("alpha", [0.3, 1.0])
@pytest.mark.parametrize("tau", [1.0, 4.0])
def test_train_loss_is_the_weighted_objective(blobs, alpha, tau):
    # alpha=1 and alpha=0.3 both differ from 0.5: a student that weighs the
    # terms otherwise cannot match.
    X, y = blobs
    teacher = LogisticRegression(C=0.05).fit(X, y)  # soft, so that the KD term is not ~0
    student = frozen_student(teacher=teacher, alpha=alpha, temperature=tau).fit(X, y)
    expected = closed_form_objective(student_logits(student, X), y, teacher_logits(teacher, X),
                                     alpha, tau)  # fmt: skip
    assert student.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-5)
    assert student.alpha_ == alpha


def test_a_validation_split_trains_on_its_own_rows_with_their_own_teacher(blobs):
    X, y = blobs
    teacher = LogisticRegression(C=0.05).fit(X, y)
    # Rows in no particular order: slicing the targets by position instead of
    # by the split's indices gives other labels and other teacher rows.
    order = np.random.RandomState(3).permutation(len(X))
    train_rows, valid_rows = np.sort(order[:40])[::-1].copy(), order[40:]

    def split(dataset, y=None, **fit_params):
        return Subset(dataset, train_rows), Subset(dataset, valid_rows)

    student = frozen_student(teacher=teacher, alpha=0.6, temperature=2.0, train_split=split)
    student.fit(X, y)
    s, t = student_logits(student, X), teacher_logits(teacher, X)
    for rows, key in ((train_rows, "train_loss"), (valid_rows, "valid_loss")):
        expected = closed_form_objective(s[rows], y[rows], t[rows], 0.6, 2.0)
        assert student.history[-1, key] == pytest.approx(expected, rel=1e-5), key


def test_a_validation_split_keeps_a_student_that_learns_from_the_teacher(blobs):
    X, y = blobs
    teacher = LogisticRegression().fit(X, y)
    student = frozen_student(teacher=teacher, alpha=0.9, lr=0.05, max_epochs=60, batch_size=16,
                             iterator_train__shuffle=True, train_split=_every_third_valid)  # fmt: skip
    assert student.fit(X, y).score(X, y) == 1.0


def _every_third_valid(dataset, y=None, **fit_params):
    rows = np.arange(len(dataset))
    return Subset(dataset, rows[rows % 3 != 0]), Subset(dataset, rows[rows % 3 == 0])


def test_unsorted_classes_map_the_teacher_columns(blobs):
    X, codes = blobs
    y = np.array(["a", "b", "c"])[codes]
    teacher = LogisticRegression(C=0.05).fit(X, y)  # columns a, b, c
    classes = ["c", "a", "b"]
    student = frozen_student(teacher=teacher, alpha=1.0, temperature=2.0, classes=classes)
    student.fit(X, y)
    assert student.classes_.tolist() == classes
    student_codes = np.array([classes.index(label) for label in y])
    t = teacher_logits(teacher, X)[:, [2, 0, 1]]  # the teacher's columns in the order c, a, b
    expected = closed_form_objective(student_logits(student, X), student_codes, t, 1.0, 2.0)
    assert student.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-5)


def test_unsorted_classes_student_follows_the_teacher(blobs):
    X, codes = blobs
    y = np.array(["a", "b", "c"])[codes]
    teacher = LogisticRegression().fit(X, y)
    student = frozen_student(teacher=teacher, alpha=1.0, lr=0.05, max_epochs=60, batch_size=16,
                             iterator_train__shuffle=True, classes=["c", "a", "b"])  # fmt: skip
    student.fit(X, y)
    assert np.mean(student.predict(X) == teacher.predict(X)) == 1.0
