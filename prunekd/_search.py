"""A grid search over a student or a pruning pipeline, whose teacher may be fitted per training fold."""

import time
import warnings

import numpy as np
from joblib import effective_n_jobs
from joblib import hash as joblib_hash
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV, ParameterGrid, check_cv
from tqdm.auto import tqdm

from ._compat import BaseSearchCV, _safe_indexing, validate_params
from ._search_plan import _Prefitted, _Wrapper, prefit
from .distillation import DistillationClassifier


class _FoldTeachers:
    """Teachers fitted on the training folds, keyed by the fold's data, shared by every candidate.

    Each candidate's estimator is a clone; a copy of this object is the object
    itself, so that one teacher per fold serves every candidate of a process.
    """

    def __init__(self, teacher):
        self.teacher, self.fitted, self.seconds = teacher, {}, 0.0

    def __deepcopy__(self, memo):
        return self

    def get(self, X, y):
        key = joblib_hash((X, y))
        if key not in self.fitted:
            start = time.perf_counter()
            self.fitted[key] = clone(self.teacher).fit(X, y)
            self.seconds += time.perf_counter() - start
        return self.fitted[key]


class _WithFoldTeacher(_Wrapper):
    """The searched estimator, given the teacher fitted on exactly the rows it is fitted on."""

    _own = ("estimator", "teacher_param", "teachers")

    def __init__(self, estimator, teacher_param, teachers):
        self.estimator, self.teacher_param, self.teachers = estimator, teacher_param, teachers

    def fit(self, X, y, **fit_params):
        teacher = self.teachers.get(X, y)
        self.estimator_ = clone(self.estimator).set_params(**{self.teacher_param: teacher})
        self.estimator_.fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        return self


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
    """Exhaustive search over a pruning pipeline's grid, in vectorised groups, teacher per fold if asked.

    ``GridSearchCV``'s interface and results (``cv_results_``, ``best_params_``,
    ``best_estimator_``, multi-metric ``refit``...), so that
    :func:`~prunekd.best_alpha_per_fraction` and
    :func:`~prunekd.smallest_fraction_within` read it unchanged.

    **Vectorised groups.** Candidates that differ only in ``alpha`` or the
    teacher train together: for each setting of the other parameters (the
    kept fraction, a scaler's options), the steps before the student are
    fitted once per training fold, and every (fold, alpha, teacher) is a
    member of one vectorised model, trained by one skorch loop. A member
    starts from the weights and visits its rows in the order of a separate fit
    with the same ``random_state``; only the last bits of its arithmetic
    differ, so its scores match ``GridSearchCV``'s up to a rare flipped
    prediction. Validation rows are never pruned; with a score-based pruner,
    each training fold is scored once for all fractions (a temporary
    ``memory`` unless the pipeline has one). Folds whose students keep
    different numbers of rows train in separate groups. A candidate no group
    can take (another student class, a module with buffers such as batch
    norm, ``alpha="auto"``, callbacks, ``warm_start``,
    ``mixed_precision``, a validation split, a torch Dataset, fit parameters)
    is fitted separately, as ``GridSearchCV`` fits it, with one warning
    naming the parameter. ``cv_results_["mean_fit_time"]`` shares a group's
    time equally among its fits.

    **A teacher per fold.** With ``teacher_per_fold=True`` the student's
    teacher, an unfitted estimator, is cloned and fitted on each training
    fold, once per fold for every candidate, so that no teacher has seen the
    fold its student is scored on (a teacher fitted on all the training data
    has, which makes the CV scores of students with ``alpha > 0``
    optimistic); the refit's teacher is fitted on all of ``X``. Its cost: one
    teacher fit per fold, plus one.

    Parameters
    ----------
    estimator : estimator
        A :class:`~prunekd.DistillationClassifier` or a pipeline ending in one
        (or, without ``teacher_per_fold``, any estimator, which is then
        searched as ``GridSearchCV`` searches it).
    param_grid : dict or list of dicts
        As ``GridSearchCV``'s.
    scoring : str, callable, list, tuple or dict, default=None
    n_jobs : int, default=None
        Processes over the groups and separate fits (scoring then runs in this
        process). Groups are units of work: a grid of two fractions keeps at
        most two processes busy.
    refit : bool, str or callable, default=True
    cv : int, cross-validation generator or iterable, default=None
        The folds are drawn once, for every fit.
    verbose : int, default=0
    pre_dispatch : int or str, default="2*n_jobs"
    error_score : "raise" or numeric, default=np.nan
    return_train_score : bool, default=False
        All as ``GridSearchCV``'s.
    teacher_per_fold : bool, default=False
        Fit a clone of the student's teacher on every training fold.
    vectorise : bool, default=True
        Train candidates in vectorised groups where they can be; False fits
        every candidate separately, as ``GridSearchCV`` does.
    progress : bool, default=False
        Show a progress bar over the groups and separate fits, with the time
        left (without groups: over the candidates, evaluated ``n_jobs`` at a
        time; the results are the same).

    Attributes
    ----------
    cv_results_, best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, refit_time_, multimetric_
        As ``GridSearchCV``'s.
    grouped_ : ndarray of bool, shape (n_candidates,)
        Which candidates trained in vectorised groups.
    teacher_fits_ : int
        With ``teacher_per_fold``, the number of teachers fitted.
    teacher_fit_seconds_ : float
        With ``teacher_per_fold``, their total fit time (in this process).

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
        "vectorise": ["boolean"],
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
        vectorise=True,
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
        self.vectorise = vectorise
        self.progress = progress

    def _run_search(self, evaluate_candidates):
        candidates = list(ParameterGrid(self.param_grid))
        if not self.progress or isinstance(self.estimator, _Prefitted):  # fitted: only scoring
            evaluate_candidates(candidates)
            return
        # scikit-learn accumulates the results of every call, in order: the same cv_results_.
        step = max(1, effective_n_jobs(self.n_jobs))
        with tqdm(total=len(candidates), desc="candidates", unit="candidate", leave=False) as bar:
            for start in range(0, len(candidates), step):
                evaluate_candidates(candidates[start : start + step])
                bar.update(len(candidates[start : start + step]))

    def fit(self, X, y=None, **params):
        """Fit every candidate on every fold (in groups where it can), score them, then refit.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
        **params : dict
            Passed to the estimator's ``fit`` (and the CV splitter's ``groups``);
            fit parameters other than ``groups`` keep every candidate out of
            the groups.

        Returns
        -------
        self : DistillationSearchCV
        """
        validate_params(self)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, params.get("groups")))  # the same folds for every fit
        teachers, inner = self._fold_teachers(X, y, splits)
        fits = None
        if self.vectorise and set(params) <= {"groups"}:
            candidates = list(ParameterGrid(self.param_grid))
            fits = prefit(self, inner, X, y, candidates, [t for t, _ in splits], teachers)
        elif self.vectorise:
            warnings.warn(
                f"DistillationSearchCV fits every candidate separately: the fit parameters "
                f"{sorted(set(params) - {'groups'})} are not passed to vectorised groups",
                UserWarning,
                stacklevel=2,
            )
        saved = self.estimator, self.cv, self.n_jobs
        self.estimator, self.cv = inner if fits is None else _Prefitted(inner, fits), splits
        if fits is not None:
            self.n_jobs = 1  # scoring looks the fits up: other processes would not find them
        try:
            super().fit(X, y, **params)
        finally:
            self.estimator, self.cv, self.n_jobs = saved
        self._unwrap(teachers, fits)
        return self

    def _fold_teachers(self, X, y, splits):
        """With ``teacher_per_fold``: the teachers, fitted once per fold here, and the wrapped estimator."""
        if self.teacher_per_fold is not True:
            return None, self.estimator
        key, teacher = _teacher_param(self.estimator)
        searched = {k for grid in ParameterGrid(self.param_grid).param_grid for k in grid}
        if key in searched:
            raise ValueError(
                f"teacher_per_fold=True fits the teacher itself; do not search {key!r}"
            )
        teachers = _FoldTeachers(teacher)
        bar = dict(desc="teachers", unit="fold", leave=False, disable=not self.progress)
        for train, _ in tqdm(splits, **bar):  # fitted once, in this process
            teachers.get(_safe_indexing(X, train), _safe_indexing(y, train))
        return teachers, _WithFoldTeacher(self.estimator, key, teachers)

    def _unwrap(self, teachers, fits):
        """The refitted estimator without the search's wrappers; the fits' own times and groups."""
        best = getattr(self, "best_estimator_", None)
        if isinstance(best, _Prefitted):
            best = best.estimator_
        if isinstance(best, _WithFoldTeacher):
            best = best.estimator_
        if best is not None:
            self.best_estimator_ = best
        if teachers is not None:
            self.teacher_fits_ = len(teachers.fitted)
            self.teacher_fit_seconds_ = teachers.seconds
        self.grouped_ = np.zeros(len(self.cv_results_["params"]), dtype=bool)
        if fits is not None:
            seconds = np.array(
                [
                    [fits.seconds[i, f] for f in range(self.n_splits_)]
                    for i in range(len(self.grouped_))
                ]
            )
            self.cv_results_["mean_fit_time"] = seconds.mean(axis=1)
            self.cv_results_["std_fit_time"] = seconds.std(axis=1)
            self.grouped_[:] = [fits.grouped.get(i, False) for i in range(len(self.grouped_))]
