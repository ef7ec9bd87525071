"""Forgetting: how often samples are forgotten while a proxy trains."""

from numbers import Integral

from .._compat import Interval
from ..callbacks import TrainingDynamics
from ._proxy import ProxyPruner


class ForgettingPruner(ProxyPruner):
    """Prune by forgetting events counted while proxies train.

    After every epoch each training sample is classified; a forgetting event is
    a change from correct to incorrect. Samples never learned are the most
    forgettable and get the largest score (``max_epochs``). Counts are averaged
    over ``n_proxies`` proxies. Large is hard.

    Parameters
    ----------
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    keep : {"hard", "easy"}, default="hard"
        Keep the most forgettable samples or the least.
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    estimator : None, torch module class or instance, or skorch net, default=None
        The proxy; ``None`` picks an MLP for flat features and a small CNN for
        images. See :class:`~prunekd.pruning.ProxyPruner`.
    n_proxies : int, default=3
        Proxies averaged over.
    max_epochs : int, default=20
        Training epochs of each proxy, all of them recorded.
    batch_size : int, default=128
        Mini-batch size of the proxies.
    lr : float, default=1e-3
        Learning rate (Adam).
    device : str, default="cpu"
        Device of the proxies.
    mixed_precision : bool, default=False
        Train the proxies under bfloat16 autocast; correctness is recorded in float32.
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
        Mean forgetting count of every sample.
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features of the fitted ``X``.

    See Also
    --------
    prunekd.callbacks.TrainingDynamics : the callback that records the events.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from prunekd import ForgettingPruner
    >>> X, y = load_digits(return_X_y=True)
    >>> pruner = ForgettingPruner(fraction=0.5, n_proxies=1, max_epochs=3, random_state=0)
    >>> pruner.fit_transform(X / 16, y).shape
    (898,)
    """

    _parameter_constraints = {
        **ProxyPruner._parameter_constraints,
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        fraction=0.5,
        keep="hard",
        class_balanced=True,
        estimator=None,
        n_proxies=3,
        max_epochs=20,
        batch_size=128,
        lr=1e-3,
        device="cpu",
        mixed_precision=False,
        random_state=None,
        memory=None,
        verbose=0,
    ):
        super().__init__(
            fraction=fraction,
            keep=keep,
            class_balanced=class_balanced,
            estimator=estimator,
            n_proxies=n_proxies,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            device=device,
            mixed_precision=mixed_precision,
            random_state=random_state,
            memory=memory,
            verbose=verbose,
        )

    def _proxy_scores(self, X, y_encoded, n_classes, seed):
        recorder = TrainingDynamics()
        self._train_proxy(X, y_encoded, n_classes, seed, callbacks=[("dynamics", recorder)])
        return recorder.forgetting_counts()
