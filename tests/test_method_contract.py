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

from prunekd import BasePruner, ScorePruner
from prunekd.datasets import load_digits
from prunekd.experiments import PRUNERS, Method, SweepConfig, _sweep, get_method
from prunekd.pruning._selection import class_quotas

CONFIG = SweepConfig(model="mlp", width=8, teacher_epochs=3, n_proxies=1, proxy_epochs=1,
                     teacher_widths={"equal": 8})  # fmt: skip
FRACTION = 0.15


@pytest.fixture(scope="module")
def setting():
    X, y = load_digits()
    X, y = X[:400], y[:400]
    data = {
        "X_train": X,
        "y_train": y,
        "X_val": X[:50],
        "y_val": y[:50],
        "X_test": X[:50],
        "y_test": y[:50],
        "n_classes": 10,
        "seed": 0,
    }
    teacher = _sweep._fit_teacher(CONFIG, data, "equal", 8, keep=True)[-1]
    return X, y, teacher


def _fit(name, setting, seed=0):
    X, y, teacher = setting
    pruner = _sweep.make_pruner(CONFIG, name, seed, teacher=teacher)
    # class_balanced=True for all (CCS's own default is False, as in its reference)
    return pruner.set_params(fraction=FRACTION, class_balanced=True).fit(X, y)


def test_the_command_offers_at_least_26_selection_methods():
    assert len(set(PRUNERS) - {"random"}) >= 26


def _keeps_the_contract(name, setting):
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
    if get_method(name).weighted:  # weighted coresets: a positive weight per kept row
        assert pruner.sample_weight_.shape == kept.shape and np.all(pruner.sample_weight_ > 0)


@pytest.mark.parametrize("name", [p for p in PRUNERS if p != "random"])
def test_every_method_keeps_the_pruner_contract(name, setting):
    _keeps_the_contract(name, setting)


class FirstPixelPruner(ScorePruner):
    """A toy method: difficulty is the first pixel that varies (digits' first column is blank)."""

    def compute_scores(self, X, y, random_state):
        flat = np.asarray(X).reshape(len(X), -1)
        return flat[:, np.argmax(flat.std(0) > 0)] + np.arange(len(X)) * 1e-9


def test_one_registry_entry_adds_a_method_everywhere(setting, monkeypatch, tmp_path):
    from prunekd import cli
    from prunekd.experiments import _methods, load_results, plan_runs, write_summary

    toy = Method("first_pixel", "First pixel (toy)", FirstPixelPruner, "inputs")
    monkeypatch.setitem(_methods._REGISTRY, toy.name, toy)
    # the command's names, and its help
    parser = cli.build_parser()
    assert parser.parse_args(["--pruners", "random,first_pixel"]).pruners == (
        "random",
        "first_pixel",
    )
    assert "first_pixel" in parser.format_help()
    # the contract tests
    _keeps_the_contract("first_pixel", setting)
    # the sweep: planned, trained, costed and labelled in the summary
    config = SweepConfig(pruners=("random", "first_pixel"), fractions=(0.3, 1.0), alphas=(1.0,),
                         seeds=(0,), model="mlp", width=4, epochs=1, teacher_epochs=1,
                         teacher_widths={"equal": 4}, budget_scales=())  # fmt: skip
    assert any(r["pruner"] == "first_pixel" for r in plan_runs(config))
    _sweep.run_sweep(config, str(tmp_path), progress=False)
    rows = [r for r in load_results(str(tmp_path)) if r["pruner"] == "first_pixel"]
    assert len(rows) == 2 and all(r["pruner_samples"] == 0.0 for r in rows)
    assert "First pixel (toy)" in write_summary(str(tmp_path))


def test_the_frozen_family_is_the_protocols_list():
    from prunekd.experiments import protocol
    from prunekd.experiments._methods import in_frozen_family

    family = protocol()["findings"]["2*"]["family"]
    assert [name for name in PRUNERS if in_frozen_family(name)] == [
        name for name in PRUNERS if name in family
    ]
    assert in_frozen_family("el2n") and not in_frozen_family("deepfool")  # added after the freeze


def test_forgetting_proxies_train_the_epochs_its_cost_counts():
    config = SweepConfig(n_proxies=1, proxy_epochs=4)
    method = get_method("forgetting")
    assert method.build(config, seed=0).max_epochs == 8
    assert method.samples(config, 10, 1.0, 1.0) == 1 * 8 * 10


@pytest.mark.parametrize("name", ["ccs", "d2"])
def test_methods_over_el2n_give_their_proxies_the_sweeps_settings(name):
    config = SweepConfig(n_proxies=3, proxy_epochs=4, mixed_precision=True)
    inner = get_method(name).build(config, seed=0).pruner
    assert (inner.n_proxies, inner.max_epochs, inner.mixed_precision) == (3, 4, True)


def test_a_method_registered_after_the_v3_draft_does_not_enter_claim_2s_family(monkeypatch):
    from prunekd.experiments import _methods, register
    from prunekd.experiments._protocol import claim_2_family_v3

    family = claim_2_family_v3()
    assert set(family) == set(PRUNERS) - {"random"}  # every static method of the draft
    monkeypatch.setattr(_methods, "_REGISTRY", dict(_methods._REGISTRY))
    register(Method("later_kcenter", "k-center, later", get_method("kcenter").cls, "inputs"))
    assert "later_kcenter" in _methods.method_names()
    assert "later_kcenter" not in claim_2_family_v3() and claim_2_family_v3() == family
