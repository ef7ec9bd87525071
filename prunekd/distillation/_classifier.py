"""The distillation student: a skorch classifier that also learns from a teacher."""

import inspect
import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.utils import is_dataset, to_tensor
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_consistent_length, column_or_1d

from .._compat import set_training
from .._skorch import _Classifier
from .._utils import _seed_from_random_state, _torch_seeded, clone_sharing
from ..datasets._labels import as_torch_dataset, dataset_labels
from ..parallel import _SharedTeacher, shared_key
from ._alpha import auto_alpha, current_train_fraction
from ._loss import kd_objective, teacher_log_probs
from ._losses import check_kd_loss
from ._stored import TeacherOutputs, _WithStoredLogits
from ._teacher import make_teacher


_INFERENCE_BATCH = 1024
_CACHE_DTYPES = {"float32": torch.float32, "float16": torch.float16}
# float16 represents every integer up to 2**11 exactly: the labels packed with it.
_FLOAT16_MAX_CLASSES = 2048
# A teacher fitted on the full data knows the student's training rows; one that
# gets less than a quarter of the way from the majority-class rate to all of
# them right is most likely fed another representation than it was fitted on.
_TEACHER_SANITY = 0.25


def _module_class_by_value(teacher):
    """Whether a fitted skorch teacher's module class cannot be imported by name.

    A class defined in the user's script (``__main__``, a notebook) or inside a
    function exists only in this process.
    """
    module = getattr(teacher, "module_", None) if isinstance(teacher, NeuralNet) else None
    if not isinstance(module, torch.nn.Module):
        return False
    cls = type(module)
    return cls.__module__ == "__main__" or "<locals>" in cls.__qualname__


def _restore_net(cls, attributes):
    net = cls.__new__(cls)
    net.__dict__.update(attributes)
    return net


class _PortableNet:
    """Pickles a fitted skorch teacher with its torch objects as they are.

    skorch pickles a net's module through ``torch.save``, which refers to the
    module's class by name, so a class defined in the user's script cannot be
    found in a joblib worker (``BrokenProcessPool``). Pickled as plain
    attributes, the module goes through joblib's cloudpickle, which sends
    such a class by value. Unpickling gives the skorch net back.
    """

    def __init__(self, net):
        self.net = net

    def __reduce__(self):
        return _restore_net, (type(self.net), dict(self.net.__dict__))


class DistillationClassifier(_Classifier):
    """A skorch classifier trained on labels and on a teacher's soft predictions.

    The loss on every batch is ``(1 - alpha) * criterion(s, y) + alpha *
    tau**2 * KL(softmax(t / tau) || softmax(s / tau))``, where ``s`` are the
    student's logits, ``t`` the teacher's and ``tau`` the temperature; the KL
    term is averaged over the samples of the batch.

    Everything else is skorch's :class:`skorch.NeuralNetClassifier`: the same
    constructor, callbacks, ``device``, ``module__`` and ``optimizer__``
    parameters, with three differences of default: the ``criterion`` is
    cross-entropy (the module returns logits), there is no internal validation
    split (``train_split=None``: the data is usually an already pruned subset),
    and the training data is shuffled every epoch.

    Parameters
    ----------
    module : torch module class or instance
        The student; returns logits. A class whose constructor takes
        ``n_classes`` or ``n_features`` gets them from the data in ``fit``
        when ``module__n_classes`` or ``module__n_features`` is not given
        (the number of classes, the number of columns of a 2-D ``X``).
    teacher : torch.nn.Module, skorch net, scikit-learn classifier or None, default=None
        A teacher fitted on the full training data. A torch module must return
        logits; a skorch net is used through its fitted module; a scikit-learn
        classifier through ``predict_proba`` (log-probabilities serve as
        logits). The teacher is never trained, is evaluated in eval mode
        without gradients, and is shared, not copied, by :func:`sklearn.base.clone`.
        ``None`` is allowed only with ``alpha=0``.
    alpha : float in [0, 1] or "auto", default=0.5
        Weight of the distillation term. ``0`` is plain training; ``"auto"``
        picks alpha from the fraction of the data the student trains on (see
        :func:`prunekd.distillation.auto_alpha`).
    temperature : float, default=4.0
        Softmax temperature ``tau`` of the distillation term (> 0).
    kd_loss : {"kd", "dkd", "dist", "mse"} or a loss object, default="kd"
        The distillation term: vanilla KD (:class:`~prunekd.distillation.KDLoss`),
        decoupled KD (:class:`~prunekd.distillation.DKDLoss`), DIST, meant for a
        teacher much larger than the student
        (:class:`~prunekd.distillation.DISTLoss`), or the squared error between
        centred logits (:class:`~prunekd.distillation.MSELoss`). An object sets
        the loss's own weights, e.g. ``DKDLoss(beta=4.0)``.
    cache_teacher : bool or "auto", default="auto"
        Compute the teacher's logits once per ``fit`` (``True``) or on every
        batch (``False``). ``"auto"`` caches for array inputs, whose batches do
        not change from epoch to epoch, and not for ``torch`` Datasets, which
        may augment their samples at random.
    teacher_cache_dtype : {"float32", "float16"}, default="float32"
        Storage of the cached teacher log-probabilities. ``"float16"`` halves
        their memory (``2 n K`` instead of ``4 n K`` bytes for ``n`` samples
        and ``K`` classes) at a relative rounding of about 5e-4; labels are
        stored alongside, exactly, for up to 2,048 classes.
    mixed_precision : bool, default=False
        Run the training forward pass and loss (an on-the-fly teacher
        included) under ``torch.autocast`` in bfloat16, on the net's device.
        bfloat16 keeps float32's range, so no loss scaling is needed; weights
        and optimiser state stay in float32. Pays off on GPUs with bfloat16
        tensor cores.
    random_state : int, RandomState instance or None, default=None
        Seeds the module's initialisation and the data order of ``fit``
        (through torch's generator, restored afterwards). ``None`` uses torch's
        global generator, as skorch does.
    criterion : torch criterion class, default=torch.nn.CrossEntropyLoss
        The loss on the labels.
    train_split : None or callable, default=None
        skorch's internal validation split; None trains on all of the data.
    classes : array-like or None, default=None
        All class labels. By default the teacher's classes when it knows them
        (scikit-learn classifiers), else the labels of ``y``.
    **kwargs
        Any other argument of :class:`skorch.NeuralNetClassifier`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, in the order of the student's outputs.
    alpha_ : float
        The alpha used in the last ``fit``.
    teacher_ : object
        Internal frozen view of the teacher.
    module_, criterion_, optimizer_, history_ :
        As in skorch.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from prunekd import DistillationClassifier
    >>> from prunekd.models import MLP
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype("float32")
    >>> teacher = LogisticRegression(max_iter=500).fit(X, y)
    >>> student = DistillationClassifier(
    ...     MLP, module__n_features=64, module__n_classes=10, teacher=teacher,
    ...     alpha=0.5, max_epochs=5, lr=0.1, verbose=0, random_state=0)
    >>> _ = student.fit(X[:200], y[:200])
    >>> student.predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        module,
        *args,
        teacher=None,
        alpha=0.5,
        temperature=4.0,
        kd_loss="kd",
        cache_teacher="auto",
        teacher_cache_dtype="float32",
        mixed_precision=False,
        random_state=None,
        criterion=torch.nn.CrossEntropyLoss,
        train_split=None,
        classes=None,
        **kwargs,
    ):
        kwargs.setdefault("iterator_train__shuffle", True)
        super().__init__(
            module,
            *args,
            criterion=criterion,
            train_split=train_split,
            classes=classes,
            mixed_precision=mixed_precision,
            **kwargs,
        )
        self.teacher = teacher
        self.alpha = alpha
        self.temperature = temperature
        self.kd_loss = kd_loss
        self.cache_teacher = cache_teacher
        self.teacher_cache_dtype = teacher_cache_dtype
        self.random_state = random_state

    def __setattr__(self, name, attr):
        # The teacher is a parameter, not a component this net trains: skorch
        # would otherwise register a torch module set after __init__ (and give
        # its weights to the optimizer).
        if name == "teacher":
            object.__setattr__(self, name, attr)
            return
        super().__setattr__(name, attr)

    def set_params(self, **params):
        """Set parameters; ``kd_loss__<name>`` sets the loss object's own parameter.

        skorch would keep ``kd_loss__beta`` as a parameter of its own; here it
        reaches the loss, as in a scikit-learn meta-estimator (a loss given by
        name becomes its object first).
        """
        nested = {k[len("kd_loss__"):]: params.pop(k) for k in list(params)
                  if k.startswith("kd_loss__")}  # fmt: skip
        super().set_params(**params)
        if nested:
            self.kd_loss = clone(check_kd_loss(self.kd_loss)).set_params(**nested)
        return self

    # Parameters clone shares as they are (a fitted teacher; an accelerator's process state).
    _shared_params = ("teacher",)

    def __sklearn_clone__(self):
        """Clone every parameter except the teacher, which is shared as is.

        A fitted teacher must survive ``clone`` (``GridSearchCV`` clones every
        candidate): cloning it would return an unfitted copy or a deep copy.
        """
        return clone_sharing(self, self._shared_params)

    def __getstate__(self):
        state = super().__getstate__()
        teacher = state.get("teacher")
        key = shared_key(teacher)
        if key is not None:  # inside prunekd.parallel.shared_teachers
            state["teacher"] = _SharedTeacher(key)
        elif _module_class_by_value(teacher):
            state["teacher"] = _PortableNet(teacher)
        return state

    def _tensor_device(self):
        """Where the tensors this class makes itself go: the net's device."""
        return self.device

    def _teacher_object(self):
        teacher = self.teacher
        return teacher.resolve() if isinstance(teacher, _SharedTeacher) else teacher

    # ------------------------------------------------------------------ checks

    def _check_params(self):
        alpha = self.alpha
        if not (
            alpha == "auto"
            or (isinstance(alpha, Real) and not isinstance(alpha, bool) and 0 <= alpha <= 1)
        ):
            raise ValueError(f"alpha must be a float in [0, 1] or 'auto'; got {alpha!r}")
        tau = self.temperature
        if not (isinstance(tau, Real) and not isinstance(tau, bool) and np.isfinite(tau) and tau > 0):
            raise ValueError(f"temperature must be a positive float; got {tau!r}")
        self._check_mixed_precision()
        check_kd_loss(self.kd_loss)
        if self.cache_teacher not in ("auto", True, False):
            raise ValueError(
                f"cache_teacher must be 'auto', True or False; got {self.cache_teacher!r}"
            )
        if self.teacher_cache_dtype not in _CACHE_DTYPES:
            raise ValueError(
                f"teacher_cache_dtype must be one of {sorted(_CACHE_DTYPES)}; "
                f"got {self.teacher_cache_dtype!r}"
            )
        try:
            check_random_state(self.random_state)
        except ValueError:
            raise ValueError(
                "random_state must be None, an int or a numpy RandomState; "
                f"got {self.random_state!r}"
            ) from None
        if self.teacher is None and alpha != 0:
            raise ValueError(
                f"alpha={alpha!r} needs a teacher: pass teacher= a model fitted on the "
                "full training data, or set alpha=0 for plain training"
            )

    def _resolve_alpha(self):
        if self.alpha != "auto":
            return float(self.alpha)
        fraction = current_train_fraction()
        if fraction is None:
            raise ValueError(
                "alpha='auto' chooses alpha from the fraction of the data kept by a "
                "pruner; fit the student inside a prunekd Pipeline after a pruner, or "
                "set alpha to a number"
            )
        return auto_alpha(fraction)

    @staticmethod
    def _check_X(X):
        if sp.issparse(X):
            raise TypeError(
                "sparse input is not supported: the student trains on dense tensors; "
                "pass X.toarray()"
            )
        X = as_torch_dataset(X)
        if is_dataset(X) or isinstance(X, (dict, torch.Tensor)):
            return X
        return check_array(
            X, allow_nd=True, dtype=np.float32, ensure_all_finite=True, input_name="X"
        )

    def _encode_labels(self, y, teacher, classes=None):
        if classes is not None:
            classes, source = np.asarray(classes), "the classes fitted so far or given to partial_fit"
        elif self.classes is not None:
            classes, source = np.asarray(self.classes), "classes="
        elif teacher is not None and teacher.classes is not None:
            classes, source = np.sort(teacher.classes), "the teacher"
        else:
            classes, source = np.unique(y), "y"
        unknown = np.setdiff1d(np.unique(y), classes)
        if len(unknown):
            raise ValueError(
                f"y has labels {unknown.tolist()[:5]} that are not among the classes "
                f"{classes.tolist()[:10]} (from {source})"
            )
        order = np.argsort(classes, kind="stable")
        codes = order[np.searchsorted(classes, y, sorter=order)]
        return classes, codes.astype(np.int64)

    def _teacher_columns(self, teacher, classes):
        """Permutation of the teacher's output columns into the student's class order."""
        if teacher is None or teacher.classes is None:
            return None
        if set(teacher.classes.tolist()) != set(classes.tolist()):
            raise ValueError(
                f"teacher classes {teacher.classes.tolist()[:10]} differ from the student's "
                f"classes {classes.tolist()[:10]}"
            )
        columns = np.array([np.flatnonzero(teacher.classes == c)[0] for c in classes])
        return None if np.array_equal(columns, np.arange(len(classes))) else columns

    def _check_output(self, who, out, n_probe, n_classes, shape):
        if tuple(out.shape) != (n_probe, n_classes):
            raise ValueError(
                f"the {who} returns outputs of shape {tuple(out.shape)} for inputs of "
                f"shape {shape}; expected ({n_probe}, {n_classes}): one logit per class "
                f"of {n_classes}. Check that teacher and student agree on the classes "
                "and the input shape."
            )

    def _check_logits(self, out):
        """Refuse a student that returns probabilities: the KD term needs logits."""
        out = out.detach().float()
        if ((out >= 0).all() and (out <= 1).all()
                and torch.allclose(out.sum(1), torch.ones(len(out)), atol=1e-4)):  # fmt: skip
            raise ValueError(
                "the student returns probabilities (non-negative rows summing to 1); "
                "DistillationClassifier needs logits: remove the module's final softmax and "
                "use criterion=torch.nn.CrossEntropyLoss (the default)"
            )

    def _set_input_shape(self, X):
        if is_dataset(X):
            self._input_shape_ = None
            self.__dict__.pop("n_features_in_", None)
            return
        self._input_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = int(X.shape[1]) if X.ndim > 1 else 1

    def _check_input_shape(self, X):
        expected = getattr(self, "_input_shape_", None)
        if expected is not None and tuple(X.shape[1:]) != expected:
            if X.ndim == 2 and len(expected) == 1:  # scikit-learn's wording for tables
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{expected[0]} features as input"
                )
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but {type(self).__name__} was "
                f"fitted on samples of shape {expected} (n_features_in_={self.n_features_in_})"
            )

    def _check_fitted(self):
        if not getattr(self, "initialized_", False) or not hasattr(self, "classes_inferred_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _module_defaults(self, X, classes):
        """``n_features`` and ``n_classes`` of a module class, from the data, unless given.

        Set as fitted state, not as parameters: ``fit`` leaves the parameters
        as the user set them.
        """
        if not isinstance(self.module, type):
            return {}
        try:
            accepted = inspect.signature(self.module).parameters
        except (TypeError, ValueError):
            return {}
        given = super().get_params_for("module")
        defaults = {}
        if "n_classes" in accepted and "n_classes" not in given:
            defaults["n_classes"] = len(classes)
        if "n_features" in accepted and "n_features" not in given and not is_dataset(X):
            if np.ndim(X) == 2:
                defaults["n_features"] = np.shape(X)[1]
        return defaults

    def get_params_for(self, prefix):
        params = super().get_params_for(prefix)
        if prefix == "module":
            for key, value in getattr(self, "_module_defaults_", {}).items():
                params.setdefault(key, value)
        return params

    def _probe(self, X):
        """First samples of X, for shape checks before training."""
        if is_dataset(X):
            return torch.stack([torch.as_tensor(X[i][0]) for i in range(min(2, len(X)))])
        return X[:2]

    # --------------------------------------------------------------- training

    def fit(self, X, y=None, teacher_X=None, **fit_params):
        """Train the student on ``X``, ``y`` and the teacher's predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or torch Dataset
            Training inputs.
        y : array-like of shape (n_samples,), default=None
            Class labels (any labels scikit-learn accepts). May be omitted for a
            Dataset, whose labels are then read from its ``targets``,
            ``labels`` or ``y`` attribute (the integers ``0..n_classes-1``).
        teacher_X : array-like of shape (n_samples, ...), default=None
            What the teacher predicts on, row for row with ``X``, when it
            consumes another representation than the student: for example the
            raw features of a teacher fitted on them, while the student gets
            scaled ones (``prunekd.Pipeline(teacher_input="raw")`` passes
            them). ``None``: the teacher predicts on ``X``.
        **fit_params : dict
            Passed to skorch's ``fit`` (and from there to the module's forward).

        Returns
        -------
        self : DistillationClassifier
        """
        return self._fit(X, y, fit_params, keep_weights=self.warm_start and self.initialized_,
                         teacher_X=teacher_X)  # fmt: skip

    def partial_fit(self, X, y=None, classes=None, teacher_X=None, **fit_params):
        """Train for ``max_epochs`` more epochs, keeping the weights learned so far.

        The first call (on an unfitted student) is a ``fit``; ``classes``
        then fixes every label the student will know, so that later calls may
        bring labels the first batch lacked. Later calls keep the classes of
        the first and refuse labels outside them.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or torch Dataset
        y : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            All class labels; only read on the first call (default: the
            ``classes`` parameter, the teacher's classes or the labels of
            ``y``).
        teacher_X : array-like of shape (n_samples, ...), default=None
            What the teacher predicts on, row for row with ``X`` (see ``fit``).
        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : DistillationClassifier
        """
        if "_routing_method" in fit_params:  # skorch's fit loop, called from _fit
            return super().partial_fit(X, y, **fit_params)
        fitted = self.initialized_ and hasattr(self, "classes_inferred_")
        return self._fit(X, y, fit_params, keep_weights=fitted, classes=None if fitted else classes,
                         teacher_X=teacher_X)  # fmt: skip

    def _check_teacher_X(self, teacher_X, X):
        """``teacher_X`` validated against ``X``; None when the teacher reads ``X``."""
        if teacher_X is None:
            return None
        if self.teacher is None:
            raise ValueError("teacher_X was given but teacher=None: there is no teacher to feed")
        if is_dataset(teacher_X) or is_dataset(X):
            raise ValueError(
                "teacher_X must be an array next to an array X; with torch Datasets, make the "
                "Dataset yield what the student needs and wrap the teacher to read it"
            )
        if self.cache_teacher is False or self.train_split is not None:
            raise ValueError(
                "teacher_X needs the teacher's outputs computed once before training "
                "(cache_teacher='auto' or True) and no validation split (train_split=None): "
                f"got cache_teacher={self.cache_teacher!r}, train_split={self.train_split!r}"
            )
        teacher_X = self._check_X(teacher_X)
        if len(teacher_X) != len(X):
            raise ValueError(
                f"teacher_X has {len(teacher_X)} rows but X has {len(X)}; teacher_X must "
                "hold the teacher's view of the same samples, row for row"
            )
        return teacher_X

    def _warn_if_teacher_is_lost(self, logits, y_encoded):
        """Warn when the teacher does not know the rows it should know."""
        agree = float(np.mean(logits.argmax(1).numpy() == y_encoded))
        majority = np.bincount(y_encoded).max() / len(y_encoded)
        if len(y_encoded) >= 20 and agree < majority + _TEACHER_SANITY * (1 - majority):
            warnings.warn(
                f"the teacher predicts the labels of only {agree:.0%} of the training rows "
                f"(the majority class is {majority:.0%}). A teacher fitted on the full data "
                "should know them: does it get the representation it was fitted on? In a "
                "Pipeline with preprocessing before the student, use "
                "prunekd.Pipeline(..., teacher_input='raw') or pass teacher_X to fit.",
                UserWarning,
                stacklevel=4,
            )

    def _fit(self, X, y, fit_params, keep_weights, classes=None, teacher_X=None):
        self._check_params()
        X = self._check_X(X)
        teacher_X = self._check_teacher_X(teacher_X, X)
        teacher_in = X if teacher_X is None else teacher_X
        if y is None and is_dataset(X):
            y = dataset_labels(X)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not is_dataset(X):
            check_consistent_length(X, y)
        if len(y) < 1:
            raise ValueError("DistillationClassifier.fit needs at least one sample")
        alpha = self._resolve_alpha()
        teacher = make_teacher(self._teacher_object()) if self.teacher is not None else None
        if keep_weights and hasattr(self, "classes_inferred_"):
            classes = self.classes_inferred_  # continued training: the classes learned so far
        classes, y_encoded = self._encode_labels(y, teacher, classes)
        columns = self._teacher_columns(teacher, classes)
        if is_dataset(X) and not np.array_equal(classes, np.arange(len(classes))):
            # The Dataset yields its own labels, which the loss uses as class indices.
            raise ValueError(
                "with a torch Dataset as X the labels must be the integers 0..n_classes-1; "
                f"got classes {classes.tolist()[:10]}"
            )
        probe = self._probe(X)
        stored = self._teacher_object()
        stored = stored if isinstance(stored, TeacherOutputs) else None
        if stored is not None and columns is None and stored.n_classes != len(classes):
            raise ValueError(
                f"the teacher outputs stored in {stored.path!r} have {stored.n_classes} "
                f"columns for the {len(classes)} classes of y"
            )
        if stored is not None and is_dataset(teacher_in):
            # Matched by position, not by the (augmented) inputs: see TeacherOutputs.
            positions = stored.positions(teacher_in)
        elif stored is not None:
            stored.rows_of(teacher_in)  # every row, before training starts
        elif teacher is not None:
            teacher_probe = self._probe(teacher_in)
            try:
                out = teacher.logits(teacher_probe)
            except Exception as exc:
                raise ValueError(
                    f"the teacher could not predict inputs of shape {tuple(teacher_probe.shape)}"
                    f": {exc}"
                ) from exc
            self._check_output(
                "teacher", out, len(teacher_probe), len(classes), tuple(teacher_probe.shape)
            )
        cache = self.cache_teacher if self.cache_teacher != "auto" else not is_dataset(X)
        packed = None
        if stored is not None and is_dataset(X) and alpha > 0:
            X = _WithStoredLogits(X, stored, positions, columns, self.temperature,
                                  _CACHE_DTYPES[self.teacher_cache_dtype])  # fmt: skip
        if teacher is not None and alpha > 0 and cache and not is_dataset(X):
            dtype = _CACHE_DTYPES[self.teacher_cache_dtype]
            if dtype == torch.float16 and len(classes) > _FLOAT16_MAX_CLASSES:
                raise ValueError(
                    f"teacher_cache_dtype='float16' stores labels exactly for up to "
                    f"{_FLOAT16_MAX_CLASSES} classes; got {len(classes)}. Use 'float32'."
                )
            # Inference needs no gradients, so a larger batch is cheaper per sample.
            logits = teacher.logits_array(teacher_in, max(self.batch_size, _INFERENCE_BATCH))
            if columns is not None:
                logits = logits[:, columns]
            self._warn_if_teacher_is_lost(logits, y_encoded)
            # Label and teacher log-probabilities side by side in one float row:
            # batches then cost what plain labels cost, and the teacher's
            # softmax is computed once per fit instead of once per batch.
            # A tensor, not an array: the DataLoader stacks tensor rows in one op.
            packed = torch.cat(
                [
                    torch.as_tensor(y_encoded, dtype=torch.float32)[:, None],
                    teacher_log_probs(logits, self.temperature),
                ],
                dim=1,
            ).to(dtype)

        was_initialized = self.initialized_
        before = set(vars(self))
        try:
            self.classes_inferred_ = classes
            if not keep_weights:
                self._module_defaults_ = self._module_defaults(X, classes)
            self.alpha_ = alpha
            self.kd_loss_ = check_kd_loss(self.kd_loss)
            self.teacher_ = teacher
            self._teacher_columns_ = columns
            self._packed_targets_ = packed
            with _torch_seeded(_seed_from_random_state(self.random_state)):
                if not keep_weights:
                    self.initialize()
                elif not is_dataset(X):
                    self._check_input_shape(X)
                with torch.no_grad():
                    set_training(self, False)
                    out = self.infer(to_tensor(probe, device=self._tensor_device()))
                    if isinstance(out, (tuple, list)):
                        out = out[0]
                self._check_output("student", out, len(probe), len(classes), tuple(probe.shape))
                self._check_logits(out)
                if not keep_weights:
                    self._set_input_shape(X)
                self.partial_fit(X, y_encoded, _routing_method="fit", **fit_params)
        except BaseException:
            if not was_initialized:
                for name in set(vars(self)) - before:
                    delattr(self, name)
                self.initialized_ = False
            raise
        finally:
            self._packed_targets_ = None  # O(n) memory, needed only while training
        return self

    def check_data(self, X, y):
        # The classes were set from the raw labels in fit; skorch would infer
        # them again from the encoded ones.
        if y is None and not is_dataset(X):
            super().check_data(X, y)

    def _batch_targets(self, y):
        packed = getattr(self, "_packed_targets_", None)
        return packed if packed is not None else super()._batch_targets(y)

    def get_split_datasets(self, X, y=None, **fit_params):
        packed = getattr(self, "_packed_targets_", None)
        if packed is None or y is None or self._can_batch(X, y):
            return super().get_split_datasets(X, y, **fit_params)
        train, valid = super().get_split_datasets(X, y, **fit_params)
        # Training rows get the packed targets (label + cached teacher); the
        # validation rows, if any, keep plain labels and an on-the-fly teacher.
        rows = getattr(train, "indices", None)
        if rows is None:
            return self.get_dataset(X, packed), valid
        return self.get_dataset(X[rows], packed[rows]), valid

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self._tensor_device())
        alpha = getattr(self, "alpha_", self.alpha)
        teacher_log_p = None
        if y_true.dim() == 2:  # packed: label, then the teacher's log-probabilities
            y_true, teacher_log_p = y_true[:, 0].long(), y_true[:, 1:]
        elif alpha != 0:
            logits = to_tensor(self._teacher_logits_on_the_fly(X), device=self._tensor_device())
            teacher_log_p = teacher_log_probs(logits, self.temperature)
        soft_loss = getattr(self, "kd_loss_", None)
        return kd_objective(
            y_pred, y_true, teacher_log_p, alpha, self.temperature, self.criterion_, soft_loss
        )

    def _teacher_logits_on_the_fly(self, X):
        logits = self.teacher_.logits(X)
        columns = self._teacher_columns_
        return logits if columns is None else logits[:, columns]

    # ------------------------------------------------------------- prediction

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or torch Dataset

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        self._check_fitted()
        X = self._check_X(X)
        if not is_dataset(X) and not isinstance(X, dict):
            self._check_input_shape(X)
        return super().predict_proba(X)

    def predict(self, X):
        """Predicted class labels (the labels given to ``fit``).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or torch Dataset

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # checks that the student is fitted
        return np.asarray(self.classes_)[proba.argmax(axis=1)]

