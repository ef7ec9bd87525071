"""EL2N: error L2 norm of briefly trained proxies."""

from .._nets import el2n_scores
from ._outputs import OutputPruner


class EL2NPruner(OutputPruner):
    """Prune by EL2N, the error L2 norm early in training.

    Each proxy trains for ``max_epochs`` (a few, early in training), then every
    sample is scored ``||softmax(f(x)) - onehot(y)||_2``; scores are averaged
    over ``n_proxies`` independently seeded proxies. Large is hard. With
    ``model=``, the fitted teacher's probabilities are scored instead, at no
    training cost (the EL2N of a fully trained model).

    Parameters
    ----------
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    keep : {"hard", "easy"}, default="hard"
        Keep the largest scores (hard samples) or the smallest.
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    teacher : None or fitted model, default=None
        Score with this fitted model (torch module, skorch net or scikit-learn
        classifier) instead of training proxies.
    estimator : None, torch module class or instance, or skorch net, default=None
        The proxy; ``None`` picks an MLP for flat features and a small CNN for
        images. See :class:`~prunekd.pruning.ProxyPruner`.
    n_proxies : int, default=3
        Proxies averaged over.
    max_epochs : int, default=10
        Training epochs of each proxy before scoring.
    batch_size : int, default=128
        Mini-batch size of the proxies.
    lr : float, default=1e-3
        Learning rate (Adam).
    device : str, default="cpu"
        Device of the proxies.
    mixed_precision : bool, default=False
        Train the proxies under bfloat16 autocast; scores are computed in float32.
    random_state : int, RandomState instance or None, default=None
        Seeds the proxies and tie-breaking; an int lets ``memory`` cache the scores.
    memory : str, joblib.Memory or None, default=None
        Folder (or ``joblib.Memory``) caching the scores across fits and
        processes; see :class:`~prunekd.pruning.BasePruner`.
    verbose : int, default=0
        Above 0, a progress bar over the proxies' training epochs (the scores
        and their cache key do not change).

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Mean EL2N score of every sample.
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features of the fitted ``X``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from prunekd import EL2NPruner
    >>> X, y = load_digits(return_X_y=True)
    >>> pruner = EL2NPruner(fraction=0.2, n_proxies=1, max_epochs=2, random_state=0)
    >>> pruner.fit_transform(X / 16, y).shape
    (359,)
    """

    def scores_from_logits(self, logits, y_encoded):
        """``||softmax(logits) - onehot(y)||_2`` of every sample of the batch."""
        return el2n_scores(logits, y_encoded)
