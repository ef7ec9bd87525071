"""Reading a joint search that scored several metrics."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from prunekd import RandomPruner, best_alpha_per_fraction, make_pipeline, smallest_fraction_within

RESULTS = {
    "params": [{}] * 4,
    "param_p__fraction": [0.1, 0.1, 0.5, 0.5],
    "param_s__alpha": [0.0, 0.9, 0.0, 0.9],
    "mean_test_acc": [0.80, 0.90, 0.95, 0.94],
    "std_test_acc": [0.01, 0.02, 0.03, 0.04],
    "mean_test_f1": [0.85, 0.70, 0.90, 0.96],
    "std_test_f1": [0.05, 0.06, 0.07, 0.08],
}


def test_best_alpha_per_fraction_reads_the_named_metric():
    acc = best_alpha_per_fraction(RESULTS, scoring="acc")
    f1 = best_alpha_per_fraction(RESULTS, scoring="f1")
    assert acc.best_alpha.tolist() == [0.9, 0.0] and acc.std_test_score.tolist() == [0.02, 0.03]
    assert f1.best_alpha.tolist() == [0.0, 0.9] and f1.mean_test_score.tolist() == [0.85, 0.96]


def test_several_metrics_and_none_named_is_a_clear_error():
    with pytest.raises(ValueError, match=r"several metrics \['acc', 'f1'\].*scoring="):
        best_alpha_per_fraction(RESULTS)
    with pytest.raises(ValueError, match=r"several metrics"):
        smallest_fraction_within(0.05)(RESULTS)
    with pytest.raises(ValueError, match=r"scoring='auc' is not a metric"):
        best_alpha_per_fraction(RESULTS, scoring="auc")


def test_smallest_fraction_within_compares_the_named_metric():
    assert smallest_fraction_within(0.06, scoring="acc")(RESULTS) == 1  # 0.90 >= 0.95 - 0.06
    assert smallest_fraction_within(0.06, scoring="f1")(RESULTS) == 3  # 0.85 < 0.96 - 0.06


def test_a_multi_metric_search_with_a_refit_metric(blobs):
    X, y = blobs
    pipe = make_pipeline(RandomPruner(random_state=0), LogisticRegression())
    grid = {"randompruner__fraction": [0.2, 0.6], "logisticregression__C": [0.01, 1.0]}
    search = GridSearchCV(pipe, grid, cv=3, scoring={"acc": "accuracy", "f1": "f1_macro"},
                          refit="acc").fit(X, y)  # fmt: skip
    table = best_alpha_per_fraction(search, alpha="logisticregression__C")  # the refit metric
    expected = [np.max(search.cv_results_["mean_test_acc"][[i for i, p in enumerate(
        search.cv_results_["params"]) if p["randompruner__fraction"] == f]]) for f in (0.2, 0.6)]  # fmt: skip
    np.testing.assert_allclose(table.mean_test_score, expected)
    refit = smallest_fraction_within(0.5, scoring="f1")
    chosen = GridSearchCV(pipe, grid, cv=3, scoring={"acc": "accuracy", "f1": "f1_macro"},
                          refit=refit).fit(X, y)  # fmt: skip
    assert chosen.best_params_["randompruner__fraction"] == 0.2


def test_smallest_fraction_within_gives_up_an_absolute_amount_of_score():
    # far from 1, an absolute tolerance and a relative one choose differently
    results = {"params": [{}] * 3, "param_p__fraction": [0.1, 0.3, 1.0],
               "mean_test_score": [0.40, 0.45, 0.46]}  # fmt: skip
    assert smallest_fraction_within(0.011)(results) == 1  # 0.45 >= 0.46 - 0.011
    assert smallest_fraction_within(0.009)(results) == 2
