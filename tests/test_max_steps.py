"""``max_steps``: exactly that many optimiser steps per fit, whatever the data size."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from skorch.callbacks import Callback

from prunekd import DistillationClassifier, RandomPruner, make_pipeline
from prunekd.models import MLP


class CountSteps(Callback):
    """Counts the optimiser steps (training batches) and the epochs of every fit."""

    def initialize(self):
        self.steps, self.epochs = 0, 0
        return self

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        self.steps += bool(training)

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


def _data(n=200):
    X, y = make_classification(n, 8, n_informative=5, n_classes=3, random_state=0)
    return X.astype("float32"), y


def _student(**kwargs):
    params = dict(module__hidden=(16,), alpha=0.0, batch_size=16, lr=0.01, verbose=0,
                  random_state=0, callbacks=[("count", CountSteps())])  # fmt: skip
    params.update(kwargs)
    return DistillationClassifier(MLP, **params)


def _counter(student):
    return dict(student.callbacks_)["count"]


@pytest.mark.parametrize("n, max_steps", [(200, 30), (200, 13), (40, 30), (16, 1), (200, 1)])
def test_exactly_max_steps_whatever_the_rows(n, max_steps):
    X, y = _data(n)
    student = _student(max_steps=max_steps, max_epochs=1000).fit(X, y)
    per_epoch = -(-n // 16)
    assert _counter(student).steps == max_steps
    assert _counter(student).epochs == -(-max_steps // per_epoch)
    counts = student.history[:, "train_batch_count"]
    assert sum(counts) == max_steps and all(c == per_epoch for c in counts[:-1])


def test_partial_fit_takes_max_steps_per_call():
    X, y = _data(100)
    student = _student(max_steps=10)
    student.partial_fit(X, y)
    student.partial_fit(X, y)
    assert _counter(student).steps == 20 and sum(student.history[:, "train_batch_count"]) == 20


def test_whole_epochs_of_steps_equal_max_epochs():
    # 96 rows at 16 per batch = 6 steps an epoch: 18 steps are 3 epochs, bit for bit.
    X, y = _data(96)
    by_steps = _student(max_steps=18, max_epochs=50).fit(X, y)
    by_epochs = _student(max_epochs=3).fit(X, y)
    for a, b in zip(by_steps.module_.parameters(), by_epochs.module_.parameters()):
        assert torch.equal(a, b)


def test_same_steps_for_every_fraction_in_a_pipeline():
    X, y = _data(200)
    for fraction in (0.1, 0.5, 1.0):
        pipe = make_pipeline(RandomPruner(fraction=fraction, random_state=0),
                             _student(max_steps=25)).fit(X, y)  # fmt: skip
        assert _counter(pipe[-1]).steps == 25


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_bad_max_steps_is_refused_naming_it(bad):
    X, y = _data(50)
    student = _student(max_steps=bad)
    with pytest.raises(ValueError, match="max_steps must be None or a positive int"):
        student.fit(X, y)
    assert not student.initialized_


def test_max_steps_with_a_validation_split_and_a_teacher():
    from skorch.dataset import ValidSplit

    X, y = _data(200)
    teacher = _student(max_epochs=5, callbacks=None).fit(X, y)
    student = _student(teacher=teacher, alpha=0.5, max_steps=7, train_split=ValidSplit(5))
    student.fit(X, y)
    # 160 training rows: 10 batches an epoch, so one epoch cut at 7 steps, then validated.
    assert _counter(student).steps == 7
    assert student.history[:, "train_batch_count"] == [7]
    assert np.isfinite(student.history[-1, "valid_loss"])
