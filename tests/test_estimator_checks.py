"""scikit-learn's own estimator checks, run on every pruner and on the student.

A pruner's ``transform`` returns the indices of the rows it keeps, and only
for the ``X`` it was fitted on (see the pruner contract). The checks below
assume a transformer maps any ``X`` to a 2-D array with one row per input row,
so they cannot pass by design; every other check runs.

DynamicsPruner is not in the list: it reads the record of one training on one
dataset (a teacher's TrainingDynamics), which the checks' generated data
cannot match; tests/test_dynamics_pruner.py covers its contract.

The student is a skorch net: the two checks it is expected to fail are failed
by skorch's own ``NeuralNetClassifier`` in the same way (see the reasons).
Two more are skipped by scikit-learn itself when their optional dependencies
are missing here: check_array_api_input (SCIPY_ARRAY_API unset) and
check_classifier_data_not_an_array (pandas not installed).
"""

import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from prunekd import (
    CoverageCentricPruner,
    DistillationClassifier,
    EL2NPruner,
    EntropyPruner,
    ForgettingPruner,
    FacilityLocationPruner,
    GraNdPruner,
    GraphCutPruner,
    HerdingPruner,
    KCenterGreedyPruner,
    LogDeterminantPruner,
    ModerateDSPruner,
    RandomPruner,
)
from prunekd.models import MLP

_INDEX_OUTPUT = (
    "transform returns the indices of the kept rows (fewer than the input rows, "
    "integer dtype), not a transformed X"
)
_FITTED_X_ONLY = (
    "transform accepts only the X given to fit and raises for any other X, "
    "including subsets and permutations of it"
)
EXPECTED_FAILED_CHECKS = {
    "check_transformer_general": _INDEX_OUTPUT,
    "check_transformer_data_not_an_array": _INDEX_OUTPUT,
    "check_transformer_preserve_dtypes": _INDEX_OUTPUT,
    "check_methods_sample_order_invariance": _FITTED_X_ONLY,
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
}

FAST = dict(n_proxies=1, random_state=0)


@parametrize_with_checks(
    [
        RandomPruner(random_state=0),
        EL2NPruner(max_epochs=1, **FAST),
        GraNdPruner(max_epochs=1, **FAST),
        ForgettingPruner(max_epochs=2, **FAST),
        EntropyPruner(max_epochs=1, **FAST),
        KCenterGreedyPruner(random_state=0),
        HerdingPruner(),
        FacilityLocationPruner(),
        GraphCutPruner(lam=0.5),
        LogDeterminantPruner(),
        ModerateDSPruner(),
        CoverageCentricPruner(EL2NPruner(max_epochs=1, n_proxies=1), n_strata=5, random_state=0),
        # n_features and n_classes come from each check's data
        DistillationClassifier(MLP, alpha=0.0, module__hidden=(16,), optimizer=torch.optim.Adam,
                               lr=0.01, max_epochs=20, batch_size=32, verbose=0, random_state=0),
    ],
    expected_failed_checks=lambda est: (
        STUDENT_EXPECTED_FAILED_CHECKS
        if isinstance(est, DistillationClassifier)
        else EXPECTED_FAILED_CHECKS
    ),
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
