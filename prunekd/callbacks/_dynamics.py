"""Per-sample training dynamics, recorded by a skorch callback while a net trains."""

import numpy as np
import torch
from skorch.callbacks import Callback

from .._nets import el2n_scores, net_logits


class TrainingDynamics(Callback):
    """Record every training sample's correctness and margin after each epoch.

    At the end of every epoch the net predicts its whole training set in eval
    mode (one extra forward pass, no gradients, and no draw from torch's random
    generator, so the training is the one it would be unrecorded) and the
    callback stores, per
    sample, whether the prediction is correct and the margin (logit of the true
    class minus the largest other logit). From that record come Forgetting
    counts, and the logits of chosen epochs can be kept for EL2N.

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
        self._correct, self._margins, self.logits_ = [], [], {}

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
        epoch = len(self._correct)
        if epoch in self.keep_logits_at:
            self.logits_[epoch] = logits.numpy()

    def on_train_end(self, net, **kwargs):
        n = len(self._y)
        self.correct_ = np.array(self._correct, dtype=bool).reshape(-1, n)
        self.margins_ = np.array(self._margins, dtype=np.float64).reshape(-1, n)
        self.y_ = self._y.numpy()
        del self._X, self._y, self._correct, self._margins

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
