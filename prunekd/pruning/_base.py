"""The pruner contract shared by every pruner."""

import os
import warnings
from numbers import Real

import joblib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, validate_data
from skorch.utils import is_dataset

from .._cache import cached_call, fitted_token, input_fingerprint, score_memory, token
from .._compat import HasMethods, Interval, StrOptions, _fit_context, validate_params
from .._utils import _MAX_SEED, _torch_seeded, clone_sharing
from ..datasets._labels import as_torch_dataset, dataset_labels
from ._selection import n_kept, select

# Parameters that never change the scores, left out of the score cache key:
# the first three only decide which scored samples are kept.
_NOT_SCORE_PARAMS = frozenset({"fraction", "class_balanced", "keep", "memory", "verbose"})
# The default of a deprecated parameter: not given.
_DEPRECATED = "deprecated"


def _is_deprecated(value):
    return isinstance(value, str) and value == _DEPRECATED


class BasePruner(TransformerMixin, BaseEstimator):
    """Base class of the pruners: score every sample, keep a fraction of them.

    A subclass only implements :meth:`compute_scores`; the base class validates
    the data, caches the scores, splits the budget over the classes and ranks
    the samples.

    ``transform`` returns *positions of rows*: use pruners in a
    :class:`prunekd.Pipeline` (rows dropped in ``fit`` only), or through
    :func:`prunekd.as_sampler` in imbalanced-learn's; scikit-learn's own
    Pipeline would pass the positions on as the next step's ``X``.

    Parameters
    ----------
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1]. Exactly
        ``round(fraction * n_samples)`` samples are kept (at least one).
    class_balanced : bool, default=True
        Keep the same fraction of every class (largest-remainder rounding, at
        least one sample per class, exact total). If False, rank all samples
        together.
    random_state : int, RandomState instance or None, default=None
        Seeds the scoring (proxy initialisation, data order) and the order of
        tied scores. With an int, results are reproducible and scores can be
        cached (see ``memory``).
    memory : str, path, joblib.Memory or None, default=None
        Where to cache the scores: a folder, or a ``joblib.Memory``. The key is
        the data, the labels, the random state and every parameter that changes
        the scores (not ``fraction``, ``keep``, ``class_balanced``), with
        classes and proxy modules identified by their code and architecture.
        A search over the fraction then scores each training fold once, even
        across processes (``n_jobs``, dask workers) that share the folder.
        Used only with an integer ``random_state``. ``None`` caches nothing.

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Difficulty of every sample of the fitted ``X`` (larger is harder).
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples into the fitted ``X``.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features (second dimension) of the fitted ``X``.

    Examples
    --------
    A pruner that keeps the samples with the largest first feature:

    >>> import numpy as np
    >>> from prunekd.pruning import BasePruner
    >>> class FirstFeaturePruner(BasePruner):
    ...     def compute_scores(self, X, y, random_state):
    ...         return X[:, 0]
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> FirstFeaturePruner(fraction=0.5, class_balanced=False).fit_transform(X, [0, 0, 0, 1, 1, 1])
    array([3, 4, 5])
    """

    _parameter_constraints = {
        "fraction": [Interval(Real, 0, 1, closed="right")],
        "class_balanced": ["boolean"],
        "random_state": ["random_state"],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    }

    def __init__(self, *, fraction=0.5, class_balanced=True, random_state=None, memory=None):
        self.fraction = fraction
        self.class_balanced = class_balanced
        self.random_state = random_state
        self.memory = memory

    def compute_scores(self, X, y, random_state):
        """Difficulty score of every sample (larger is harder).

        Subclasses implement this method and nothing else. It must not depend
        on ``fraction``, ``keep`` or ``class_balanced``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, ...)
            Validated training data.
        y : ndarray of shape (n_samples,)
            Class labels, as given to ``fit``.
        random_state : RandomState
            Generator for any randomness the scoring needs.

        Returns
        -------
        scores : array-like of shape (n_samples,)
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute_scores(X, y, random_state)"
        )

    _reads_X = True  # whether the pruner reads the values of X (see _X_checks)

    def _X_checks(self):  # a pruner that never reads X takes NaN, inf and text, as a dummy
        kind = "numeric" if self._reads_X else None
        return dict(allow_nd=True, ensure_all_finite=self._reads_X, dtype=kind)

    # Names of parameters that hold fitted models (see OutputPruner's teacher):
    # keyed by their learned state and shared, not cloned, by clone.
    _fitted_params = ()

    def __sklearn_clone__(self):
        return clone_sharing(self, self._fitted_params)

    # The name the fitted model's parameter had before 0.2 (teacher, embedding
    # or dynamics), kept as a deprecated alias of ``model`` until 0.3.
    _model_alias = None

    def _model(self):
        """The fitted model the pruner reads: ``model``, or the deprecated alias when given."""
        old = getattr(self, self._model_alias, _DEPRECATED) if self._model_alias else _DEPRECATED
        return self.model if _is_deprecated(old) else old

    def _check_model_alias(self):
        old = getattr(self, self._model_alias, _DEPRECATED) if self._model_alias else _DEPRECATED
        if _is_deprecated(old):
            return
        if self.model is not None:
            raise ValueError(
                f"{self._model_alias}= is the deprecated name of model=; pass the fitted model "
                "once, as model="
            )
        warnings.warn(
            f"{type(self).__name__}({self._model_alias}=...) is deprecated since 0.2 and will "
            "be removed in 0.3; pass the fitted model as model=",
            FutureWarning,
            stacklevel=5,  # the caller of fit, through scikit-learn's _fit_context
        )

    # Parameters of a subclass that only decide the selection, not the scores.
    _selection_params = ()
    # Fitted attributes compute_scores sets (DeepFool's work), cached with the scores.
    _cached_attributes = ()

    def select_samples(self, X, scores, y_encoded, n_keep, tiebreak):
        """Indices of the ``n_keep`` samples kept: the selection hook.

        By default the samples are ranked by ``scores`` (per class with
        ``class_balanced``). Pruners that choose a set rather than rank, such
        as coverage or k-center selection, override this method.

        Parameters
        ----------
        X : ndarray or torch Dataset
            The validated training data.
        scores : ndarray of shape (n_samples,)
            What :meth:`compute_scores` returned.
        y_encoded : ndarray of shape (n_samples,)
            Integer labels ``0..n_classes-1``.
        n_keep : int
            Number of samples to keep.
        tiebreak : ndarray of shape (n_samples,)
            A random permutation drawn from ``random_state``: the order of ties,
            and the source of any randomness the selection needs.

        Returns
        -------
        indices : ndarray of shape (n_keep,)
            Sorted indices into ``X``.
        """
        return select(
            scores, y_encoded, n_keep, self._keep_direction(), tiebreak, self.class_balanced
        )

    def _keep_direction(self):
        return getattr(self, "keep", "hard")

    def _cache_key(self, fingerprint, y, seed):
        """What decides the scores, equal across processes; None if they must not be cached."""
        if not isinstance(self.random_state, (int, np.integer)):
            # Scores are meant to differ from fit to fit: nothing to reuse.
            warnings.warn(
                f"{type(self).__name__} caches its scores in memory= only with an integer "
                f"random_state; with random_state={self.random_state!r} they are computed "
                "again on every fit. Pass random_state=0 (any int) to cache them.",
                UserWarning,
                stacklevel=2,
            )
            return None
        if isinstance(fingerprint, tuple):
            return None  # an object identity can be reused by another object
        ignored = _NOT_SCORE_PARAMS.union(self._selection_params)
        params = {k: v for k, v in self.get_params(deep=False).items() if k not in ignored}
        try:
            params = {
                k: fitted_token(v) if k in self._fitted_params else token(v)
                for k, v in params.items()
            }
            # "scores-v2": entries hold (scores, cached attributes); v1 held scores alone
            return (
                "scores-v2",
                token(type(self)),
                joblib.hash(params),
                fingerprint,
                joblib.hash(y),
                seed,
            )
        except Exception:  # an unpicklable parameter: no caching, no harm
            return None

    def _checked_scores(self, X, y, seed):
        scores = np.asarray(
            self.compute_scores(X, y, np.random.RandomState(seed)), dtype=np.float64
        )
        if scores.shape != (len(y),):
            raise ValueError(
                f"{type(self).__name__}.compute_scores returned shape {scores.shape}, "
                f"expected ({len(y)},): one score per sample"
            )
        if not np.all(np.isfinite(scores)):
            raise ValueError(f"{type(self).__name__}.compute_scores returned non-finite scores")
        return scores

    def _scores_and_attributes(self, X, y, seed):
        scores = self._checked_scores(X, y, seed)
        return scores, {name: getattr(self, name) for name in self._cached_attributes}

    def _scores(self, X, y, seed, fingerprint, memory):
        memory = score_memory(memory)
        key = None if memory is None else self._cache_key(fingerprint, y, seed)
        if key is None:
            scores, attributes = self._scores_and_attributes(X, y, seed)
        else:
            scores, attributes = cached_call(memory, self._scores_and_attributes, key, X, y, seed)
        vars(self).update(attributes)  # a cache hit restores what the scoring also found
        return scores

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Score the samples of ``X`` and choose the ones kept.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...), or torch Dataset
            Training data; image arrays such as ``(n, channels, height,
            width)`` are accepted, and so are torch Datasets yielding
            ``(input, label)`` pairs (scored batch by batch).
        y : array-like of shape (n_samples,), default=None
            Class labels (any labels scikit-learn accepts). For a Dataset they
            may be omitted and are then read from its ``targets``, ``labels``
            or ``y`` attribute.

        Returns
        -------
        self : object
            The fitted pruner.
        """
        return self._fit_or_restore(X, y, getattr(self, "memory", None))

    def _fit_in_pipeline(self, X, y, memory):
        """Fit as ``fit`` does, caching in ``memory`` unless the pruner has its own."""
        validate_params(self)
        own = getattr(self, "memory", None)  # a subclass may not take memory=
        return self._fit_or_restore(X, y, memory if own is None else own).sample_indices_.copy()

    def _fit_or_restore(self, X, y, memory):
        # validate_data sets n_features_in_ before later checks can fail: a
        # failed fit restores the pruner as it was, fitted or not.
        self._check_model_alias()
        state = dict(vars(self))
        try:
            return self._fit(X, y, memory)
        except BaseException:
            vars(self).clear()
            vars(self).update(state)
            raise

    def _fit(self, X, y, memory):
        X = as_torch_dataset(X)
        if is_dataset(X):
            y = np.asarray(dataset_labels(X) if y is None else y)
            check_consistent_length(range(len(X)), y)
        else:
            X, y = validate_data(self, X, y, **self._X_checks())
        check_classification_targets(y)
        classes, y_encoded = np.unique(y, return_inverse=True)
        n_samples = len(y)
        n_keep = n_kept(self.fraction, n_samples)
        if self.class_balanced and n_keep < len(classes):
            raise ValueError(
                f"fraction={self.fraction} keeps {n_keep} of {n_samples} samples, "
                f"fewer than the {len(classes)} classes; class_balanced=True keeps at "
                "least one sample per class. Raise fraction or set class_balanced=False."
            )
        score_seed, tie_seed = check_random_state(self.random_state).randint(_MAX_SEED, size=2)
        fingerprint = input_fingerprint(X)
        tiebreak = np.random.RandomState(tie_seed).permutation(n_samples)
        self._fit_memory = memory  # for selection hooks that cache more (embeddings)
        # A Dataset may augment at every access, drawing from torch's generator in
        # every scoring or embedding pass: random_state fixes those draws too.
        seeded = None if self.random_state is None else int(score_seed)
        try:
            with _torch_seeded(seeded):
                scores = self._scores(X, y, int(score_seed), fingerprint, memory)
                indices = self.select_samples(X, scores, y_encoded, n_keep, tiebreak)
        finally:
            del self._fit_memory
        self.classes_ = classes
        self.scores_ = scores
        self.sample_indices_ = indices
        self._fit_fingerprint_ = fingerprint
        return self

    def transform(self, X):
        """Indices of the kept samples into the ``X`` given to ``fit``.

        Parameters
        ----------
        X : array-like
            The data given to ``fit``. A pruner selects rows of its training
            data; any other ``X`` is an error.

        Returns
        -------
        indices : ndarray of shape (n_kept,)
            Sorted, unique integer indices.
        """
        check_is_fitted(self)
        X = as_torch_dataset(X)
        if not is_dataset(X):
            X = validate_data(self, X, reset=False, **self._X_checks())
        if input_fingerprint(X) != self._fit_fingerprint_:
            raise ValueError(
                f"{type(self).__name__}.transform only accepts the X it was fitted "
                "on: it returns indices into that X. To prune other data, call "
                "fit_transform(X, y) on it."
            )
        return self.sample_indices_.copy()

    def fit_transform(self, X, y=None):
        """Fit to ``X`` and ``y`` and return the indices of the kept samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        indices : ndarray of shape (n_kept,)
            Sorted, unique integer indices into ``X``.
        """
        return self.fit(X, y).sample_indices_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = not self._reads_X
        tags.input_tags.string = not self._reads_X  # it never converts X to numbers
        return tags


class ScorePruner(BasePruner):
    """Base class of the pruners whose scores measure difficulty.

    Adds the ``keep`` direction to :class:`BasePruner`: keep the hardest samples
    (largest scores, the default) or the easiest ones.

    Parameters
    ----------
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    keep : {"hard", "easy"}, default="hard"
        Which end of the score ranking is kept.
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    random_state : int, RandomState instance or None, default=None
        Seeds the scoring and the order of tied scores.
    memory : str, joblib.Memory or None, default=None
        Where to cache the scores (see :class:`BasePruner`).

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import ScorePruner
    >>> class NormPruner(ScorePruner):
    ...     def compute_scores(self, X, y, random_state):
    ...         return np.linalg.norm(X, axis=1)
    >>> X = np.array([[0.0], [3.0], [1.0], [2.0]])
    >>> NormPruner(fraction=0.5, keep="easy", class_balanced=False).fit_transform(X, [0, 1, 0, 1])
    array([0, 2])
    """

    _parameter_constraints = {
        **BasePruner._parameter_constraints,
        "keep": [StrOptions({"hard", "easy"})],
    }

    def __init__(
        self, *, fraction=0.5, keep="hard", class_balanced=True, random_state=None, memory=None
    ):
        super().__init__(
            fraction=fraction,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
        )
        self.keep = keep
