"""What a student needs from its teacher for one fit, and the one layout of a target row.

A target row is a sample's label (its class index) followed by the
temperature-scaled log-probabilities of one teacher or of several side by side:
``[y, log_p_1, ..., log_p_C]``. Batches of such rows cost what plain labels
cost, and the teacher's softmax is computed once per fit instead of once per
batch. This module is the only one that writes or reads that layout: the
student, the stored outputs and the sweep's group trainer all go through
:func:`pack_targets` and :func:`unpack_targets`.
"""

import warnings

import numpy as np
import torch
from skorch.utils import is_dataset

from .._skorch import index_rows
from ._losses import teacher_log_probs
from ._stored import TeacherOutputs
from ._teacher import make_teacher, reorder_columns
from ._views import RawView, choose_view

_CACHE_DTYPES = {"float32": torch.float32, "float16": torch.float16}
# float16 represents every integer up to 2**11 exactly: the labels packed with it.
_FLOAT16_MAX_CLASSES = 2048
_INFERENCE_BATCH = 1024
# A teacher fitted on the full data knows the student's training rows; one that
# gets less than a quarter of the way from the majority-class rate to all of
# them right is most likely fed another representation than it was fitted on.
_TEACHER_SANITY = 0.25


def pack_targets(labels, teacher_log_p=None, dtype=torch.float32):
    """Target rows: the label, then the teachers' log-probabilities, as one float row.

    Parameters
    ----------
    labels : array-like of shape (n,) or a scalar
        Class indices.
    teacher_log_p : array-like of shape (n, C) or (n, n_teachers, C), default=None
        Temperature-scaled log-probabilities (:func:`teacher_log_probs`).
    dtype : torch dtype, default=torch.float32

    Returns
    -------
    rows : torch.Tensor of shape (n, 1 + n_teachers * C)

    Examples
    --------
    >>> import torch
    >>> from prunekd.distillation._targets import pack_targets, unpack_targets
    >>> rows = pack_targets([2, 0], torch.log(torch.tensor([[0.5, 0.5], [0.9, 0.1]])))
    >>> rows.shape
    torch.Size([2, 3])
    >>> labels, log_p = unpack_targets(rows)
    >>> labels.tolist(), log_p.exp().double().round(decimals=2).tolist()
    ([2, 0], [[0.5, 0.5], [0.9, 0.1]])
    """
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.float32)
    columns = [labels.reshape(*labels.shape, 1)]
    if teacher_log_p is not None:
        log_p = torch.as_tensor(teacher_log_p, dtype=torch.float32)
        columns.append(log_p.reshape(*labels.shape, -1))
    return torch.cat(columns, dim=-1).to(dtype)


def unpack_targets(rows, n_teachers=None):
    """Labels and teacher log-probabilities of target rows made by :func:`pack_targets`.

    Parameters
    ----------
    rows : torch.Tensor of shape (..., 1 + n_teachers * C)
    n_teachers : int or None, default=None
        None: one teacher, log-probabilities of shape ``(..., C)``; an int:
        shape ``(..., n_teachers, C)``; 0: no teacher, ``log_p`` is None.

    Returns
    -------
    labels : torch.Tensor of int64, shape (...)
    log_p : torch.Tensor
    """
    labels, log_p = rows[..., 0].long(), rows[..., 1:]
    if n_teachers == 0:
        return labels, None  # labels only: no member of a group distils
    if n_teachers is not None:
        log_p = log_p.unflatten(-1, (n_teachers, -1))
    return labels, log_p


def is_packed(y):
    """Whether a batch of targets carries the teacher (rows) or only labels."""
    return isinstance(y, torch.Tensor) and y.dim() == 2


def encode_labels(y, classes, source):
    """``classes`` (all labels, in the student's output order) and ``y`` as positions in them."""
    unknown = np.setdiff1d(np.unique(y), classes)
    if len(unknown):
        raise ValueError(
            f"y has labels {unknown.tolist()[:5]} that are not among the classes "
            f"{classes.tolist()[:10]} (from {source})"
        )
    order = np.argsort(classes, kind="stable")
    return order[np.searchsorted(classes, y, sorter=order)].astype(np.int64)


class TeacherTargets:
    """The targets of one fit: the encoded labels and what the teacher adds to them.

    :meth:`build` resolves the teacher (a torch module, a skorch net, a
    scikit-learn classifier or :class:`~prunekd.distillation.TeacherOutputs`),
    maps its columns to the student's classes, checks that it predicts,
    computes its outputs once (cached, stored or left to each batch) and
    checks that they make sense. The student hands the object to skorch's
    loop as ``y``: it reads as the labels (``np.asarray(targets)``), so that
    splitters and callbacks see labels, and serves its packed rows to the
    training set.

    Attributes
    ----------
    labels : ndarray of int64, shape (n,)
        Positions of the labels in ``classes``.
    classes : ndarray of shape (n_classes,)
        Every class, in the order of the student's outputs.
    teacher : object or None
        The teacher, its columns in the order of ``classes``, for batches
        that carry no teacher outputs (validation rows, augmented Datasets).
    rows : torch.Tensor of shape (n, 1 + n_classes) or None
        Packed rows, when the teacher's outputs were computed once.
    X : array or Dataset
        What the student trains on: ``X``, or a Dataset that yields packed rows.
    probe : array or tensor
        The first rows of ``X``, drawn before training so that a Dataset's
        augmentation does not take them from the training's seeded generator.
    """

    def __init__(self, labels, classes, teacher=None, rows=None, X=None):
        self.labels, self.classes, self.teacher, self.rows, self.X = (
            labels,
            classes,
            teacher,
            rows,
            X,
        )
        self.probe = None if X is None else probe_rows(X)
        self.view, self.agreement = None, None  # what teacher_input='auto' chose, and why
        self.weights = None  # per-sample weights of the training rows, if given

    def served(self):
        """What the training rows carry as targets, or None when the labels alone do.

        Packed rows; with sample weights, ``{"target": rows or labels,
        "weight": weights}``, which skorch's Dataset and the batched arrays
        index row by row.
        """
        if self.weights is None:
            return self.rows
        target = torch.as_tensor(self.labels) if self.rows is None else self.rows
        return {"target": target, "weight": self.weights}

    def __array__(self, dtype=None, copy=None):
        return self.labels if dtype is None else self.labels.astype(dtype)

    def __len__(self):
        return len(self.labels)

    @classmethod
    def build(cls, student, X, y, alpha, classes=None, teacher_X=None):
        """The targets of ``student`` fitting ``X, y`` with weight ``alpha`` (validated data)."""
        raw = student._teacher_object()
        teacher = None if raw is None else make_teacher(raw)
        classes, source = _choose_classes(student, y, teacher, classes)
        labels = encode_labels(y, classes, source)
        _check_dataset_labels(X, classes)
        teacher = None if teacher is None else reorder_columns(teacher, classes)
        targets = cls(labels, classes, teacher, X=X)
        if teacher is None:
            if teacher_X is not None and not isinstance(teacher_X, RawView):
                raise ValueError(
                    "teacher_X was given but teacher=None: there is no teacher to feed"
                )
            return targets
        teacher_in = _check_teacher_X(student, teacher, teacher_X, X, alpha)
        if isinstance(raw, TeacherOutputs) and is_dataset(teacher_in):
            # Matched by position, not by the (augmented) inputs: see TeacherOutputs.
            positions = raw.positions(teacher_in)
            if alpha > 0:
                targets.X = _WithStoredLogits(
                    X,
                    raw,
                    positions,
                    teacher.columns,
                    student.temperature,
                    _dtype(student, classes),
                )
            return targets
        batch = max(student.batch_size, _INFERENCE_BATCH)  # no gradients: larger is cheaper
        logits = None
        if isinstance(teacher_in, RawView):
            views = {"transformed": X, "raw": teacher_in.rows}
            targets.view, logits, targets.agreement = choose_view(teacher, views, labels, batch)
            teacher_in = views[targets.view]
            if targets.view == "raw":
                _check_cacheable(student, "the raw rows (teacher_input='auto' chose them)")
        else:
            _probe(teacher, teacher_in, len(classes))
        cache = student.cache_teacher
        if alpha > 0 and (cache is True or (cache == "auto" and not is_dataset(X))):
            logits = teacher.logits_array(teacher_in, batch) if logits is None else logits
            _warn_if_teacher_is_lost(logits, labels)
            log_p = teacher_log_probs(logits, student.temperature)
            targets.rows = pack_targets(labels, log_p, _dtype(student, classes))
        return targets

    def training_set(self, net, X, train):
        """The training part of a split (a skorch Dataset or a Subset), serving :meth:`served`."""
        rows = getattr(train, "indices", None)
        if rows is None:
            return net.get_dataset(X, self.served())
        return net.get_dataset(X[rows], index_rows(self.served(), rows))


def _choose_classes(student, y, teacher, classes):
    if classes is not None:
        return np.asarray(classes), "the classes fitted so far or given to partial_fit"
    if student.classes is not None:
        return np.asarray(student.classes), "classes="
    if teacher is not None and teacher.classes is not None:
        return np.sort(teacher.classes), "the teacher"
    return np.unique(y), "y"


def _check_dataset_labels(X, classes):
    if is_dataset(X) and not np.array_equal(classes, np.arange(len(classes))):
        # The Dataset yields its own labels, which the loss uses as class indices.
        raise ValueError(
            "with a torch Dataset as X the labels must be the integers 0..n_classes-1; "
            f"got classes {classes.tolist()[:10]}"
        )


def _dtype(student, classes):
    dtype = _CACHE_DTYPES[student.teacher_cache_dtype]
    if dtype == torch.float16 and len(classes) > _FLOAT16_MAX_CLASSES:
        raise ValueError(
            f"teacher_cache_dtype='float16' stores labels exactly for up to "
            f"{_FLOAT16_MAX_CLASSES} classes; got {len(classes)}. Use 'float32'."
        )
    return dtype


def _check_cacheable(student, what):
    if student.cache_teacher is False or student.train_split is not None:
        raise ValueError(
            f"a teacher reading {what} needs its outputs computed once before training "
            "(cache_teacher='auto' or True) and no validation split (train_split=None): "
            f"got cache_teacher={student.cache_teacher!r}, train_split={student.train_split!r}"
        )


def _check_teacher_X(student, teacher, teacher_X, X, alpha):
    """What the teacher reads: ``X``, or ``teacher_X`` validated against it."""
    if teacher_X is None or (isinstance(teacher_X, RawView) and is_dataset(X)):
        return X  # no second view to choose from
    if is_dataset(teacher_X) or is_dataset(X):
        raise ValueError(
            "teacher_X must be an array next to an array X; with torch Datasets, make the "
            "Dataset yield what the student needs and wrap the teacher to read it"
        )
    if len(teacher_X) != len(X):
        raise ValueError(
            f"teacher_X has {len(teacher_X)} rows but X has {len(X)}; teacher_X must "
            "hold the teacher's view of the same samples, row for row"
        )
    if isinstance(teacher_X, RawView):
        return teacher_X
    _check_cacheable(student, "teacher_X")
    # A scikit-learn teacher reads what it was fitted on (a DataFrame, mixed columns).
    return teacher_X if hasattr(teacher, "estimator") else student._check_X(teacher_X)


def probe_rows(X):
    """The first samples of X, for shape checks before training."""
    if is_dataset(X):
        return torch.stack([torch.as_tensor(X[i][0]) for i in range(min(2, len(X)))])
    return X[:2]


def check_output(who, out, n_probe, n_classes, shape):
    """Refuse outputs that are not one logit per class for every probed sample."""
    if tuple(out.shape) != (n_probe, n_classes):
        raise ValueError(
            f"the {who} returns outputs of shape {tuple(out.shape)} for inputs of "
            f"shape {shape}; expected ({n_probe}, {n_classes}): one logit per class "
            f"of {n_classes}. Check that teacher and student agree on the classes "
            "and the input shape."
        )


def _probe(teacher, X, n_classes):
    """The teacher's outputs on the first rows: it predicts, one logit per class."""
    if hasattr(teacher, "outputs"):  # stored outputs: every row must be there
        teacher.outputs.rows_of(X)
        return
    rows = probe_rows(X)
    try:
        out = teacher.logits(rows)
    except Exception as exc:
        raise ValueError(
            f"the teacher could not predict inputs of shape {tuple(rows.shape)}: {exc}"
        ) from exc
    check_output("teacher", out, len(rows), n_classes, tuple(rows.shape))


def _warn_if_teacher_is_lost(logits, labels):
    """Warn when the teacher does not know the rows it should know."""
    agree = float(np.mean(logits.argmax(1).numpy() == labels))
    majority = np.bincount(labels).max() / len(labels)
    if len(labels) >= 20 and agree < majority + _TEACHER_SANITY * (1 - majority):
        warnings.warn(
            f"the teacher predicts the labels of only {agree:.0%} of the training rows "
            f"(the majority class is {majority:.0%}). A teacher fitted on the full data "
            "should know them: does it get the representation it was fitted on? In a "
            "Pipeline with preprocessing before the student, use "
            "prunekd.Pipeline(..., teacher_input='raw') or pass teacher_X to fit.",
            UserWarning,
            stacklevel=5,
        )


class _WithStoredLogits(torch.utils.data.Dataset):
    """A Dataset whose targets carry the stored teacher log-probabilities of each sample.

    Item ``i`` is ``(x, target row)``: ``x`` as the Dataset yields it
    (augmented), the teacher's part from its un-augmented version, read from
    the memory map (it pickles as its path, so DataLoader workers map the
    file too).
    """

    def __init__(self, dataset, outputs, positions, columns, temperature, dtype):
        self.dataset, self.outputs, self.positions = dataset, outputs, positions
        self.columns, self.temperature, self.dtype = columns, temperature, dtype

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        x, y = self.dataset[i]
        logits = torch.from_numpy(
            np.array(self.outputs.logits[self.positions[i]], dtype=np.float32)
        )
        if self.columns is not None:
            logits = logits[self.columns]
        log_p = teacher_log_probs(logits[None], self.temperature)[0]
        return x, pack_targets(float(y), log_p, self.dtype)


def viewed_by_callbacks(net, train):
    """A Dataset of training rows as callbacks that choose rows serve it (``training_set``).

    A callback with a ``training_set(net, dataset)`` method (dynamic pruning)
    returns the Dataset the loader iterates: a view it can change per epoch.
    """
    for _, callback in getattr(net, "callbacks_", []):
        if hasattr(callback, "training_set"):
            train = callback.training_set(net, train)
    return train


def serves_teacher(targets):
    """Whether the training rows carry the teacher's outputs (cached, or stored per item)."""
    return targets.rows is not None or isinstance(targets.X, _WithStoredLogits)
