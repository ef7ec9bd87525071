"""What a prunekd Pipeline tells its final step, passed explicitly, through nesting too.

The kept fraction (``train_fraction``) and the teacher's raw rows (``teacher_X``)
travel as fit arguments, not as hidden state, so they reach a student inside a
nested prunekd Pipeline, in joblib and dask workers alike.
"""

import numpy as np
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline as sk_make_pipeline
from sklearn.preprocessing import StandardScaler

import prunekd
from prunekd import DistillationClassifier, RandomPruner
from prunekd.distillation import auto_alpha
from prunekd.models import MLP


@pytest.fixture
def table():
    """Two informative features on very different scales, 200 rows, three classes."""
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 70)[:200]
    X = rng.randn(200, 2) + np.c_[3 * y, -3 * y]
    return (X * [1.0, 100.0] + [0.0, 500.0]).astype(np.float32), y


def _student(teacher, **kwargs):
    return DistillationClassifier(MLP, module__hidden=(8,), teacher=teacher, max_epochs=2,
                                  lr=0.01, optimizer=torch.optim.Adam, verbose=0,
                                  random_state=0, **kwargs)  # fmt: skip


def test_nested_pipeline_passes_the_kept_fraction(table):
    X, y = table
    teacher = LogisticRegression(max_iter=1000).fit(X, y)
    flat = prunekd.make_pipeline(RandomPruner(fraction=0.1, random_state=0), StandardScaler(),
                                 _student(teacher, alpha="auto"), teacher_input="raw").fit(X, y)  # fmt: skip
    nested = prunekd.make_pipeline(
        RandomPruner(fraction=0.1, random_state=0),
        prunekd.make_pipeline(StandardScaler(), _student(teacher, alpha="auto")),
        teacher_input="raw",
    ).fit(X, y)
    assert flat[-1].alpha_ == auto_alpha(0.1) != auto_alpha(1.0)
    assert nested[-1][-1].alpha_ == auto_alpha(0.1)


def test_nested_fractions_multiply(table):
    X, y = table
    teacher = LogisticRegression(max_iter=1000).fit(X, y)
    pipe = prunekd.make_pipeline(
        RandomPruner(fraction=0.5, random_state=0),
        prunekd.make_pipeline(RandomPruner(fraction=0.6, random_state=0), StandardScaler(),
                              _student(teacher, alpha="auto")),
        teacher_input="raw",
    ).fit(X, y)  # fmt: skip
    inner = pipe[-1]
    kept = (pipe.n_samples_final_ / pipe.n_samples_fit_) * (inner.n_samples_final_ / inner.n_samples_fit_)
    assert 0.29 < kept < 0.31
    assert inner[-1].alpha_ == pytest.approx(auto_alpha(kept))


def test_nested_raw_teacher_input_reaches_the_student(table):
    # The teacher reads the kept raw rows although the inner pipeline scales them.
    X, y = table
    seen = []

    class Spy(LogisticRegression):
        def predict_proba(self, X):
            seen.append(np.asarray(X))
            return super().predict_proba(X)

    teacher = Spy(max_iter=1000).fit(X, y)
    pipe = prunekd.make_pipeline(
        RandomPruner(fraction=0.5, random_state=0),
        prunekd.make_pipeline(RandomPruner(fraction=0.5, random_state=1), StandardScaler(),
                              _student(teacher, alpha=0.5)),
        teacher_input="raw",
    ).fit(X, y)  # fmt: skip
    outer_kept = pipe[0].sample_indices_
    inner_kept = pipe[-1][0].sample_indices_
    raw_rows = X[outer_kept][inner_kept]
    assert any(len(s) == len(raw_rows) and np.array_equal(s, raw_rows) for s in seen)
    assert all(s[:, 1].mean() > 100 for s in seen)  # never the scaled rows


@pytest.mark.parametrize("container", ["sklearn-pipeline", "column-transformer"])
def test_alpha_auto_inside_another_container_raises_naming_the_fix(table, container):
    X, y = table
    teacher = LogisticRegression(max_iter=1000).fit(X, y)
    student = _student(teacher, alpha="auto")
    if container == "sklearn-pipeline":
        inner = sk_make_pipeline(StandardScaler(), student)
    else:
        inner = sk_make_pipeline(ColumnTransformer([("s", StandardScaler(), [0, 1])]), student)
    pipe = prunekd.make_pipeline(RandomPruner(fraction=0.2, random_state=0), inner)
    with pytest.raises(ValueError, match="alpha='auto'.*prunekd.Pipeline.*train_fraction"):
        pipe.fit(X, y)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_alpha_auto_in_a_parallel_grid_search(table, n_jobs):
    X, y = table
    teacher = LogisticRegression(max_iter=1000).fit(X, y)
    pipe = prunekd.make_pipeline(
        RandomPruner(random_state=0),
        prunekd.make_pipeline(StandardScaler(), _student(teacher, alpha="auto")),
        teacher_input="raw",
    )
    grid = {"randompruner__fraction": [0.1, 0.5]}
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=n_jobs, refit=True).fit(X, y)
    assert search.best_estimator_[-1][-1].alpha_ == auto_alpha(search.best_params_["randompruner__fraction"])


def test_alpha_auto_under_dask(table):
    distributed = pytest.importorskip("distributed")
    import joblib

    X, y = table
    teacher = LogisticRegression(max_iter=1000).fit(X, y)
    pipe = prunekd.make_pipeline(RandomPruner(random_state=0),
                                 prunekd.make_pipeline(StandardScaler(), _student(teacher, alpha="auto")),
                                 teacher_input="raw")  # fmt: skip
    search = GridSearchCV(pipe, {"randompruner__fraction": [0.1, 0.5]}, cv=2, refit=False)
    with distributed.Client(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None):
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_teacher_X_of_the_wrong_length_is_refused(table):
    X, y = table
    pipe = prunekd.make_pipeline(StandardScaler(), _student(LogisticRegression().fit(X, y), alpha=0.5))
    with pytest.raises(ValueError, match="teacher_X has 10 rows but X has 200"):
        pipe.fit(X, y, teacher_X=X[:10])
