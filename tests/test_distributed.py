"""GridSearchCV over a prunekd Pipeline on a local dask.distributed cluster."""

import joblib
import numpy as np
import torch
from distributed import Client, LocalCluster
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from prunekd import DistillationClassifier, RandomPruner, make_pipeline
from prunekd.models import MLP


def test_dask_grid_search_matches_the_serial_one(blobs):
    X, y = blobs
    teacher = LogisticRegression().fit(X, y)
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
            distributed = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)
    assert distributed.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        distributed.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert distributed.best_estimator_[-1].teacher is teacher  # refit in this process
