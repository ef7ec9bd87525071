"""Data loaders: the embedded digits, generated MNIST-1D, and CIFAR-10/100 and SVHN through torchvision."""

from ._digits import load_digits
from ._labels import as_torch_dataset, dataset_labels
from ._mnist1d import load_mnist1d
from ._torchvision import load_torchvision_arrays, load_torchvision_dataset

__all__ = [
    "as_torch_dataset",
    "dataset_labels",
    "load_digits",
    "load_mnist1d",
    "load_torchvision_arrays",
    "load_torchvision_dataset",
]
