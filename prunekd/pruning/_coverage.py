"""Coverage-centric selection (CCS) over the scores of any pruner."""

from numbers import Integral, Real

from sklearn.base import clone

from .._compat import Interval
from ._base import BasePruner
from ._selection import coverage_select, per_class


class CoverageCentricPruner(BasePruner):
    """Coverage-centric selection (CCS) over any pruner's difficulty scores.

    Keeping only the hardest samples leaves the easy and medium parts of the
    data uncovered at small fractions. CCS drops the hardest ``hard_cutoff``
    share (often mislabeled), cuts the score range of the rest into
    ``n_strata`` strata of equal width, and spreads the budget evenly over them,
    from the smallest stratum up, sampling at random inside each.

    Parameters
    ----------
    pruner : ScorePruner or None, default=None
        Whose ``compute_scores`` gives the difficulty; ``None`` is
        :class:`~prunekd.EL2NPruner` with its defaults. Its ``fraction``,
        ``keep`` and ``class_balanced`` are not used.
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    hard_cutoff : float, default=0.1
        Share of the hardest samples dropped before stratifying, in [0, 1)
        (fewer when the budget needs them).
    n_strata : int, default=50
        Number of strata of equal score width.
    class_balanced : bool, default=False
        Select per class, with the class quotas of every pruner (CCS itself
        is not class-balanced).
    random_state : int, RandomState instance or None, default=None
        Seeds the scoring and the random draws inside the strata.
    memory : str, joblib.Memory or None, default=None
        Caches the scores (see :class:`~prunekd.pruning.BasePruner`): a search
        over ``fraction``, ``hard_cutoff`` or ``n_strata`` scores once.

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        The difficulty scores of ``pruner``.
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features of the fitted ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import CoverageCentricPruner, PrecomputedPruner
    >>> X, y = np.zeros((7, 1)), np.zeros(7, dtype=int)
    >>> scores = [0.0, 0.1, 0.2, 5.0, 5.1, 9.9, 10.0]
    >>> ccs = CoverageCentricPruner(PrecomputedPruner(scores), fraction=3 / 7, hard_cutoff=1 / 7,
    ...                             n_strata=2, random_state=0)
    >>> kept = ccs.fit_transform(X, y)
    >>> len(kept), 6 in kept  # the hardest sample is cut; both strata are covered
    (3, False)
    """

    _parameter_constraints = {
        **BasePruner._parameter_constraints,
        "pruner": [None, BasePruner],
        "hard_cutoff": [Interval(Real, 0, 1, closed="left")],
        "n_strata": [Interval(Integral, 1, None, closed="left")],
    }
    # The selection parameters are the base's plus these: the scores ignore them.
    _selection_params = ("hard_cutoff", "n_strata")

    def __init__(
        self,
        pruner=None,
        *,
        fraction=0.5,
        hard_cutoff=0.1,
        n_strata=50,
        class_balanced=False,
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
        self.hard_cutoff = hard_cutoff
        self.n_strata = n_strata

    def _scorer(self):
        if self.pruner is None:
            from ._el2n import EL2NPruner

            return EL2NPruner()
        return clone(self.pruner)

    def compute_scores(self, X, y, random_state):
        """The difficulty scores of ``pruner``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, ...) or torch Dataset
        y : ndarray of shape (n_samples,)
        random_state : RandomState

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self._scorer().compute_scores(X, y, random_state)

    def select_samples(self, X, scores, y_encoded, n_keep, tiebreak):
        """Coverage-centric selection, per class with ``class_balanced``."""

        def choose(members, quota):
            picked = coverage_select(
                scores[members], quota, self.hard_cutoff, self.n_strata, tiebreak[members]
            )
            return members[picked]

        return per_class(y_encoded, n_keep, self.class_balanced, choose)
