"""Teacher outputs computed once, stored memory-mapped, and served to students."""

import os
import pickle

import numpy as np
import pytest
import torch

from prunekd import DistillationClassifier
from prunekd.datasets import load_digits
from prunekd.distillation import TeacherOutputs
from prunekd.distillation._loss import teacher_log_probs
from prunekd.distillation._targets import _WithStoredLogits
from prunekd.models import MLP


@pytest.fixture(scope="module")
def digits_teacher():
    X, y = load_digits()
    X = X.reshape(len(X), -1)
    teacher = DistillationClassifier(MLP, alpha=0, max_epochs=5, lr=1e-2,
                                     optimizer=torch.optim.Adam, random_state=0,
                                     verbose=0).fit(X, y)  # fmt: skip
    return X, y, teacher


def _student(teacher, **params):
    params = {**dict(alpha=0.5, max_epochs=3, lr=1e-2, optimizer=torch.optim.Adam,
                     random_state=0, verbose=0), **params}  # fmt: skip
    return DistillationClassifier(MLP, teacher=teacher, **params)


def _weights(net):
    return torch.cat([p.detach().flatten() for p in net.module_.parameters()])


@pytest.mark.parametrize("cache_teacher", [True, False])
def test_stored_outputs_train_the_student_the_live_teacher_trains(digits_teacher, tmp_path,
                                                                  cache_teacher):  # fmt: skip
    X, y, teacher = digits_teacher
    stored = TeacherOutputs.compute(teacher, X, tmp_path / "outputs", y=y)
    np.testing.assert_allclose(stored.logits, teacher.forward(X.astype(np.float32)).numpy(),
                               atol=1e-6)  # fmt: skip
    # a pruned, shuffled subset finds its rows
    rows = np.random.RandomState(0).permutation(len(X))[:400]
    live = _student(teacher, cache_teacher=cache_teacher).fit(X[rows], y[rows])
    # a later run: the outputs reopened from their folder
    later = _student(TeacherOutputs(tmp_path / "outputs"), cache_teacher=cache_teacher)
    later.fit(X[rows], y[rows])
    torch.testing.assert_close(_weights(later), _weights(live), rtol=0, atol=1e-6)


def test_stored_outputs_refuse_other_data_before_training(digits_teacher, tmp_path):
    X, y, teacher = digits_teacher
    stored = TeacherOutputs.compute(teacher, X[:1000], tmp_path / "outputs", y=y[:1000])
    student = _student(stored)
    with pytest.raises(ValueError, match=r"797 of the 1797 rows .* not in the teacher outputs"):
        student.fit(X, y)
    assert not student.initialized_
    with pytest.raises(ValueError, match="not in the teacher outputs"):
        _student(stored).fit(X[:1000] * 0.5, y[:1000])  # other preprocessing
    with pytest.raises(FileNotFoundError, match="TeacherOutputs.compute"):
        TeacherOutputs(tmp_path / "nothing")
    with pytest.raises(ValueError, match="dtype must be one of"):
        TeacherOutputs.compute(teacher, X, tmp_path / "other", dtype="int8")


def test_float16_outputs_take_half_the_disk(digits_teacher, tmp_path):
    X, y, teacher = digits_teacher
    full = TeacherOutputs.compute(teacher, X, tmp_path / "f32", y=y)
    half = TeacherOutputs.compute(teacher, X, tmp_path / "f16", y=y, dtype="float16")
    size = lambda o: os.path.getsize(os.path.join(o.path, "logits.npy"))  # noqa: E731
    assert size(half) - 128 == (size(full) - 128) // 2  # 128: the .npy header
    np.testing.assert_allclose(half.logits.astype(np.float32), full.logits, rtol=1e-3, atol=1e-3)
    assert half.fingerprint == full.fingerprint  # the same dataset
    student = _student(half).fit(X, y)
    assert student.score(X, y) > 0.8


def test_stored_outputs_pickle_as_their_path(digits_teacher, tmp_path):
    X, y, teacher = digits_teacher
    stored = TeacherOutputs.compute(teacher, X[:50], tmp_path / "outputs", y=y[:50])
    data = pickle.dumps(stored)
    assert len(data) < 1000  # the path, not the logits
    again = pickle.loads(data)
    assert isinstance(again.logits, np.memmap)
    np.testing.assert_array_equal(again.logits, stored.logits)


class _Digits(torch.utils.data.Dataset):
    """Digits as a Dataset with labels in ``targets``, optionally with noise augmentation."""

    def __init__(self, X, y, noise=0.0):
        self.X, self.targets, self.noise = torch.as_tensor(X), torch.as_tensor(y), noise

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        x = self.X[i]
        if self.noise:
            x = x + self.noise * torch.randn_like(x)
        return x, self.targets[i]


def test_augmented_datasets_get_the_outputs_of_their_clean_samples(digits_teacher, tmp_path):
    X, y, teacher = digits_teacher
    X = X.astype(np.float32)
    stored = TeacherOutputs.compute(teacher, _Digits(X, y), tmp_path / "outputs")
    augmented = _Digits(X, y, noise=0.1)
    subset = torch.utils.data.Subset(augmented, [5, 700, 3])
    positions = stored.positions(subset)
    assert positions.tolist() == [5, 700, 3]
    wrapped = _WithStoredLogits(subset, stored, positions, None, 4.0, torch.float32)
    x, target = wrapped[1]
    assert not torch.equal(x, torch.as_tensor(X[700]))  # the student sees the augmented view
    clean = teacher_log_probs(torch.as_tensor(teacher.forward(X[700:701]).numpy()), 4.0)[0]
    torch.testing.assert_close(target, torch.cat([torch.tensor([float(y[700])]), clean]),
                               atol=1e-6, rtol=0)  # fmt: skip
    student = _student(stored, max_epochs=4, module__n_features=64).fit(augmented)
    assert student.score(X, y) > 0.8
    with pytest.raises(ValueError, match="has 100 samples but the teacher outputs"):
        _student(stored, module__n_features=64).fit(_Digits(X[:100], y[:100]))
    with pytest.raises(ValueError, match="labels differ"):
        _student(stored, module__n_features=64).fit(_Digits(X, np.roll(y, 1)))
