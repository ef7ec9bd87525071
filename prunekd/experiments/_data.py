"""Datasets and networks the sweep can use, by name."""

import numpy as np
from sklearn.model_selection import train_test_split

from ..datasets import load_digits, load_mnist1d
from ..models import MLP, ResNetCIFAR, SmallCNN, SmallCNN1d

DATASETS = ("digits", "mnist1d", "cifar10", "cifar100", "svhn")
# MNIST-1D's pool: the published benchmark's size and generator seed. 5,000 signals give
# 3,500 training rows per seed, twice digits' 1,257, so that small fractions still hold
# tens of rows per class, at a cost that keeps a run on two cores within an hour.
MNIST1D_POOL = {"n_samples": 5000, "seed": 42}
MODELS = ("smallcnn", "mlp", "resnet20", "resnet32", "resnet56", "resnet110")


def load_dataset(name, data_dir="data", download=False):
    """All samples and labels of a dataset, as float32 arrays ``(n, C, H, W)`` or ``(n, C, L)``."""
    if name == "digits":
        return load_digits()
    if name == "mnist1d":
        return load_mnist1d(**MNIST1D_POOL)
    if name in ("cifar10", "cifar100", "svhn"):
        from ..datasets import load_torchvision_arrays

        parts = [
            load_torchvision_arrays(name, data_dir, split, download) for split in ("train", "test")
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    raise ValueError(f"dataset must be one of {DATASETS}; got {name!r}")


def make_module(model, n_classes, in_shape, width):
    """A module class and its ``module__`` arguments for a named model."""
    if model == "smallcnn":
        channels = in_shape[0] if len(in_shape) >= 2 else 1
        # Signals (channels, length) get the 1-D network of the same widths.
        return SmallCNN if len(in_shape) != 2 else SmallCNN1d, dict(
            module__n_classes=n_classes, module__in_channels=channels, module__width=width
        )
    if model == "mlp":
        return MLP, dict(
            module__n_features=int(np.prod(in_shape)),
            module__n_classes=n_classes,
            module__hidden=(4 * width,),
        )
    if model.startswith("resnet") and model in MODELS:
        # --width is the first stage's channel count (16 in the original ResNets)
        return ResNetCIFAR, dict(
            module__depth=int(model[len("resnet") :]),
            module__n_classes=n_classes,
            module__in_channels=in_shape[0],
            module__width=width,
        )
    raise ValueError(f"model must be one of {MODELS}; got {model!r}")


def flip_labels(y, rate, n_classes, seed=0):
    """Class indices ``y`` with a fraction ``rate`` of them changed to another class.

    The flipped samples and their new classes are drawn uniformly with
    ``seed``; used to study pruning and distillation under label noise.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.experiments import flip_labels
    >>> y = np.repeat(np.arange(5), 20)
    >>> int((flip_labels(y, 0.2, 5) != y).sum())
    20
    """
    if not 0 <= rate < 1:
        raise ValueError(f"label_noise must lie in [0, 1); got {rate!r}")
    y = np.array(y)
    if rate == 0:
        return y
    rng = np.random.RandomState(seed)
    flip = rng.choice(len(y), size=round(rate * len(y)), replace=False)
    # An offset in 1..n_classes-1 always lands on another class.
    y[flip] = (y[flip] + rng.randint(1, n_classes, size=len(flip))) % n_classes
    return y


def split_data(X, y, seed=0):
    """70% train, 15% validation (for choosing alpha), 15% test, stratified.

    Every seed of a sweep has its own split.

    Examples
    --------
    >>> from prunekd.datasets import load_digits
    >>> from prunekd.experiments import split_data
    >>> [len(part) for part in split_data(*load_digits())[3:]]
    [1257, 270, 270]
    """
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y
    )
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, random_state=seed, stratify=y_rest
    )
    return X_train, X_val, X_test, y_train, y_val, y_test


def held_out_pool(config, seed):
    """Seed ``seed``'s test rows when ``config.test_pool_seed`` is set, else None.

    A pool of its own per seed, generated with ``test_pool_seed + seed``, a
    generator seed no other run uses (MNIST-1D only): the confirmatory test
    data, unseen by every earlier run, and new for every seed, so that the
    intervals cover the sampling of the test data too. Each seed's split of
    the main pool then gives its training and validation rows only.
    """
    if config.test_pool_seed is None:
        return None
    if config.dataset != "mnist1d":
        raise ValueError(
            f"test_pool_seed generates test pools, which only mnist1d can; the dataset is "
            f"{config.dataset!r}"
        )
    if config.test_pool_seed + seed == MNIST1D_POOL["seed"]:
        raise ValueError(
            f"test_pool_seed + seed must differ from the main pool's {MNIST1D_POOL['seed']}; "
            f"got {config.test_pool_seed} + {seed}"
        )
    return load_mnist1d(MNIST1D_POOL["n_samples"], config.test_pool_seed + seed)


def seed_data(config, X, y, seed, pool=None):
    """Seed ``seed``'s own split, labels as class indices, training labels flipped if asked.

    ``pool``: the seed's test rows (see :func:`held_out_pool`), in place of
    the split's own.
    """
    X_train, X_val, X_test, y_train, y_val, y_test = split_data(X, y, seed)
    if pool is not None:
        X_test, y_test = pool
    classes = np.unique(y)
    y_train, y_val, y_test = (np.searchsorted(classes, part) for part in (y_train, y_val, y_test))
    y_train = flip_labels(y_train, config.label_noise, len(classes), seed=seed)
    return dict(
        X_train=X_train,
        y_train=y_train,
        X_val=X_val,
        y_val=y_val,
        X_test=X_test,
        y_test=y_test,
        n_classes=len(classes),
        seed=seed,
    )
