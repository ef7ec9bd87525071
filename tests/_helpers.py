"""Shared builders for the tests."""

import numpy as np
import torch
from torch.utils.data import Dataset

from prunekd import DistillationClassifier
from prunekd.models import SmallCNN


def majority_rate(y):
    """Accuracy of always predicting the most frequent label of ``y``: the chance level."""
    return np.unique(y, return_counts=True)[1].max() / len(y)


def make_student(**kwargs):
    """The small CNN student used throughout the digits tests."""
    params = dict(
        module__n_classes=10,
        optimizer=torch.optim.Adam,
        lr=3e-3,
        batch_size=32,
        max_epochs=10,
        verbose=0,
    )
    params.update(kwargs)
    return DistillationClassifier(SmallCNN, **params)


def dtype_probe(module_class):
    """A subclass of ``module_class`` and the list of the dtypes of its training outputs."""
    dtypes = []

    class Probe(module_class):
        def forward(self, x):
            out = super().forward(x)
            if self.training:
                dtypes.append(out.dtype)
            return out

    return Probe, dtypes


class NoisyDataset(Dataset):
    """Adds fresh random noise at every access: an augmentation that never repeats."""

    def __init__(self, X, y):
        self.X, self.targets = torch.as_tensor(X), list(y)
        self.decoded = 0

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        self.decoded += 1
        return self.X[i] + torch.randn_like(self.X[i]), self.targets[i]


class Recording(torch.nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module, self.seen = module, []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return self.module(x)


class CifarShaped(Dataset):
    """Synthetic 3x32x32 images of 10 classes (a colour and a stripe per class),
    with the standard CIFAR augmentation applied at every access."""

    def __init__(self, n=600, seed=0):
        from torchvision import transforms

        rng = np.random.RandomState(seed)
        self.targets = rng.randint(0, 10, n).tolist()
        colours = rng.rand(10, 3, 1, 1).astype(np.float32)
        images = rng.rand(n, 3, 32, 32).astype(np.float32) * 0.5
        for i, c in enumerate(self.targets):
            images[i] += colours[c]
            images[i, :, 3 * c : 3 * c + 3, :] += 1.0
        self.images = torch.as_tensor(images)
        self.augment = transforms.Compose(
            [transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip()]
        )

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return self.augment(self.images[i]), self.targets[i]


def tiny_sweep_args(seeds="0", epochs=8):
    """``prunekd`` options for a sweep of a few seconds whose MLP students all learn (> 70%)."""
    return [
        "--pruners", "random,el2n", "--fractions", "0.2,1.0", "--alphas", "1.0", "--seeds", seeds,
        "--model", "mlp", "--width", "8", "--epochs", str(epochs), "--budget-scales", "none",
        "--teacher-epochs", "3",
        "--n-proxies", "1", "--proxy-epochs", "1", "--jobs", "1", "--teachers",
        "small=2,equal=8,large=32", "--no-progress",
    ]  # fmt: skip
