"""Which fraction and alpha to use on your own data: a cross-validated search, and its cost."""

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from .._rows import take
from ..model_selection import (
    DistillationSearchCV,
    best_alpha_per_fraction,
    smallest_fraction_within,
)
from ._build import prepare
from ._load import check_labels

DEFAULT_FRACTIONS = (0.1, 0.2, 0.3, 0.5, 1.0)
DEFAULT_ALPHAS = (0.0, 0.5, 0.9)


@dataclass
class Recommendation:
    """The smallest kept fraction within ``tolerance`` of the best CV accuracy, and its alpha.

    Attributes
    ----------
    fraction, alpha : float
        The recommendation.
    cv_accuracy : float
        Its mean cross-validated accuracy.
    test_accuracy, full_data_test_accuracy : float
        On the held-out rows: the recommended student refitted on all the
        training rows, and a student on all of them without KD.
    table : list of dict
        Per fraction: ``fraction``, ``best_alpha``, ``cv_accuracy``,
        ``cv_std``, ``student_cost`` (samples processed relative to one
        full-data student: the fraction, at a fixed number of epochs) and
        ``fit_seconds`` (mean over the folds).
    teacher_seconds, search_seconds : float
        Wall time of the teachers' fits and of the search (which includes
        them when there is a teacher per fold).
    teacher_fits : int
        Teachers fitted: one per CV fold and one for the refit, or one.
    search : DistillationSearchCV
        The fitted search, refitted at the recommendation.
    """

    fraction: float
    alpha: float
    cv_accuracy: float
    test_accuracy: float
    full_data_test_accuracy: float
    table: list
    teacher_seconds: float
    search_seconds: float
    tolerance: float
    n_train: int
    n_test: int
    teacher_fits: int = 1
    search: object = field(repr=False, default=None)

    def to_markdown(self):
        """The table and the recommendation, as Markdown."""
        lines = [
            "| fraction | best alpha | CV accuracy (%) | student cost (x full data) | fit s |",
            "|---|---|---|---|---|",
        ]
        for row in self.table:
            lines.append(
                f"| {row['fraction']:g} | {row['best_alpha']:g} | {100 * row['cv_accuracy']:.1f}"
                f" ± {100 * row['cv_std']:.1f} | {row['student_cost']:.2f} | "
                f"{row['fit_seconds']:.1f} |"
            )
        lines += [
            "",
            f"Recommended: fraction={self.fraction:g}, alpha={self.alpha:g}, the smallest "
            f"fraction within {100 * self.tolerance:g} point(s) of the best CV accuracy. On "
            f"{self.n_test} held-out rows: {100 * self.test_accuracy:.1f}% (all "
            f"{self.n_train} training rows without KD: {100 * self.full_data_test_accuracy:.1f}%).",
            self._teacher_line(),
        ]
        return "\n".join(lines)

    def _teacher_line(self):
        if self.teacher_fits > 1:
            return (
                f"Teachers: one per CV fold, none of which saw the fold it was scored on, and one "
                f"on all training rows for the refit ({self.teacher_fits} fits, "
                f"{self.teacher_seconds:.1f} s); search {self.search_seconds:.0f} s, teachers included."
            )
        return (
            f"Teacher fit {self.teacher_seconds:.1f} s (once; it saw every CV fold, so the CV "
            f"accuracies of KD students are optimistic); search {self.search_seconds:.0f} s."
        )

    def __str__(self):
        return self.to_markdown()


def _table(search, names):
    best = best_alpha_per_fraction(search)
    results = search.cv_results_
    param, alpha_param = names["fraction"], names["alpha"]
    table = []
    for f, a, m, s in zip(
        best.fraction, best.best_alpha, best.mean_test_score, best.std_test_score
    ):
        i = next(
            i for i, p in enumerate(results["params"]) if p[param] == f and p[alpha_param] == a
        )
        table.append(
            dict(
                fraction=float(f),
                best_alpha=float(a),
                cv_accuracy=float(m),
                cv_std=float(s),
                student_cost=float(f),
                fit_seconds=float(results["mean_fit_time"][i]),
            )
        )
    return table


def _search(pipe, names, fractions, alphas, cv, tolerance, random_state, n_jobs):
    """The fraction x alpha search, refitting the smallest fraction within ``tolerance``."""
    return DistillationSearchCV(
        pipe,
        {names["fraction"]: list(fractions), names["alpha"]: list(alphas)},
        cv=StratifiedKFold(cv, shuffle=True, random_state=random_state),
        refit=smallest_fraction_within(tolerance),
        n_jobs=n_jobs,
        error_score="raise",
    )


def recommend(
    X,
    y,
    *,
    fractions=DEFAULT_FRACTIONS,
    alphas=DEFAULT_ALPHAS,
    tolerance=0.01,
    cv=3,
    test_size=0.2,
    max_epochs=None,
    random_state=0,
    n_jobs=None,
    progress=False,
    teacher_per_fold=True,
):
    """Search kept fraction x alpha on your data; recommend the cheapest that keeps accuracy.

    A table (DataFrame or 2-D array) gets a gradient-boosting teacher on the
    raw columns and an MLP student behind imputation, standardisation and
    one-hot encoding; images (``(n, H, W)`` or ``(n, C, H, W)`` arrays) a
    wide small CNN teacher and a small CNN student. Random pruning, every
    student trained ``max_epochs`` epochs over its kept rows (30 by default),
    so its cost is proportional to its fraction.

    Parameters
    ----------
    X : DataFrame or array-like
    y : array-like of shape (n_samples,)
    fractions, alphas : sequence of float
        The grid (alpha 0 is plain training).
    tolerance : float, default=0.01
        How much CV accuracy the recommendation may give up.
    cv : int, default=3
        Stratified folds.
    test_size : float, default=0.2
        Rows held out to report the recommendation's accuracy.
    max_epochs : int or None
        Epochs of the student and the (CNN) teacher; None: 30.
    random_state : int, default=0
    n_jobs : int or None
        Parallel search candidates.
    progress : bool, default=False
        Show a progress bar over the search's groups, with the time left.
    teacher_per_fold : bool, default=True
        Fit a teacher on each CV training fold, so that no teacher has seen
        the fold its students are scored on (one teacher fit per fold more).
        False fits one teacher on all the training rows, which has seen every
        fold: the CV accuracies of KD students are then optimistic, and the
        search may choose KD where it does not help.

    Returns
    -------
    Recommendation

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from prunekd.tuning import recommend
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> rec = recommend(X, y, fractions=(0.3, 1.0), alphas=(0.0, 0.5), max_epochs=5)
    >>> rec.fraction in (0.3, 1.0), len(rec.table)
    (True, 2)
    """
    y = check_labels(np.asarray(y), len(X), min_per_class=max(cv, 2) + 1)
    X, teacher, build = prepare(X, y, random_state, max_epochs)
    idx_train, idx_test = train_test_split(
        np.arange(len(y)), test_size=test_size, stratify=y, random_state=random_state
    )
    X_train, X_test = take(X, idx_train), take(X, idx_test)
    y_train, y_test = y[idx_train], y[idx_test]
    start = time.perf_counter()
    if not teacher_per_fold:
        teacher.fit(X_train, y_train)
    teacher_seconds = time.perf_counter() - start
    pipe = build(teacher)
    names = {"fraction": f"{pipe.steps[-2][0]}__fraction", "alpha": f"{pipe.steps[-1][0]}__alpha"}
    search = _search(pipe, names, fractions, alphas, cv, tolerance, random_state, n_jobs)
    search.set_params(progress=progress, teacher_per_fold=teacher_per_fold)
    start = time.perf_counter()
    search.fit(X_train, y_train)
    search_seconds = time.perf_counter() - start
    best = search.best_params_
    if teacher_per_fold:  # the refit's teacher, fitted on all the training rows
        teacher = search.best_estimator_.steps[-1][1].teacher
        teacher_seconds = search.teacher_fit_seconds_
    full = build(teacher).set_params(**{names["fraction"]: 1.0, names["alpha"]: 0.0})
    return Recommendation(
        fraction=best[names["fraction"]],
        alpha=best[names["alpha"]],
        cv_accuracy=float(search.cv_results_["mean_test_score"][search.best_index_]),
        test_accuracy=float(search.score(X_test, y_test)),
        full_data_test_accuracy=float(full.fit(X_train, y_train).score(X_test, y_test)),
        table=_table(search, names),
        teacher_seconds=teacher_seconds,
        search_seconds=search_seconds,
        tolerance=tolerance,
        n_train=len(y_train),
        n_test=len(y_test),
        teacher_fits=search.teacher_fits_ if teacher_per_fold else 1,
        search=search,
    )
