"""One resolver over every fitted model prunekd reads: teachers, scoring models, embeddings.

:func:`make_teacher` turns any accepted model (a torch module, a fitted
skorch net, a fitted scikit-learn classifier, stored outputs, or a teacher
shared with dask workers) into one interface: ``logits`` and
``logits_array``, the ``classes`` of its columns, and, where it has them, its
torch ``module`` and its skorch ``net``. The student, the pruners, the stored
outputs and the sweep all go through it.
"""

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet

from .._frames import for_estimator, row_batches
from .._nets import outputs_probabilities, to_logits
from .._utils import _as_float_tensor, _module_device
from ..parallel import _SharedTeacher, portable_teacher

_EPS = 1e-12


class _Teacher:
    """Frozen teacher: logits for a batch or a whole array, never any gradient.

    ``classes`` holds the labels of the teacher's output columns when the
    teacher knows them (scikit-learn classifiers, prunekd students), else None.
    """

    classes = None
    columns = None  # the permutation applied to the teacher's own columns, if any
    module = None  # the torch module, for a torch teacher
    net = None  # the fitted skorch net it came from, if any

    def logits(self, X):
        """Logits of a batch (tensor or array), as a float tensor."""
        raise NotImplementedError

    def logits_array(self, X, batch_size):
        """Logits of a whole array, batch by batch, as a float32 CPU tensor."""
        return torch.cat([self.logits(rows).float().cpu() for rows in row_batches(X, batch_size)])


class _TorchTeacher(_Teacher):
    def __init__(self, module, probabilities=False, classes=None, net=None):
        self.module = module
        self.probabilities = probabilities
        self.classes = classes
        self.net = net

    def __getstate__(self):
        # The net travels as a student sends its teacher: by value where its class is local.
        state = dict(self.__dict__)
        if state["net"] is not None:
            state["net"] = portable_teacher(state["net"])
        return state

    @torch.no_grad()
    def logits(self, X):
        # Evaluated in eval mode and left in the mode it was in.
        was_training = self.module.training
        self.module.eval()
        try:
            x = _as_float_tensor(X).to(_module_device(self.module))
            out = self.module(x)
        finally:
            self.module.train(was_training)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return to_logits(out, self.probabilities)


class _SklearnTeacher(_Teacher):
    def __init__(self, estimator):
        self.estimator = estimator
        self.classes = np.asarray(estimator.classes_)
        self.n_features = getattr(estimator, "n_features_in_", None)

    def logits(self, X):
        # A DataFrame reaches a teacher fitted on one as a DataFrame, with its names.
        proba = self.estimator.predict_proba(for_estimator(self.estimator, X))
        # log-probabilities are logits up to a per-row constant, to which softmax is blind
        return torch.as_tensor(np.log(np.clip(proba, _EPS, None)), dtype=torch.float32)


class _Reordered(_Teacher):
    """A teacher whose output columns are permuted into another class order."""

    def __init__(self, teacher, columns):
        self.teacher, self.columns = teacher, columns
        self.classes = teacher.classes[columns]

    def __getattr__(self, name):  # what the wrapped teacher knows (its estimator, its outputs)
        if name == "teacher":
            raise AttributeError(name)
        return getattr(self.teacher, name)

    def logits(self, X):
        return self.teacher.logits(X)[:, self.columns]

    def logits_array(self, X, batch_size):
        return self.teacher.logits_array(X, batch_size)[:, self.columns]


def column_positions(teacher_classes, classes):
    """Where each of ``classes`` is among a teacher's ``teacher_classes``; refuses unknown ones."""
    teacher_classes = np.asarray(teacher_classes)
    missing = set(np.asarray(classes).tolist()) - set(teacher_classes.tolist())
    if missing:
        raise ValueError(
            f"the teacher does not know the classes {sorted(missing)[:10]}; it must be fitted "
            f"on labels including every class (its classes: {teacher_classes.tolist()[:10]})"
        )
    order = np.argsort(teacher_classes, kind="stable")
    return order[np.searchsorted(teacher_classes, classes, sorter=order)]


def reorder_columns(teacher, classes):
    """``teacher`` with its columns in the order of the student's ``classes``."""
    if teacher.classes is None:
        outputs = getattr(teacher, "outputs", None)  # stored outputs know their width
        if outputs is not None and outputs.n_classes != len(classes):
            raise ValueError(
                f"the teacher outputs stored in {outputs.path!r} have {outputs.n_classes} "
                f"columns for the {len(classes)} classes of y"
            )
        return teacher
    if set(teacher.classes.tolist()) != set(classes.tolist()):
        raise ValueError(
            f"teacher classes {teacher.classes.tolist()[:10]} differ from the student's "
            f"classes {classes.tolist()[:10]}"
        )
    columns = column_positions(teacher.classes, classes)
    return (
        teacher
        if np.array_equal(columns, np.arange(len(classes)))
        else _Reordered(teacher, columns)
    )


def unshare(model):
    """The model itself: a teacher shared with dask workers is looked up in this process."""
    return model.resolve() if isinstance(model, _SharedTeacher) else model


def make_teacher(teacher):
    """Wrap a fitted teacher, or raise a clear error if it cannot serve as one."""
    teacher = unshare(teacher)
    if hasattr(teacher, "_as_teacher"):  # stored outputs (TeacherOutputs)
        return teacher._as_teacher()
    if isinstance(teacher, NeuralNet):
        if not getattr(teacher, "initialized_", False) or not hasattr(teacher, "module_"):
            raise ValueError(
                "teacher is a skorch net that has not been fitted; fit it on the full "
                "training data before passing it as teacher"
            )
        classes = None
        if hasattr(teacher, "alpha") and hasattr(teacher, "classes_inferred_"):
            classes = np.asarray(teacher.classes_)  # a prunekd student: real labels
        return _TorchTeacher(teacher.module_, outputs_probabilities(teacher), classes, teacher)
    if isinstance(teacher, torch.nn.Module):
        return _TorchTeacher(teacher)
    if hasattr(teacher, "predict_proba") and hasattr(teacher, "fit"):
        try:
            check_is_fitted(teacher)
        except NotFittedError:
            raise ValueError(
                f"teacher {type(teacher).__name__} is not fitted; fit it on the full "
                "training data (wrap it in sklearn.frozen.FrozenEstimator to keep it "
                "fitted through clone)"
            ) from None
        if not hasattr(teacher, "classes_"):
            raise ValueError(
                f"teacher {type(teacher).__name__} has no classes_; it must be a fitted classifier"
            )
        return _SklearnTeacher(teacher)
    raise TypeError(
        "teacher must be a torch.nn.Module returning logits, a fitted skorch net, or a "
        f"fitted scikit-learn classifier with predict_proba; got {type(teacher).__name__}"
    )
