"""The ``device=`` paths end to end: teachers, students, proxies, the sweep.

They run on ``cuda`` and are skipped where there is no CUDA GPU. The
environment variable ``PRUNEKD_TEST_DEVICE`` names another device to run them
on (``cpu`` checks the tests themselves; ``cuda:1`` picks a GPU).
"""

import copy
import os

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from torch.utils.data import Subset

from prunekd import (
    DistillationClassifier,
    EL2NPruner,
    ForgettingPruner,
    GraNdPruner,
    RandomPruner,
    best_alpha_per_fraction,
    cli,
    make_pipeline,
)
from prunekd.models import MLP, SmallCNN
from prunekd.pruning import per_sample_grad_norms
from prunekd.pruning._grand import per_sample_grad_norms_loop

from _helpers import CifarShaped, NoisyDataset, Recording, dtype_probe, majority_rate, make_student

DEVICE = os.environ.get("PRUNEKD_TEST_DEVICE", "cuda")
pytestmark = pytest.mark.skipif(
    DEVICE.startswith("cuda") and not torch.cuda.is_available(),
    reason="needs a CUDA GPU (or PRUNEKD_TEST_DEVICE naming another device)",
)


def _on_device(module):
    return {p.device.type for p in module.parameters()} == {torch.device(DEVICE).type}


def _teacher_parameters(teacher):
    """The teacher's torch parameters, if it has any."""
    module = getattr(teacher, "module_", teacher)
    return list(module.parameters()) if isinstance(module, torch.nn.Module) else []


@pytest.fixture(scope="module")
def subset(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    kept = RandomPruner(fraction=0.3, random_state=0).fit_transform(X_train, y_train)
    return X_train[kept], y_train[kept], X_test, y_test


@pytest.mark.parametrize("cache", [True, False], ids=["cached", "on-the-fly"])
@pytest.mark.parametrize("where", ["teacher-on-cpu", "teacher-on-device", "sklearn-teacher"])
def test_student_on_the_device_learns_as_on_the_cpu(subset, digits_split, digits_teacher, where, cache):
    Xs, ys, X_test, y_test = subset
    if where == "teacher-on-cpu":
        teacher = digits_teacher  # a skorch net fitted on the CPU
    elif where == "teacher-on-device":
        teacher = copy.deepcopy(digits_teacher.module_).to(DEVICE)
    else:
        X_train, y_train = digits_split[0], digits_split[2]
        teacher = LogisticRegression(max_iter=300).fit(X_train.reshape(len(X_train), -1), y_train)
    before = [p.detach().clone() for p in _teacher_parameters(teacher)]
    common = dict(teacher=teacher, alpha=0.5, cache_teacher=cache, max_epochs=40, random_state=0)
    on_device = make_student(device=DEVICE, **common).fit(Xs, ys)
    on_cpu = make_student(device="cpu", **common).fit(Xs, ys)
    assert _on_device(on_device.module_)
    acc_device, acc_cpu = on_device.score(X_test, y_test), on_cpu.score(X_test, y_test)
    assert acc_device > 0.9 and abs(acc_device - acc_cpu) < 0.03, (acc_device, acc_cpu)
    for p, q in zip(_teacher_parameters(teacher), before):
        assert p.device == q.device and torch.equal(p, q)  # not moved, not trained


def test_augmented_dataset_on_the_device_feeds_teacher_and_student_the_same_batches(blobs):
    X, y = blobs
    teacher = Recording(MLP(2, 3, hidden=(8,))).to(DEVICE)
    student = DistillationClassifier(
        Recording, module__module=MLP(2, 3, hidden=(8,)), teacher=teacher, alpha=0.5,
        max_epochs=2, batch_size=16, verbose=0, random_state=0, device=DEVICE,
    ).fit(NoisyDataset(X, y))  # fmt: skip
    seen_by_teacher = teacher.seen[1:]  # after the shape probe
    train_batches = [s for s in student.module_.seen if s.shape[0] in (16, 12)][-8:]
    assert len(seen_by_teacher) == 8
    for t_in, s_in in zip(seen_by_teacher, train_batches):
        assert t_in.device == s_in.device
        torch.testing.assert_close(t_in, s_in, rtol=0, atol=0)


def test_mixed_precision_on_the_device(subset, digits_teacher):
    Xs, ys, X_test, y_test = subset
    Probe, dtypes = dtype_probe(SmallCNN)
    for cache in (True, False):
        dtypes.clear()
        student = DistillationClassifier(
            Probe, module__n_classes=10, teacher=digits_teacher, alpha=0.5, cache_teacher=cache,
            mixed_precision=True, optimizer=torch.optim.Adam, lr=3e-3, batch_size=32,
            max_epochs=40, verbose=0, random_state=0, device=DEVICE,
        ).fit(Xs, ys)  # fmt: skip
        assert set(dtypes) == {torch.bfloat16}
        assert all(p.dtype == torch.float32 for p in student.module_.parameters())
        assert student.score(X_test, y_test) > 0.9


@pytest.mark.parametrize("pruner_class", [EL2NPruner, GraNdPruner, ForgettingPruner])
@pytest.mark.parametrize("mixed_precision", [False, True], ids=["float32", "bfloat16"])
def test_pruners_on_the_device_score_as_on_the_cpu(digits_split, pruner_class, mixed_precision):
    X_train, y_train = digits_split[0], digits_split[2]
    common = dict(fraction=0.3, n_proxies=2, max_epochs=6, random_state=0)
    on_device = pruner_class(device=DEVICE, mixed_precision=mixed_precision, **common)
    on_cpu = pruner_class(device="cpu", **common)
    a = on_device.fit(X_train, y_train).scores_
    b = on_cpu.fit(X_train, y_train).scores_
    assert a.shape == b.shape and np.isfinite(a).all()
    # Same seeds, same batches; only floating-point rounding differs.
    assert np.corrcoef(a, b)[0, 1] > 0.9
    kept_a, kept_b = set(on_device.sample_indices_), set(on_cpu.sample_indices_)
    assert len(kept_a & kept_b) / len(kept_a | kept_b) > 0.6


def test_batched_grand_matches_the_loop_on_the_device(digits_split):
    X, y = digits_split[0][:96], digits_split[2][:96]
    torch.manual_seed(0)
    module = SmallCNN(n_classes=10).to(DEVICE)
    batched = per_sample_grad_norms(module, X, y, batch_size=32)
    np.testing.assert_allclose(batched, per_sample_grad_norms_loop(module, X, y), rtol=1e-3)


def test_cifar_shaped_search_on_the_device():
    from skorch.helper import SliceDataset

    from prunekd.models import ResNetCIFAR

    ds = CifarShaped()
    y = np.array(ds.targets)
    teacher = DistillationClassifier(
        ResNetCIFAR, module__depth=8, module__width=8, alpha=0.0, optimizer=torch.optim.Adam,
        lr=3e-3, max_epochs=4, batch_size=64, verbose=0, random_state=0, device=DEVICE,
    ).fit(ds)  # fmt: skip
    pipe = make_pipeline(
        EL2NPruner(n_proxies=1, max_epochs=1, random_state=0, device=DEVICE),
        DistillationClassifier(SmallCNN, module__in_channels=3, module__width=8, teacher=teacher,
                               optimizer=torch.optim.Adam, lr=3e-3, max_epochs=8, batch_size=32,
                               verbose=0, random_state=0, device=DEVICE, mixed_precision=True),
    )  # fmt: skip
    # The scores read augmented validation folds, drawn from torch's global generator.
    torch.manual_seed(0)
    search = GridSearchCV(
        pipe, {"el2npruner__fraction": [0.3, 0.6], "distillationclassifier__alpha": [0.0, 0.7]},
        cv=2,
    ).fit(SliceDataset(ds), y)  # fmt: skip
    # on the CPU: 0.46 at f = 0.3 and 0.93 at f = 0.6; always the majority class: 0.135
    assert np.all(best_alpha_per_fraction(search).mean_test_score > majority_rate(y) + 0.1)
    student = search.best_estimator_[-1]
    assert _on_device(student.module_)
    assert student.score(Subset(ds, range(100)), y[:100]) > majority_rate(y[:100]) + 0.1


def test_sweep_on_the_device(tmp_path, monkeypatch):
    from prunekd._skorch import _Classifier

    devices = set()
    original = _Classifier.train_step_single

    def recording(self, batch, **fit_params):
        devices.add(next(self.module_.parameters()).device.type)
        return original(self, batch, **fit_params)

    monkeypatch.setattr(_Classifier, "train_step_single", recording)
    out = str(tmp_path / "out")
    args = [
        # craig_teacher: a weighted member in the device's vectorised group
        "--out", out, "--pruners", "random,el2n,grand,forgetting,craig_teacher",
        "--fractions", "0.3,1.0",
        "--alphas", "1.0", "--seeds", "0", "--epochs", "10", "--budget-scales", "none",
        "--teacher-epochs", "10",
        "--n-proxies", "1", "--proxy-epochs", "2", "--jobs", "1", "--no-progress",
        "--device", DEVICE, "--mixed-precision",
    ]  # fmt: skip
    assert cli.main(args) == 0
    assert devices == {torch.device(DEVICE).type}
    summary = open(os.path.join(out, "summary.md")).read()
    assert "| Random |" in summary
