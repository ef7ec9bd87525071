"""DistillationSearchCV: GridSearchCV's answers and contract, and a teacher fitted per training fold."""

import pickle
import warnings

import numpy as np
import pytest
from joblib import hash as joblib_hash
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from prunekd import (
    DistillationClassifier,
    DistillationSearchCV,
    RandomPruner,
    best_alpha_per_fraction,
    make_pipeline,
)
from prunekd.models import MLP

GRID = {"randompruner__fraction": [0.5, 1.0], "distillationclassifier__alpha": [0.0, 0.5]}
SEEN = []


class _Teacher(LogisticRegression):
    """A teacher that records a fingerprint of every set of rows it is fitted on."""

    def fit(self, X, y, sample_weight=None):
        SEEN.append(joblib_hash((np.asarray(X), np.asarray(y))))
        return super().fit(X, y, sample_weight)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(150, 4).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.randn(150) > 0).astype(int)
    return X, y


def _pipe(teacher):
    student = DistillationClassifier(MLP, teacher=teacher, module__hidden=(8,), max_epochs=4,
                                     lr=0.05, verbose=0, random_state=0)  # fmt: skip
    return make_pipeline(RandomPruner(fraction=0.5, random_state=0), student)


def test_without_per_fold_teachers_it_gives_gridsearchcvs_results(data):
    X, y = data
    teacher = LogisticRegression().fit(X, y)
    ours = DistillationSearchCV(_pipe(teacher), GRID, cv=3).fit(X, y)
    theirs = GridSearchCV(_pipe(teacher), GRID, cv=3).fit(X, y)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               theirs.cv_results_["mean_test_score"])  # fmt: skip
    assert ours.best_params_ == theirs.best_params_ and ours.n_splits_ == 3
    assert set(best_alpha_per_fraction(ours).fraction) == {0.5, 1.0}


def test_each_fold_distills_from_a_teacher_fitted_on_its_training_rows_only(data):
    X, y = data
    SEEN.clear()
    search = DistillationSearchCV(_pipe(_Teacher()), GRID, cv=3, teacher_per_fold=True).fit(X, y)
    folds = [joblib_hash((X[train], y[train])) for train, _ in StratifiedKFold(3).split(X, y)]
    # one teacher per training fold, whatever the number of candidates, and one for the refit
    assert SEEN == [*folds, joblib_hash((X, y))] and search.teacher_fits_ == 4
    best = search.best_estimator_
    assert type(best).__name__ == "Pipeline"  # the searched estimator, unwrapped
    teacher = best[-1].teacher
    assert isinstance(teacher, _Teacher) and teacher.n_features_in_ == 4
    assert search.predict(X).shape == (150,) and 0 <= search.score(X, y) <= 1


def test_the_search_survives_clone_pickle_and_set_params(data):
    X, y = data
    search = DistillationSearchCV(_pipe(_Teacher()), GRID, cv=2, teacher_per_fold=True)
    assert clone(search).get_params()["teacher_per_fold"] is True
    search.set_params(cv=3, teacher_per_fold=False).set_params(teacher_per_fold=True)
    search.fit(X, y)
    again = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(again.predict(X), search.predict(X))
    assert search.get_params()["estimator"][-1].teacher.__class__ is _Teacher  # unchanged


def test_multi_metric_refit_and_error_score(data):
    X, y = data
    scoring = {"acc": "accuracy", "bal": "balanced_accuracy"}
    search = DistillationSearchCV(_pipe(_Teacher()), GRID, cv=2, scoring=scoring, refit="bal",
                                  teacher_per_fold=True).fit(X, y)  # fmt: skip
    assert "mean_test_bal" in search.cv_results_ and search.best_score_ == pytest.approx(
        search.cv_results_["mean_test_bal"][search.best_index_])  # fmt: skip
    bad = {"distillationclassifier__alpha": [0.5, 7.0]}  # 7 is no weight: the fit raises
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = DistillationSearchCV(_pipe(_Teacher()), bad, cv=2, error_score=-1.0,
                                      teacher_per_fold=True).fit(X, y)  # fmt: skip
    assert search.cv_results_["mean_test_score"][1] == -1.0
    with pytest.raises(ValueError):
        DistillationSearchCV(_pipe(_Teacher()), bad, cv=2, error_score="raise",
                             teacher_per_fold=True).fit(X, y)  # fmt: skip


@pytest.mark.parametrize("make, match", [
    (lambda: LogisticRegression(), "DistillationClassifier"),
    (lambda: _pipe(None), "teacher=None"),
    (lambda: _pipe(MLP(n_features=4, n_classes=2)), "must be a scikit-learn estimator"),
])  # fmt: skip
def test_what_per_fold_teachers_cannot_do_is_refused(data, make, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        DistillationSearchCV(make(), {}, cv=2, teacher_per_fold=True).fit(X, y)


def test_the_teacher_itself_is_not_searched_with_per_fold_teachers(data):
    X, y = data
    grid = {"distillationclassifier__teacher": [_Teacher(), _Teacher(C=0.1)]}
    with pytest.raises(ValueError, match="do not search 'distillationclassifier__teacher'"):
        DistillationSearchCV(_pipe(_Teacher()), grid, cv=2, teacher_per_fold=True).fit(X, y)


def test_a_progress_bar_changes_nothing_in_the_results(data, capsys):
    X, y = data
    teacher = LogisticRegression().fit(X, y)
    quiet = DistillationSearchCV(_pipe(teacher), GRID, cv=2).fit(X, y)
    shown = DistillationSearchCV(_pipe(teacher), GRID, cv=2, progress=True, n_jobs=1).fit(X, y)
    for key in ("mean_test_score", "rank_test_score", "params"):
        assert list(quiet.cv_results_[key]) == list(shown.cv_results_[key])
    assert "groups" in capsys.readouterr().err  # the bar over the groups, with the time left


def test_a_regressor_is_searched_on_gridsearchcvs_folds(data):
    from sklearn.linear_model import Ridge

    X, y = data
    target = X[:, 0] * 2.0 + 0.1 * y  # continuous: stratified folds would refuse it
    ours = DistillationSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=3).fit(X, target)
    theirs = GridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=3).fit(X, target)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               theirs.cv_results_["mean_test_score"])  # fmt: skip
    assert not ours.grouped_.any()
