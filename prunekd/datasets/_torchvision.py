"""CIFAR-10, CIFAR-100 and SVHN through torchvision, with the standard augmentation."""

import numpy as np

_NAMES = ("cifar10", "cifar100", "svhn")

# Per-channel means and standard deviations of the training sets.
_STATS = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "svhn": ((0.4377, 0.4438, 0.4728), (0.1980, 0.2010, 0.1970)),
}


def _check(name, split):
    if name not in _NAMES:
        raise ValueError(f"name must be one of {_NAMES}; got {name!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")


def _torchvision(submodule):
    try:
        return __import__(f"torchvision.{submodule}", fromlist=[submodule])
    except ImportError as exc:
        raise ImportError(
            "loading CIFAR-10/100 or SVHN needs torchvision: pip install 'prunekd[vision]' "
            "(from a clone: pip install -e '.[vision]')"
        ) from exc


def _raw(name, root, split, download, transform=None):
    datasets = _torchvision("datasets")

    if name == "svhn":
        return datasets.SVHN(root, split=split, download=download, transform=transform)
    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    return cls(root, train=split == "train", download=download, transform=transform)


def load_torchvision_dataset(name, root="data", split="train", *, augment=None, download=False):
    """A torchvision dataset of 32x32 colour images, as a torch ``Dataset``.

    Training splits get the standard augmentation (random 32x32 crop with
    4-pixel padding; horizontal flips too, except for SVHN, whose digits are
    not mirror-symmetric), then per-channel normalisation. Pass the result
    directly as ``X`` to the pruners' and students' ``fit``.

    Parameters
    ----------
    name : {"cifar10", "cifar100", "svhn"}
    root : str, default="data"
        Folder holding (or receiving) torchvision's files.
    split : {"train", "test"}, default="train"
    augment : bool or None, default=None
        Random augmentation; None means True for "train" and False for "test".
    download : bool, default=False
        Let torchvision download the files into ``root`` if they are missing.

    Returns
    -------
    dataset : torchvision dataset
        Yields ``(image tensor (3, 32, 32), label)``; ``.targets`` (CIFAR) or
        ``.labels`` (SVHN) hold all labels without decoding any image.

    Examples
    --------
    >>> from prunekd.datasets import load_torchvision_dataset
    >>> train = load_torchvision_dataset("cifar10", "data", "train")  # doctest: +SKIP
    """
    transforms = _torchvision("transforms")

    _check(name, split)
    augment = (split == "train") if augment is None else augment
    steps = []
    if augment:
        steps.append(transforms.RandomCrop(32, padding=4))
        if name != "svhn":
            steps.append(transforms.RandomHorizontalFlip())
    steps += [transforms.ToTensor(), transforms.Normalize(*_STATS[name])]
    return _raw(name, root, split, download, transforms.Compose(steps))


def load_torchvision_arrays(name, root="data", split="train", download=False):
    """All images and labels of a torchvision dataset as arrays, without augmentation.

    Parameters
    ----------
    name : {"cifar10", "cifar100", "svhn"}
    root : str, default="data"
    split : {"train", "test"}, default="train"
    download : bool, default=False

    Returns
    -------
    X : ndarray of float32 of shape (n, 3, 32, 32)
        Normalised per channel.
    y : ndarray of int64 of shape (n,)

    Examples
    --------
    >>> from prunekd.datasets import load_torchvision_arrays
    >>> X, y = load_torchvision_arrays("svhn", "data", "test")  # doctest: +SKIP
    """
    _check(name, split)
    raw = _raw(name, root, split, download)
    if name == "svhn":
        images, labels = raw.data, raw.labels  # already (n, 3, 32, 32)
    else:
        images, labels = raw.data.transpose(0, 3, 1, 2), raw.targets  # from (n, 32, 32, 3)
    mean, std = (np.asarray(s, dtype=np.float32)[None, :, None, None] for s in _STATS[name])
    X = (images.astype(np.float32) / 255.0 - mean) / std
    return X, np.asarray(labels, dtype=np.int64)
