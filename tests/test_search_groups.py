"""DistillationSearchCV's vectorised groups: members equal to separate fits, and what falls back."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid
from sklearn.preprocessing import StandardScaler
from torch import nn

from prunekd import (
    DistillationClassifier,
    DistillationSearchCV,
    EL2NPruner,
    RandomPruner,
    make_pipeline,
)
from prunekd._search_groups import fit_group
from prunekd._search_plan import _group_tasks, _plan, prefit
from prunekd.models import MLP

GRID = {"randompruner__fraction": [0.5, 1.0], "distillationclassifier__alpha": [0.0, 0.5, 1.0]}
N_VAL = 50  # rows of a validation fold below: one flipped prediction moves a score by 0.02


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(151, 4).astype(np.float32)  # 151 rows: folds keep 50 or 51 rows at fraction 0.5
    y = (X[:, 0] + X[:, 1] * X[:, 2] + 0.3 * rng.randn(151) > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def teacher(data):
    return LogisticRegression().fit(*data)


def _student(teacher, **kwargs):
    return DistillationClassifier(MLP, teacher=teacher, module__hidden=(16,), max_epochs=6,
                                  lr=0.05, batch_size=16, verbose=0, random_state=0, **kwargs)  # fmt: skip


def _pipe(teacher, *pre, **kwargs):
    return make_pipeline(*pre, RandomPruner(fraction=0.5, random_state=0), _student(teacher, **kwargs))


def _both(estimator, grid, X, y, **kwargs):
    """The grouped search and GridSearchCV's, on the same folds."""
    cv = KFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a grouped search falls back only with a warning
        ours = DistillationSearchCV(estimator, grid, cv=cv, **kwargs).fit(X, y)
    theirs = GridSearchCV(estimator, grid, cv=cv, **kwargs).fit(X, y)
    return ours, theirs


def _assert_same_scores(ours, theirs):
    for k in range(ours.n_splits_):
        key = f"split{k}_test_score"
        # members differ from separate fits in the last bits of their weights only
        np.testing.assert_allclose(ours.cv_results_[key], theirs.cv_results_[key], atol=1.01 / N_VAL)
    assert ours.best_params_ == theirs.best_params_


@pytest.mark.parametrize("budget", [{}, {"max_steps": 9}], ids=["epochs", "steps"])
def test_every_candidate_trains_in_a_group_and_scores_as_a_separate_fit(data, teacher, budget):
    X, y = data
    ours, theirs = _both(_pipe(teacher, **budget), GRID, X, y, return_train_score=True)
    assert ours.grouped_.all() and len(ours.grouped_) == 6
    _assert_same_scores(ours, theirs)
    # the training rows are scored too, by the fitted members (every kept and pruned row)
    np.testing.assert_allclose(ours.cv_results_["mean_train_score"],
                               theirs.cv_results_["mean_train_score"], atol=0.01)  # fmt: skip
    assert ours.cv_results_["mean_fit_time"].shape == (6,)
    best = ours.best_estimator_
    assert type(best).__name__ == "Pipeline" and best[-1].history_  # the refit trains for real
    if budget:  # 9 steps of 16 rows: 3 epochs at fraction 0.5, 2 at 1.0
        assert best[-1].max_steps == 9 and sum(e["train_batch_count"] for e in best[-1].history) == 9


def test_a_member_is_a_fitted_student_whose_weights_equal_a_separate_fit(data, teacher):
    X, y = data
    folds = [train for train, _ in KFold(3, shuffle=True, random_state=0).split(X)]  # 100/101
    candidates = list(ParameterGrid(GRID))
    groups, separate = _plan(_pipe(teacher), candidates, per_fold=False)
    assert not separate and len(groups) == 2
    group = groups[0]  # fraction 0.5: folds keep 50, 50 and 51 rows, in two groups
    teachers = [group["teachers"]] * 3
    fitted = fit_group(group["estimator"], group["members"], teachers, X, y, dict(enumerate(folds)))
    assert len(fitted) == 9
    for (index, fold), (pipeline, _) in fitted.items():
        params = candidates[index]
        alone = clone(_pipe(teacher)).set_params(**params).fit(X[folds[fold]], y[folds[fold]])
        np.testing.assert_array_equal(pipeline[0].sample_indices_, alone[0].sample_indices_)
        student = pipeline[-1]
        assert student.alpha == student.alpha_ == params["distillationclassifier__alpha"]
        assert student.max_epochs == 6 and student.teacher is teacher
        for ours, theirs in zip(student.module_.parameters(), alone[-1].module_.parameters()):
            np.testing.assert_allclose(ours.detach(), theirs.detach(), atol=5e-5)
        np.testing.assert_allclose(student.predict_proba(X), alone.predict_proba(X), atol=1e-4)


def test_a_preprocessing_step_is_fitted_per_fold_and_the_teacher_reads_its_own_view(data):
    X, y = data
    X = X * 10 + 3
    raw_teacher = LogisticRegression().fit(X, y)  # fitted on the raw rows: 'auto' finds that
    ours, theirs = _both(_pipe(raw_teacher, StandardScaler()), GRID, X, y)
    assert ours.grouped_.all()
    _assert_same_scores(ours, theirs)
    assert ours.best_estimator_.teacher_input_ == theirs.best_estimator_.teacher_input_ == "raw"


def test_a_bare_student_and_a_grid_of_teachers_are_grouped_too(data, teacher):
    X, y = data
    other = LogisticRegression(C=0.01).fit(X, y)
    # the search clones every searched value, as GridSearchCV does: frozen, a teacher stays fitted
    grid = {"alpha": [0.3, 1.0], "teacher": [FrozenEstimator(teacher), FrozenEstimator(other)]}
    ours, theirs = _both(_student(teacher), grid, X, y)
    assert ours.grouped_.all()
    _assert_same_scores(ours, theirs)


def test_per_fold_teachers_serve_the_groups(data):
    X, y = data
    unfitted = LogisticRegression(C=0.5)
    search = DistillationSearchCV(_pipe(unfitted), GRID, cv=3, teacher_per_fold=True).fit(X, y)
    assert search.grouped_.all() and search.teacher_fits_ == 4
    separate = DistillationSearchCV(_pipe(unfitted), GRID, cv=3, teacher_per_fold=True,
                                    vectorise=False).fit(X, y)  # fmt: skip
    assert not separate.grouped_.any()
    _assert_same_scores(search, separate)


class _WithBuffers(nn.Module):
    def __init__(self, n_features=4, n_classes=2, hidden=(8,)):
        super().__init__()
        width = hidden[0]
        self.net = nn.Sequential(
            nn.Linear(n_features, width), nn.BatchNorm1d(width), nn.Linear(width, n_classes)
        )

    def forward(self, x):
        return self.net(x)


@pytest.mark.parametrize("change, parameter", [
    ({"distillationclassifier__warm_start": [True]}, "warm_start"),
    ({"distillationclassifier__alpha": ["auto"]}, "alpha"),
    ({"distillationclassifier__module": [_WithBuffers]}, "module"),
])  # fmt: skip
def test_a_candidate_no_group_takes_is_fitted_separately_with_one_warning(data, teacher, change,
                                                                          parameter):  # fmt: skip
    X, y = data
    grid = [{"distillationclassifier__alpha": [0.0, 0.5]}, change]
    cv = KFold(3, shuffle=True, random_state=0)
    with pytest.warns(UserWarning, match=f"separately.*'{parameter}'") as caught:
        ours = DistillationSearchCV(_pipe(teacher), grid, cv=cv).fit(X, y)
    assert sum("separately" in str(w.message) for w in caught) == 1
    theirs = GridSearchCV(_pipe(teacher), grid, cv=cv).fit(X, y)
    assert list(ours.grouped_) == [True, True, False]
    for k in range(3):  # the separate fit is GridSearchCV's own, to the bit
        assert ours.cv_results_[f"split{k}_test_score"][2] == theirs.cv_results_[f"split{k}_test_score"][2]


def test_fit_parameters_keep_every_candidate_separate(data, teacher):
    X, y = data
    with pytest.warns(UserWarning, match=r"fit parameters \['distillationclassifier__sample_weight'"):
        search = DistillationSearchCV(_pipe(teacher), GRID, cv=2).fit(
            X, y, distillationclassifier__sample_weight=np.ones(len(y))
        )
    assert not search.grouped_.any()


def test_error_score_applies_to_a_refused_alpha_as_in_scikit_learn(data, teacher):
    X, y = data
    grid = {"distillationclassifier__alpha": [0.5, 7.0]}
    with pytest.warns(UserWarning):
        search = DistillationSearchCV(_pipe(teacher), grid, cv=2, error_score=-1.0).fit(X, y)
    assert search.cv_results_["mean_test_score"][1] == -1.0 and list(search.grouped_) == [True, False]
    with pytest.raises(ValueError, match="alpha must be a float"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        DistillationSearchCV(_pipe(teacher), grid, cv=2, error_score="raise").fit(X, y)


def test_a_score_based_pruner_scores_each_fold_once_across_the_fractions(data, teacher, proxy_fits):
    X, y = data
    pruner = EL2NPruner(fraction=0.5, n_proxies=1, max_epochs=1, random_state=0)
    pipe = make_pipeline(pruner, _student(teacher))
    grid = {"el2npruner__fraction": [0.3, 0.6], "distillationclassifier__alpha": [0.0, 1.0]}
    search = DistillationSearchCV(pipe, grid, cv=2).fit(X, y)
    # one proxy per training fold (75 and 76 rows), then one for the refit
    assert search.grouped_.all() and sorted(proxy_fits) == [75, 76, 151]
    assert search.best_estimator_.memory is None


def test_two_processes_give_the_results_of_one(data, teacher):
    X, y = data
    one = DistillationSearchCV(_pipe(teacher), GRID, cv=2).fit(X, y)
    two = DistillationSearchCV(_pipe(teacher), GRID, cv=2, n_jobs=2).fit(X, y)
    assert two.grouped_.all() and two.n_jobs == 2
    np.testing.assert_array_equal(one.cv_results_["mean_test_score"], two.cv_results_["mean_test_score"])
    torch.testing.assert_close(
        next(one.best_estimator_[-1].module_.parameters()),
        next(two.best_estimator_[-1].module_.parameters()),
    )


def test_with_two_processes_a_group_larger_than_its_share_is_split_by_folds(teacher):
    groups, _ = _plan(_pipe(teacher), list(ParameterGrid(GRID)), per_fold=False)
    folds = [np.arange(10)] * 3
    one = _group_tasks(groups, [[g["teachers"]] * 3 for g in groups], (None, None), folds, None, 1)
    two = _group_tasks(groups, [[g["teachers"]] * 3 for g in groups], (None, None), folds, None, 2)
    # costs 0.5 and 1 (fraction x epochs x members x folds, relative): a process's share is 0.75,
    # so fraction 1's group is cut into two parts of folds (2 and 1), fraction 0.5's is not
    assert [c for c, _ in one] == [6 * 3 * 3 * 0.5, 6 * 3 * 3 * 1.0]
    assert sorted(c for c, _ in two) == [18.0, 27.0, 36.0]
    assert sorted(len(task[1][4]) for _, task in two) == [1, 2, 3]


def _one_group(estimator, grid, data, memory=None):
    """The first group of ``grid``, fitted on two folds: the folds, ``{(candidate, fold): fitted}``."""
    groups, _ = _plan(estimator, list(ParameterGrid(grid)), per_fold=False)
    group = groups[0]
    split = KFold(2, shuffle=True, random_state=0).split(data[0])
    folds = dict(enumerate(train for train, _ in split))
    fitted = fit_group(group["estimator"], group["members"], [group["teachers"]] * 2, *data, folds,
                       memory)  # fmt: skip
    return folds, {key: member for key, (member, _) in fitted.items()}


def test_labels_that_are_not_0_to_k_are_encoded(data):
    X, y = data
    y = np.array(["no", "yes"])[y]
    grid = {"distillationclassifier__alpha": [0.0, 1.0]}
    ours, theirs = _both(_pipe(LogisticRegression().fit(X, y)), grid, X, y)
    assert ours.grouped_.all()
    _assert_same_scores(ours, theirs)


def test_a_failed_separate_fit_is_stored_for_the_lookup_to_raise(data, teacher):
    X, y = data
    grid = {"distillationclassifier__alpha": [0.5, 7.0]}
    folds = [t for t, _ in KFold(2, shuffle=True, random_state=0).split(X)]
    search = DistillationSearchCV(_pipe(teacher), grid)
    with pytest.warns(UserWarning):
        fits = prefit(search, search.estimator, X, y, list(ParameterGrid(grid)), folds)
    failed = [v for v in fits.found.values() if isinstance(v, BaseException)]
    assert len(failed) == 2 and all("alpha must be a float" in str(e) for e in failed)


def test_a_member_trains_with_the_students_optimizer(data, teacher):
    X, y = data
    pipe = _pipe(teacher, optimizer=torch.optim.Adam, optimizer__weight_decay=1e-3)
    folds, fitted = _one_group(pipe, {"distillationclassifier__alpha": [0.0, 1.0]}, (X, y))
    for (i, f), member in fitted.items():
        params = list(ParameterGrid({"distillationclassifier__alpha": [0.0, 1.0]}))[i]
        alone = clone(pipe).set_params(**params).fit(X[folds[f]], y[folds[f]])
        for ours, theirs in zip(member[-1].module_.parameters(), alone[-1].module_.parameters()):
            np.testing.assert_allclose(ours.detach(), theirs.detach(), atol=5e-5)


def test_a_members_parameters_and_memory_are_its_candidates(data, teacher, tmp_path):
    X, y = data
    pipe = _pipe(teacher, max_steps=9)
    candidates = list(ParameterGrid(GRID))
    _, fitted = _one_group(pipe, GRID, (X, y), memory=str(tmp_path))
    for (i, _), member in fitted.items():
        assert member.memory is None
        expected = clone(pipe).set_params(**candidates[i])[-1]
        assert member[-1].get_params(deep=False) == expected.get_params(deep=False)


def test_a_member_records_its_own_teacher(data, teacher):
    X, y = data
    other = LogisticRegression(C=0.01).fit(X, y)
    grid = {"alpha": [1.0], "teacher": [FrozenEstimator(teacher), FrozenEstimator(other)]}
    _, fitted = _one_group(_student(teacher), grid, (X, y))
    assert len(fitted) == 4
    for member in fitted.values():
        assert member.teacher_.estimator is member.teacher


def test_fit_leaves_the_searchs_own_parameters_as_they_were(data, teacher):
    search = DistillationSearchCV(_pipe(teacher), {"distillationclassifier__alpha": [0.0, 1.0]}, cv=2)
    before = search.get_params(deep=False)
    search.fit(*data)
    assert search.grouped_.all() and search.get_params(deep=False) == before
