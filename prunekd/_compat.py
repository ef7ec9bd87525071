"""Every private scikit-learn and skorch name prunekd relies on, in one place.

None of these is promised to stay; each comment says what it gives prunekd.
CI runs the tests on the oldest (scikit-learn 1.6.1, skorch 1.4.0) and the
newest versions pyproject.toml allows, so a change in any of them shows there.

Besides the names below, :class:`prunekd.Pipeline` subclasses scikit-learn's
Pipeline and calls the private methods it inherits: ``_iter`` (the steps, with
pruners skipped outside fit), ``_validate_steps``, ``_check_method_params``
(routing of ``step__param`` fit parameters), ``_log_message`` and
``_final_estimator``. Overriding ``fit`` without them would mean copying the
Pipeline.
"""

# Parameter validation, as scikit-learn's own estimators and scikit-learn-contrib
# packages do it: the constraint classes of ``_parameter_constraints``, checked
# once per ``fit`` by the ``_fit_context`` decorator.
from sklearn.base import _fit_context

# The step names of ``make_pipeline`` and the timing lines of
# ``Pipeline(verbose=True)``, so that prunekd's Pipeline reads like scikit-learn's.
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


def set_training(net, training):
    """Train or eval mode of every module a skorch net holds (module, criterion).

    skorch's ``NeuralNet._set_training`` is what its own ``train_step`` and
    ``evaluation_step`` call; prunekd's training and probing steps do the same.
    """
    net._set_training(training)


__all__ = [
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
