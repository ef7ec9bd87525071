"""scikit-learn's own estimator checks, run on every pruner.

A pruner's ``transform`` returns the indices of the rows it keeps, and only
for the ``X`` it was fitted on (see the pruner contract). The checks below
assume a transformer maps any ``X`` to a 2-D array with one row per input row,
so they cannot pass by design; every other check runs.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from prunekd import EL2NPruner, ForgettingPruner, GraNdPruner, RandomPruner

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

FAST = dict(n_proxies=1, random_state=0)


@parametrize_with_checks(
    [
        RandomPruner(random_state=0),
        EL2NPruner(max_epochs=1, **FAST),
        GraNdPruner(max_epochs=1, **FAST),
        ForgettingPruner(max_epochs=2, **FAST),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
