"""A teacher's outputs for a dataset, computed once, stored on disk and memory-mapped."""

import hashlib
import json
import os

import numpy as np
import torch
from skorch.utils import is_dataset
from torch.utils.data import DataLoader, Dataset, Subset

from ..datasets._labels import as_torch_dataset, dataset_labels
from ._teacher import _Teacher, make_teacher

_DTYPES = {"float32": np.float32, "float16": np.float16}
_FORMAT = 1


def row_keys(X):
    """An 8-byte digest of every row of ``X``, read as float32: equal rows, equal keys.

    Parameters
    ----------
    X : array-like or tensor of shape (n_samples, ...)

    Returns
    -------
    keys : ndarray of uint64, shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.distillation._stored import row_keys
    >>> keys = row_keys(np.array([[0.0, 1.0], [2.0, 3.0], [0.0, 1.0]]))
    >>> bool(keys[0] == keys[2]), bool(keys[0] == keys[1])
    (True, False)
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    rows = np.ascontiguousarray(np.asarray(X, dtype=np.float32).reshape(len(X), -1))
    digest = hashlib.blake2b
    return np.array(
        [int.from_bytes(digest(row.tobytes(), digest_size=8).digest(), "little") for row in rows],
        dtype=np.uint64,
    )


class TeacherOutputs:
    """A teacher's logits on a dataset, stored once on disk and read memory-mapped.

    :meth:`compute` runs the teacher over the dataset once, in batches, into
    ``path``; ``TeacherOutputs(path)`` opens them again in a later run or in
    another process (it pickles as its path, so data-parallel processes each
    map the same file). Passed as the ``teacher`` of a
    :class:`~prunekd.DistillationClassifier`, it serves the stored logits in
    place of a live teacher, for the whole dataset or any subset of it:

    * arrays are matched row by row: every row's float32 bytes have a digest,
      so a pruned, shuffled or cross-validation subset finds its rows, and a
      row that was never stored is refused with a clear error;
    * a torch ``Dataset`` (augmented, typically) is matched by position: it
      must be the dataset the outputs were computed on (same length, same
      labels), or a ``Subset`` of it. Each sample gets the teacher's output on
      its un-augmented version, computed once: no teacher forward pass per
      step and no teacher in memory, but the student's augmented view and the
      teacher's target no longer match, where an on-the-fly teacher sees the
      same augmented view as the student.

    Parameters
    ----------
    path : str or path-like
        A folder written by :meth:`compute`.

    Attributes
    ----------
    logits : numpy.memmap of shape (n_samples, n_classes)
        The stored logits, read-only.
    n_samples, n_classes : int
    classes : ndarray or None
        The labels of the teacher's output columns, when the teacher knows them.
    fingerprint : str
        A digest of the dataset's rows: the dataset the outputs belong to.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from prunekd import DistillationClassifier
    >>> from prunekd.distillation import TeacherOutputs
    >>> from prunekd.models import MLP
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype("float32")
    >>> teacher = LogisticRegression(max_iter=500).fit(X, y)
    >>> folder = tempfile.mkdtemp()
    >>> stored = TeacherOutputs.compute(teacher, X, folder, dtype="float16")
    >>> stored.logits.shape, stored.logits.dtype
    ((1797, 10), dtype('float16'))
    >>> student = DistillationClassifier(MLP, teacher=TeacherOutputs(folder), alpha=0.5,
    ...                                  max_epochs=2, random_state=0, verbose=0)
    >>> student.fit(X[:300], y[:300]).predict(X[:2]).shape
    (2,)
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        meta_path = os.path.join(self.path, "meta.json")
        if not os.path.exists(meta_path):
            raise FileNotFoundError(
                f"no stored teacher outputs in {self.path!r}: write them first with "
                "TeacherOutputs.compute(teacher, X, path)"
            )
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{self.path!r} holds teacher outputs of another format: {meta}")
        self.n_samples, self.n_classes = meta["n_samples"], meta["n_classes"]
        self.classes = None if meta["classes"] is None else np.asarray(meta["classes"])
        self.fingerprint = meta["fingerprint"]
        self.logits = np.load(os.path.join(self.path, "logits.npy"), mmap_mode="r")
        self._keys = np.load(os.path.join(self.path, "keys.npy"))
        self._labels = np.load(os.path.join(self.path, "labels.npy"), allow_pickle=False)
        self._order = np.argsort(self._keys, kind="stable")
        self._sorted_keys = self._keys[self._order]

    def __reduce__(self):
        # Another process maps the same file instead of receiving a copy.
        return type(self), (self.path,)

    def __repr__(self):
        return (
            f"TeacherOutputs({self.path!r}: {self.n_samples} samples x {self.n_classes} "
            f"classes, {self.logits.dtype}, dataset {self.fingerprint[:12]})"
        )

    @classmethod
    def compute(cls, teacher, X, path, *, y=None, dtype="float32", batch_size=1024):
        """Run ``teacher`` over ``X`` once and store its logits in the folder ``path``.

        Parameters
        ----------
        teacher : torch module, fitted skorch net or fitted scikit-learn classifier
            Any teacher a :class:`~prunekd.DistillationClassifier` accepts.
        X : array-like of shape (n_samples, ...) or torch Dataset
            The full training data, un-augmented (a Dataset yields ``(x, y)``).
        path : str or path-like
            A folder, created if needed; stored outputs already there are replaced.
        y : array-like of shape (n_samples,), default=None
            The labels, stored to recognise the dataset again (a Dataset's are
            read from it).
        dtype : {"float32", "float16"}, default="float32"
            Storage type: float16 halves the file and rounds each logit by
            about 5e-4 of its value.
        batch_size : int, default=1024
            Samples per teacher call.

        Returns
        -------
        outputs : TeacherOutputs
        """
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}; got {dtype!r}")
        if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
        adapter = make_teacher(teacher)
        os.makedirs(path, exist_ok=True)
        meta_path = os.path.join(path, "meta.json")
        if os.path.exists(meta_path):
            os.remove(meta_path)  # written last: a folder without it holds no finished outputs
        n = len(X)
        if n < 1:
            raise ValueError("TeacherOutputs.compute needs at least one sample")
        inputs, labels = _batches_and_labels(X, y, batch_size)
        logits_file = os.path.join(path, "logits.npy")
        logits, keys, start = None, np.empty(n, dtype=np.uint64), 0
        for xb in inputs:
            out = adapter.logits(xb).float().cpu().numpy()
            if logits is None:  # the number of classes is known from the first batch
                logits = np.lib.format.open_memmap(
                    logits_file, mode="w+", dtype=_DTYPES[dtype], shape=(n, out.shape[1])
                )
            logits[start : start + len(out)] = out
            keys[start : start + len(out)] = row_keys(xb)
            start += len(out)
        logits.flush()
        del logits
        np.save(os.path.join(path, "keys.npy"), keys)
        np.save(os.path.join(path, "labels.npy"), labels)
        classes = None if adapter.classes is None else np.asarray(adapter.classes).tolist()
        meta = dict(
            format=_FORMAT,
            n_samples=n,
            n_classes=int(out.shape[1]),
            classes=classes,
            dtype=dtype,
            fingerprint=hashlib.blake2b(keys.tobytes()).hexdigest(),
        )
        with open(meta_path, "w") as f:
            json.dump(meta, f)
        return cls(path)

    def rows_of(self, X):
        """Positions of ``X``'s rows in the stored dataset; refuses rows never stored.

        Parameters
        ----------
        X : array-like or tensor of shape (n, ...)

        Returns
        -------
        rows : ndarray of int, shape (n,)
        """
        keys = row_keys(X)
        at = np.minimum(np.searchsorted(self._sorted_keys, keys), len(self._sorted_keys) - 1)
        found = self._sorted_keys[at] == keys
        if not found.all():
            raise ValueError(
                f"{int((~found).sum())} of the {len(keys)} rows given to the teacher are not in "
                f"the teacher outputs stored in {self.path!r} (computed on {self.n_samples} "
                "samples of another dataset, or other preprocessing); compute them for this "
                "data with TeacherOutputs.compute"
            )
        return self._order[at]

    def positions(self, dataset):
        """Positions in the stored dataset of a Dataset's samples: the dataset itself or a Subset.

        Parameters
        ----------
        dataset : torch Dataset

        Returns
        -------
        positions : ndarray of int, shape (len(dataset),)
        """
        dataset = as_torch_dataset(dataset)
        if isinstance(dataset, Subset) and len(dataset.dataset) == self.n_samples:
            positions = np.asarray(self.positions(dataset.dataset))[np.asarray(dataset.indices)]
        elif len(dataset) == self.n_samples:
            positions = np.arange(self.n_samples)
        else:
            raise ValueError(
                f"the Dataset has {len(dataset)} samples but the teacher outputs in "
                f"{self.path!r} were computed on {self.n_samples}: pass that dataset, or a "
                "torch.utils.data.Subset of it"
            )
        labels = np.asarray(dataset_labels(dataset))
        if not np.array_equal(labels, self._labels[positions]):
            raise ValueError(
                f"the Dataset's labels differ from those of the dataset the teacher outputs in "
                f"{self.path!r} were computed on: not the same data, or not in the same order"
            )
        return positions

    def _as_teacher(self):
        return _StoredTeacher(self)


def _batches_and_labels(X, y, batch_size):
    """The rows of ``X`` in batches, in order, and their labels (a Dataset's own; -1: none)."""
    n = len(X)
    if is_dataset(X) or isinstance(X, Dataset):
        batches = DataLoader(as_torch_dataset(X), batch_size=batch_size, shuffle=False)
        inputs = (items[0] if isinstance(items, (tuple, list)) else items for items in batches)
        return inputs, np.asarray(dataset_labels(X))
    X = np.asarray(X)
    labels = np.full(n, -1) if y is None else np.asarray(y)
    if len(labels) != n:
        raise ValueError(f"y has {len(labels)} labels for {n} samples of X")
    return (X[start : start + batch_size] for start in range(0, n, batch_size)), labels


class _StoredTeacher(_Teacher):
    """The teacher interface over stored outputs: rows are looked up, nothing runs."""

    def __init__(self, outputs):
        self.outputs = outputs
        self.classes = outputs.classes

    def logits(self, X):
        rows = self.outputs.rows_of(X)
        return torch.from_numpy(np.array(self.outputs.logits[rows], dtype=np.float32))

    def logits_array(self, X, batch_size):
        return self.logits(X)
