"""Gradient coresets: Craig and GradMatch, on the last layer's per-sample gradients.

Both choose, per class, a weighted subset whose gradients stand in for the
class's: Craig by facility location on gradient distances, GradMatch by
matching the class's mean gradient with non-negative weights (orthogonal
matching pursuit). Their weights (``sample_weight_``) can train the student:
``prunekd.Pipeline`` passes them as ``sample_weight`` (``use_pruner_weights``).
"""

from numbers import Real

import numpy as np
import torch
from scipy.linalg import LinAlgError, cholesky, solve_triangular
from scipy.optimize import nnls
from skorch import NeuralNet

from .._compat import Interval
from ..distillation._teacher import column_positions, make_teacher
from ._contextual import _needs_model, probabilities
from ._embed import embed
from ._embedding import EmbeddingPruner
from ._greedy import FacilityLocation, greedy_select
from ._selection import budgets


def last_layer_gradients(model, X, y_encoded, classes):
    """Per-sample gradients of the cross-entropy with respect to the model's last linear layer.

    ``[p - onehot(y), (p - onehot(y)) x h]`` (bias, then weights), with ``h``
    the layer's input; a scikit-learn model has no such layer, so its
    gradients are the bias part, ``p - onehot(y)``.
    """
    P = probabilities(model, X)
    teacher_classes = make_teacher(model).classes
    if teacher_classes is not None:
        P = P[:, column_positions(teacher_classes, classes)]
    E = P - np.eye(P.shape[1])[y_encoded]
    if not isinstance(model, (torch.nn.Module, NeuralNet)):
        return E
    H = embed(model, X)
    return np.concatenate([E, (E[:, :, None] * H[:, None, :]).reshape(len(E), -1)], axis=1)


def craig_select(G, k):
    """Craig: facility location on ``max(D) - D`` (``D``: gradient distances); positions and weights.

    A selected row's weight is how many rows it is the most similar selected
    row to (itself included).
    """
    G = np.asarray(G, dtype=np.float64)
    squares = (G * G).sum(1)
    # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b: one matrix product (numpy's is the faster here)
    D = torch.as_tensor(np.sqrt(np.clip(squares[:, None] + squares[None] - 2 * G @ G.T, 0, None)))
    objective = FacilityLocation.from_similarity(D.max() - D)
    chosen = greedy_select(k, objective)
    nearest = objective.S[:, chosen].argmax(1).numpy()
    return chosen, np.bincount(nearest, minlength=k).astype(np.float64)


def gradmatch_select(G, k, lam=1.0):
    """GradMatch: ``k`` rows whose non-negative weighted gradients match the mean gradient.

    Orthogonal matching pursuit: each step adds the row whose gradient points
    most along the residual, then refits non-negative weights by
    ``min ||A_S w - b||^2 + lam ||w||^2``. Positions in choice order and their
    weights.
    """
    A = np.asarray(G, dtype=np.float64).T  # (d, n)
    b = A.mean(axis=1)
    chosen, weights, residual = [], np.zeros(0), b.copy()
    available = np.ones(A.shape[1], dtype=bool)
    for _ in range(k):
        projections = np.where(available, A.T @ residual, -np.inf)
        j = int(np.argmax(projections))
        chosen.append(j)
        available[j] = False
        A_S = A[:, chosen]
        weights = _ridge_nnls(A_S, b, lam)
        residual = b - A_S @ weights
    return np.array(chosen, dtype=np.int64), weights


def _ridge_nnls(A, b, lam):
    """``argmin_{w >= 0} ||A w - b||^2 + lam ||w||^2``, on the ``k x k`` Cholesky factor.

    With ``A^T A + lam I = R^T R``, the objective is ``||R w - R^{-T} A^T b||^2``
    plus a constant: the same non-negative least squares, on ``k`` rows instead
    of ``d + k`` (``d``, the gradient's length, is much larger).
    """
    try:
        R = cholesky(A.T @ A + lam * np.eye(A.shape[1]), lower=False)
    except LinAlgError:  # lam=0 and linearly dependent gradients: the stacked problem
        return nnls(
            np.vstack([A, np.sqrt(lam) * np.eye(A.shape[1])]), np.r_[b, np.zeros(A.shape[1])]
        )[0]
    return nnls(R, solve_triangular(R, A.T @ b, trans="T"))[0]


class _GradientCoresetPruner(EmbeddingPruner):
    """A weighted per-class selection on the last layer's gradients of a fitted classifier."""

    def _select(self, G, k):
        raise NotImplementedError

    def compute_scores(self, X, y, random_state):
        """The norm of every sample's last-layer gradient (a description: selection is a set)."""
        classes, y_encoded = np.unique(y, return_inverse=True)
        self._gradients = last_layer_gradients(_needs_model(self), X, y_encoded, classes)
        return np.linalg.norm(self._gradients, axis=1)

    def _cache_key(self, fingerprint, y, seed):
        return None  # one inference pass: cheaper to recompute than to key by the model

    def select_samples(self, X, scores, y_encoded, n_keep, tiebreak):
        """Per class (with ``class_balanced``) the coreset; ``sample_weight_`` its weights."""
        G = self._gradients  # computed with the scores, never cached
        kept, weights = [], []
        for members, quota in budgets(y_encoded, n_keep, self.class_balanced):
            chosen, w = self._select(G[members], quota)
            kept.append(members[chosen])
            weights.append(w)
        kept, weights = np.concatenate(kept), np.concatenate(weights)
        order = np.argsort(kept)
        self.sample_weight_ = weights[order]
        self.__dict__.pop("_gradients", None)
        return kept[order]


_SHARED = """
    Parameters
    ----------
    model : fitted classifier
        A torch module returning logits or a fitted skorch net (gradients on
        its last linear layer), or a fitted scikit-learn classifier (the bias
        part only, ``p - onehot(y)``); such as the teacher.
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    class_balanced : bool, default=True
        Select within every class, with the class quotas of every pruner.
    random_state : int, RandomState instance or None, default=None
        Accepted for a common interface: the selection is deterministic.
    memory : str, joblib.Memory or None, default=None
        Accepted for a common interface: the gradients take one inference
        pass and are not cached.
{extra}
    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Norm of every sample's last-layer gradient (a description: the
        selection is a set).
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.
    sample_weight_ : ndarray of shape (n_kept,)
        Weight of every kept sample, in the order of ``sample_indices_``;
        :class:`prunekd.Pipeline` trains the student with them by default
        (``use_pruner_weights="auto"``).
"""


class CraigPruner(_GradientCoresetPruner):
    __doc__ = (
        """Craig: a facility-location coreset of the last layer's gradients, weighted.

    Mirzasoleiman et al., "Coresets for Data-efficient Training of Machine
    Learning Models" (ICML 2020), as DeepCore selects with it: per class,
    greedy facility location on the similarity ``max(D) - D``, where ``D`` is
    the Euclidean distance between per-sample gradients of the cross-entropy
    with respect to the last linear layer; every kept sample is weighted by
    the number of samples it is the most similar kept sample to. Cost: one
    inference pass, then ``O(n_c^2)`` distances per class of ``n_c``
    samples. Departure from the reference code: DeepCore trains a proxy
    first; here ``model=`` is any fitted classifier, such as the teacher.
"""
        + _SHARED.format(
            extra="""    embedding : fitted model, default="deprecated"
        Deprecated since 0.2, removed in 0.3: the former name of ``model``.
"""
        )
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from prunekd.pruning import CraigPruner
    >>> X = np.linspace(-3, 3, 12)[:, None]
    >>> y = (X[:, 0] > 0).astype(int)
    >>> pruner = CraigPruner(model=LogisticRegression().fit(X, y), fraction=1 / 3).fit(X, y)
    >>> float(pruner.sample_weight_.sum())  # every sample is represented once
    12.0
    """
    )

    def _select(self, G, k):
        return craig_select(G, k)


class GradMatchPruner(_GradientCoresetPruner):
    __doc__ = (
        """GradMatch: kept samples whose weighted gradients match the class's mean gradient.

    Killamsetty et al., "GRAD-MATCH: Gradient Matching based Data Subset
    Selection" (ICML 2021), as DeepCore selects with it: per class,
    orthogonal matching pursuit on the per-sample gradients of the
    cross-entropy with respect to the last linear layer, with non-negative
    weights refitted at each step by ridge-regularised least squares
    (``lam``). The weights of a class are rescaled to sum to its number of
    samples. Cost: one inference pass, then ``k`` small non-negative least
    squares per class. Departures from the reference code: DeepCore trains a
    proxy first, and stops when the residual vanishes and fills the budget at
    random; here ``model=`` is any fitted classifier, and the pursuit
    continues to exactly the budget (later rows may get weight 0). DeepCore
    also refits unconstrained weights at each step and non-negative ones only
    at the end, dropping the rows of weight 0; here the weights are
    non-negative at every step, as in the method's non-negative variant
    (``benchmarks/bench_deepcore.py``: 0.77 of the kept rows in common).
"""
        + _SHARED.format(
            extra="""    lam : float, default=1.0
        Ridge weight of the least squares (DeepCore's default).
"""
        )
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from prunekd.pruning import GradMatchPruner
    >>> X = np.linspace(-3, 3, 12)[:, None]
    >>> y = (X[:, 0] > 0).astype(int)
    >>> pruner = GradMatchPruner(model=LogisticRegression().fit(X, y), fraction=1 / 3).fit(X, y)
    >>> len(pruner.sample_indices_), round(float(pruner.sample_weight_.sum()), 6)
    (4, 12.0)
    """
    )

    _parameter_constraints = {
        **EmbeddingPruner._parameter_constraints,
        "lam": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        model=None,
        *,
        fraction=0.5,
        class_balanced=True,
        random_state=None,
        memory=None,
        lam=1.0,
    ):
        super().__init__(
            model,
            fraction=fraction,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
        )
        self.lam = lam

    def _select(self, G, k):
        chosen, weights = gradmatch_select(G, k, self.lam)
        total = weights.sum()
        weights = weights * len(G) / total if total > 0 else np.full(k, len(G) / k)
        return chosen, weights
