"""Shared builders for the tests."""

import torch

from prunekd import DistillationClassifier
from prunekd.models import SmallCNN


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
