"""scikit-learn's own estimator checks, run on every pruner and on the student.

A pruner's ``transform`` returns the indices of the rows it keeps, and only
for the ``X`` it was fitted on (see the pruner contract). The checks below
assume a transformer maps any ``X`` to a 2-D array with one row per input row,
so they cannot pass by design; every other check runs.

The pruners are every method of the registry (``prunekd --pruners``) that
needs no fitted model, built as the sweep builds them, plus a few other
settings of theirs. The methods that read the sweep's teacher are not: the
DynamicsPruner methods read the record of one training on one dataset (a
teacher's TrainingDynamics), which the checks' generated data cannot match
(tests/test_dynamics_pruner.py covers their contract);
ContextualDiversityPruner, CalPruner, CraigPruner, GradMatchPruner and
GlisterPruner need a fitted classifier (model=) of the width of the data, and
the checks generate data of many widths (tests/test_contextual_pruners.py,
tests/test_gradient_coresets.py, tests/test_glister.py and
tests/test_cache_fitted.py cover their contract).

The student is a skorch net: the two checks it is expected to fail are failed
by skorch's own ``NeuralNetClassifier`` in the same way (see the reasons). The
Accelerate student runs the same checks on one process, where accelerate is
installed.
One more is skipped by scikit-learn itself when its optional dependency is
missing: check_array_api_input (SCIPY_ARRAY_API unset). pandas, which
check_classifier_data_not_an_array needs, is in the "test" extra.
"""

import torch
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

try:  # an optional dependency (the "distributed" and "test" extras)
    from accelerate import Accelerator
except ImportError:
    Accelerator = None

from prunekd import AcceleratedDistillationClassifier, DistillationClassifier, DistillationSearchCV
from prunekd.experiments import SweepConfig, methods
from prunekd.models import MLP

_INDEX_OUTPUT = (
    "transform returns the indices of the kept rows (fewer than the input rows, "
    "integer dtype), not a transformed X"
)
_FITTED_X_ONLY = (
    "transform accepts only the X given to fit and raises ValueError ('only accepts the X it "
    "was fitted on') for any other X: the check transforms a subset of X or a new X"
)
_PER_ROW_OUTPUT = (
    "transform returns one index per kept row, not one output per input row, so the check's "
    "indexing of that output by a permutation of the input rows raises IndexError"
)
EXPECTED_FAILED_CHECKS = {
    "check_transformer_general": _INDEX_OUTPUT,
    "check_transformer_data_not_an_array": _INDEX_OUTPUT,
    "check_transformer_preserve_dtypes": _INDEX_OUTPUT,
    "check_methods_sample_order_invariance": _PER_ROW_OUTPUT,
    "check_methods_subset_invariance": _FITTED_X_ONLY,
    "check_fit_idempotent": _FITTED_X_ONLY,
}

STUDENT_EXPECTED_FAILED_CHECKS = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_ and "
        "stores prefixed parameters such as module__hidden as attributes: skorch's design, "
        "shared by every skorch net"
    ),
    "check_set_params": (
        "skorch's set_params validates callbacks, virtual parameters (module__...) and "
        "prefixes at once, so nonsense values such as -inf raise there instead of in fit; "
        "skorch's own NeuralNetClassifier fails this check the same way"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch training: weight 2 and a duplicated row give the same loss and gradient "
        "in one full batch (tests/test_sample_weight.py), but duplicated rows change the "
        "number of rows, hence the batches drawn, so the fitted students differ"
    ),
}

# What skorch's AccelerateMixin brings fails these, not what prunekd adds to it.
_SINK = (
    "skorch's AccelerateMixin adds the parameter callbacks__print_log__sink='auto', which "
    "get_params(deep=True) reports as the PrintLog callback's own sink (print)"
)
ACCELERATED_EXPECTED_FAILED_CHECKS = {
    **STUDENT_EXPECTED_FAILED_CHECKS,
    "check_parameters_default_constructible": _SINK,
    "check_get_params_invariance": _SINK,
    "check_estimators_overwrite_params": (
        "the accelerator parameter is a stateful accelerate.Accelerator that keeps every "
        "module, optimizer and loader it prepares in fit (skorch's AccelerateMixin design), "
        "so fit changes its state and joblib cannot hash it afterwards"
    ),
}

# One short proxy each; the settings below make a check's fits quick, or try another variant.
PROXIES = SweepConfig(n_proxies=1, proxy_epochs=1)
SETTINGS = {"deepfool": [{"deepfool_steps": 3}], "ccs": [{"n_strata": 5}],
            "graph_cut": [{"lam": 0.5}], "prototype": [{}, {"n_prototypes": 2}]}  # fmt: skip


def _registry_pruners():
    """Every method that needs no fitted model, in each of its settings above."""
    return [
        method.build(PROXIES, seed=0).set_params(**params)
        for method in methods("static")
        if not method.reads_teacher
        for params in SETTINGS.get(method.name, [{}])
    ]


# n_features and n_classes come from each check's data
STUDENT = dict(module__hidden=(16,), optimizer=torch.optim.Adam, lr=0.01, max_epochs=20,
               batch_size=32, verbose=0, random_state=0)  # fmt: skip
ACCELERATED = (
    [AcceleratedDistillationClassifier(MLP, accelerator=Accelerator(cpu=True), alpha=0.0, **STUDENT)]
    if Accelerator is not None
    else []
)


@parametrize_with_checks(
    [
        *_registry_pruners(),
        DistillationClassifier(MLP, alpha=0.0, **STUDENT),
        # on one process, as the checks run it
        *ACCELERATED,
        # the search's own contract, around an estimator whose repr is stable (a student's
        # repr lists a set, whose order differs between xdist workers: the test ids would too);
        # the student is checked above, the search around students in test_search.py
        DistillationSearchCV(LogisticRegression(), {"C": [1.0]}, cv=2),
    ],
    expected_failed_checks=lambda est: (
        ACCELERATED_EXPECTED_FAILED_CHECKS
        if isinstance(est, AcceleratedDistillationClassifier)
        else STUDENT_EXPECTED_FAILED_CHECKS
        if isinstance(est, DistillationClassifier)
        else {}
        if isinstance(est, DistillationSearchCV)
        else EXPECTED_FAILED_CHECKS
    ),
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
