"""DeepFool: keep the samples a small perturbation would move across the decision boundary."""

from numbers import Integral

import numpy as np
import torch
from torch.func import jacrev, vmap

from .._compat import Interval
from .._utils import _input_batches, _module_device
from ._embed import torch_module
from ._outputs import OutputPruner

_BATCH = 256
_OVERSHOOT = 0.02  # DeepFool's overshoot, so that the last step crosses the boundary


def _step(logits, jac, start):
    """One DeepFool step per sample: the smallest move onto the nearest linearised boundary.

    ``logits`` (B, K), ``jac`` (B, K, D) their gradients, ``start`` (B,) the
    class predicted at the beginning. Returns the step (B, D).
    """
    rows = torch.arange(len(logits))
    f = logits - logits[rows, start][:, None]  # f_k - f_start
    w = jac - jac[rows, start][:, None]  # grad f_k - grad f_start
    norm = w.norm(dim=2).clamp_min(1e-12)
    ratio = f.abs() / norm
    ratio[rows, start] = torch.inf
    nearest = ratio.argmin(1)
    w_l, n_l = w[rows, nearest], norm[rows, nearest]
    # At least 1e-4 (as DeepCore), so that a sample on the boundary still moves.
    return (ratio[rows, nearest].clamp_min(1e-4) / n_l)[:, None] * w_l


def deepfool_norms(module, X, max_iter=50, passes=None):
    """The norm of the perturbation DeepFool needs to change each sample's prediction.

    Batched multi-class DeepFool (Moosavi-Dezfooli et al., CVPR 2016): from
    the predicted class, step onto the nearest linearised boundary until the
    prediction changes or ``max_iter`` steps are taken (then the norm reached
    so far, as in DeepCore). Inputs are treated as flat vectors. ``passes``,
    a list, gets the work done appended, in forward passes of one sample: a
    forward pass per sample, then per step and active sample a forward pass
    and a Jacobian of ``K`` rows, counted as ``2 K`` (a backward pass costs
    about two forward passes).

    Returns
    -------
    norms : ndarray of shape (n_samples,)
    """
    was_training = module.training
    module.eval()
    device = _module_device(module)
    norms = []
    try:
        for _, xb in _input_batches(X, _BATCH):
            norms.append(_batch_norms(module, xb.float().to(device), max_iter, passes))
    finally:
        module.train(was_training)
    return np.concatenate(norms)


def _batch_norms(module, x0, max_iter, passes=None):
    shape = x0.shape[1:]

    def logits_of(flat):
        out = module(flat.view(1, *shape))
        return (out[0] if isinstance(out, (tuple, list)) else out)[0]

    flat0 = x0.reshape(len(x0), -1)
    with torch.no_grad():
        out = module(x0)
    if passes is not None:
        passes.append(len(x0))
    if out.shape[1] < 2:  # one class: no boundary to cross
        return np.zeros(len(x0))
    start = out.argmax(1)
    r = torch.zeros_like(flat0)
    active = torch.ones(len(x0), dtype=torch.bool, device=x0.device)
    for _ in range(max_iter):
        x = flat0[active] + (1 + _OVERSHOOT) * r[active]
        if passes is not None:
            passes.append(len(x) * (1 + 2 * out.shape[1]))
        jac = vmap(jacrev(logits_of))(x).detach()
        with torch.no_grad():
            logits = module(x.view(-1, *shape))
            moved = logits.argmax(1) != start[active]
            step = _step(logits, jac, start[active])
            idx = active.nonzero().squeeze(1)
            r[idx[~moved]] += step[~moved]
            active[idx[moved]] = False
        if not active.any():
            break
    return ((1 + _OVERSHOOT) * r).norm(dim=1).cpu().double().numpy()


class DeepFoolPruner(OutputPruner):
    """DeepFool: keep the samples closest to the decision boundary of a model.

    Every sample's score is minus the norm of the smallest input
    perturbation DeepFool finds that changes the model's prediction
    (Moosavi-Dezfooli et al., "DeepFool", CVPR 2016; as a data selection, in
    DeepCore): larger is nearer the boundary, so ``keep="hard"`` keeps the
    samples a small move would misclassify. The model is ``n_proxies``
    briefly trained proxies (averaged), as DeepCore trains one, or ``model=``
    a fitted torch module or skorch net such as the teacher, at no training.
    Cost: up to ``deepfool_steps`` forward and Jacobian passes per sample (``K``
    gradients each, for ``K`` classes), batched; most samples stop after a few
    steps. A scikit-learn model has no input gradients and is refused.

    Parameters
    ----------
    deepfool_steps : int, default=50
        DeepFool steps per sample at most (DeepCore's ``max_iter``).
    fraction, keep, class_balanced, model, estimator, n_proxies, max_epochs, batch_size, lr, device, mixed_precision, random_state, memory, verbose
        As in :class:`~prunekd.pruning.OutputPruner`.

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Minus the DeepFool perturbation norm of every sample.
    scoring_passes_ : float
        The DeepFool work of the scores, in forward passes of one sample
        through the model (with proxies, through a proxy, summed over the
        proxies; their training is not counted here). Kept with the scores in ``memory=``, so a cache hit
        reports the work the scores cost.
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from prunekd.pruning import DeepFoolPruner
    >>> model = torch.nn.Linear(1, 2)
    >>> with torch.no_grad():
    ...     _ = model.weight.copy_(torch.tensor([[1.0], [-1.0]])), model.bias.zero_()
    >>> X = np.array([[-3.0], [-0.5], [0.2], [4.0]], dtype="float32")
    >>> y = np.array([0, 1, 0, 1])
    >>> pruner = DeepFoolPruner(model=model, fraction=0.5, class_balanced=False)
    >>> pruner.fit(X, y).scores_.round(2).tolist()  # the boundary is at 0
    [-3.06, -0.51, -0.2, -4.08]
    >>> pruner.sample_indices_.tolist()
    [1, 2]
    """

    _parameter_constraints = {
        **OutputPruner._parameter_constraints,
        "deepfool_steps": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        deepfool_steps=50,
        fraction=0.5,
        keep="hard",
        class_balanced=True,
        model=None,
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
            model=model,
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
        self.deepfool_steps = deepfool_steps

    # Its work depends on the data (most samples stop early): kept with the scores in
    # memory=, so that a cache hit still says what they cost.
    _cached_attributes = ("scoring_passes_",)

    def compute_scores(self, X, y, random_state):
        """Minus the DeepFool norm, from the model or averaged over trained proxies."""
        self._passes = []
        try:
            if self._model() is None:
                scores = super().compute_scores(X, y, random_state)
            else:
                module = torch_module(
                    self._model(),
                    "DeepFoolPruner differentiates the model "
                    "with respect to its inputs (or, with model=None, trains "
                    "proxies)",
                )
                scores = -deepfool_norms(module, X, self.deepfool_steps, self._passes)
            self.scoring_passes_ = float(sum(self._passes))
        finally:
            del self._passes
        return scores

    def _proxy_scores(self, X, y_encoded, n_classes, seed):
        net = self._train_proxy(X, y_encoded, n_classes, seed)
        return -deepfool_norms(net.module_, X, self.deepfool_steps, self._passes)
