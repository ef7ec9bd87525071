"""A scikit-learn Pipeline whose pruner steps drop training rows during fit only."""

import copy
from inspect import signature

import numpy as np
from sklearn import pipeline as _skpipeline
from sklearn.base import clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_memory

from ._compat import (
    StrOptions,
    _name_estimators,
    _num_samples,
    _print_elapsed_time,
    _safe_indexing,
    final_estimator,
    log_message,
    route_fit_params,
    steps_of,
    validate_parameter_constraints,
    validate_steps,
)
from ._rows import take
from .distillation._views import RawView
from .pruning import BasePruner

__all__ = ["Pipeline", "make_pipeline"]


def _is_pruner(step):
    return isinstance(step, BasePruner)


def _final_can(*methods):
    """Whether the final step is 'passthrough' or has one of ``methods``."""

    def check(pipeline):
        final = final_estimator(pipeline)
        return final == "passthrough" or any(hasattr(final, m) for m in methods)

    return check


def _takes(step, name):
    """Whether a step's ``fit`` takes the keyword ``name`` by name (not through ``**params``)."""
    if step is None or step == "passthrough":
        return False
    parameter = signature(step.fit).parameters.get(name)
    return parameter is not None and parameter.kind is not parameter.VAR_KEYWORD


def _take_view(X_raw, indices):
    if X_raw is None:
        return None
    return X_raw.take(indices) if isinstance(X_raw, RawView) else take(X_raw, indices)


def _view_used(final, X_raw):
    """What the final step's teacher read, "raw" or "transformed" (a nested pipeline's choice)."""
    if X_raw is not None and not isinstance(X_raw, RawView):
        return "raw"
    chosen = getattr(final, "teacher_view_", None) or getattr(final, "teacher_input_", None)
    return chosen or "transformed"


def _fit_transform_step(transformer, X, y, params):
    if hasattr(transformer, "fit_transform"):
        return transformer.fit_transform(X, y, **params.get("fit_transform", {})), transformer
    Xt = transformer.fit(X, y, **params.get("fit", {})).transform(X, **params.get("transform", {}))
    return Xt, transformer


def _subset_params(params, indices, n_samples):
    """Subset every sample-aligned value (length ``n_samples``) of nested fit params."""
    if isinstance(params, dict):
        out = copy.copy(params)  # keeps scikit-learn's Bunch type
        for key, value in params.items():
            out[key] = _subset_params(value, indices, n_samples)
        return out
    try:
        if _num_samples(params) == n_samples:
            return _safe_indexing(params, indices)
    except TypeError:
        pass
    return params


class Pipeline(_skpipeline.Pipeline):
    """A :class:`sklearn.pipeline.Pipeline` in which pruners remove training rows.

    During ``fit`` a pruner step (any :class:`~prunekd.pruning.BasePruner`)
    returns the indices of the samples it keeps, and the pipeline subsets
    ``X``, ``y`` and every sample-aligned fit parameter (such as
    ``sample_weight``) before the next step. ``predict``, ``predict_proba``,
    ``score``, ``transform`` and friends skip pruners, so they see every row:
    cross-validation scores are computed on untouched validation folds.

    The final step is told, when its ``fit`` takes them, the fraction of the
    full data that reaches it (``train_fraction``, which
    ``DistillationClassifier(alpha="auto")`` reads) and what its teacher
    predicts on (``teacher_X``, with ``teacher_input="raw"``). Both are passed
    explicitly, so they reach a student inside a nested prunekd Pipeline, in
    any process: fractions multiply, and raw rows are pruned with the rows.
    scikit-learn's Pipeline and ColumnTransformer pass neither, and a student
    with ``alpha="auto"`` inside one refuses to guess.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As in scikit-learn; pruners may appear anywhere but last.
    transform_input : None, default=None
        Not supported: metadata transformed by the steps would also have to be
        pruned with the rows. A value other than None raises in ``fit``.
    memory : str or joblib.Memory, default=None
        Caches the fitted transformers, as in scikit-learn, and the pruners'
        scores (for pruners without a ``memory`` of their own): scores do not
        depend on ``fraction``, so a search over it scores each training fold
        once, across processes too. See
        :class:`~prunekd.pruning.BasePruner`.
    verbose : bool, default=False
        As in scikit-learn.
    teacher_input : {"auto", "transformed", "raw"}, default="auto"
        What the final step's teacher predicts on. ``"transformed"``: what
        the final step gets, the output of the steps before it. ``"raw"``: the
        rows of the pipeline's own ``X`` that the pruners kept, untransformed,
        passed to the final step's ``fit`` as ``teacher_X`` (for a teacher
        fitted on raw features while the student gets scaled ones, say).
        ``"auto"``: when steps other than pruners transform the rows, the
        student compares the teacher's agreement with the labels of the kept
        rows on both views and uses the clearly better one (a difference of at
        least one point and three standard errors, or the only view the
        teacher can read); when neither is clearly better but the teacher's
        predictions differ on more than 10% of the rows, ``fit`` raises,
        naming both agreement rates. It costs one more teacher pass over the
        kept rows. Only training is affected: prediction never calls the
        teacher.

    use_pruner_weights : bool or "auto", default="auto"
        Whether the weights of pruners that produce them (``sample_weight_``:
        :class:`~prunekd.pruning.CraigPruner`,
        :class:`~prunekd.pruning.GradMatchPruner`) reach the final step's
        ``fit`` as ``sample_weight``, multiplied by any ``sample_weight``
        routed to it (and over successive pruners). Those coresets are
        weighted by design, so ``"auto"`` passes them, and ``fit`` raises
        when the final step takes no ``sample_weight`` (set ``False`` to
        train it unweighted). ``True`` is ``"auto"``; ``False`` drops them.

    Attributes
    ----------
    n_samples_fit_ : int
        Rows of ``X`` given to ``fit``.
    n_samples_final_ : int
        Rows that reached the final step.
    teacher_input_ : {"raw", "transformed"}
        What the final step's teacher read in the last ``fit`` (with
        ``"auto"``, the view it chose; see its ``teacher_agreement_``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from prunekd import RandomPruner, make_pipeline
    >>> X = np.random.RandomState(0).randn(100, 3)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> pipe = make_pipeline(RandomPruner(fraction=0.3, random_state=0), LogisticRegression())
    >>> pipe.fit(X, y).n_samples_final_
    30
    >>> pipe.predict(X).shape  # prediction sees every row
    (100,)
    """

    _parameter_constraints = {
        **_skpipeline.Pipeline._parameter_constraints,
        "teacher_input": [StrOptions({"auto", "transformed", "raw"})],
        "use_pruner_weights": ["boolean", StrOptions({"auto"})],
    }

    def __init__(
        self,
        steps,
        *,
        transform_input=None,
        memory=None,
        verbose=False,
        teacher_input="auto",
        use_pruner_weights="auto",
    ):
        super().__init__(steps, transform_input=transform_input, memory=memory, verbose=verbose)
        self.teacher_input = teacher_input
        self.use_pruner_weights = use_pruner_weights

    def _iter(self, with_final=True, filter_passthrough=True):
        # Outside of fit, pruners are skipped like 'passthrough' steps.
        for idx, name, trans in steps_of(self, with_final, filter_passthrough):
            if filter_passthrough and _is_pruner(trans):
                continue
            yield idx, name, trans

    def _fit_prune(self, X, y, params, X_raw):
        """Fit every step but the last, pruning rows (and ``X_raw``'s); return what the last gets."""
        if self.transform_input is not None:
            raise ValueError(
                "transform_input is not supported by prunekd.Pipeline (its metadata would "
                f"have to be pruned with the rows); got {self.transform_input!r}. Leave it None "
                "and transform that metadata before calling fit"
            )
        self.steps = list(self.steps)
        validate_steps(self)
        routed = route_fit_params(self, params)
        memory = check_memory(self.memory)
        cached_fit_transform = memory.cache(_fit_transform_step)
        n_total = _num_samples(X)
        self._pruner_weights = None
        for idx, name, step in steps_of(self, with_final=False, filter_passthrough=False):
            if step is None or step == "passthrough":
                continue
            with _print_elapsed_time("Pipeline", log_message(self, idx)):
                if _is_pruner(step):
                    indices = step._fit_in_pipeline(X, y, self.memory)
                    n_before = _num_samples(X)
                    X = take(X, indices)
                    X_raw = _take_view(X_raw, indices)
                    self._carry_pruner_weights(step, indices, n_before)
                    y = _safe_indexing(y, indices) if y is not None else None
                    for later, _ in self.steps[idx + 1 :]:
                        routed[later] = _subset_params(routed[later], indices, n_before)
                    continue
                if getattr(memory, "location", None) is not None:
                    step = clone(step)
                X, fitted = cached_fit_transform(step, X, y, routed[name])
                self.steps[idx] = (name, fitted)
        self.n_samples_fit_ = n_total
        self.n_samples_final_ = _num_samples(X)
        return X, y, X_raw, routed[self.steps[-1][0]]

    def _carry_pruner_weights(self, pruner, indices, n_before):
        """With ``use_pruner_weights``, the weights of the kept rows so far (products over pruners)."""
        own = None if self.use_pruner_weights is False else getattr(pruner, "sample_weight_", None)
        if own is None and self._pruner_weights is None:
            return
        before = np.ones(n_before) if self._pruner_weights is None else self._pruner_weights
        self._pruner_weights = before[indices] * (1.0 if own is None else own)

    def _check_teacher_input(self, X, teacher_X):
        """Validate ``teacher_input`` and ``teacher_X`` before any step trains."""
        validate_parameter_constraints(
            {"teacher_input": self._parameter_constraints["teacher_input"]},
            {"teacher_input": self.teacher_input},
            caller_name=type(self).__name__,
        )
        if teacher_X is not None and _num_samples(teacher_X) != _num_samples(X):
            raise ValueError(
                f"teacher_X has {_num_samples(teacher_X)} rows but X has {_num_samples(X)}; it "
                "must hold the teacher's view of the same samples, row for row"
            )
        explicit = teacher_X is not None and not isinstance(teacher_X, RawView)
        if (self.teacher_input == "raw" or explicit) and not _takes(
            final_estimator(self), "teacher_X"
        ):
            raise ValueError(
                "teacher_input='raw' (or teacher_X) hands the final step the kept untransformed "
                f"rows as teacher_X, but {type(final_estimator(self)).__name__}.fit takes no "
                "teacher_X; end the pipeline with a prunekd.DistillationClassifier (or a "
                "prunekd Pipeline ending in one), or use teacher_input='transformed'"
            )

    def _final_weights(self, final, weights, last_params):
        if not _takes(final, "sample_weight"):
            raise ValueError(
                "a pruner weighted its kept rows (sample_weight_), and use_pruner_weights passes "
                f"them to the final step, but {type(final).__name__}.fit takes no sample_weight; "
                "end the pipeline with an estimator that takes it (prunekd.DistillationClassifier)"
                ", or set use_pruner_weights=False to train it unweighted"
            )
        given = last_params.get("fit", {}).get("sample_weight")
        return weights if given is None else weights * np.asarray(given, dtype=np.float64)

    def _raw_rows(self, X, teacher_X):
        """What the final step's teacher may read besides the transformed rows, if anything."""
        final = final_estimator(self)
        if not _takes(final, "teacher_X"):
            return None  # an offered RawView is dropped: nothing downstream could use it
        if teacher_X is not None:
            return teacher_X
        if self.teacher_input == "raw":
            return X
        transforms = any(
            not (step is None or step == "passthrough" or _is_pruner(step))
            for _, _, step in steps_of(self, with_final=False, filter_passthrough=False)
        )
        return RawView(X) if self.teacher_input == "auto" and transforms else None

    def _final_fit(self, method, X, y, params, teacher_X=None, train_fraction=None):
        self._check_teacher_input(X, teacher_X)
        Xt, yt, X_raw, last_params = self._fit_prune(X, y, params, self._raw_rows(X, teacher_X))
        final = final_estimator(self)
        told = {}
        if X_raw is not None:
            told["teacher_X"] = X_raw
        weights = self.__dict__.pop("_pruner_weights", None)
        if weights is not None:
            told["sample_weight"] = self._final_weights(final, weights, last_params)
        if _takes(final, "train_fraction"):
            told["train_fraction"] = (
                (train_fraction or 1.0) * self.n_samples_final_ / self.n_samples_fit_
            )
        for m in ("fit", method):
            last_params[m] = {**last_params.get(m, {}), **told}
        with _print_elapsed_time("Pipeline", log_message(self, len(self.steps) - 1)):
            if method == "fit":
                if final != "passthrough":
                    final.fit(Xt, yt, **last_params.get("fit", {}))
                self.teacher_input_ = _view_used(final, X_raw)
                return self
            if final == "passthrough":
                return Xt
            if method == "fit_transform" and not hasattr(final, "fit_transform"):
                return final.fit(Xt, yt, **last_params.get("fit", {})).transform(Xt)
            return getattr(final, method)(Xt, yt, **last_params.get(method, {}))

    def fit(self, X, y=None, teacher_X=None, train_fraction=None, **params):
        """Fit the steps in turn; pruners subset the rows the later steps see.

        Parameters
        ----------
        X : iterable
            Training data.
        y : iterable, default=None
            Training targets.
        teacher_X : iterable, default=None
            What the final step's teacher predicts on, row for row with ``X``;
            pruned with the rows and passed to the final step's ``fit`` (an
            enclosing prunekd Pipeline passes it). None: as ``teacher_input``
            says.
        train_fraction : float in (0, 1] or None, default=None
            The fraction of the full data that ``X`` is (an enclosing prunekd
            Pipeline passes it); the final step gets it times the fraction
            this pipeline's pruners keep.
        **params : dict
            ``step__param`` fit parameters; sample-aligned ones are pruned with
            the rows.

        Returns
        -------
        self : Pipeline
        """
        return self._final_fit("fit", X, y, params, teacher_X, train_fraction)

    @available_if(_final_can("fit_transform", "transform"))
    def fit_transform(self, X, y=None, **params):
        """Fit, then transform the rows that reached the last step.

        Returns
        -------
        Xt : array-like of shape (n_kept_samples, n_transformed_features)
        """
        return self._final_fit("fit_transform", X, y, params)

    @available_if(_final_can("fit_predict"))
    def fit_predict(self, X, y=None, **params):
        """Fit, then predict the rows that reached the last step.

        Returns
        -------
        y_pred : ndarray of shape (n_kept_samples,)
        """
        return self._final_fit("fit_predict", X, y, params)


def make_pipeline(
    *steps,
    memory=None,
    transform_input=None,
    verbose=False,
    teacher_input="auto",
    use_pruner_weights="auto",
):
    """Build a prunekd :class:`Pipeline` from estimators, naming steps automatically.

    Parameters
    ----------
    *steps : list of estimators
    memory : str or joblib.Memory, default=None
    transform_input : None, default=None
        Not supported (see :class:`Pipeline`).
    verbose : bool, default=False
    teacher_input : {"auto", "transformed", "raw"}, default="auto"
        What the final step's teacher predicts on (see :class:`Pipeline`).
    use_pruner_weights : bool or "auto", default="auto"
        Train the final step with the pruners' weights (see :class:`Pipeline`).

    Returns
    -------
    p : Pipeline

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from prunekd import EL2NPruner, make_pipeline
    >>> make_pipeline(EL2NPruner(), LogisticRegression()).steps[0][0]
    'el2npruner'
    """
    return Pipeline(
        _name_estimators(steps),
        memory=memory,
        transform_input=transform_input,
        verbose=verbose,
        teacher_input=teacher_input,
        use_pruner_weights=use_pruner_weights,
    )
