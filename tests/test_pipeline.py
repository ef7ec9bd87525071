import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from prunekd import (
    EL2NPruner,
    Pipeline,
    RandomPruner,
    best_alpha_per_fraction,
    make_pipeline,
    smallest_fraction_within,
)
from prunekd.distillation import auto_alpha

from _helpers import make_student


class Recorder(ClassifierMixin, BaseEstimator):
    """Records what reaches the final step; predicts the majority class."""

    def fit(self, X, y, sample_weight=None):
        self.X_fit_, self.y_fit_, self.sample_weight_ = X, y, sample_weight
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self.X_predict_ = X
        return np.full(len(X), self.classes_[0])


def test_pruner_subsets_X_y_and_sample_weight_during_fit_only(blobs):
    X, y = blobs
    weights = np.arange(60.0)
    pruner = RandomPruner(fraction=0.25, random_state=0)
    pipe = make_pipeline(pruner, Recorder()).fit(X, y, recorder__sample_weight=weights)
    idx = pruner.sample_indices_
    final = pipe[-1]
    np.testing.assert_array_equal(final.X_fit_, X[idx])
    np.testing.assert_array_equal(final.y_fit_, y[idx])
    np.testing.assert_array_equal(final.sample_weight_, weights[idx])
    assert pipe.n_samples_fit_ == 60 and pipe.n_samples_final_ == 15
    pipe.predict(X)
    np.testing.assert_array_equal(final.X_predict_, X)  # predict sees every row
    assert pipe.score(X, y) == pytest.approx(1 / 3)


def test_other_steps_before_and_after_the_pruner(blobs):
    X, y = blobs
    scaler_before, scaler_after = StandardScaler(), StandardScaler()
    pipe = Pipeline(
        [
            ("scale", scaler_before),
            ("prune", RandomPruner(fraction=0.5, random_state=0)),
            ("rescale", scaler_after),
            ("double", FunctionTransformer(lambda Z: 2 * Z)),
            ("clf", Recorder()),
        ]
    ).fit(X, y)
    idx = pipe.named_steps["prune"].sample_indices_
    np.testing.assert_allclose(scaler_before.mean_, X.mean(0), rtol=1e-5)
    Xs = (X - X.mean(0)) / X.std(0)
    np.testing.assert_allclose(scaler_after.mean_, Xs[idx].mean(0), atol=1e-5)
    np.testing.assert_allclose(pipe[-1].X_fit_, 2 * scaler_after.transform(Xs[idx]), atol=1e-5)
    pipe.predict(X)
    assert pipe[-1].X_predict_.shape == X.shape


def test_fit_transform_and_fit_predict_use_the_kept_rows(blobs):
    X, y = blobs
    pipe = make_pipeline(RandomPruner(fraction=0.5, random_state=0), StandardScaler())
    assert pipe.fit_transform(X, y).shape == (30, 2)
    assert pipe.transform(X).shape == (60, 2)


def test_cross_val_score_and_grid_search_with_two_jobs(blobs):
    X, y = blobs
    pipe = make_pipeline(RandomPruner(random_state=0), LogisticRegression())
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9
    grid = {"randompruner__fraction": [0.1, 0.5], "logisticregression__C": [0.1, 1.0]}
    serial = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    parallel = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    assert serial.best_params_ == parallel.best_params_


def test_alpha_auto_uses_the_kept_fraction(digits_split, digits_teacher):
    X_train, _, y_train, _ = digits_split
    pipe = make_pipeline(
        RandomPruner(fraction=0.3, random_state=0),
        make_student(alpha="auto", teacher=digits_teacher, max_epochs=1, random_state=0),
    ).fit(X_train, y_train)
    kept = pipe.n_samples_final_ / pipe.n_samples_fit_
    assert pipe[-1].alpha_ == pytest.approx(auto_alpha(kept))
    assert pipe[-1].alpha == "auto"


def test_auto_alpha_rule_is_non_increasing():
    fractions = np.linspace(0.01, 1.0, 200)
    alphas = [auto_alpha(f) for f in fractions]
    assert np.all(np.diff(alphas) <= 0) and 0 <= min(alphas) and max(alphas) <= 1
    with pytest.raises(ValueError, match="fraction"):
        auto_alpha(0)


def test_a_grid_search_with_memory_trains_proxies_once_per_fold(
    digits_split, digits_teacher, proxy_fits, tmp_path
):
    """EL2N + student over fraction x alpha: proxies train once per fold, not per candidate."""
    X_train, X_test, y_train, y_test = digits_split
    calls = proxy_fits
    pipe = make_pipeline(
        EL2NPruner(fraction=0.3, n_proxies=1, max_epochs=2, random_state=0),
        make_student(teacher=digits_teacher, alpha=0.5, max_epochs=2, random_state=0),
        memory=str(tmp_path),
    )
    search = GridSearchCV(
        pipe,
        {"el2npruner__fraction": [0.1, 0.3, 0.5], "distillationclassifier__alpha": [0.0, 0.5, 0.9]},
        cv=StratifiedKFold(3),
        refit=smallest_fraction_within(0.02),
    ).fit(X_train, y_train)
    # 3 folds + the refit on all of X_train, each scored by one proxy
    assert len(calls) == 4
    assert sorted(calls) == [len(X_train) * 2 // 3] * 3 + [len(X_train)]  # 1257 = 3 x 419
    table = best_alpha_per_fraction(search)
    assert table.fraction.tolist() == [0.1, 0.3, 0.5]
    for f, a, m in zip(table.fraction, table.best_alpha, table.mean_test_score):
        rows = np.flatnonzero(search.cv_results_["param_el2npruner__fraction"] == f)
        assert m == search.cv_results_["mean_test_score"][rows].max()
        assert a in (0.0, 0.5, 0.9)
    means = search.cv_results_["mean_test_score"]
    chosen = search.best_params_["el2npruner__fraction"]
    within = search.cv_results_["param_el2npruner__fraction"][means >= means.max() - 0.02]
    assert chosen == min(within)
    assert search.best_estimator_.n_samples_final_ == round(chosen * len(X_train))


def test_best_alpha_per_fraction_handmade():
    results = {
        "params": [{}] * 6,
        "param_p__fraction": [0.1, 0.1, 0.1, 0.5, 0.5, 0.5],
        "param_d__alpha": [0.0, 0.5, 0.9, 0.0, 0.5, 0.9],
        "mean_test_score": [0.80, 0.90, 0.93, 0.95, 0.97, 0.96],
        "std_test_score": [0.01, 0.02, 0.03, 0.04, 0.05, 0.06],
    }
    table = best_alpha_per_fraction(results)
    assert table.best_alpha.tolist() == [0.9, 0.5]
    assert table.mean_test_score.tolist() == [0.93, 0.97]
    assert table.std_test_score.tolist() == [0.03, 0.05]
    with pytest.raises(ValueError, match="could not find"):
        best_alpha_per_fraction({"params": [], "param_x": []})
    with pytest.raises(TypeError, match="cv_results_"):
        best_alpha_per_fraction(object())


def test_smallest_fraction_within_handmade():
    results = {
        "params": [{}] * 5,
        "param_p__fraction": [0.1, 0.3, 0.3, 0.5, 1.0],
        "mean_test_score": [0.90, 0.955, 0.962, 0.968, 0.970],
    }
    assert smallest_fraction_within(0.01)(results) == 2  # 0.3 within 0.01; its best candidate
    assert smallest_fraction_within(0.0)(results) == 4
    assert smallest_fraction_within(0.1)(results) == 0
    with pytest.raises(ValueError, match="tolerance"):
        smallest_fraction_within(-1)


def test_pipeline_clone_keeps_the_teacher(digits_teacher):
    pipe = make_pipeline(RandomPruner(), make_student(teacher=digits_teacher))
    assert clone(pipe)[-1].teacher is digits_teacher


def test_pipeline_pickle_and_set_params(blobs):
    import pickle

    X, y = blobs
    pipe = make_pipeline(RandomPruner(fraction=0.5, random_state=0), LogisticRegression())
    pipe.set_params(randompruner__fraction=0.2, logisticregression__C=0.5)
    assert pipe[0].fraction == 0.2 and pipe[-1].C == 0.5
    pipe.fit(X, y)
    assert pipe.n_samples_final_ == 12
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict_proba(X), pipe.predict_proba(X))
    assert restored[0].sample_indices_.tolist() == pipe[0].sample_indices_.tolist()


def test_passthrough_final_step_fit_returns_the_pipeline(blobs):
    X, y = blobs
    pipe = Pipeline([("prune", RandomPruner(fraction=0.5, random_state=0)), ("last", "passthrough")])
    assert pipe.fit(X, y) is pipe
    assert pipe.n_samples_final_ == 30
    assert pipe.fit_transform(X, y).shape == (30, 2)
