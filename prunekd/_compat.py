"""Every private scikit-learn and skorch name prunekd relies on, in one place.

None of these is promised to stay; each comment says what it gives prunekd.
CI runs the tests on the oldest (scikit-learn 1.6.1, skorch 1.4.0) and the
newest versions pyproject.toml allows (scikit-learn 1.9.1 and skorch 1.4.0
today), so a change in any of them shows there. Outside this module, the
package imports and calls no private library name (``tests/test_contracts.py``
checks imports, calls and attribute reads in every module).

Private methods prunekd *overrides* (listed in :data:`OVERRIDES`):

* ``Pipeline._iter`` (scikit-learn): :class:`prunekd.Pipeline` skips pruners
  outside ``fit``, so that predict and score see every row;
* ``NeuralNet._initialize_callbacks`` (skorch, through ``AccelerateMixin``):
  :class:`prunekd.AcceleratedDistillationClassifier` keeps ``verbose=0``
  silent;
* ``AccelerateMixin._initialize_accelerator`` (skorch): the same class keeps
  the parameter-free loss out of DistributedDataParallel;
* ``BaseSearchCV._run_search`` (scikit-learn): the extension point its
  docstring offers subclasses; :class:`prunekd.DistillationSearchCV` runs its
  grid through it, as ``GridSearchCV`` does.

Both skorch overrides are tested with skorch 1.4.0 (the oldest allowed) and
the newest release CI installs. ``_parameter_constraints`` is scikit-learn's
convention for declaring parameters to ``_fit_context``, which third-party
estimators follow; prunekd's estimators declare theirs with it.
"""

# Parameter validation, as scikit-learn's own estimators and scikit-learn-contrib
# packages do it: the constraint classes of ``_parameter_constraints``, checked
# once per ``fit`` by the ``_fit_context`` decorator.
from sklearn.base import _fit_context

# The search machinery GridSearchCV is built on (cv_results_, refit, multi-metric
# scoring, error_score), for prunekd.DistillationSearchCV.
from sklearn.model_selection._search import BaseSearchCV

# The step names of ``make_pipeline`` and the timing lines of
# ``Pipeline(verbose=True)``, so that prunekd's Pipeline reads like scikit-learn's.
from sklearn.pipeline import Pipeline as _Pipeline
from sklearn.pipeline import _name_estimators, _print_elapsed_time

# Rows of arrays, lists, DataFrames and sparse matrices alike, and their
# number, exactly as scikit-learn's Pipeline and cross-validation count them.
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _num_samples

# Private methods overridden by prunekd's classes, by class.
OVERRIDES = {
    "Pipeline": ("_iter",),
    "AcceleratedDistillationClassifier": ("_initialize_callbacks", "_initialize_accelerator"),
    "DistillationSearchCV": ("_run_search",),
}
# Private names that are conventions for third-party estimators, not calls.
CONVENTIONS = ("_parameter_constraints",)


def validate_params(estimator):
    """Check an estimator's parameters against its ``_parameter_constraints``.

    What ``_fit_context`` does before ``fit``; a pruner fitted by a prunekd
    Pipeline (not through its own ``fit``) is checked the same way.
    """
    estimator._validate_params()


def steps_of(pipeline, with_final=True, filter_passthrough=True):
    """scikit-learn's ``Pipeline._iter``: ``(index, name, step)`` of the steps, in order."""
    return _Pipeline._iter(pipeline, with_final, filter_passthrough)


def final_estimator(pipeline):
    """The last step of a Pipeline (``"passthrough"`` or an estimator)."""
    return pipeline._final_estimator


def validate_steps(pipeline):
    """scikit-learn's check that every step but the last transforms."""
    pipeline._validate_steps()


def route_fit_params(pipeline, params):
    """``step__param`` fit parameters sorted by step, as scikit-learn's Pipeline routes them."""
    return pipeline._check_method_params(method="fit", props=params)


def log_message(pipeline, step_idx):
    """The line ``Pipeline(verbose=True)`` prints for a step."""
    return pipeline._log_message(step_idx)


def criteria(net):
    """The names of a skorch net's loss modules (``criterion`` and any others)."""
    return net._criteria


def set_training(net, training):
    """Train or eval mode of every module a skorch net holds (module, criterion).

    skorch's ``NeuralNet._set_training`` is what its own ``train_step`` and
    ``evaluation_step`` call; prunekd's training and probing steps do the same.
    """
    net._set_training(training)


__all__ = [
    "BaseSearchCV",
    "CONVENTIONS",
    "OVERRIDES",
    "criteria",
    "final_estimator",
    "log_message",
    "route_fit_params",
    "steps_of",
    "validate_params",
    "validate_steps",
    "HasMethods",
    "Interval",
    "StrOptions",
    "_fit_context",
    "_name_estimators",
    "_num_samples",
    "_print_elapsed_time",
    "_safe_indexing",
    "set_training",
    "validate_parameter_constraints",
]
