"""What a fitted model says about rows: its embedding, its module, distances to class centres."""

import numpy as np
import torch

from .._frames import for_estimator
from .._utils import _input_batches, _module_device
from ..distillation._teacher import make_teacher

_BATCH = 1024


def _last_linear(module):
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise ValueError(
            f"model={type(module).__name__} has no torch.nn.Linear layer whose input could "
            "serve as the embedding; pass a model ending in one, or a scikit-learn transformer"
        )
    return linears[-1]


@torch.no_grad()
def _penultimate(module, X):
    """Inputs of a module's last linear layer (its penultimate features), batch by batch."""
    captured = []
    hook = _last_linear(module).register_forward_hook(
        lambda mod, inputs, output: captured.append(inputs[0].detach().flatten(1).cpu())
    )
    was_training = module.training
    module.eval()
    try:
        for _, xb in _input_batches(X, _BATCH):
            module(xb.to(_module_device(module)))
    finally:
        hook.remove()
        module.train(was_training)
    return torch.cat(captured).double().numpy()


def embed(model, X):
    """The rows of ``X`` in ``model``'s embedding, as a 2-D float array.

    ``None``: the inputs themselves, flattened. A torch module or fitted skorch
    net: the input of its last ``Linear`` layer. A fitted scikit-learn
    estimator: its ``transform`` when it has one, else ``predict_proba``.
    """
    if model is None:
        if isinstance(X, np.ndarray):
            return X.reshape(len(X), -1).astype(np.float64, copy=False)
        rows = [xb.flatten(1).double().numpy() for _, xb in _input_batches(X, _BATCH)]
        return np.concatenate(rows)
    if _module_of(model) is not None:
        return _penultimate(_module_of(model), X)
    for method in ("transform", "predict_proba"):
        if hasattr(model, method):
            out = getattr(model, method)(for_estimator(model, X))
            return np.asarray(out, dtype=np.float64).reshape(len(X), -1)
    raise TypeError(
        "model must be None, a torch module, a fitted skorch net or a fitted scikit-learn "
        f"estimator with transform or predict_proba; got {type(model).__name__}"
    )


def centroid_distances(Z, y_encoded):
    """Euclidean distance of every row of ``Z`` to the mean of its class."""
    distances = np.empty(len(Z))
    for c in np.unique(y_encoded):
        members = y_encoded == c
        distances[members] = np.linalg.norm(Z[members] - Z[members].mean(0), axis=1)
    return distances


def _module_of(model):
    """The torch module the resolver finds in ``model``, or None (a scikit-learn model)."""
    try:
        return make_teacher(model).module
    except TypeError:  # a scikit-learn transformer: no classifier
        return None


def torch_module(model, needs):
    """The torch module of ``model`` (a module or a fitted skorch net), or an error saying ``needs``."""
    module = _module_of(model)
    if module is not None:
        return module
    raise TypeError(
        f"{needs}: pass model= a torch module or a fitted skorch net; got {type(model).__name__}"
    )
