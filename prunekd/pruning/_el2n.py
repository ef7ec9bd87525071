"""EL2N: error L2 norm of briefly trained proxies."""

from .._nets import el2n_scores
from .._docstrings import shared_sections
from ._outputs import _PARAMETERS, OutputPruner


@shared_sections(parameters=_PARAMETERS)
class EL2NPruner(OutputPruner):
    """Prune by EL2N, the error L2 norm early in training.

    Each proxy trains for ``max_epochs`` (a few, early in training), then every
    sample is scored ``||softmax(f(x)) - onehot(y)||_2``; scores are averaged
    over ``n_proxies`` independently seeded proxies. Large is hard. With
    ``model=``, the fitted teacher's probabilities are scored instead, at no
    training cost (the EL2N of a fully trained model).

    Parameters
    ----------
    {{parameters}}

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
