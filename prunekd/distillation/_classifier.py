"""The distillation student: a skorch classifier that also learns from a teacher."""

from contextlib import contextmanager

import numpy as np
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from skorch.utils import is_dataset, to_tensor

from .._skorch import _BatchedArrays, _Classifier
from .._utils import _seed_from_random_state, _torch_seeded, clone_sharing, rolled_back_on_error
from ..parallel import portable_teacher
from ._budget import StepBudgetMixin, check_max_steps
from ._losses import check_kd_loss, kd_objective, teacher_log_probs
from ._targets import TeacherTargets, is_packed, unpack_targets, viewed_by_callbacks
from ._teacher import unshare
from ._validation import (
    check_alpha,
    check_callbacks,
    check_sample_weight,
    check_training_data,
    check_input_shape,
    check_X,
    module_defaults,
    probe_student,
    set_input_shape,
)


class DistillationClassifier(StepBudgetMixin, _Classifier):
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
    *args
        Positional arguments after ``module``, passed on to
        :class:`skorch.NeuralNetClassifier` as skorch takes them.
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
    max_steps : int or None, default=None
        Train for exactly this many optimiser steps (batches of
        ``batch_size`` rows) per ``fit`` and per ``partial_fit`` call,
        whatever the number of rows; overrides ``max_epochs``. A search over
        the kept fraction with an epoch budget gives small fractions fewer
        steps, and so compares budgets as well as subsets. None: ``max_epochs``.
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
        Internal frozen view of the teacher (None after :meth:`release_teacher`).
    teacher_view_ : {"raw", "transformed"} or None
        The view the teacher read when ``prunekd.Pipeline(teacher_input="auto")``
        offered two, else None.
    teacher_agreement_ : dict or None
        Share of the training rows whose label the teacher predicts, per view offered.
    teacher_released_ : bool
        Whether :meth:`release_teacher` dropped the teacher since the last fit.
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
        max_steps=None,
        random_state=None,
        criterion=torch.nn.CrossEntropyLoss,
        train_split=None,
        classes=None,
        **kwargs,
    ):
        kwargs.setdefault("iterator_train__shuffle", True)
        kwargs.update(criterion=criterion, train_split=train_split, classes=classes)
        super().__init__(module, *args, mixed_precision=mixed_precision, **kwargs)
        self.teacher = teacher
        self.alpha = alpha
        self.temperature = temperature
        self.kd_loss = kd_loss
        self.cache_teacher = cache_teacher
        self.teacher_cache_dtype = teacher_cache_dtype
        self.max_steps = max_steps
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
        nested = {
            k[len("kd_loss__") :]: params.pop(k) for k in list(params) if k.startswith("kd_loss__")
        }
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
        if state.get("teacher") is not None:
            state["teacher"] = portable_teacher(state["teacher"])
        return state

    def _tensor_device(self):
        """Where the tensors this class makes itself go: the net's device."""
        return self.device

    def _teacher_object(self):
        return unshare(self.teacher)

    _check_X = staticmethod(check_X)

    def release_teacher(self):
        """Drop the teacher from this fitted student, for deployment; return ``self``.

        ``predict``, ``predict_proba`` and ``score`` use the student alone, and
        its pickle no longer carries the teacher. Fitting again with
        ``alpha > 0`` needs a teacher: ``set_params(teacher=...)``.

        Examples
        --------
        See :class:`DistillationClassifier`; after ``fit``:
        ``pickle.dumps(student.release_teacher())`` holds the student alone.
        """
        self._check_fitted()
        self.teacher = self.teacher_ = None
        self.teacher_released_ = True
        return self

    def _check_params(self, train_fraction=None):
        """Parameters checked before anything else; the alpha this fit uses."""
        check_max_steps(self.max_steps)
        return check_alpha(self, train_fraction)

    def get_params_for(self, prefix):
        params = super().get_params_for(prefix)
        if prefix == "module":
            for key, value in getattr(self, "_module_defaults_", {}).items():
                params.setdefault(key, value)
        return params

    # --------------------------------------------------------------- training

    def fit(self, X, y=None, sample_weight=None, teacher_X=None, train_fraction=None, **fit_params):
        """Train the student on ``X``, ``y`` and the teacher's predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or torch Dataset
            Training inputs.
        y : array-like of shape (n_samples,), default=None
            Class labels (any labels scikit-learn accepts). May be omitted for a
            Dataset, whose labels are then read from its ``targets``,
            ``labels`` or ``y`` attribute (the integers ``0..n_classes-1``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of every row in both loss terms: each batch's
            loss is ``sum_i w_i l_i / sum_i w_i``, so weight 2 counts a row
            twice. A :class:`prunekd.Pipeline` prunes it with the rows.
        teacher_X : array-like of shape (n_samples, ...), default=None
            What the teacher predicts on, row for row with ``X``, when it
            consumes another representation than the student: for example the
            raw features of a teacher fitted on them, while the student gets
            scaled ones (``prunekd.Pipeline(teacher_input="raw")`` passes
            them). ``None``: the teacher predicts on ``X``.
        train_fraction : float in (0, 1] or None, default=None
            The fraction of the full training data that ``X`` is, which
            ``alpha="auto"`` reads; :class:`prunekd.Pipeline` passes it.
        **fit_params : dict
            Passed to skorch's ``fit`` (and from there to the module's forward).

        Returns
        -------
        self : DistillationClassifier
        """
        keep_weights = self.warm_start and self.initialized_
        told = dict(sample_weight=sample_weight, teacher_X=teacher_X, train_fraction=train_fraction)
        return self._train(X, y, fit_params, keep_weights, None, told)

    def partial_fit(
        self,
        X,
        y=None,
        classes=None,
        sample_weight=None,
        teacher_X=None,
        train_fraction=None,
        **fit_params,
    ):
        """Train ``max_epochs`` more epochs (or ``max_steps`` steps), keeping the weights.

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
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of every row in both loss terms (see ``fit``).
        teacher_X : array-like of shape (n_samples, ...), default=None
            What the teacher predicts on, row for row with ``X`` (see ``fit``).
        train_fraction : float in (0, 1] or None, default=None
            The fraction of the full data that ``X`` is (see ``fit``).
        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : DistillationClassifier
        """
        fitted = self.initialized_ and hasattr(self, "classes_inferred_")
        classes = self.classes_inferred_ if fitted else classes
        told = dict(sample_weight=sample_weight, teacher_X=teacher_X, train_fraction=train_fraction)
        return self._train(X, y, fit_params, fitted, classes, told)

    def _train(self, X, y, fit_params, keep_weights, classes, told):
        """Check, build the targets, then hand them to skorch's training loop."""
        alpha = self._check_params(told["train_fraction"])
        X, y = check_training_data(self, X, y)
        weights = check_sample_weight(self, told["sample_weight"], X, alpha)
        if keep_weights and hasattr(self, "classes_inferred_"):
            classes = self.classes_inferred_  # continued training: the classes learned so far
        targets = TeacherTargets.build(self, X, y, alpha, classes, told["teacher_X"])
        targets.weights = weights
        with rolled_back_on_error(self), self._seeded():
            self._prepare(targets, alpha, keep_weights)
            # skorch's own partial_fit: its loop, callbacks and metadata routing.
            super().partial_fit(targets.X, targets, _routing_method="fit", **fit_params)
        return self

    @contextmanager
    def _seeded(self):
        """Seeds initialisation and data order from ``random_state``; restores torch's generator."""
        with _torch_seeded(_seed_from_random_state(self.random_state)):
            yield

    def _prepare(self, targets, alpha, keep_weights):
        """Fitted state for this fit; a fresh or a continued module, probed before training."""
        X, classes = targets.X, targets.classes
        self.classes_inferred_ = classes
        if not keep_weights:
            given = super().get_params_for("module")
            self._module_defaults_ = module_defaults(self.module, given, X, classes)
        self.alpha_ = alpha
        self.kd_loss_ = check_kd_loss(self.kd_loss)
        self.teacher_ = targets.teacher
        self.teacher_view_, self.teacher_agreement_ = targets.view, targets.agreement
        self.teacher_released_ = False
        if not keep_weights:
            self.initialize()
        elif not is_dataset(X):
            check_input_shape(self, X)
        probe_student(self, targets.probe, len(classes))
        check_callbacks(self)
        if not keep_weights:
            set_input_shape(self, X)

    def check_data(self, X, y):
        # The classes were set from the raw labels in fit; skorch would infer them again.
        if y is None and not is_dataset(X):
            super().check_data(X, y)

    def get_split_datasets(self, X, y=None, **fit_params):
        if not isinstance(y, TeacherTargets):
            return super().get_split_datasets(X, y, **fit_params)
        served = y.served()
        if served is not None and self._can_batch(X, y.labels):
            return _BatchedArrays(X, served), None
        train, valid = super().get_split_datasets(X, y.labels, **fit_params)
        # Training rows get the packed targets (label + cached teacher, weights);
        # the validation rows, if any, keep plain labels and an on-the-fly teacher.
        train = train if served is None else y.training_set(self, X, train)
        return viewed_by_callbacks(self, train), valid

    def get_loss(self, y_pred, y_true, X=None, training=False):
        weight = None
        if isinstance(y_true, dict):  # training rows with sample weights
            weight = to_tensor(y_true["weight"], device=self._tensor_device())
            y_true = y_true["target"]
        y_true = to_tensor(y_true, device=self._tensor_device())
        alpha = getattr(self, "alpha_", self.alpha)
        teacher_log_p = None
        if is_packed(y_true):
            y_true, teacher_log_p = unpack_targets(y_true)
        elif alpha != 0:
            logits = to_tensor(self.teacher_.logits(X), device=self._tensor_device())
            teacher_log_p = teacher_log_probs(logits, self.temperature)
        losses = (self.criterion_, getattr(self, "kd_loss_", None))
        return kd_objective(y_pred, y_true, teacher_log_p, alpha, self.temperature, *losses, weight)

    # ------------------------------------------------------------- prediction

    def _check_fitted(self):
        if not getattr(self, "initialized_", False) or not hasattr(self, "classes_inferred_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

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
        X = check_X(X)
        if not is_dataset(X) and not isinstance(X, dict):
            check_input_shape(self, X)
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
