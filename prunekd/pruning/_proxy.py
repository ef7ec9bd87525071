"""Proxy models: briefly trained networks whose behaviour scores the samples."""

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import is_dataset
from tqdm.auto import tqdm

from .._compat import Interval
from .._nets import _reset_parameters
from .._skorch import _Classifier
from .._utils import _draw_seed, _torch_seeded
from ..models import MLP, SmallCNN, SmallCNN1d
from ._base import ScorePruner


def _first_input(X):
    """An array with the shape of ``X``: ``X`` itself, or a Dataset's first input, batched."""
    if is_dataset(X):
        return np.asarray(X[0][0])[None]
    return X


class _EpochTick(Callback):
    """Advances a progress bar by one at the end of every proxy epoch."""

    def __init__(self, bar):
        self.bar = bar

    def on_epoch_end(self, net, **kwargs):
        self.bar.update(1)


def default_proxy_module(X, n_classes):
    """A proxy module class and its ``module__`` arguments, chosen by the shape of ``X``.

    Flat features get an :class:`~prunekd.models.MLP`; images of shape
    ``(n, C, H, W)``, or ``(n, H, W)`` with ``H`` and ``W`` at least 4, get a
    :class:`~prunekd.models.SmallCNN`; signals ``(n, channels, length)`` with
    fewer than 4 channels get a :class:`~prunekd.models.SmallCNN1d` (pass
    ``estimator=`` for anything else).
    """
    if X.ndim == 2:
        return MLP, {"module__n_features": X.shape[1], "module__n_classes": n_classes}
    if X.ndim == 3 and X.shape[1] < 4:
        return SmallCNN1d, {"module__n_classes": n_classes, "module__in_channels": X.shape[1]}
    if X.ndim in (3, 4):
        in_channels = 1 if X.ndim == 3 else X.shape[1]
        return SmallCNN, {"module__n_classes": n_classes, "module__in_channels": in_channels}
    raise ValueError(
        f"no default proxy for inputs of shape {X.shape}; pass estimator= a torch "
        "module or a skorch net that accepts them"
    )


class ProxyPruner(ScorePruner):
    """Base class of pruners that score samples with briefly trained proxy models.

    ``n_proxies`` independently seeded proxies are trained for ``max_epochs``
    each; the per-sample scores are averaged over them. Subclasses implement
    :meth:`_proxy_scores`.

    Parameters
    ----------
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    keep : {"hard", "easy"}, default="hard"
        Which end of the score ranking is kept.
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    estimator : None, torch module class or instance, or skorch net, default=None
        The proxy. ``None`` picks an MLP for flat features and a small CNN for
        images. A module (returning logits) is trained with Adam and
        cross-entropy using the parameters below; a module instance is copied
        and re-initialised for every proxy. A skorch net is cloned and trained
        with its own settings.
    n_proxies : int, default=3
        Number of independently initialised proxies the scores are averaged over.
    max_epochs : int, default=10
        Training epochs of each proxy.
    batch_size : int, default=128
        Mini-batch size of the proxies.
    lr : float, default=1e-3
        Learning rate of Adam.
    device : str, default="cpu"
        Device the proxies train on, such as ``"cuda"``.
    mixed_precision : bool, default=False
        Train the proxies' forward pass and loss under bfloat16 autocast (see
        :class:`~prunekd.DistillationClassifier`); scores are computed in
        float32. Applies to the proxies the pruner builds: a skorch net given as
        ``estimator`` trains with its own settings.
    random_state : int, RandomState instance or None, default=None
        Seeds the proxies' initialisation and data order, and the order of
        tied scores.
    memory : str, joblib.Memory or None, default=None
        Folder (or ``joblib.Memory``) caching the scores across fits and
        processes; see :class:`~prunekd.pruning.BasePruner`.
    verbose : int, default=0
        Above 0, a progress bar (tqdm) over the proxies' training epochs. It
        does not change the scores, nor the cache key.

    Examples
    --------
    A pruner scoring each sample by the proxy's loss on it:

    >>> import numpy as np, torch
    >>> from prunekd.pruning import ProxyPruner
    >>> from prunekd._nets import net_logits
    >>> class LossPruner(ProxyPruner):
    ...     def _proxy_scores(self, X, y_encoded, n_classes, seed):
    ...         net = self._train_proxy(X, y_encoded, n_classes, seed)
    ...         logits = net_logits(net, X)
    ...         return torch.nn.functional.cross_entropy(
    ...             logits, torch.as_tensor(y_encoded), reduction="none").numpy()
    >>> X = np.random.RandomState(0).randn(40, 2)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> LossPruner(fraction=0.25, n_proxies=1, max_epochs=2, random_state=0).fit_transform(X, y).shape
    (10,)
    """

    _parameter_constraints = {
        **ScorePruner._parameter_constraints,
        "estimator": [None, torch.nn.Module, NeuralNet, type],
        "n_proxies": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [str, torch.device],
        "mixed_precision": ["boolean"],
        "verbose": [Interval(Integral, 0, None, closed="left"), "boolean"],
    }

    def __init__(
        self,
        *,
        fraction=0.5,
        keep="hard",
        class_balanced=True,
        estimator=None,
        n_proxies=3,
        max_epochs=10,
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
            random_state=random_state,
            memory=memory,
        )
        self.estimator = estimator
        self.n_proxies = n_proxies
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.mixed_precision = mixed_precision
        self.verbose = verbose

    def _make_proxy(self, X, n_classes, callbacks=()):
        est = self.estimator
        if isinstance(est, NeuralNet):
            if self.mixed_precision:
                raise ValueError(
                    "mixed_precision=True applies to the proxies the pruner builds; with a "
                    "skorch net as estimator, set it on the net instead, e.g. "
                    "DistillationClassifier(module, alpha=0, mixed_precision=True)"
                )
            net = clone(est)
            if callbacks:
                net.set_params(callbacks=list(net.callbacks or []) + list(callbacks))
            return net
        if est is None:
            module, module_kwargs = default_proxy_module(_first_input(X), n_classes)
        elif isinstance(est, torch.nn.Module):
            module, module_kwargs = _reset_parameters(copy.deepcopy(est)), {}
        elif isinstance(est, type) and issubclass(est, torch.nn.Module):
            module, module_kwargs = est, {}
        else:
            raise ValueError(
                "estimator must be None, a torch.nn.Module class or instance, or a "
                f"skorch net; got {est!r}"
            )
        return _Classifier(
            module,
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None,
            iterator_train__shuffle=True,
            callbacks=list(callbacks) or None,
            verbose=0,
            device=self.device,
            mixed_precision=self.mixed_precision,
            **module_kwargs,
        )

    def _train_proxy(self, X, y_encoded, n_classes, seed, callbacks=()):
        """Build and train one proxy, seeded."""
        progress = getattr(self, "_progress", None)
        if progress is not None:
            callbacks = [*callbacks, ("progress", _EpochTick(progress))]
        with _torch_seeded(seed):
            net = self._make_proxy(X, n_classes, callbacks)
            net.fit(X, y_encoded)
        return net

    def compute_scores(self, X, y, random_state):
        """Average of :meth:`_proxy_scores` over ``n_proxies`` trained proxies.

        Parameters
        ----------
        X : ndarray of shape (n_samples, ...)
            Training data.
        y : ndarray of shape (n_samples,)
            Class labels.
        random_state : RandomState
            Seeds the proxies.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        classes, y_encoded = np.unique(y, return_inverse=True)
        y_encoded = y_encoded.astype(np.int64)
        if is_dataset(X):
            if not np.array_equal(classes, np.arange(len(classes))):
                # The proxy trains on the labels the Dataset yields, as class indices.
                raise ValueError(
                    "with a torch Dataset as X the labels must be the integers "
                    f"0..n_classes-1; got classes {classes.tolist()[:10]}"
                )
            Xf = X
        else:
            Xf = np.asarray(X, dtype=np.float32)
        total = np.zeros(len(y_encoded))
        # The bar lives for this call only: never a parameter, never pickled. Every
        # epoch is drawn (a proxy epoch is rarely longer than tqdm's default interval).
        self._progress = (
            tqdm(
                total=self.n_proxies * self.max_epochs,
                leave=False,
                miniters=1,
                mininterval=0,
                desc=f"{type(self).__name__} proxies",
            )
            if self.verbose
            else None
        )
        try:
            for _ in range(self.n_proxies):
                total += self._proxy_scores(Xf, y_encoded, len(classes), _draw_seed(random_state))
        finally:
            if self._progress is not None:
                self._progress.close()
            del self._progress
        return total / self.n_proxies

    def _proxy_scores(self, X, y_encoded, n_classes, seed):
        """Scores from one proxy: train it (seeded) and measure every sample."""
        raise NotImplementedError
