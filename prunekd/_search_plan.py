"""What a vectorised search fits before it scores: its groups, its separate fits, and where to find them.

The search's own scoring pass (scikit-learn's, unchanged) then "fits" each
candidate on each fold by looking the fitted estimator up, so that
``cv_results_``, multi-metric scoring, ``error_score`` and
``return_train_score`` are scikit-learn's. A fit that failed stores its
exception, which the lookup raises where scikit-learn would have caught it.
"""

import math
import tempfile
import time
import warnings
from contextlib import contextmanager

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib import hash as joblib_hash
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from tqdm.auto import tqdm

from ._compat import _safe_indexing
from ._search_groups import blocker, fit_group, split_final
from .pruning import BasePruner


def params_key(params):
    """A candidate's key: its parameters, as scikit-learn's search hands them to ``set_params``."""
    return joblib_hash(clone(params, safe=False))


def fold_key(X, y):
    """A training fold's key: its labels and every row's sum, exact for arrays (hashed whole otherwise).

    The folds of one search hold different rows, so their labels and row
    sums differ; summing is much cheaper than hashing large image arrays.
    """
    if isinstance(X, np.ndarray) and X.ndim > 1 and X.size:
        return joblib_hash((np.asarray(y), X.reshape(len(X), -1).sum(1), X.shape))
    return joblib_hash((X, y))


class _Fits:
    """Fitted estimators (or the exceptions of failed fits) by candidate and fold; never copied."""

    def __init__(self):
        self.found, self.seconds, self.grouped = {}, {}, {}

    def __deepcopy__(self, memo):
        return self


class _Wrapper(ClassifierMixin, BaseEstimator):
    """A searched estimator inside a wrapper: the search's parameters reach it, its fit answers.

    ``_own`` names the wrapper's own parameters; every other parameter is the
    wrapped estimator's. Predictions and scores are those of ``estimator_``.
    """

    _own = ("estimator",)

    def set_params(self, **params):
        own = {k: params.pop(k) for k in list(params) if k in self._own}
        super().set_params(**own)
        if params:
            self.estimator.set_params(**params)
            self._searched = {**getattr(self, "_searched", {}), **params}
        return self

    def predict(self, X):
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        return self.estimator_.score(X, y, sample_weight=sample_weight)


class _Prefitted(_Wrapper):
    """The searched estimator, whose ``fit`` returns what was fitted before for its parameters and rows.

    Anything not fitted before (the refit on all rows) is fitted now.
    """

    _own = ("estimator", "fits")

    def __init__(self, estimator, fits):
        self.estimator, self.fits = estimator, fits

    def fit(self, X, y, **fit_params):
        key = (params_key(getattr(self, "_searched", {})), fold_key(X, y))
        found = self.fits.found.get(key)
        if isinstance(found, BaseException):
            raise found
        self.estimator_ = (
            found if found is not None else clone(self.estimator).fit(X, y, **fit_params)
        )
        self.classes_ = self.estimator_.classes_
        return self


def _plan(estimator, candidates, per_fold):
    """Candidates grouped by every parameter but alpha and teacher; the others with their reason.

    Returns ``groups`` (dicts with the group's estimator, its members
    ``(candidate, alpha, teacher slot)`` and its teachers by slot) and
    ``separate`` (``(candidate, parameter)``).
    """
    _, prefix = split_final(estimator)
    alpha_key, teacher_key = f"{prefix}alpha", f"{prefix}teacher"
    groups, separate = {}, []
    for i, params in enumerate(candidates):
        candidate = clone(estimator).set_params(**clone(params, safe=False))
        reason = blocker(candidate)
        shared = {k: v for k, v in params.items() if k not in (alpha_key, teacher_key)}
        if reason is None:
            try:
                key = joblib_hash(shared)
            except Exception:  # an unpicklable value: it cannot be told apart from others
                reason = "param_grid"
        if reason is not None:
            separate.append((i, reason))
            continue
        group = groups.setdefault(
            key, {"estimator": clone(estimator).set_params(**clone(shared, safe=False))}
        )
        ident = id(params[teacher_key]) if teacher_key in params else None
        ids, teachers = group.setdefault("ids", []), group.setdefault("teachers", [])
        if ident not in ids:
            ids.append(ident)
            teachers.append(None if per_fold else split_final(candidate)[0].teacher)
        alpha = float(split_final(candidate)[0].alpha)
        group.setdefault("members", []).append((i, alpha, ids.index(ident)))
    return list(groups.values()), separate


def _fit_one(estimator, params, X, y, train, key):
    """One candidate on one fold, as scikit-learn's search fits it; a failure is kept, not raised."""
    start = time.perf_counter()
    try:
        fitted = clone(estimator).set_params(**clone(params, safe=False))
        fitted.fit(_safe_indexing(X, train), _safe_indexing(y, train))
    except Exception as exc:  # noqa: BLE001 -- raised again where scikit-learn catches it
        fitted = exc
    return {key: (fitted, time.perf_counter() - start)}


def _fit_group_or_none(group, teachers, X, y, folds, memory):
    """A group's fits, or ``(its exception, the group)``: its members are then fitted separately."""
    try:
        return fit_group(group["estimator"], group["members"], teachers, X, y, folds, memory)
    except Exception as exc:  # noqa: BLE001 -- the separate fits raise it where they should
        return exc, group


def prefit(search, inner, X, y, candidates, folds, fold_teachers=None):
    """Every candidate fitted on every training fold: in groups where it can, else as scikit-learn would.

    Returns the :class:`_Fits`, or None when no candidate can join a group
    (scikit-learn's own loop then fits them all). ``inner`` is the estimator
    a separate fit clones (the search's, or its teacher-per-fold wrapper);
    ``fold_teachers`` the teachers fitted per fold, if asked for.
    """
    groups, separate = _plan(search.estimator, candidates, fold_teachers is not None)
    if any(reason != "estimator" for _, reason in separate):
        _warn(separate)
    if not groups:
        return None
    rows = [(_safe_indexing(X, t), _safe_indexing(y, t)) for t in folds]
    if fold_teachers is None:
        teachers = [[g["teachers"]] * len(folds) for g in groups]
    else:
        teachers = [[[fold_teachers.get(*r)] for r in rows]] * len(groups)
    n_jobs = effective_n_jobs(search.n_jobs)
    with _scores_memory(search.estimator) as memory:
        tasks = _group_tasks(groups, teachers, (X, y), folds, memory, n_jobs)
        tasks += _separate_tasks(inner, candidates, [i for i, _ in separate], X, y, folds)
        found, failed = _run(search, [task for _, task in sorted(tasks, key=lambda t: -t[0])])
    if failed:
        found.update(_separately(search, inner, candidates, failed, X, y, folds))
    fits = _Fits()
    failed_ids = {id(g) for _, g in failed}
    for g in groups:
        for i, _, _ in g["members"]:
            fits.grouped[i] = id(g) not in failed_ids
    keys, fold_keys = [params_key(p) for p in candidates], [fold_key(*r) for r in rows]
    for (i, f), (fitted, seconds) in found.items():
        fits.found[keys[i], fold_keys[f]] = fitted
        fits.seconds[i, f] = seconds
    return fits


def _cost(estimator):
    """A fit's relative cost: the student's steps, from the kept fraction and its epochs."""
    student, _ = split_final(estimator)
    if student.max_steps is not None:
        return float(student.max_steps)
    kept = 1.0
    for _, step in getattr(estimator, "steps", [])[:-1]:
        fraction = getattr(step, "fraction", 1.0) if isinstance(step, BasePruner) else 1.0
        kept *= fraction if isinstance(fraction, float) and fraction <= 1 else 1.0
    return kept * student.max_epochs


def _group_tasks(groups, teachers, data, folds, memory, n_jobs):
    """``(cost, task)`` per group; with several processes, a group larger than its share is split by folds.

    A group is one unit of work: two fractions would otherwise keep two
    processes busy for the time of the larger. Its folds are cut into the
    fewest parts that fit a process's share of the whole.
    """
    costs = [_cost(g["estimator"]) * len(g["members"]) * len(folds) for g in groups]
    share = sum(costs) / n_jobs
    tasks = []
    for group, chosen, cost in zip(groups, teachers, costs):
        parts = 1 if n_jobs == 1 else min(len(folds), math.ceil(cost / share - 1e-9))
        for part in np.array_split(np.arange(len(folds)), parts):
            subset = {int(f): folds[f] for f in part}
            task = delayed(_fit_group_or_none)(group, chosen, *data, subset, memory)
            tasks.append((cost * len(part) / len(folds), task))
    return tasks


def _separately(search, inner, candidates, failed, X, y, folds):
    """The fits of the failed groups' members, fitted separately after one warning."""
    indices = sorted({i for _, g in failed for i, _, _ in g["members"]})
    exc = failed[0][0]
    named = f"{exc.parameter!r}: " if hasattr(exc, "parameter") else ""
    warnings.warn(
        f"DistillationSearchCV fits {len(indices)} candidate(s) separately, not as "
        f"vectorised groups ({named}{exc})",
        UserWarning,
        stacklevel=4,
    )
    tasks = _separate_tasks(inner, candidates, indices, X, y, folds)
    return _run(search, [task for _, task in tasks])[0]


@contextmanager
def _scores_memory(estimator):
    """A temporary cache of the pruners' scores, shared by the groups, unless the pipeline has one.

    Every fraction is a group of its own; a score-based pruner then scores
    each training fold once, not once per fraction.
    """
    steps = getattr(estimator, "steps", None)
    if (
        not steps
        or estimator.memory is not None
        or not any(isinstance(step, BasePruner) for _, step in steps)
    ):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="prunekd-search-") as folder:
        yield folder


def _separate_tasks(inner, candidates, indices, X, y, folds):
    """``(cost, task)`` per separate fit of a candidate on a fold."""
    tasks = []
    for i in indices:
        candidate = clone(inner).set_params(**clone(candidates[i], safe=False))
        candidate = getattr(
            candidate, "estimator", candidate
        )  # inside a per-fold teacher's wrapper
        try:
            cost = _cost(candidate)
        except (AttributeError, TypeError):  # not a student: unknown, the same for all
            cost = 1.0
        tasks += [
            (cost, delayed(_fit_one)(inner, candidates[i], X, y, train, (i, f)))
            for f, train in enumerate(folds)
        ]
    return tasks


def _run(search, tasks):
    """Run the tasks over ``n_jobs`` processes, with a progress bar if asked; their fits, and failed groups."""
    parallel = Parallel(
        n_jobs=search.n_jobs, pre_dispatch=search.pre_dispatch, return_as="generator_unordered"
    )
    found, failed = {}, []
    with tqdm(
        total=len(tasks), desc="groups", unit="group", disable=not search.progress, leave=False
    ) as bar:
        for out in parallel(tasks):
            if isinstance(out, tuple):  # a group that failed, with its exception
                failed.append(out)
            else:
                found.update(out)
            bar.update()
    return found, failed


def _warn(separate):
    reasons = sorted({reason for _, reason in separate})
    for reason in reasons:
        n = sum(r == reason for _, r in separate)
        warnings.warn(
            f"DistillationSearchCV fits {n} candidate(s) separately, not as vectorised groups: "
            f"{reason!r} is set to something a group does not train with ({_WHY.get(reason, '')})",
            UserWarning,
            stacklevel=4,
        )


_WHY = {
    "estimator": "the final step is not a prunekd.DistillationClassifier",
    "module": "a module instance, or one with buffers such as batch norm's",
    "alpha": "alpha='auto' or a value a fit refuses",
    "X": "the student receives a torch Dataset",
    "param_grid": "a searched value that cannot be hashed",
}
