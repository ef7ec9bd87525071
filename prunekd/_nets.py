"""Helpers for reading logits out of torch modules and skorch nets."""

import numpy as np
import torch
from skorch import NeuralNet

from ._utils import _as_float_tensor, _iter_batches, _module_device

_EPS = 1e-12


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


@torch.no_grad()
def module_logits(module, X, batch_size=256, probabilities=False):
    """Logits of a torch module on an array, batch by batch, in eval mode.

    The module's train/eval mode is restored afterwards, and it is never
    given gradients. Returns a float32 CPU tensor.
    """
    device = _module_device(module)
    was_training = module.training
    module.eval()
    try:
        outs = []
        for batch in _iter_batches(len(X), batch_size):
            xb = _as_float_tensor(X[batch]).to(device)
            outs.append(to_logits(module(xb), probabilities).float().cpu())
    finally:
        module.train(was_training)
    return torch.cat(outs) if outs else torch.empty(0)


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
