"""Pruners that compare a fitted classifier's predictions between samples: CD, Cal, prototypes."""

from numbers import Integral

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors

from .._compat import Interval, StrOptions
from .._utils import _input_batches
from ..distillation._teacher import make_teacher
from ._embed import centroid_distances, embed
from ._embedding import EmbeddingPruner, _GreedySetPruner
from ._greedy import greedy_select
from ._selection import per_class

_BATCH = 1024
_EPS = 1e-12


def probabilities(model, X):
    """``model``'s predicted class probabilities on ``X``, as a float64 array."""
    teacher = make_teacher(model)
    rows = [
        torch.softmax(teacher.logits(xb).double().cpu(), dim=1)
        for _, xb in _input_batches(X, _BATCH)
    ]
    return torch.cat(rows).numpy()


def symmetric_kl(P, Q):
    """``(KL(p || q) + KL(q || p)) / 2`` between the rows of ``P`` and ``Q``: shape (len(P), len(Q))."""
    P, Q = (torch.as_tensor(A, dtype=torch.float64).clamp_min(_EPS) for A in (P, Q))
    logP, logQ = P.log(), Q.log()
    # sum_c p (log p - log q) + q (log q - log p) = sum_c (p - q)(log p - log q)
    return 0.5 * ((P[:, None] - Q[None]) * (logP[:, None] - logQ[None])).sum(-1)


class _KLCenter:
    """Farthest-first traversal under the symmetric KL divergence of predictions."""

    def __init__(self, P, first):
        self.P = torch.as_tensor(P, dtype=torch.float64)
        self.gains = torch.zeros(len(self.P), dtype=torch.float64)
        self.gains[first] = 1.0
        self.nearest = None

    def add(self, j):
        distance = symmetric_kl(self.P, self.P[j : j + 1]).squeeze(1)
        self.nearest = distance if self.nearest is None else torch.minimum(self.nearest, distance)
        return self.nearest


def _needs_model(pruner):
    model = pruner._model()
    if model is None:
        raise ValueError(
            f"{type(pruner).__name__} compares predicted probabilities: pass model= a fitted "
            "classifier, such as the teacher (a torch module, skorch net or scikit-learn "
            "classifier)"
        )
    return model


class ContextualDiversityPruner(_GreedySetPruner):
    """Contextual diversity: a k-center cover of the predicted probabilities, under symmetric KL.

    Agarwal et al., "Contextual Diversity for Active Learning" (ECCV 2020), as
    DeepCore selects with it: farthest-first traversal in which the distance
    between two samples is ``(KL(p || q) + KL(q || p)) / 2`` of the model's
    predicted probabilities, starting from a random sample, per class by
    default. Cost: one inference pass of the model over the data, then
    ``O(n k)`` divergences. Departure from the reference code: DeepCore
    trains a proxy network first; here ``model=`` is any fitted classifier,
    such as the teacher, at no training cost.

    Parameters
    ----------
    model : fitted classifier
        A torch module returning logits, a fitted skorch net or a fitted
        scikit-learn classifier (``predict_proba``).
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    class_balanced : bool, default=True
        Select within every class, with the class quotas of every pruner.
    random_state : int, RandomState instance or None, default=None
        Picks the first sample of every traversal.
    memory : str, joblib.Memory or None, default=None
        Caches the scores (see :class:`~prunekd.pruning.BasePruner`).

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Distance of every sample's probabilities to its class mean (not what
        the selection ranks by: it selects a set).
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from prunekd.pruning import ContextualDiversityPruner
    >>> X = np.r_[np.zeros((4, 1)), [[3.0], [-3.0]]]
    >>> y = np.array([0, 1, 0, 1, 1, 0])
    >>> teacher = LogisticRegression().fit(X, y)
    >>> pruner = ContextualDiversityPruner(model=teacher, fraction=0.5, class_balanced=False,
    ...                                    random_state=0)
    >>> len(pruner.fit_transform(X, y))
    3
    """

    def __init__(
        self, model=None, *, fraction=0.5, class_balanced=True, random_state=None, memory=None
    ):
        super().__init__(
            model,
            fraction=fraction,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
        )

    def compute_scores(self, X, y, random_state):
        """Distance of every sample's probabilities to its class mean."""
        self._fit_probabilities = P = probabilities(_needs_model(self), X)  # for the selection
        return centroid_distances(P, np.unique(y, return_inverse=True)[1])

    def select_samples(self, X, scores, y_encoded, n_keep, tiebreak):
        """Farthest-first traversal under symmetric KL, per class with ``class_balanced``."""
        P = self.__dict__.pop("_fit_probabilities", None)  # absent when the scores were cached
        P = probabilities(_needs_model(self), X) if P is None else P

        def choose(members, quota):
            first = int(np.argmin(tiebreak[members]))
            return members[greedy_select(quota, _KLCenter(P[members], first))]

        return per_class(y_encoded, n_keep, self.class_balanced, choose)


def cal_scores(Z, P, y_encoded, n_neighbors):
    """Cal's score: mean ``KL(p_neighbour || p_sample)`` over the sample's class-mate neighbours.

    Neighbours are the ``n_neighbors`` nearest other samples of the same class
    in the embedding ``Z`` (fewer in a smaller class).
    """
    P = np.clip(np.asarray(P, dtype=np.float64), _EPS, None)
    scores = np.zeros(len(P))
    for c in np.unique(y_encoded):
        members = np.flatnonzero(y_encoded == c)
        k = min(n_neighbors, len(members) - 1)
        if k < 1:
            continue
        nn = NearestNeighbors(n_neighbors=k + 1).fit(Z[members])
        nearest = nn.kneighbors(Z[members], return_distance=False)
        neighbours = members[np.delete(nearest, 0, axis=1)]  # column 0: the sample itself
        Pn, Pi = P[neighbours], P[members][:, None]
        scores[members] = (Pn * (np.log(Pn) - np.log(Pi))).sum(-1).mean(1)
    return scores


class CalPruner(EmbeddingPruner):
    """Cal (contrastive active learning): keep samples predicted unlike their neighbours.

    Margatina et al., "Active Learning by Acquiring Contrastive Examples"
    (EMNLP 2021), as DeepCore selects with it: every sample's score is the
    mean ``KL(p_neighbour || p_sample)`` of the model's predicted
    probabilities over its ``n_neighbors`` nearest same-class samples in the
    model's embedding (the input of its last linear layer; a scikit-learn
    model's ``transform``, else ``predict_proba``); the largest are kept. Cost:
    one inference pass, then a nearest-neighbour search per class. Departure
    from the reference code: DeepCore trains a proxy first; here ``model=`` is
    any fitted classifier, such as the teacher. DeepCore also keeps the
    *smallest* divergences (an ascending sort; ``keep="easy"`` here) and finds
    the neighbours in an ImageNet ResNet-18 rather than the model's embedding.

    Parameters
    ----------
    model : fitted classifier
        Gives the embedding and the probabilities.
    n_neighbors : int, default=10
        Neighbours per sample (the reference's default).
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    keep : {"hard", "easy"}, default="hard"
        Largest scores (the reference) or smallest.
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    random_state : int, RandomState instance or None, default=None
        Orders ties.
    memory : str, joblib.Memory or None, default=None
        Caches the scores (see :class:`~prunekd.pruning.BasePruner`).

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Mean divergence from the neighbours' predictions.
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from prunekd.pruning import CalPruner
    >>> X = np.linspace(-2, 2, 20)[:, None]
    >>> y = (X[:, 0] > 0).astype(int)
    >>> teacher = LogisticRegression().fit(X, y)
    >>> # predictions change fastest next to the boundary, between rows 9 and 10
    >>> CalPruner(model=teacher, n_neighbors=3, fraction=0.2).fit_transform(X, y).tolist()
    [8, 9, 10, 11]
    """

    _parameter_constraints = {
        **EmbeddingPruner._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "keep": [StrOptions({"hard", "easy"})],
    }

    def __init__(
        self,
        model=None,
        *,
        n_neighbors=10,
        fraction=0.5,
        keep="hard",
        class_balanced=True,
        random_state=None,
        memory=None,
    ):
        super().__init__(
            model,
            fraction=fraction,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
        )
        self.n_neighbors = n_neighbors
        self.keep = keep

    def compute_scores(self, X, y, random_state):
        """Mean divergence of every sample's prediction from its neighbours'."""
        model = _needs_model(self)
        y_encoded = np.unique(y, return_inverse=True)[1]
        return cal_scores(embed(model, X), probabilities(model, X), y_encoded, self.n_neighbors)


class PrototypePruner(EmbeddingPruner):
    """Prototype distance: keep samples far from (or near) their prototype in an embedding.

    Sorscher et al., "Beyond neural scaling laws: beating power law scaling
    via data pruning" (NeurIPS 2022). With ``n_prototypes=None`` this is the
    paper's supervised variant: the prototypes are the class centroids and a
    sample's score is its distance to its own class's. With an int, k-means
    finds that many prototypes in the embedding, without the labels, and the
    score is the distance to the nearest one; the paper ran k-means in a
    self-supervised encoder's embedding, which prunekd does not train: use a
    model's embedding, or the inputs. The paper keeps hard (far) samples when
    data is plentiful and easy ones when it is scarce. Cost: one inference
    pass of the model, plus k-means.

    Parameters
    ----------
    model : None or fitted model, default=None
        The embedding (see :class:`EmbeddingPruner`); None: the inputs.
    n_prototypes : int or None, default=None
        None: class centroids; an int: k-means clusters over all samples.
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    keep : {"hard", "easy"}, default="hard"
        Far from the prototype, or near it.
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    random_state : int, RandomState instance or None, default=None
        Seeds k-means and orders ties.
    memory : str, joblib.Memory or None, default=None
        Caches the scores (see :class:`~prunekd.pruning.BasePruner`).

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Distance to the prototype.
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import PrototypePruner
    >>> X = np.array([[0.0], [1.0], [3.0], [10.0], [11.0], [15.0]])
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> PrototypePruner(fraction=1 / 3).fit(X, y).scores_.round(2).tolist()
    [1.33, 0.33, 1.67, 2.0, 1.0, 3.0]
    >>> PrototypePruner(fraction=1 / 3).fit_transform(X, y).tolist()  # the farthest of each class
    [2, 5]
    """

    _parameter_constraints = {
        **EmbeddingPruner._parameter_constraints,
        "n_prototypes": [None, Interval(Integral, 1, None, closed="left")],
        "keep": [StrOptions({"hard", "easy"})],
    }

    def __init__(
        self,
        model=None,
        *,
        n_prototypes=None,
        fraction=0.5,
        keep="hard",
        class_balanced=True,
        random_state=None,
        memory=None,
    ):
        super().__init__(
            model,
            fraction=fraction,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
        )
        self.n_prototypes = n_prototypes
        self.keep = keep

    def compute_scores(self, X, y, random_state):
        """Distance of every sample to its prototype."""
        Z = embed(self._model(), X)
        if self.n_prototypes is None:
            return centroid_distances(Z, np.unique(y, return_inverse=True)[1])
        if self.n_prototypes > len(Z):
            raise ValueError(f"n_prototypes={self.n_prototypes} exceeds the {len(Z)} samples")
        seed = int(random_state.randint(2**31 - 1))
        kmeans = KMeans(self.n_prototypes, n_init=3, random_state=seed).fit(Z)
        return kmeans.transform(Z).min(axis=1)
