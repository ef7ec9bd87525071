"""Pruners that work in an embedding: Moderate-DS and the greedy set selections."""

from numbers import Real

import numpy as np

from .._compat import Interval
from ._base import BasePruner
from ._embed import centroid_distances, embed
from ._greedy import (
    FacilityLocation,
    GraphCut,
    Herding,
    KCenter,
    LogDeterminant,
    greedy_select,
)
from ._selection import per_class


def k_center_greedy(Z, k, first):
    """Farthest-first traversal: ``k`` rows of ``Z`` that cover it, starting at ``first``.

    Each step adds the row farthest from every row chosen so far, which is a
    2-approximation of the k-center problem. Returns positions in choice order.
    """
    return greedy_select(k, KCenter(Z, first))


def herding(Z, k):
    """Greedy herding: ``k`` rows whose running mean tracks the mean of ``Z``.

    Step ``t`` adds the row ``x`` minimising ``||mean(Z) - (sum of chosen + x)
    / t||``. Returns positions in choice order.
    """
    return greedy_select(k, Herding(Z))


class EmbeddingPruner(BasePruner):
    """Base class of the pruners that work in an embedding of the samples.

    Parameters
    ----------
    model : None or fitted model, default=None
        The embedding, where distances are measured: ``None`` is the inputs
        themselves (flattened); a torch module or fitted skorch net, such as
        the teacher, gives the input of its last linear layer; a fitted
        scikit-learn estimator its ``transform`` (or ``predict_proba``).
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    random_state : int, RandomState instance or None, default=None
        Seeds the choices the method makes at random.
    memory : str, joblib.Memory or None, default=None
        Caches the scores (see :class:`~prunekd.pruning.BasePruner`).
    embedding : fitted model, default="deprecated"
        Deprecated since 0.2, removed in 0.3: the former name of ``model``.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import EmbeddingPruner
    >>> class FarFromCentre(EmbeddingPruner):
    ...     pass  # scores: the distance to the class centroid in the embedding
    >>> X = np.array([[0.0], [1.0], [9.0], [10.0]])
    >>> FarFromCentre(fraction=0.5, class_balanced=False).fit(X, [0, 0, 0, 0]).scores_
    array([5., 4., 4., 5.])
    """

    _parameter_constraints = {
        **BasePruner._parameter_constraints,
        "model": "no_validation",
        "embedding": "no_validation",
    }
    _fitted_params = ("model", "embedding")
    _model_alias = "embedding"

    def __init__(
        self,
        model=None,
        *,
        fraction=0.5,
        class_balanced=True,
        random_state=None,
        memory=None,
        embedding="deprecated",
    ):
        super().__init__(
            fraction=fraction,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
        )
        self.model = model
        self.embedding = embedding

    def compute_scores(self, X, y, random_state):
        """Distance of every sample to its class centroid in the embedding."""
        y_encoded = np.unique(y, return_inverse=True)[1]
        return centroid_distances(embed(self._model(), X), y_encoded)


class ModerateDSPruner(EmbeddingPruner):
    """Moderate-DS: keep the samples at a moderate distance from their class centre.

    Every sample's distance to its class centroid is measured in the
    embedding; the samples kept are those whose distance is closest to the
    median distance of their class: neither the typical core nor the outliers.

    Parameters
    ----------
    model : None or fitted model, default=None
        The embedding, where distances are measured (see :class:`EmbeddingPruner`).
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    random_state : int, RandomState instance or None, default=None
        Orders ties.
    memory : str, joblib.Memory or None, default=None
        Caches the scores (see :class:`~prunekd.pruning.BasePruner`).
    embedding : fitted model, default="deprecated"
        Deprecated since 0.2, removed in 0.3: the former name of ``model``.

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        ``|distance to the centroid - median distance|`` in the sample's class;
        the smallest are kept.
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features of the fitted ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import ModerateDSPruner
    >>> X = np.array([[-6.0], [-3.0], [-1.0], [1.0], [2.0], [7.0]])  # centroid 0
    >>> # distances 6, 3, 1, 1, 2, 7; median 2.5: the two at distance 3 and 2 are kept
    >>> ModerateDSPruner(fraction=1 / 3).fit_transform(X, np.zeros(6, dtype=int))
    array([1, 4])
    """

    def compute_scores(self, X, y, random_state):
        """Distance from the class's median distance to the centroid."""
        y_encoded = np.unique(y, return_inverse=True)[1]
        distances = centroid_distances(embed(self._model(), X), y_encoded)
        scores = np.empty(len(distances))
        for c in np.unique(y_encoded):
            members = y_encoded == c
            scores[members] = np.abs(distances[members] - np.median(distances[members]))
        return scores

    def _keep_direction(self):
        return "easy"  # closest to the median distance


class _GreedySetPruner(EmbeddingPruner):
    """An embedding pruner that selects a set greedily instead of ranking."""

    def _greedy(self, Z, k, tiebreak):
        raise NotImplementedError

    def select_samples(self, X, scores, y_encoded, n_keep, tiebreak):
        """Greedy selection in the embedding, per class with ``class_balanced``."""
        Z = embed(self._model(), X)

        def choose(members, quota):
            return members[self._greedy(Z[members], quota, tiebreak[members])]

        return per_class(y_encoded, n_keep, self.class_balanced, choose)


_GREEDY_ATTRIBUTES = """
    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Distance of every sample to its class centroid in the embedding (not
        what the selection ranks by: it selects a set).
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features of the fitted ``X``.
"""

_GREEDY_PARAMETERS = """
    Parameters
    ----------
    model : None or fitted model, default=None
        The embedding, where distances are measured (see :class:`EmbeddingPruner`).
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    class_balanced : bool, default=True
        Select within every class, with the class quotas of every pruner.
    random_state : int, RandomState instance or None, default=None
        {random}
    memory : str, joblib.Memory or None, default=None
        Caches the scores (see :class:`~prunekd.pruning.BasePruner`).
    embedding : fitted model, default="deprecated"
        Deprecated since 0.2, removed in 0.3: the former name of ``model``.
"""


def _greedy_doc(summary, example, random, extra=""):
    """The docstring of a greedy set pruner: its summary, the shared sections, its example.

    Every greedy pruner takes the same parameters (``extra`` adds its own,
    before ``memory``) and has the same fitted attributes; ``random`` says what
    ``random_state`` does for it.
    """
    parameters = _GREEDY_PARAMETERS.format(random=random)
    parameters = parameters.replace("    memory :", extra + "    memory :")
    return summary + parameters + _GREEDY_ATTRIBUTES + example


class KCenterGreedyPruner(_GreedySetPruner):
    __doc__ = _greedy_doc(
        """Keep a k-center cover of the embedding (farthest-first traversal).

    Starting from a random sample, each step keeps the sample farthest from
    every sample kept so far, so the kept set covers the data with the
    smallest radius it can greedily reach (within a factor 2 of the best).
    Duplicates and dense clusters are kept once, outliers early.
""",
        """
    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import KCenterGreedyPruner
    >>> X = np.r_[np.zeros((5, 1)), [[10.0], [20.0]]]  # five duplicates, two far points
    >>> KCenterGreedyPruner(fraction=3 / 7, random_state=0).fit_transform(X, np.zeros(7, int))
    array([3, 5, 6])
    """,
        random="Picks the first sample.",
    )

    def _greedy(self, Z, k, tiebreak):
        return k_center_greedy(Z, k, first=int(np.argmin(tiebreak)))


class HerdingPruner(_GreedySetPruner):
    __doc__ = _greedy_doc(
        """Keep samples whose mean tracks the mean of the data (herding).

    Greedily, each step keeps the sample that brings the mean of the kept
    samples closest to the mean of all of them (per class by default), in the
    embedding.
""",
        """
    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import HerdingPruner
    >>> X = np.array([[-4.0], [-1.0], [0.5], [3.0], [6.0]])  # mean 0.9
    >>> HerdingPruner(fraction=0.4).fit_transform(X, np.zeros(5, int))  # means 0.5, then 1.75
    array([2, 3])
    """,
        random="Unused: herding is deterministic; accepted for a common interface.",
    )

    def _greedy(self, Z, k, tiebreak):
        return herding(Z, k)


def facility_location(Z, k):
    """Greedy facility location: maximise ``sum_i max_{j in S} sim(i, j)``.

    Every step adds the row with the largest gain ``sum_i max(0, sim(i, j) -
    best_i)``; greedy is within ``1 - 1/e`` of the optimum. Returns positions in
    choice order.
    """
    return greedy_select(k, FacilityLocation(Z))


def graph_cut(Z, k, lam=1.0):
    """Greedy graph cut: maximise ``sum_{i, j in S} sim(i, j) - lam * sum_{i, j in S} sim(i, j)``.

    The first sum runs over every row ``i`` of the data, the second over pairs
    inside ``S``: representative rows gain, rows similar to those chosen lose.
    Returns positions in choice order.
    """
    return greedy_select(k, GraphCut(Z, lam))


class FacilityLocationPruner(_GreedySetPruner):
    __doc__ = _greedy_doc(
        """Keep the samples that best represent all the others (facility location).

    The kept set ``S`` greedily maximises ``sum_i max_{j in S} sim(i, j)``
    over every sample ``i``, with ``sim`` the cosine similarity in the
    embedding mapped to [0, 1]: each sample should have a close representative
    kept. The greedy choice is within ``1 - 1/e`` of the best set.
""",
        """
    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import FacilityLocationPruner
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [1.0, 1.0]])
    >>> # (1, 1) resembles every row: kept first; then the best of the rest
    >>> FacilityLocationPruner(fraction=0.4).fit_transform(X, np.zeros(5, int))
    array([0, 4])
    """,
        random="Unused: the greedy choice is deterministic.",
    )

    def _greedy(self, Z, k, tiebreak):
        return facility_location(Z, k)


class GraphCutPruner(_GreedySetPruner):
    __doc__ = _greedy_doc(
        """Keep representative samples that are not alike (graph cut).

    The kept set ``S`` greedily maximises ``sum_{i, j in S} sim(i, j) - lam *
    sum_{i, j in S} sim(i, j)``, the first sum over all samples ``i``: a kept
    sample should resemble many others but not the samples already kept. ``sim``
    is the cosine similarity in the embedding mapped to [0, 1].
""",
        """
    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import GraphCutPruner
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [1.0, 1.0]])
    >>> GraphCutPruner(fraction=0.4).fit_transform(X, np.zeros(5, int))
    array([1, 4])
    """,
        random="Unused: the greedy choice is deterministic.",
        extra="    lam : float, default=1.0\n        Weight of the redundancy penalty (>= 0).\n",
    )

    _parameter_constraints = {
        **EmbeddingPruner._parameter_constraints,
        "lam": [Interval(Real, 0, None, closed="left")],
    }
    _selection_params = ("lam",)

    def __init__(
        self,
        model=None,
        *,
        fraction=0.5,
        class_balanced=True,
        random_state=None,
        lam=1.0,
        memory=None,
        embedding="deprecated",
    ):
        super().__init__(
            model,
            fraction=fraction,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
            embedding=embedding,
        )
        self.lam = lam

    def _greedy(self, Z, k, tiebreak):
        return graph_cut(Z, k, self.lam)


def log_determinant(Z, k, ridge=1e-3):
    """Greedy log-determinant: maximise ``log det(L[S, S])``, ``L = sim + ridge * I``.

    The fast greedy algorithm of determinantal point processes: an
    incremental Cholesky factor gives every row's conditional variance given
    the rows chosen, whose logarithm is its gain; each step takes the largest.
    Returns positions in choice order.
    """
    return greedy_select(k, LogDeterminant(Z, k, ridge))


class LogDeterminantPruner(_GreedySetPruner):
    __doc__ = _greedy_doc(
        """Keep a diverse set: the largest volume in the embedding (log-determinant).

    The kept set ``S`` greedily maximises ``log det(L[S, S])`` with ``L`` the
    cosine similarity in the embedding mapped to [0, 1] plus a small ridge:
    each step keeps the sample least explained by those already kept, the
    maximum-a-posteriori set of a determinantal point process.
""",
        """
    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import LogDeterminantPruner
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [1.0, 1.0]])
    >>> LogDeterminantPruner(fraction=0.4).fit_transform(X, np.zeros(5, int))  # two opposite directions
    array([0, 2])
    """,
        random="Unused: the greedy choice is deterministic.",
    )

    def _greedy(self, Z, k, tiebreak):
        return log_determinant(Z, k)
