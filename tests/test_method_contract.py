"""The contract every selection method of ``prunekd --pruners`` keeps, as a library object.

Each name is built by the sweep's own constructor (a public class, or a named
``score=`` of one) on a small teacher, then held to what every pruner
promises: exact class-balanced budgets, sorted distinct indices, the same
selection from the same ``random_state``, and clone and pickle round trips.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from prunekd import BasePruner
from prunekd.datasets import load_digits
from prunekd.experiments import PRUNERS, SweepConfig, _sweep
from prunekd.pruning._selection import class_quotas

CONFIG = SweepConfig(model="mlp", width=8, teacher_epochs=3, n_proxies=1, proxy_epochs=1,
                     teacher_widths={"equal": 8})  # fmt: skip
FRACTION = 0.15


@pytest.fixture(scope="module")
def setting():
    X, y = load_digits()
    X, y = X[:400], y[:400]
    data = dict(X_train=X, y_train=y, X_test=X[:50], y_test=y[:50], n_classes=10, seed=0)
    teacher = _sweep._fit_teacher(CONFIG, data, "equal", 8, keep=True)[-1]
    return X, y, teacher


def _fit(name, setting, seed=0):
    X, y, teacher = setting
    pruner = _sweep.make_pruner(CONFIG, name, seed, teacher=teacher)
    # class_balanced=True for all (CCS's own default is False, as in its reference)
    return pruner.set_params(fraction=FRACTION, class_balanced=True).fit(X, y)


def test_the_command_offers_at_least_26_selection_methods():
    assert len(set(PRUNERS) - {"random"}) >= 26


@pytest.mark.parametrize("name", [p for p in PRUNERS if p != "random"])
def test_every_method_keeps_the_pruner_contract(name, setting):
    X, y, _ = setting
    pruner = _fit(name, setting)
    assert isinstance(pruner, BasePruner)
    kept = pruner.sample_indices_
    # exact class-balanced budgets, sorted distinct indices
    expected = class_quotas(np.bincount(y), round(FRACTION * len(y)))
    np.testing.assert_array_equal(np.bincount(y[kept], minlength=10), expected)
    assert np.all(np.diff(kept) > 0)
    np.testing.assert_array_equal(pruner.transform(X), kept)
    # the same random_state, the same selection
    np.testing.assert_array_equal(_fit(name, setting).sample_indices_, kept)
    # clone: the parameters, unfitted; pickle: the fitted selection
    fresh = clone(pruner)
    assert not hasattr(fresh, "sample_indices_")
    assert set(fresh.get_params(deep=False)) == set(pruner.get_params(deep=False))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pruner)).sample_indices_, kept)
    if hasattr(pruner, "sample_weight_"):  # weighted coresets: a positive weight per kept row
        assert pruner.sample_weight_.shape == kept.shape and np.all(pruner.sample_weight_ > 0)
