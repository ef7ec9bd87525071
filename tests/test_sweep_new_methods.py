"""The sweep's weighted coresets and DeepFool: what the students train with, what scoring cost."""

import csv
import os

import numpy as np
import pytest

from prunekd.distillation import _group
from prunekd.experiments import SweepConfig, _sweep
from prunekd.experiments._cost import _flops, forward_flops
from prunekd.models import SmallCNN

CONFIG = {
    "fractions": (0.2,),
    "alphas": (1.0,),
    "seeds": (0,),
    "capacity_alpha": 1.0,
    "model": "mlp",
    "width": 8,
    "steps": 30,
    "teacher_epochs": 3,
    "n_proxies": 1,
    "proxy_epochs": 1,
    "teacher_widths": {"equal": 8},
}


def _rows(out):
    with open(os.path.join(out, "results.csv"), newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("one_at_a_time", [False, True])
def test_weighted_coresets_train_their_students_with_the_pruners_weights(tmp_path, monkeypatch,
                                                                         one_at_a_time):  # fmt: skip
    if one_at_a_time:  # as networks with buffers (batch norm) train: every run its own group
        monkeypatch.setattr(_sweep, "_members", lambda module, kwargs, n: [[k] for k in range(n)])
    config = SweepConfig(pruners=("random", "craig_teacher", "gradmatch_teacher"), **CONFIG)
    seen, fit = [], _group._StudentGroup.fit

    def spy(self, X, y, rows, teacher_log_p=None, weights=None):
        seen.extend(zip(rows, weights or [None] * len(rows)))  # (rows, weights) of every member
        return fit(self, X, y, rows, teacher_log_p, weights)

    monkeypatch.setattr(_group._StudentGroup, "fit", spy)
    teachers = {}
    fit_teacher = _sweep._fit_teacher

    def keep_teacher(config, data, name, width, keep=False):
        result = fit_teacher(config, data, name, width, keep)
        teachers[data["seed"]] = result[-1]
        return result

    monkeypatch.setattr(_sweep, "_fit_teacher", keep_teacher)
    _sweep.run_sweep(config, str(tmp_path), progress=False)
    data = _sweep.seed_data(config, *__import__("prunekd").datasets.load_digits(), 0)
    weighted = [(r, w) for r, w in seen if w is not None]
    assert len(weighted) == 4  # CRAIG and GradMatch, with and without KD
    for name in ("craig_teacher", "gradmatch_teacher"):
        pruner = _sweep.make_pruner(config, name, 0, teacher=teachers[0]).set_params(fraction=0.2)
        kept = pruner.fit_transform(data["X_train"], data["y_train"])
        matching = [np.array_equal(r, kept) and np.allclose(w, pruner.sample_weight_)
                    for r, w in weighted]  # fmt: skip
        assert sum(matching) == 2  # its runs with and without KD
        assert not np.allclose(pruner.sample_weight_, 1.0)
    assert {r["pruner"] for r in _rows(str(tmp_path))} == set(config.pruners)


def test_deepfool_costs_its_proxies_training_and_its_deepfool_work(tmp_path):
    config = SweepConfig(pruners=("random", "deepfool"), **CONFIG)
    _sweep.run_sweep(config, str(tmp_path), progress=False)
    rows = [r for r in _rows(str(tmp_path)) if r["pruner"] == "deepfool"]
    data = _sweep.seed_data(config, *__import__("prunekd").datasets.load_digits(), 0)
    pruner = _sweep.make_pruner(config, "deepfool", 0).fit(data["X_train"], data["y_train"])
    n_train = len(data["y_train"])
    proxy = _flops(SmallCNN, {"module__n_classes": 10}, (1, 8, 8))
    student = forward_flops(SweepConfig(model="mlp"), 10, (1, 8, 8), 8)
    # one proxy epoch over the training rows, then DeepFool's passes, at the proxy's size
    expected = (n_train + pruner.scoring_passes_) * proxy / student
    assert pruner.scoring_passes_ > n_train  # a forward pass per row, then the steps
    assert len(rows) == 2
    assert [float(r["pruner_samples"]) for r in rows] == pytest.approx([expected] * 2)
