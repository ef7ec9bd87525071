"""Per-sample training dynamics, recorded by a skorch callback while a net trains."""

import numpy as np
import torch
from skorch.callbacks import Callback

from .._nets import el2n_scores, net_logits


class TrainingDynamics(Callback):
    """Record every training sample's correctness, margin and true-class probability per epoch.

    At the end of every epoch the net predicts its whole training set in eval
    mode (one extra forward pass, no gradients, and no draw from torch's random
    generator, so the training is the one it would be unrecorded) and the
    callback stores, per
    sample, whether the prediction is correct, the margin (logit of the true
    class minus the largest other logit) and the predicted probability of the
    true class (whose negative log is the sample's loss). From that record
    come Forgetting counts, AUM, dynamic uncertainty and TDDS, and the logits
    of chosen epochs can be kept for EL2N. Memory: three ``n_epochs x
    n_samples`` arrays.

    Parameters
    ----------
    keep_logits_at : tuple of int, default=()
        Epochs (1-based) whose full logit matrices are stored in ``logits_``.

    Attributes
    ----------
    correct_ : ndarray of shape (n_epochs, n_samples)
        Whether each sample was classified correctly after each epoch.
    margins_ : ndarray of shape (n_epochs, n_samples)
        Margin of each sample after each epoch.
    true_probs_ : ndarray of shape (n_epochs, n_samples)
        Predicted probability of each sample's label after each epoch.
    logits_ : dict of int to ndarray of shape (n_samples, n_classes)
        Logits at the epochs listed in ``keep_logits_at``.
    y_ : ndarray of shape (n_samples,)
        The (encoded) training labels.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skorch import NeuralNetClassifier
    >>> from prunekd.callbacks import TrainingDynamics
    >>> X = np.random.RandomState(0).randn(40, 3).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> rec = TrainingDynamics()
    >>> net = NeuralNetClassifier(torch.nn.Linear(3, 2), criterion=torch.nn.CrossEntropyLoss,
    ...                           max_epochs=4, train_split=None, callbacks=[rec], verbose=0)
    >>> _ = net.fit(X, y)
    >>> rec.correct_.shape
    (4, 40)
    >>> rec.forgetting_counts().shape, rec.aum_scores().shape
    ((40,), (40,))
    """

    def __init__(self, keep_logits_at=()):
        self.keep_logits_at = keep_logits_at

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if y is None:
            raise ValueError("TrainingDynamics needs the training labels y passed to fit")
        self._X = X
        self._y = torch.as_tensor(np.asarray(y), dtype=torch.int64)
        self._correct, self._margins, self._probs, self.logits_ = [], [], [], {}

    def on_epoch_end(self, net, **kwargs):
        # An inference DataLoader draws a seed from torch's generator; restoring
        # it keeps the recorded training the same as one without the recorder.
        with torch.random.fork_rng(devices=[]):
            logits = net_logits(net, self._X).cpu()
        y = self._y
        true = logits.gather(1, y[:, None]).squeeze(1)
        others = logits.clone()
        others.scatter_(1, y[:, None], -torch.inf)
        self._correct.append((logits.argmax(1) == y).numpy())
        self._margins.append((true - others.max(1).values).numpy())
        log_p = torch.log_softmax(logits.double(), dim=1).gather(1, y[:, None]).squeeze(1)
        self._probs.append(log_p.exp().float().numpy())
        epoch = len(self._correct)
        if epoch in self.keep_logits_at:
            self.logits_[epoch] = logits.numpy()

    def on_train_end(self, net, **kwargs):
        n = len(self._y)
        self.correct_ = np.array(self._correct, dtype=bool).reshape(-1, n)
        self.margins_ = np.array(self._margins, dtype=np.float64).reshape(-1, n)
        self.true_probs_ = np.array(self._probs, dtype=np.float32).reshape(-1, n)
        self.y_ = self._y.numpy()
        del self._X, self._y, self._correct, self._margins, self._probs

    def aum_scores(self):
        """Area under the margin, negated so that larger is harder.

        The mean over epochs of each sample's margin; mislabeled samples keep a
        negative margin (the net prefers another class) and get the largest
        scores.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return -self.margins_.mean(axis=0)

    def el2n_scores(self, epoch):
        """EL2N scores, ``||softmax - onehot(y)||_2``, from the logits of ``epoch``.

        Parameters
        ----------
        epoch : int
            An epoch listed in ``keep_logits_at``.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        if epoch not in self.logits_:
            raise ValueError(
                f"no logits were kept at epoch {epoch}; kept: {sorted(self.logits_)}. "
                "List the epoch in keep_logits_at."
            )
        return el2n_scores(self.logits_[epoch], self.y_)

    def dynamic_uncertainty(self, window=10):
        """Dynamic uncertainty of every sample (see :func:`dynamic_uncertainty`)."""
        return dynamic_uncertainty(self.true_probs_, window)

    def tdds_scores(self, window=10, decay=0.9):
        """TDDS of every sample (see :func:`tdds_scores`)."""
        return tdds_scores(self.true_probs_, window, decay)

    def forgetting_counts(self):
        """Forgetting events per sample; never-learned samples get ``n_epochs``.

        A forgetting event is a change from correct after one epoch to incorrect
        after the next. A sample never classified correctly is the most
        forgettable of all, so it gets ``n_epochs``, more than any sample can
        reach (at most ``n_epochs // 2`` events).

        Returns
        -------
        counts : ndarray of shape (n_samples,)
        """
        return forgetting_counts(self.correct_)


def _windows(values, window):
    """Every run of ``window`` consecutive epochs: shape ``(n_windows, window, n_samples)``."""
    values = np.asarray(values, dtype=np.float64)
    if not 2 <= window <= len(values):
        raise ValueError(
            f"window must lie in [2, n_epochs={len(values)}]; got {window}. Record more "
            "epochs or shorten the window"
        )
    return np.lib.stride_tricks.sliding_window_view(values, window, axis=0).transpose(0, 2, 1)


def dynamic_uncertainty(true_probs, window=10):
    """Dynamic uncertainty (Dyn-Unc): how much a sample's prediction moves during training.

    He et al., "Large-scale Dataset Pruning with Dynamic Uncertainty" (CVPR
    workshops 2024): the standard deviation (``ddof=1``) of the true-class
    probability over every window of ``window`` consecutive epochs, averaged
    over the windows. Larger is more uncertain, kept by ``keep="hard"``.

    Parameters
    ----------
    true_probs : array-like of shape (n_epochs, n_samples)
        :attr:`TrainingDynamics.true_probs_`.
    window : int, default=10
        Epochs per window (the reference's J).

    Returns
    -------
    scores : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from prunekd.callbacks import dynamic_uncertainty
    >>> dynamic_uncertainty([[0.5, 0.1], [0.5, 0.9], [0.5, 0.1]], window=2).round(3).tolist()
    [0.0, 0.566]
    """
    return _windows(true_probs, window).std(axis=1, ddof=1).mean(axis=0)


def tdds_scores(true_probs, window=10, decay=0.9):
    """Temporal dual-depth scores (TDDS): how unstable a sample's loss changes are, late weighted.

    Zhang et al., "Spanning Training Progress: Temporal Dual-Depth Scoring"
    (CVPR 2024). The outer depth: the change of the sample's loss between
    consecutive epochs, ``d_t = l_t - l_(t-1)`` with ``l_t = -log p_t`` its
    cross-entropy; the inner depth: the variance of ``d`` over every window of
    ``window`` changes; the score is their exponential moving average over the
    windows in training order (weight ``decay`` on the past), so later windows
    weigh more. Larger is kept by ``keep="hard"``. The reference code measures
    each change as the KL divergence between consecutive full predictions;
    the recorder keeps the true-class probability only (``n_epochs x
    n_samples`` memory instead of ``x n_classes``), hence the loss change.

    Parameters
    ----------
    true_probs : array-like of shape (n_epochs, n_samples)
        :attr:`TrainingDynamics.true_probs_`.
    window : int, default=10
        Loss changes per window.
    decay : float in [0, 1), default=0.9
        Weight of the running average's past.

    Returns
    -------
    scores : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from prunekd.callbacks import tdds_scores
    >>> p = [[0.5, 0.2], [0.5, 0.8], [0.5, 0.3], [0.5, 0.9]]
    >>> tdds_scores(p, window=2, decay=0.5).round(3).tolist()
    [0.0, 0.891]
    """
    if not 0 <= decay < 1:
        raise ValueError(f"decay must lie in [0, 1); got {decay}")
    loss = -np.log(np.clip(np.asarray(true_probs, dtype=np.float64), 1e-12, None))
    variances = _windows(np.diff(loss, axis=0), window).var(axis=1)
    score = np.zeros(variances.shape[1])
    for v in variances:  # a short loop over windows; each step is vectorised over samples
        score = decay * score + (1 - decay) * v
    return score


def forgetting_counts(correct):
    """Forgetting events per sample from a (n_epochs, n_samples) correctness record.

    A forgetting event is a change from correct to incorrect between
    consecutive epochs; never-learned samples get ``n_epochs``.

    Parameters
    ----------
    correct : array-like of bool of shape (n_epochs, n_samples)

    Returns
    -------
    counts : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from prunekd.callbacks import forgetting_counts
    >>> forgetting_counts([[1, 0, 1], [0, 0, 1], [1, 0, 1]]).tolist()
    [1.0, 3.0, 0.0]
    """
    correct = np.asarray(correct, dtype=bool)
    n_epochs = correct.shape[0]
    events = (correct[:-1] & ~correct[1:]).sum(axis=0).astype(np.float64)
    events[~correct.any(axis=0)] = n_epochs
    return events
