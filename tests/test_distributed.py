"""GridSearchCV and DistillationSearchCV over a prunekd Pipeline on a local dask.distributed cluster.

One test, one cluster of two worker processes: starting several clusters at
once on a 2-core machine only makes the suite slow and fragile. The life of a
shared teacher's reference is tested with an in-process stand-in for the client.
"""

import joblib
import pytest
import numpy as np
import torch
from distributed import Client, LocalCluster
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from prunekd import (DistillationClassifier, DistillationSearchCV, EL2NPruner, RandomPruner,
                     make_pipeline)  # fmt: skip
from prunekd.models import MLP
from prunekd.parallel import _SharedTeacher, shared_key, shared_teachers

PICKLED = []


class CountingTeacher(LogisticRegression):
    """Counts how often it is pickled in this process."""

    def __getstate__(self):
        PICKLED.append(1)
        return super().__getstate__()


class CountFits(Callback):
    """Appends a line to ``path`` whenever a proxy starts training, in any process."""

    def __init__(self, path):
        self.path = path

    def on_train_begin(self, net, **kwargs):
        with open(self.path, "a") as f:
            f.write("fit\n")


def _resolve_in_worker(key):
    try:
        return type(_SharedTeacher(key).resolve()).__name__
    except RuntimeError:
        return None


def test_dask_grid_search_matches_serial_and_shares_the_teacher(blobs, tmp_path):
    X, y = blobs
    log = tmp_path / "fits.log"
    proxy = NeuralNetClassifier(MLP, module__n_features=2, module__n_classes=3,
                                criterion=torch.nn.CrossEntropyLoss, max_epochs=1,
                                train_split=None, verbose=0, callbacks=[CountFits(str(log))])
    scored = make_pipeline(EL2NPruner(estimator=proxy, n_proxies=1, random_state=0),
                           LogisticRegression(), memory=str(tmp_path / "cache"))
    fractions = {"el2npruner__fraction": [0.2, 0.4, 0.6, 0.8]}  # fmt: skip
    teacher = CountingTeacher().fit(X, y)
    pipe = make_pipeline(
        RandomPruner(random_state=0),
        DistillationClassifier(MLP, module__n_features=2, module__n_classes=3, module__hidden=(8,),
                               teacher=teacher, optimizer=torch.optim.Adam, lr=0.05,
                               max_epochs=10, batch_size=8, verbose=0, random_state=0),
    )  # fmt: skip
    grid = {"randompruner__fraction": [0.2, 0.6], "distillationclassifier__alpha": [0.0, 0.8]}
    serial = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:  # fmt: skip
        assert len(client.scheduler_info()["workers"]) == 2
        with joblib.parallel_config(backend="dask"):
            PICKLED.clear()
            distributed = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)
            per_candidate = len(PICKLED)
            grouped = DistillationSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)
            PICKLED.clear()
            with shared_teachers(teacher):
                shared = GridSearchCV(pipe, grid, cv=3, n_jobs=-1, refit=False).fit(X, y)
            once = len(PICKLED)
            GridSearchCV(scored, fractions, cv=3, n_jobs=-1, refit=False).fit(X, y)
            proxy_fits = len(log.read_text().splitlines())
            # each worker process held its own copy during the block, and none after
            with shared_teachers(teacher):
                key = shared_key(teacher)
                held = client.run(_resolve_in_worker, key)
            after = client.run(_resolve_in_worker, key)
    # same search, same results, wherever it runs
    assert distributed.best_params_ == serial.best_params_
    for search in (distributed, shared):
        np.testing.assert_allclose(
            search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
        )
    assert distributed.best_estimator_[-1].teacher is teacher  # refit in this process
    # the vectorised groups, spread over the workers: GridSearchCV's scores up to a flipped row
    assert grouped.grouped_.all() and grouped.best_params_ == serial.best_params_
    np.testing.assert_allclose(grouped.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"], atol=0.02)  # fmt: skip
    # without sharing the teacher travels with every task; shared, once per worker
    assert per_candidate >= 12  # 4 candidates x 3 folds
    assert once <= 2  # to the two workers, once each
    assert list(held.values()) == ["CountingTeacher"] * 2
    assert list(after.values()) == [None, None]
    assert proxy_fits == 3  # 4 fractions x 3 folds, scored once per fold across the workers


class _InProcessClient:
    """Stands in for a dask client: ``run`` calls the function here, as one worker."""

    def run(self, function, *args):
        return {"here": function(*args)}


def test_a_student_pickled_inside_the_block_holds_only_a_reference(blobs):
    import pickle

    X, y = blobs
    teacher = LogisticRegression().fit(X, y)
    student = DistillationClassifier(
        MLP, module__n_features=2, module__n_classes=3, teacher=teacher, max_epochs=1, verbose=0,
    )  # fmt: skip
    with shared_teachers(teacher, client=_InProcessClient()):
        payload = pickle.dumps(student)
        inside = pickle.loads(payload)
        assert isinstance(inside.teacher, _SharedTeacher)
        inside.fit(X, y)  # resolves to the original teacher
        assert inside.teacher_.estimator is teacher
    assert len(pickle.dumps(student)) > len(payload)  # the teacher travels again
    with pytest.raises(RuntimeError, match="holds only a reference"):
        pickle.loads(payload).fit(X, y)
