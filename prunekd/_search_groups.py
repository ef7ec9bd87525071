"""A search's candidates that differ only in alpha or teacher, trained on every fold as one group.

For each setting of the other parameters (the pruner's fraction, a scaler's
options...), the steps before the student are fitted once per training fold.
What the student would then train on (its kept rows, labels, row weights and
each teacher's outputs) comes from a zero-epoch fit of the student itself, so
that its classes, module defaults, the teacher's view and every check are the
student's own. The folds whose students keep as many rows train together: each
(fold, alpha, teacher) is a member of one vectorised
:class:`~prunekd.distillation._group._StudentGroup` over the folds' rows
stacked, every row carrying the outputs of its own fold's teacher. A member's
weights are then loaded into a copy of the zero-epoch student, which becomes a
fitted :class:`~prunekd.DistillationClassifier` in a copy of its fold's fitted
pipeline: predict, score and every attribute are a fitted student's.

A member starts from the initial weights and visits its rows in the order of
a separate fit with the same ``random_state``; only the last bits of its
arithmetic differ (vmap's kernels), so its scores match a separate fit's up
to the tolerance the benchmark states. Its optimiser state and ``history_``
are the zero-epoch fit's: its weights are trained, but it is not a checkpoint
to continue training from (the search only scores it; the refit is a real
fit).
"""

import copy
import time

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone

from ._compat import _safe_indexing
from .distillation import DistillationClassifier
from .distillation._group import _StudentGroup
from .distillation._targets import TeacherTargets, encode_labels, unpack_targets
from .distillation._validation import check_alpha, check_sample_weight, check_training_data
from .pipeline import _view_used

# Parameters a group takes from its members' student; any other parameter set
# to something other than its default keeps a candidate out of the groups.
_TAKEN = frozenset(
    {
        "module",
        "teacher",
        "alpha",
        "temperature",
        "kd_loss",
        "random_state",
        "lr",
        "batch_size",
        "max_epochs",
        "optimizer",
        "device",
        "verbose",
        "criterion",
        "classes",
        "max_steps",
    }
)
_TAKEN_PREFIXES = ("module__", "optimizer__", "criterion__")
# What the group's skorch loop receives from the student.
_PASSED = ("lr", "batch_size", "max_epochs", "max_steps", "optimizer", "device", "criterion")


class Ungroupable(Exception):
    """A group cannot train these candidates together; ``parameter`` names why."""

    def __init__(self, parameter, why):
        super().__init__(why)
        self.parameter = parameter


def split_final(estimator):
    """The final student and the prefix of its parameters: ``(student, "name__")`` or ``(estimator, "")``."""
    if hasattr(estimator, "steps"):
        name, last = estimator.steps[-1]
        return last, f"{name}__"
    return estimator, ""


def _same(a, b):
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False


def blocker(estimator):
    """Why a candidate (its parameters set) cannot join a group: a parameter's name, or None."""
    student, _ = split_final(estimator)
    if type(student) is not DistillationClassifier:
        return "estimator"
    if not isinstance(student.module, type):
        return "module"
    if isinstance(student.alpha, str):
        return "alpha"
    try:  # what a separate fit would refuse, it refuses (and error_score applies)
        check_alpha(student, None)
    except (TypeError, ValueError):
        return "alpha"
    defaults = DistillationClassifier(student.module).get_params(deep=False)
    for key, value in student.get_params(deep=False).items():
        if key in _TAKEN or key.startswith(_TAKEN_PREFIXES) or key.startswith("_"):
            continue
        if key not in defaults or not _same(value, defaults[key]):
            return key
    return None


class _Capture(BaseEstimator):
    """The student's place in one fold's pipeline: a zero-epoch fit, keeping what training would read."""

    def __init__(self, student, teachers=(), max_alpha=0.0):
        self.student = student
        self.teachers = teachers
        self.max_alpha = max_alpha

    def fit(self, X, y=None, sample_weight=None, teacher_X=None, train_fraction=None):
        zero = clone(self.student).set_params(
            max_epochs=0, max_steps=None, alpha=0.0, teacher=self.teachers[0]
        )
        zero.fit(X, y, sample_weight=sample_weight, teacher_X=teacher_X)
        X, y = check_training_data(zero, X, y)
        if not isinstance(X, np.ndarray):
            raise Ungroupable("X", "a group trains on arrays; the student gets a Dataset")
        if any(True for _ in zero.module_.buffers()):
            raise Ungroupable("module", "a module with buffers trains one member at a time")
        self.student_, self.X_, self.teacher_X_ = zero, X, teacher_X
        self.labels_ = encode_labels(y, zero.classes_inferred_, "y")
        self.weights_ = check_sample_weight(zero, sample_weight, X, self.max_alpha)
        self.outputs_ = [self._outputs(zero, X, y, t, teacher_X) for t in self.teachers]
        return self

    def _outputs(self, zero, X, y, teacher, teacher_X):
        """One teacher's cached log-probabilities on the rows, with what the student records of it."""
        if teacher is None:
            return None, None, None, None
        student = clone(self.student).set_params(teacher=teacher)
        targets = TeacherTargets.build(student, X, y, self.max_alpha, None, teacher_X)
        if not np.array_equal(targets.classes, zero.classes_inferred_):
            raise Ungroupable("teacher", "the teachers know different classes")
        log_p = None if targets.rows is None else unpack_targets(targets.rows)[1]
        return log_p, targets.teacher, targets.view, targets.agreement


def _fold_capture(estimator, prefix, teachers, max_alpha, X, y, memory):
    """``estimator`` fitted on one training fold up to its student, whose place a capture takes.

    ``memory``, if given, caches the pruners' scores for the other groups
    (each fraction is a group); the fitted pipeline then gets its own back.
    """
    student, _ = split_final(estimator)
    capture = _Capture(student, teachers, max_alpha)
    if not prefix:
        return capture.fit(X, y), capture
    pipeline = clone(estimator)
    pipeline.steps = [*pipeline.steps[:-1], (prefix[:-2], capture)]
    if memory is not None:
        pipeline.memory = memory
    pipeline.fit(X, y)
    if memory is not None:
        pipeline.memory = estimator.memory
    return pipeline, pipeline.steps[-1][1]


def _group_kwargs(capture):
    """The group trainer's arguments, from the student the capture fitted (module defaults included)."""
    zero = capture.student_
    params = capture.student.get_params(deep=False)
    kwargs = {k: params[k] for k in _PASSED}
    kwargs.update({k: v for k, v in params.items() if k.startswith(("optimizer__", "criterion__"))})
    kwargs.update({f"module__{k}": v for k, v in zero.get_params_for("module").items()})
    kwargs.update(
        temperature=params["temperature"],
        kd_loss=params["kd_loss"],
        random_state=copy.deepcopy(params["random_state"]),
        verbose=0,
    )
    return params["module"], kwargs


def _train(captures, members):
    """One group over these folds' captures: member ``(fold, j)`` at ``fold * len(members) + j``."""
    n_kept = len(captures[0].labels_)
    offsets = np.cumsum([0] + [len(c.labels_) for c in captures])[:-1]
    X = np.concatenate([c.X_ for c in captures])
    labels = np.concatenate([c.labels_ for c in captures])
    n_teachers = len(captures[0].outputs_)
    log_p = None
    if any(alpha > 0 for alpha, _ in members):
        log_p = torch.stack(
            [torch.cat([c.outputs_[t][0] for c in captures]) for t in range(n_teachers)]
        )
    alphas = [a for _ in captures for a, _ in members]
    slots = [t if a > 0 else -1 for _ in captures for a, t in members]
    rows = np.stack([off + np.arange(n_kept) for off in offsets for _ in members])
    weights = [c.weights_ for c in captures for _ in members]
    module, kwargs = _group_kwargs(captures[0])
    group = _StudentGroup(module, alphas=alphas, teachers=slots, **kwargs)
    return group.fit(X, labels, rows, None if log_p is None else log_p.numpy(), weights)


def _copy_fitted(student):
    """A deep copy of a fitted student that shares its teacher (never copied, as clone shares it)."""
    shared = {k: student.__dict__.pop(k) for k in ("teacher", "teacher_") if k in student.__dict__}
    try:
        twin = copy.deepcopy(student)
    finally:
        student.__dict__.update(shared)
    twin.__dict__.update(shared)
    return twin


def _member(fitted, capture, group, index, alpha, slot):
    """The fitted estimator of one member: its weights in a copy of the capture's student."""
    student = _copy_fitted(capture.student_)
    student.max_epochs = capture.student.max_epochs
    student.max_steps = capture.student.max_steps
    student.alpha = student.alpha_ = alpha
    student.teacher = capture.teachers[slot]
    _, student.teacher_, student.teacher_view_, student.teacher_agreement_ = capture.outputs_[slot]
    with torch.no_grad():
        for own, stacked in zip(student.module_.parameters(), group.module_.weights):
            own.copy_(stacked[index])
    if fitted is capture:
        return student
    pipeline = copy.copy(fitted)
    pipeline.steps = [*fitted.steps[:-1], (fitted.steps[-1][0], student)]
    if hasattr(fitted, "teacher_input_"):
        pipeline.teacher_input_ = _view_used(student, capture.teacher_X_)
    return pipeline


def fit_group(estimator, members, teachers, X, y, folds, memory=None):
    """Train one group on every fold; ``{(candidate, fold): (fitted estimator, seconds)}``.

    ``estimator`` has the group's shared parameters set; ``members`` lists
    ``(candidate, alpha, teacher slot)``; ``folds`` maps a fold's index to its
    training rows; ``teachers[fold]`` lists the teachers of a fold, by slot. Folds whose students keep different numbers
    of rows train as separate groups (their data orders differ). ``memory``
    caches the pruners' scores across groups.
    """
    start = time.perf_counter()
    _, prefix = split_final(estimator)
    max_alpha = max(alpha for _, alpha, _ in members)
    fits = {}
    for fold, train in folds.items():
        Xf, yf = _safe_indexing(X, train), _safe_indexing(y, train)
        fits[fold] = _fold_capture(estimator, prefix, teachers[fold], max_alpha, Xf, yf, memory)
    by_size = {}
    for fold, (_, capture) in fits.items():
        by_size.setdefault(len(capture.labels_), []).append(fold)
    out, pairs = {}, [(alpha, slot) for _, alpha, slot in members]
    for same in by_size.values():
        group = _train([fits[f][1] for f in same], pairs)
        for p, fold in enumerate(same):
            for j, (candidate, alpha, slot) in enumerate(members):
                index = p * len(members) + j
                out[candidate, fold] = _member(*fits[fold], group, index, alpha, slot)
    seconds = (time.perf_counter() - start) / len(out)
    return {key: (fitted, seconds) for key, fitted in out.items()}
