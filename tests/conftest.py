import os

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

from prunekd.datasets import load_digits
from _helpers import make_student
from prunekd.pruning import ProxyPruner

# Under pytest-xdist each worker gets one core; more threads only oversubscribe.
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else 2)


@pytest.fixture(scope="session")
def digits_split():
    X, y = load_digits()
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="session")
def digits_teacher(digits_split):
    """A small CNN fitted on the full digits training split (about 98% test accuracy)."""
    X_train, X_test, y_train, y_test = digits_split
    teacher = make_student(alpha=0, max_epochs=30, random_state=0).fit(X_train, y_train)
    assert teacher.score(X_test, y_test) > 0.96
    return teacher


@pytest.fixture
def blobs():
    """Three well-separated 2-D classes, 20 samples each, in class order."""
    rng = np.random.RandomState(0)
    centers = np.array([[0.0, 0.0], [6.0, 6.0], [0.0, 6.0]])
    X = np.concatenate([c + rng.randn(20, 2) * 0.5 for c in centers]).astype(np.float32)
    y = np.repeat([0, 1, 2], 20)
    return X, y


_FITS = []
_TRAIN_PROXY = ProxyPruner._train_proxy


def _counting_train_proxy(self, X, *args, **kwargs):
    # Globals, not a closure: score cache keys hold the code of the pruner's
    # methods and the values they close over.
    _FITS.append(len(X))
    return _TRAIN_PROXY(self, X, *args, **kwargs)


@pytest.fixture
def proxy_fits(monkeypatch):
    """The number of rows of every proxy trained in this process, in order."""
    _FITS.clear()
    monkeypatch.setattr(ProxyPruner, "_train_proxy", _counting_train_proxy)
    return _FITS
