"""The student's checks of its parameters, its data and its module, before any training."""

import inspect
from numbers import Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_consistent_length, column_or_1d
from skorch.utils import is_dataset, to_tensor

from .._compat import set_training
from ..datasets._labels import as_torch_dataset, dataset_labels
from ._alpha import auto_alpha
from ._losses import check_kd_loss, weighs_samples
from ._targets import _CACHE_DTYPES, check_output


def _is_real(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def check_alpha(student, train_fraction):
    """The student's parameters checked; the alpha this fit uses."""
    alpha, tau = student.alpha, student.temperature
    if not (alpha == "auto" or (_is_real(alpha) and 0 <= alpha <= 1)):
        raise ValueError(f"alpha must be a float in [0, 1] or 'auto'; got {alpha!r}")
    if not (_is_real(tau) and np.isfinite(tau) and tau > 0):
        raise ValueError(f"temperature must be a positive float; got {tau!r}")
    student._check_mixed_precision()
    check_kd_loss(student.kd_loss)
    if student.cache_teacher not in ("auto", True, False):
        raise ValueError(
            f"cache_teacher must be 'auto', True or False; got {student.cache_teacher!r}"
        )
    if student.teacher_cache_dtype not in _CACHE_DTYPES:
        raise ValueError(
            f"teacher_cache_dtype must be one of {sorted(_CACHE_DTYPES)}; "
            f"got {student.teacher_cache_dtype!r}"
        )
    try:
        check_random_state(student.random_state)
    except ValueError:
        raise ValueError(
            "random_state must be None, an int or a numpy RandomState; "
            f"got {student.random_state!r}"
        ) from None
    if student.teacher is None and alpha != 0:
        released = getattr(student, "teacher_released_", False)
        raise ValueError(
            f"alpha={alpha!r} needs a teacher"
            + (
                ": release_teacher() dropped this student's; give it one again with "
                "set_params(teacher=...)"
                if released
                else ": pass teacher= a model fitted on the full training data"
            )
            + ", or set alpha=0 for plain training"
        )
    return _resolve_alpha(alpha, train_fraction)


def _resolve_alpha(alpha, train_fraction):
    if train_fraction is not None and not (_is_real(train_fraction) and 0 < train_fraction <= 1):
        raise ValueError(f"train_fraction must be a float in (0, 1]; got {train_fraction!r}")
    if alpha != "auto":
        return float(alpha)
    if train_fraction is None:
        raise ValueError(
            "alpha='auto' chooses alpha from the fraction of the data kept by the pruners "
            "before the student, which only a prunekd.Pipeline passes down (as train_fraction, "
            "through nested prunekd Pipelines too; not through scikit-learn's Pipeline or a "
            "ColumnTransformer). Fit the student in a prunekd.Pipeline after a pruner, pass "
            "train_fraction= to fit, or set alpha to a number"
        )
    return auto_alpha(train_fraction)


def check_X(X):
    """``X`` as the student trains on it: a float32 array, a tensor, a dict or a Dataset."""
    if sp.issparse(X):
        raise TypeError(
            "sparse input is not supported: the student trains on dense tensors; pass X.toarray()"
        )
    X = as_torch_dataset(X)
    if is_dataset(X) or isinstance(X, (dict, torch.Tensor)):
        return X
    return check_array(X, allow_nd=True, dtype=np.float32, ensure_all_finite=True, input_name="X")


def check_training_data(student, X, y):
    """``X`` and ``y`` checked for a fit; a Dataset's labels read from it when ``y`` is None."""
    X = check_X(X)
    if y is None and is_dataset(X):
        y = dataset_labels(X)
    if y is None:
        raise ValueError(
            f"{type(student).__name__} requires y to be passed, but the target y is None"
        )
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    if not is_dataset(X):
        check_consistent_length(X, y)
    if len(y) < 1:
        raise ValueError(f"{type(student).__name__}.fit needs at least one sample")
    return X, y


def probe_student(student, rows, n_classes):
    """The initialised student's outputs on the first rows: one logit per class, no error."""
    shape = tuple(rows.shape)
    with torch.no_grad():
        set_training(student, False)
        try:
            out = student.infer(to_tensor(rows, device=student._tensor_device()))
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            sizes = ", ".join(
                f"module__{k}={v!r}" for k, v in student.get_params_for("module").items()
            )
            raise ValueError(
                f"the student {type(student.module_).__name__} could not process inputs of shape "
                f"{shape} (the first rows of X); check the module parameters that fix its input "
                f"size ({sizes or 'none given'}): {exc}"
            ) from exc
    out = out[0] if isinstance(out, (tuple, list)) else out
    check_output("student", out, len(rows), n_classes, shape)
    check_logits(out)


def check_callbacks(student):
    """Refuse callbacks that watch validation scores when there is no validation split."""
    if student.train_split is not None:
        return
    for name, callback in getattr(student, "callbacks_", []):
        monitor = getattr(callback, "monitor", None)
        if isinstance(monitor, str) and monitor.startswith("valid_"):
            raise ValueError(
                f"the callback {name!r} ({type(callback).__name__}) monitors {monitor!r}, but "
                "train_split=None (the student's default) scores no validation rows. Give the "
                "student a validation split, e.g. train_split=skorch.dataset.ValidSplit(0.2, "
                "stratified=True): its rows are left out of training and get the teacher's "
                "outputs computed on the fly"
            )


def check_logits(out):
    """Refuse a student that returns probabilities: the KD term needs logits."""
    out = out.detach().float()
    if (
        (out >= 0).all()
        and (out <= 1).all()
        and torch.allclose(out.sum(1), torch.ones(len(out)), atol=1e-4)
    ):
        raise ValueError(
            "the student returns probabilities (non-negative rows summing to 1); "
            "DistillationClassifier needs logits: remove the module's final softmax and "
            "use criterion=torch.nn.CrossEntropyLoss (the default)"
        )


def module_defaults(module, given, X, classes):
    """``n_features`` and ``n_classes`` of a module class, from the data, unless ``given``."""
    if not isinstance(module, type):
        return {}
    try:
        accepted = inspect.signature(module).parameters
    except (TypeError, ValueError):
        return {}
    defaults = {}
    if "n_classes" in accepted and "n_classes" not in given:
        defaults["n_classes"] = len(classes)
    if "n_features" in accepted and "n_features" not in given and not is_dataset(X):
        if np.ndim(X) == 2:
            defaults["n_features"] = np.shape(X)[1]
    return defaults


def set_input_shape(student, X):
    """Record the shape of a fit's samples (and ``n_features_in_`` for tables)."""
    if is_dataset(X):
        student._input_shape_ = None
        student.__dict__.pop("n_features_in_", None)
        return
    student._input_shape_ = tuple(X.shape[1:])
    student.n_features_in_ = int(X.shape[1]) if X.ndim > 1 else 1


def check_input_shape(student, X):
    """Refuse samples of another shape than the fit's, in scikit-learn's words for tables."""
    expected = getattr(student, "_input_shape_", None)
    if expected is not None and tuple(X.shape[1:]) != expected:
        name = type(student).__name__
        if X.ndim == 2 and len(expected) == 1:
            raise ValueError(
                f"X has {X.shape[1]} features, but {name} is expecting "
                f"{expected[0]} features as input"
            )
        raise ValueError(
            f"X has samples of shape {tuple(X.shape[1:])}, but {name} was fitted on "
            f"samples of shape {expected} (n_features_in_={student.n_features_in_})"
        )


def check_sample_weight(student, sample_weight, X, alpha):
    """``sample_weight`` as float32 weights of the rows of ``X``, or None; refused early if unusable."""
    if sample_weight is None:
        return None
    if is_dataset(X):
        raise ValueError(
            "sample_weight is not supported with a torch Dataset as X; draw the samples by "
            "weight instead, with iterator_train__sampler=torch.utils.data.WeightedRandomSampler"
        )
    weights = np.array(sample_weight, dtype=np.float64)  # a copy (pandas may hand a read-only view)
    if weights.ndim != 1:
        raise ValueError(
            f"sample_weight must be 1-D, one weight per row; got shape {weights.shape} "
            "(fit's third positional argument is sample_weight: pass teacher_X by name)"
        )
    if len(weights) != len(X):
        raise ValueError(f"sample_weight has {len(weights)} values but X has {len(X)} rows")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(
            "sample_weight must be finite and non-negative; got values in "
            f"[{np.nanmin(weights):g}, {np.nanmax(weights):g}]"
        )
    if weights.sum() == 0:
        raise ValueError("sample_weight is zero for every row: there is nothing to train on")
    loss = check_kd_loss(student.kd_loss)
    if alpha != 0 and not weighs_samples(loss):
        raise ValueError(
            f"kd_loss={type(loss).__name__} is not a mean of per-sample losses, so sample_weight "
            "cannot weight it; use kd_loss='kd', 'dkd' or 'mse' with sample_weight"
        )
    return torch.as_tensor(weights, dtype=torch.float32)
