"""Reading the labels of a torch Dataset without decoding its samples."""

import numpy as np
from torch.utils.data import Subset


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
