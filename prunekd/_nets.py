"""Helpers for reading logits out of torch modules and skorch nets."""

import numpy as np
import torch
from skorch import NeuralNet

_EPS = 1e-12


def _reset_parameters(module):
    """Re-draw the weights of every submodule that knows how to."""
    for sub in module.modules():
        if hasattr(sub, "reset_parameters"):
            sub.reset_parameters()
    return module


def outputs_probabilities(net):
    """Whether a fitted skorch net's module returns probabilities, not logits.

    skorch's convention: a classifier trained with ``NLLLoss`` has a module that
    ends in a softmax; with any other criterion the module returns logits.
    """
    return isinstance(getattr(net, "criterion_", None), torch.nn.NLLLoss)


def to_logits(output, probabilities):
    """Logits (up to a per-row constant, to which softmax is blind) of a module output."""
    if probabilities:
        return torch.log(output.clamp_min(_EPS))
    return output


def net_logits(net, X):
    """Logits of a fitted skorch net on ``X`` (eval mode, no gradients)."""
    if not isinstance(net, NeuralNet):
        raise TypeError(f"expected a skorch net, got {type(net).__name__}")
    with torch.no_grad():
        output = net.forward(X, training=False)
    if isinstance(output, (tuple, list)):
        output = output[0]
    return to_logits(output.float(), outputs_probabilities(net))


def softmax_np(logits):
    """Row-wise softmax of a numpy array or tensor, as numpy."""
    logits = torch.as_tensor(logits, dtype=torch.float64)
    return torch.softmax(logits, dim=1).numpy()


def onehot(y_encoded, n_classes):
    """One-hot matrix of integer labels."""
    out = np.zeros((len(y_encoded), n_classes))
    out[np.arange(len(y_encoded)), y_encoded] = 1.0
    return out


def el2n_scores(logits, y_encoded):
    """EL2N score ``||softmax(logits) - onehot(y)||_2`` of every sample.

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)
    y_encoded : ndarray of shape (n_samples,)
        Integer labels in ``[0, n_classes)``.

    Returns
    -------
    scores : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import el2n_scores
    >>> el2n_scores(np.zeros((1, 2)), np.array([0])).round(4)
    array([0.7071])
    """
    probs = softmax_np(logits)
    return np.linalg.norm(probs - onehot(y_encoded, probs.shape[1]), axis=1)
