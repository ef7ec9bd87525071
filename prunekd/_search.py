"""A grid search over a student or a pruning pipeline, whose teacher may be fitted per training fold."""

import numpy as np
from joblib import effective_n_jobs
from joblib import hash as joblib_hash
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV, ParameterGrid, check_cv
from tqdm.auto import tqdm

from ._compat import BaseSearchCV, _safe_indexing
from .distillation import DistillationClassifier


class _FoldTeachers:
    """Teachers fitted on the training folds, keyed by the fold's data, shared by every candidate.

    Each candidate's estimator is a clone; a copy of this object is the object
    itself, so that one teacher per fold serves every candidate of a process.
    """

    def __init__(self, teacher):
        self.teacher, self.fitted = teacher, {}

    def __deepcopy__(self, memo):
        return self

    def get(self, X, y):
        key = joblib_hash((X, y))
        if key not in self.fitted:
            self.fitted[key] = clone(self.teacher).fit(X, y)
        return self.fitted[key]


class _WithFoldTeacher(ClassifierMixin, BaseEstimator):
    """The searched estimator, given the teacher fitted on exactly the rows it is fitted on."""

    def __init__(self, estimator, teacher_param, teachers):
        self.estimator, self.teacher_param, self.teachers = estimator, teacher_param, teachers

    def set_params(self, **params):
        own = {
            k: params.pop(k)
            for k in list(params)
            if k in ("estimator", "teacher_param", "teachers")
        }
        super().set_params(**own)
        if params:
            self.estimator.set_params(**params)
        return self

    def fit(self, X, y, **fit_params):
        teacher = self.teachers.get(X, y)
        self.estimator_ = clone(self.estimator).set_params(**{self.teacher_param: teacher})
        self.estimator_.fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        return self.estimator_.score(X, y, sample_weight=sample_weight)


def _teacher_param(estimator):
    """The name of the student's ``teacher`` parameter, and the teacher, for per-fold fitting."""
    name, student = estimator.steps[-1] if hasattr(estimator, "steps") else (None, estimator)
    if not isinstance(student, DistillationClassifier):
        raise ValueError(
            "teacher_per_fold=True fits the teacher of a DistillationClassifier (or of a "
            f"pipeline ending in one) per training fold; got {type(student).__name__}"
        )
    if student.teacher is None:
        raise ValueError("teacher_per_fold=True needs the student's teacher; it has teacher=None")
    try:
        clone(student.teacher)
    except TypeError as exc:
        raise ValueError(
            "teacher_per_fold=True clones the teacher for every training fold, so it must be a "
            "scikit-learn estimator (an unfitted DistillationClassifier or any classifier); "
            f"got {type(student.teacher).__name__}"
        ) from exc
    return ("teacher" if name is None else f"{name}__teacher"), student.teacher


class DistillationSearchCV(BaseSearchCV):
    """Exhaustive search over a student's or a pruning pipeline's grid, teacher per fold if asked.

    ``GridSearchCV``'s interface and results (``cv_results_``, ``best_params_``,
    ``best_estimator_``, multi-metric ``refit``...), so that
    :func:`~prunekd.best_alpha_per_fraction` and
    :func:`~prunekd.smallest_fraction_within` read it unchanged. With
    ``teacher_per_fold=True`` the student's teacher, an unfitted estimator, is
    cloned and fitted on each training fold, once per fold for every
    candidate, so that no teacher has seen the fold its student is scored on
    (a teacher fitted on all the training data has, which makes the CV scores
    of students with ``alpha > 0`` optimistic); the refit's teacher is fitted
    on all of ``X``. Its cost: one teacher fit per fold, plus one.

    Parameters
    ----------
    estimator : estimator
        A :class:`~prunekd.DistillationClassifier` or a
        :class:`~prunekd.Pipeline` ending in one (or, without
        ``teacher_per_fold``, any estimator).
    param_grid : dict or list of dicts
        As ``GridSearchCV``'s.
    scoring : str, callable, list, tuple or dict, default=None
    n_jobs : int, default=None
    refit : bool, str or callable, default=True
    cv : int, cross-validation generator or iterable, default=None
    verbose : int, default=0
    pre_dispatch : int or str, default="2*n_jobs"
    error_score : "raise" or numeric, default=np.nan
    return_train_score : bool, default=False
        All as ``GridSearchCV``'s.
    teacher_per_fold : bool, default=False
        Fit a clone of the student's teacher on every training fold.
    progress : bool, default=False
        Show a progress bar over the candidates, with the time left (the
        candidates are then evaluated ``n_jobs`` at a time, all their folds in
        parallel; the results are the same).

    Attributes
    ----------
    cv_results_, best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, refit_time_, multimetric_
        As ``GridSearchCV``'s.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : the same search, every candidate fitted separately.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd import DistillationClassifier, RandomPruner, make_pipeline
    >>> from prunekd.model_selection import DistillationSearchCV
    >>> from prunekd.models import MLP
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(120, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> teacher = DistillationClassifier(MLP, alpha=0.0, max_epochs=5, verbose=0, random_state=0)
    >>> pipe = make_pipeline(RandomPruner(fraction=0.5, random_state=0),
    ...                      DistillationClassifier(MLP, teacher=teacher, max_epochs=5, verbose=0,
    ...                                             random_state=0))
    >>> search = DistillationSearchCV(pipe, {"distillationclassifier__alpha": [0.0, 0.5]}, cv=2,
    ...                               teacher_per_fold=True).fit(X, y)
    >>> sorted(search.best_params_), search.n_splits_
    (['distillationclassifier__alpha'], 2)
    """

    _parameter_constraints = {
        **GridSearchCV._parameter_constraints,
        "teacher_per_fold": ["boolean"],
        "progress": ["boolean"],
    }

    def __init__(
        self,
        estimator,
        param_grid,
        *,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        error_score=np.nan,
        return_train_score=False,
        teacher_per_fold=False,
        progress=False,
    ):
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.param_grid = param_grid
        self.teacher_per_fold = teacher_per_fold
        self.progress = progress

    def _run_search(self, evaluate_candidates):
        candidates = list(ParameterGrid(self.param_grid))
        if not self.progress:
            evaluate_candidates(candidates)
            return
        # scikit-learn accumulates the results of every call, in order: the same cv_results_.
        step = max(1, effective_n_jobs(self.n_jobs))
        with tqdm(total=len(candidates), desc="candidates", unit="candidate", leave=False) as bar:
            for start in range(0, len(candidates), step):
                evaluate_candidates(candidates[start : start + step])
                bar.update(len(candidates[start : start + step]))

    def fit(self, X, y=None, **params):
        """Run the search (with a teacher per training fold if asked), then refit.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
        **params : dict
            Passed to the estimator's ``fit`` (and the CV splitter's ``groups``).

        Returns
        -------
        self : DistillationSearchCV
        """
        if self.teacher_per_fold is not True:
            return super().fit(X, y, **params)
        key, teacher = _teacher_param(self.estimator)
        searched = {k for grid in ParameterGrid(self.param_grid).param_grid for k in grid}
        if key in searched:
            raise ValueError(
                f"teacher_per_fold=True fits the teacher itself; do not search {key!r}"
            )
        teachers = _FoldTeachers(teacher)
        cv = check_cv(self.cv, y, classifier=True)
        for train, _ in cv.split(X, y, params.get("groups")):  # fitted once, in this process
            teachers.get(_safe_indexing(X, train), _safe_indexing(y, train))
        estimator = self.estimator
        self.estimator = _WithFoldTeacher(estimator, key, teachers)
        try:
            super().fit(X, y, **params)
        finally:
            self.estimator = estimator
        if hasattr(self, "best_estimator_"):
            self.best_estimator_ = self.best_estimator_.estimator_
        self.teacher_fits_ = len(teachers.fitted)
        return self
