"""D2 pruning: difficulty and diversity together, by message passing on a kNN graph."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors

from .._compat import Interval
from ._base import BasePruner
from ._embed import embed
from ._selection import per_class


def _graph(Z, n_neighbors):
    """Each row's ``n_neighbors`` nearest other rows and their distances, ``(n, k)`` each."""
    k = min(n_neighbors, len(Z) - 1)
    if k < 1:
        return np.zeros((len(Z), 0), dtype=np.int64), np.zeros((len(Z), 0))
    distances, nearest = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
    return np.delete(nearest, 0, axis=1), np.delete(distances, 0, axis=1)  # column 0: the row


def d2_select(Z, scores, k, n_neighbors=5, gamma_forward=1.0, gamma_reverse=1.0):
    """``k`` rows by D2: forward message passing, then greedy selection with reverse messages.

    Forward: every row's score becomes ``s_i + sum_j exp(-gamma_forward *
    d_ij) s_j`` over its neighbours ``j`` (a hard row among hard rows gains
    most). Then ``k`` times: take the row with the largest score and lower
    each of its neighbours' by ``exp(-gamma_reverse * d_ij)`` times the taken
    row's score, so that the next choices cover other regions. Positions in
    choice order.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning._d2 import d2_select
    >>> Z = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> d2_select(Z, np.array([1.0, 0.9, 0.5, 0.4]), 2, n_neighbors=1).tolist()
    [0, 2]
    """
    nearest, distances = _graph(np.asarray(Z, dtype=np.float64), n_neighbors)
    s = torch.as_tensor(np.asarray(scores, dtype=np.float64))
    near = torch.as_tensor(nearest)
    forward = torch.as_tensor(np.exp(-gamma_forward * distances))
    reverse = torch.as_tensor(np.exp(-gamma_reverse * distances))
    s = s + (forward * s[near]).sum(1)
    available = torch.ones(len(s), dtype=torch.bool)
    chosen = []
    for _ in range(k):
        i = int(torch.argmax(s.masked_fill(~available, -torch.inf)))
        chosen.append(i)
        available[i] = False
        s[near[i]] -= reverse[i] * s[i]
    return np.array(chosen, dtype=np.int64)


class D2Pruner(BasePruner):
    """D2 pruning: hard samples that also cover the data, by message passing on a kNN graph.

    Maharana et al., "D2 Pruning: Message Passing for Balancing Diversity and
    Difficulty in Data Pruning" (ICLR 2024). The samples are the nodes of a
    graph linking each to its ``n_neighbors`` nearest in an embedding; each
    starts with its difficulty score from ``pruner`` (EL2N by default, or
    any pruner, such as :class:`~prunekd.pruning.DynamicsPruner` reading the
    teacher's training). A forward pass adds to each score its neighbours',
    weighted by ``exp(-gamma_forward * distance)``; then the selection takes
    the highest score and lowers its neighbours' by ``exp(-gamma_reverse *
    distance)`` times it, and repeats. Cost: the inner pruner's scoring, one
    embedding pass, a nearest-neighbour search, then ``O(k n_neighbors)``.
    Departure from the reference code: its graph and messages are as
    described; the reference's defaults for its embeddings (a trained
    network's features) are yours to choose through ``model``.

    Parameters
    ----------
    pruner : BasePruner or None, default=None
        Whose ``compute_scores`` gives the difficulty; None: EL2N proxies.
    model : None or fitted model, default=None
        The embedding of the graph (see :class:`EmbeddingPruner`); None: the
        inputs.
    n_neighbors : int, default=5
        Neighbours per node.
    gamma_forward, gamma_reverse : float, default=1.0
        How fast a message fades with distance, forward and reverse.
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    class_balanced : bool, default=True
        Select within every class (a graph per class), with the class quotas of
        every pruner.
    random_state : int, RandomState instance or None, default=None
        Seeds the inner pruner's scoring.
    memory : str, joblib.Memory or None, default=None
        Caches the scores (see :class:`~prunekd.pruning.BasePruner`).

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        The difficulty scores of ``pruner`` (before message passing).
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import D2Pruner, PrecomputedPruner
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]])
    >>> hard = [1.0, 0.9, 0.8, 0.5, 0.4, 0.1]  # the hardest are bunched together
    >>> D2Pruner(PrecomputedPruner(hard), n_neighbors=2, fraction=0.5,
    ...          class_balanced=False).fit_transform(X, np.zeros(6, int)).tolist()  # not [0, 1, 2]
    [0, 1, 3]
    """

    _parameter_constraints = {
        **BasePruner._parameter_constraints,
        "pruner": [None, BasePruner],
        "model": "no_validation",
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "gamma_forward": [Interval(Real, 0, None, closed="left")],
        "gamma_reverse": [Interval(Real, 0, None, closed="left")],
    }
    _fitted_params = ("model",)
    _selection_params = ("n_neighbors", "gamma_forward", "gamma_reverse")

    def __init__(
        self,
        pruner=None,
        *,
        model=None,
        n_neighbors=5,
        gamma_forward=1.0,
        gamma_reverse=1.0,
        fraction=0.5,
        class_balanced=True,
        random_state=None,
        memory=None,
    ):
        super().__init__(
            fraction=fraction,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
        )
        self.pruner = pruner
        self.model = model
        self.n_neighbors = n_neighbors
        self.gamma_forward = gamma_forward
        self.gamma_reverse = gamma_reverse

    def compute_scores(self, X, y, random_state):
        """The difficulty scores of ``pruner``."""
        if self.pruner is None:
            from ._el2n import EL2NPruner

            return EL2NPruner().compute_scores(X, y, random_state)
        return clone(self.pruner).compute_scores(X, y, random_state)

    def select_samples(self, X, scores, y_encoded, n_keep, tiebreak):
        """D2's selection on the kNN graph of the embedding, per class with ``class_balanced``."""
        Z = embed(self.model, X)

        def choose(members, quota):
            picked = d2_select(
                Z[members],
                scores[members],
                quota,
                self.n_neighbors,
                self.gamma_forward,
                self.gamma_reverse,
            )
            return members[picked]

        return per_class(y_encoded, n_keep, self.class_balanced, choose)
