"""Pruning by scores computed elsewhere."""

import numpy as np

from ._base import ScorePruner


class PrecomputedPruner(ScorePruner):
    """Keep a fraction of the samples ranked by scores you already have.

    Useful when scores come from elsewhere: a previous run, a training-dynamics
    record of the teacher (:class:`prunekd.callbacks.TrainingDynamics`), or a
    score no pruner implements.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Difficulty of every sample of the ``X`` given to ``fit`` (larger is
        harder).
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    keep : {"hard", "easy"}, default="hard"
        Which end of the ranking is kept.
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    random_state : int, RandomState instance or None, default=None
        Orders tied scores.
    memory : str, joblib.Memory or None, default=None
        Folder (or ``joblib.Memory``) caching the scores across fits and
        processes; see :class:`~prunekd.pruning.BasePruner`.

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        The scores, as floats.
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features of the fitted ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import PrecomputedPruner
    >>> X, y = np.zeros((4, 1)), np.array([0, 0, 1, 1])
    >>> PrecomputedPruner(scores=[3, 1, 0, 2], fraction=0.5).fit_transform(X, y)
    array([0, 3])
    """

    _parameter_constraints = {**ScorePruner._parameter_constraints, "scores": ["array-like", None]}

    def __init__(
        self,
        scores=None,
        *,
        fraction=0.5,
        keep="hard",
        class_balanced=True,
        random_state=None,
        memory=None,
    ):
        super().__init__(
            fraction=fraction,
            keep=keep,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
        )
        self.scores = scores

    def compute_scores(self, X, y, random_state):
        """The given ``scores``, checked against ``X``."""
        if self.scores is None:
            raise ValueError("PrecomputedPruner needs scores=, one per sample of X")
        scores = np.asarray(self.scores, dtype=np.float64)
        if scores.shape != (len(y),):
            raise ValueError(
                f"scores has shape {scores.shape}, but X has {len(y)} samples; "
                "scores must hold one value per sample"
            )
        return scores

    def _cache_key(self, fingerprint, y, seed):
        return None  # nothing to save: the scores are given
