"""Reading the labels of a torch Dataset without decoding its samples."""

import numpy as np
from skorch.helper import SliceDataset
from torch.utils.data import Subset


def as_torch_dataset(X):
    """A skorch ``SliceDataset`` (how scikit-learn slices a Dataset) as the Subset it views.

    ``GridSearchCV`` and ``cross_val_score`` index ``X`` by fold; a torch
    Dataset is made indexable by wrapping it in ``skorch.helper.SliceDataset``,
    which yields inputs only. prunekd needs the ``(input, label)`` pairs, so it
    reads through the wrapper; anything else is returned unchanged.

    Examples
    --------
    >>> import torch
    >>> from skorch.helper import SliceDataset
    >>> from torch.utils.data import TensorDataset
    >>> from prunekd.datasets import as_torch_dataset
    >>> ds = TensorDataset(torch.arange(4.0)[:, None], torch.tensor([0, 1, 0, 1]))
    >>> sub = as_torch_dataset(SliceDataset(ds)[[3, 1]])
    >>> [int(sub[i][1]) for i in range(len(sub))]
    [1, 1]
    """
    if isinstance(X, SliceDataset) and X.idx == 0:
        return Subset(X.dataset, np.asarray(X.indices_))
    return X


def dataset_labels(dataset):
    """Labels of a torch Dataset, read from its label attribute when it has one.

    torchvision's datasets keep their labels in ``.targets`` (CIFAR, MNIST,
    ImageFolder) or ``.labels`` (SVHN), skorch's in ``.y``; ``Subset`` picks
    its rows of its parent's labels. Only a dataset with none of these is
    iterated, which decodes (and augments) every sample.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset

    Returns
    -------
    labels : ndarray of shape (len(dataset),)

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import Subset, TensorDataset
    >>> from prunekd.datasets import dataset_labels
    >>> ds = TensorDataset(torch.zeros(4, 2), torch.tensor([3, 1, 2, 0]))
    >>> dataset_labels(Subset(ds, [2, 0])).tolist()
    [2, 3]
    """
    dataset = as_torch_dataset(dataset)
    if isinstance(dataset, Subset):
        return dataset_labels(dataset.dataset)[np.asarray(dataset.indices)]
    for attr in ("targets", "labels", "y"):
        labels = getattr(dataset, attr, None)
        if labels is not None:
            return np.asarray(labels)
    tensors = getattr(dataset, "tensors", None)  # TensorDataset
    if tensors is not None and len(tensors) >= 2:
        return tensors[1].numpy()
    return np.asarray([dataset[i][1] for i in range(len(dataset))])
