"""Dataset inputs: labels without decoding, augmentation seen identically by teacher
and student, and torchvision loading from tiny files in the real on-disk formats."""

import os
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from prunekd import DistillationClassifier
from prunekd.datasets import dataset_labels, load_torchvision_arrays, load_torchvision_dataset
from prunekd.models import MLP

from _helpers import CifarShaped, NoisyDataset, Recording, majority_rate


def test_labels_are_read_without_decoding(blobs):
    X, y = blobs
    ds = NoisyDataset(X, y)
    assert dataset_labels(ds).tolist() == y.tolist()
    assert dataset_labels(Subset(ds, [5, 0, 40])).tolist() == [y[5], y[0], y[40]]
    assert ds.decoded == 0
    assert dataset_labels(TensorDataset(torch.zeros(3, 1), torch.tensor([2, 0, 1]))).tolist() == [2, 0, 1]


def test_teacher_and_student_see_the_same_augmented_batches(blobs):
    X, y = blobs
    teacher = Recording(MLP(2, 3, hidden=(8,)))
    student = DistillationClassifier(
        Recording, module__module=MLP(2, 3, hidden=(8,)), teacher=teacher, alpha=0.5,
        max_epochs=2, batch_size=16, verbose=0, random_state=0,
    )  # fmt: skip
    ds = NoisyDataset(X, y)
    student.fit(ds)  # labels from ds.targets
    seen_by_student = student.module_.seen
    # the teacher's first call is the shape probe; then one call per training batch
    seen_by_teacher = teacher.seen[1:]
    assert len(seen_by_teacher) == 2 * 4
    train_batches = [s for s in seen_by_student if s.shape[0] in (16, 12)][-8:]
    for t_in, s_in in zip(seen_by_teacher, train_batches):
        torch.testing.assert_close(t_in, s_in, rtol=0, atol=0)
    # and the batches really were augmented: two epochs saw different tensors
    assert not torch.equal(seen_by_teacher[0].sort(0).values, seen_by_teacher[4].sort(0).values)


def test_dataset_labels_must_be_class_indices(blobs):
    X, y = blobs
    student = DistillationClassifier(MLP, module__n_features=2, module__n_classes=3, alpha=0.0,
                                     max_epochs=1, verbose=0)  # fmt: skip
    with pytest.raises(ValueError, match="0..n_classes-1"):
        student.fit(NoisyDataset(X, y + 5))


# --------------------------------------------------------- torchvision formats


def _write_cifar(root, n_train=20, n_test=10, n_classes=10, hundred=False):
    rng = np.random.RandomState(0)
    folder = os.path.join(root, "cifar-100-python" if hundred else "cifar-10-batches-py")
    os.makedirs(folder)
    key = "fine_labels" if hundred else "labels"

    def batch(n):
        return {"data": rng.randint(0, 256, (n, 3072), dtype=np.uint8),
                key: rng.randint(0, n_classes, n).tolist()}  # fmt: skip

    if hundred:
        files = {"train": batch(n_train), "test": batch(n_test)}
        meta = {"fine_label_names": [f"c{i}" for i in range(n_classes)]}
        files["meta"] = meta
    else:
        files = {f"data_batch_{i}": batch(n_train // 5) for i in range(1, 6)}
        files["test_batch"] = batch(n_test)
        files["batches.meta"] = {"label_names": [f"c{i}" for i in range(n_classes)]}
    for name, content in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(content, f)
    return files


def _write_svhn(root, n=12):
    from scipy.io import savemat

    rng = np.random.RandomState(0)
    labels = rng.randint(1, 11, (n, 1))  # SVHN stores digit 0 as label 10
    savemat(os.path.join(root, "train_32x32.mat"),
            {"X": rng.randint(0, 256, (32, 32, 3, n), dtype=np.uint8), "y": labels})  # fmt: skip
    return labels.ravel() % 10


@pytest.fixture
def no_checksums(monkeypatch):
    """The tiny files cannot match torchvision's checksums of the real ones."""
    from torchvision import datasets
    from torchvision.datasets import cifar

    for cls in (datasets.CIFAR10, datasets.CIFAR100, datasets.SVHN):
        monkeypatch.setattr(cls, "_check_integrity", lambda self: True)
    monkeypatch.setattr(cifar, "check_integrity", lambda *args, **kwargs: True)


def test_cifar10_from_its_on_disk_format(tmp_path, no_checksums):
    files = _write_cifar(str(tmp_path))
    X, y = load_torchvision_arrays("cifar10", str(tmp_path), "train")
    assert X.shape == (20, 3, 32, 32) and X.dtype == np.float32
    expected = sum((files[f"data_batch_{i}"]["labels"] for i in range(1, 6)), [])
    assert y.tolist() == expected
    first = files["data_batch_1"]["data"][0].reshape(3, 32, 32) / 255.0
    mean, std = np.array([0.4914, 0.4822, 0.4465]), np.array([0.2470, 0.2435, 0.2616])
    np.testing.assert_allclose(X[0], (first - mean[:, None, None]) / std[:, None, None], atol=1e-5)
    train = load_torchvision_dataset("cifar10", str(tmp_path), "train")
    image, label = train[0]
    assert image.shape == (3, 32, 32) and label == expected[0]
    assert dataset_labels(train).tolist() == expected
    Xt, yt = load_torchvision_arrays("cifar10", str(tmp_path), "test")
    assert Xt.shape == (10, 3, 32, 32) and yt.tolist() == files["test_batch"]["labels"]


def test_cifar100_and_svhn_from_their_on_disk_formats(tmp_path, no_checksums):
    files = _write_cifar(str(tmp_path), n_classes=100, hundred=True)
    X, y = load_torchvision_arrays("cifar100", str(tmp_path), "test")
    assert X.shape == (10, 3, 32, 32) and y.tolist() == files["test"]["fine_labels"]
    labels = _write_svhn(str(tmp_path))
    X, y = load_torchvision_arrays("svhn", str(tmp_path), "train")
    assert X.shape == (12, 3, 32, 32) and y.tolist() == labels.tolist()
    ds = load_torchvision_dataset("svhn", str(tmp_path), "train")
    assert dataset_labels(ds).tolist() == labels.tolist() and ds[0][0].shape == (3, 32, 32)


def test_bad_dataset_names(tmp_path):
    with pytest.raises(ValueError, match="name must be one of"):
        load_torchvision_arrays("imagenet", str(tmp_path))
    with pytest.raises(ValueError, match="split must be"):
        load_torchvision_dataset("cifar10", str(tmp_path), "valid")


# --------------------------------------------------------- pruners on Datasets


def test_pruners_on_a_dataset_match_pruners_on_its_arrays(blobs):
    from prunekd import EL2NPruner, GraNdPruner, RandomPruner

    X, y = blobs
    ds = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    for pruner in (
        RandomPruner(fraction=0.3, random_state=0),
        EL2NPruner(fraction=0.3, n_proxies=1, max_epochs=3, random_state=0),
        GraNdPruner(fraction=0.3, n_proxies=1, max_epochs=3, batch_size=7, random_state=0),
    ):
        on_arrays = pruner.fit(X, y).scores_
        on_dataset = pruner.fit(ds).scores_  # labels read from the dataset
        np.testing.assert_allclose(on_dataset, on_arrays, rtol=1e-5)
        assert pruner.transform(ds).tolist() == pruner.sample_indices_.tolist()
        with pytest.raises(ValueError, match="only accepts the X"):
            pruner.transform(TensorDataset(torch.as_tensor(X[::-1].copy()), torch.as_tensor(y)))


@pytest.mark.parametrize("name", ["EL2NPruner", "ContextualDiversityPruner"])
def test_a_pruners_random_state_fixes_the_augmentation_of_its_scoring_passes(blobs, name):
    """A Dataset that augments at every access draws from torch's generator in
    the scoring (and embedding) passes; random_state fixes those draws, whatever
    state the caller left the generator in, and leaves that state as it was."""
    import prunekd

    X, y = blobs
    params = dict(fraction=0.3, n_proxies=1, max_epochs=2)
    if name == "ContextualDiversityPruner":
        params = dict(fraction=0.3, model=MLP(2, 3, hidden=(8,)).eval())
    fits = []
    for state in (0, 1):
        torch.manual_seed(state)
        pruner = getattr(prunekd, name)(random_state=0, **params).fit(NoisyDataset(X, y))
        fits.append((pruner.scores_, pruner.sample_indices_, torch.rand(1)))
    np.testing.assert_array_equal(fits[0][0], fits[1][0])
    assert fits[0][1].tolist() == fits[1][1].tolist()
    torch.manual_seed(1)
    assert torch.equal(fits[1][2], torch.rand(1))  # the caller's stream is untouched
    # random_state=None keeps torch's generator: the draws then follow the caller's state
    unseeded = [
        getattr(prunekd, name)(random_state=None, **params).fit(NoisyDataset(X, y)).scores_
        for _ in range(2)
    ]
    assert not np.array_equal(*unseeded)


def test_cifar_shaped_grid_search_with_augmented_dataset_el2n_and_resnet_teacher():
    """Dataset input + random crop/flip + EL2N pruning + KD from a CIFAR ResNet, in GridSearchCV."""
    from skorch.helper import SliceDataset
    from sklearn.model_selection import GridSearchCV

    from prunekd import EL2NPruner, best_alpha_per_fraction, make_pipeline
    from prunekd.models import ResNetCIFAR, SmallCNN

    torch.manual_seed(0)
    ds = CifarShaped()
    y = np.array(ds.targets)
    teacher = DistillationClassifier(
        ResNetCIFAR, module__depth=8, module__width=8, alpha=0.0, optimizer=torch.optim.Adam,
        lr=3e-3, max_epochs=4, batch_size=64, verbose=0, random_state=0,
    ).fit(ds)  # fmt: skip
    assert teacher.score(SliceDataset(ds), y) > majority_rate(y) + 0.5  # 0.965 vs 0.135
    pipe = make_pipeline(
        EL2NPruner(n_proxies=1, max_epochs=1, random_state=0),
        DistillationClassifier(SmallCNN, module__in_channels=3, module__width=8, teacher=teacher,
                               optimizer=torch.optim.Adam, lr=3e-3, max_epochs=3, batch_size=32,
                               verbose=0, random_state=0),
    )  # fmt: skip
    search = GridSearchCV(
        pipe, {"el2npruner__fraction": [0.3, 0.6], "distillationclassifier__alpha": [0.0, 0.7]},
        cv=2,
    ).fit(SliceDataset(ds), y)  # fmt: skip
    table = best_alpha_per_fraction(search)
    assert table.fraction.tolist() == [0.3, 0.6]
    # about 0.32 at both fractions with KD; always guessing the majority class: 0.135
    assert np.all(table.mean_test_score > majority_rate(y) + 0.1)
    student = search.best_estimator_[-1]
    assert student.cache_teacher == "auto" and student.teacher is teacher
