"""Greedy set selection in an embedding: one loop, and the gain of each objective.

k-center, herding, facility location, graph cut and log-determinant all pick
their set the same way: each step adds the available row with the largest
gain, the lowest index on ties, then updates every row's gain. Each objective
is a small class that only says what the gains are and how choosing a row
changes them; :func:`greedy_select` is the loop.
"""

import numpy as np
import torch


def greedy_select(k, objective):
    """``k`` rows chosen one by one by largest gain (lowest index on ties), in choice order.

    Parameters
    ----------
    k : int
        Rows to choose.
    objective : object
        ``objective.gains`` holds every row's gain before the first choice;
        ``objective.add(j)`` records row ``j`` as chosen and returns every
        row's new gain (chosen rows are never picked again, whatever theirs).

    Returns
    -------
    chosen : ndarray of int, shape (k,)

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning._greedy import greedy_select, KCenter
    >>> Z = np.array([[0.0], [0.0], [5.0], [9.0]])
    >>> greedy_select(3, KCenter(Z, first=0)).tolist()  # then the farthest row, then the next
    [0, 3, 2]
    """
    gains = objective.gains
    available = torch.ones(len(gains), dtype=torch.bool)
    chosen = []
    for step in range(k):
        nxt = int(torch.argmax(gains.masked_fill(~available, -float("inf"))))
        chosen.append(nxt)
        available[nxt] = False
        if step < k - 1:  # the last choice needs no update
            gains = objective.add(nxt)
    return np.array(chosen, dtype=np.int64)


def _rows(Z):
    return torch.as_tensor(Z, dtype=torch.float64)


def similarity(Z):
    """Cosine similarity of the rows of ``Z``, mapped to [0, 1] (submodular gains need >= 0)."""
    Zt = _rows(Z)
    Zt = Zt / Zt.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return (1 + Zt @ Zt.T) / 2


class KCenter:
    """Farthest-first traversal: the gain is the distance to the nearest chosen row."""

    def __init__(self, Z, first):
        self.Z = _rows(Z)
        self.gains = torch.zeros(len(self.Z), dtype=torch.float64)
        self.gains[first] = 1.0  # the traversal starts at ``first``
        self.nearest = None

    def add(self, j):
        distance = torch.cdist(self.Z, self.Z[j : j + 1]).squeeze(1)
        self.nearest = distance if self.nearest is None else torch.minimum(self.nearest, distance)
        return self.nearest


class Herding:
    """Herding: the gain is minus the distance of the running mean, with the row, to the mean."""

    def __init__(self, Z):
        self.Z = _rows(Z)
        self.target = self.Z.mean(0)
        self.total = torch.zeros_like(self.target)
        self.t = 1
        self.gains = self._gains()

    def _gains(self):
        return -torch.linalg.norm(self.target - (self.total + self.Z) / self.t, dim=1)

    def add(self, j):
        self.total = self.total + self.Z[j]
        self.t += 1
        return self._gains()


class FacilityLocation:
    """Facility location: the gain is how much closer the row brings every row's representative."""

    def __init__(self, Z):
        self._start(similarity(Z))

    @classmethod
    def from_similarity(cls, S):
        """Facility location on a given non-negative similarity matrix."""
        objective = cls.__new__(cls)
        objective._start(torch.as_tensor(S, dtype=torch.float64))
        return objective

    def _start(self, S):
        self.S = S
        self.best = torch.zeros(len(self.S), dtype=self.S.dtype)
        self.gains = self._gains()

    def _gains(self):
        return (self.S - self.best[:, None]).clamp_min(0).sum(0)

    def add(self, j):
        self.best = torch.maximum(self.best, self.S[:, j])
        return self._gains()


class GraphCut:
    """Graph cut: coverage of every row, minus ``lam`` times the similarity to the chosen rows."""

    def __init__(self, Z, lam=1.0):
        self.S = similarity(Z)
        self.lam = lam
        self.coverage = self.S.sum(0)
        self.inside = torch.zeros(len(self.S), dtype=self.S.dtype)  # sum_{s in S} sim(s, j)
        self.gains = self._gains()

    def _gains(self):
        return self.coverage - self.lam * (2 * self.inside + self.S.diagonal())

    def add(self, j):
        self.inside = self.inside + self.S[j]
        return self._gains()


class LogDeterminant:
    """Log-determinant (DPP MAP): the gain is the row's variance given the chosen rows.

    An incremental Cholesky factor updates every row's conditional variance in
    ``O(n k)`` per step; the log of the variance is the gain in ``log det``,
    and the logarithm keeps the order.
    """

    def __init__(self, Z, k, ridge=1e-3):
        self.L = similarity(Z) + ridge * torch.eye(len(Z), dtype=torch.float64)
        self.factors = torch.zeros(k, len(self.L), dtype=self.L.dtype)
        self.t = 0
        self.gains = self.L.diagonal().clone()

    def add(self, j):
        t = self.t
        e = (self.L[j] - self.factors[:t, j] @ self.factors[:t]) / self.gains[j].sqrt()
        self.factors[t] = e
        self.t += 1
        self.gains = self.gains - e**2
        return self.gains
