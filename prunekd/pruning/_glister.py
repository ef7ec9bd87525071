"""GLISTER: greedily keep the samples whose gradient step most lowers a validation loss."""

from numbers import Real

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from .._compat import Interval
from ._contextual import _needs_model
from ._embed import _last_linear, embed, torch_module
from ._embedding import EmbeddingPruner
from ._selection import budgets


def _gradient(H, y, W):
    """Mean cross-entropy gradient w.r.t. ``W`` (last layer with the bias as a last column)."""
    P = torch.softmax(H @ W.T, dim=1)
    P[torch.arange(len(y)), y] -= 1
    return P.T @ H / len(y)


def glister_select(H, y, H_val, y_val, W, k, eta):
    """``k`` rows by GLISTER's greedy on the last layer; positions in choice order.

    ``H`` and ``H_val`` are penultimate features with a column of ones (for the
    bias), ``W`` the last layer's weights and bias as one matrix. Each step
    adds the row whose gradient points most along minus the validation
    gradient at the current weights (the first-order gain), then takes a
    gradient step of size ``eta`` with that row, so the validation gradient
    of the next step is the one the chosen rows would leave.
    """
    return glister_groups(H, y, H_val, y_val, W, [(np.arange(len(H)), k)], eta)[0]


def glister_groups(H, y, H_val, y_val, W, groups, eta):
    """:func:`glister_select` in every group of rows ``(members, k)``, the groups side by side.

    Each group (a class) runs its own greedy from ``W``; they are independent,
    so they advance in lockstep as one batch: one step per kept row of the
    largest quota, not one per kept row. Returns each group's positions (into
    ``members``) in choice order.
    """
    n_groups, width = len(groups), max(len(m) for m, _ in groups)
    Hg = H.new_zeros(n_groups, width, H.shape[1])
    Pg = H.new_zeros(n_groups, width, W.shape[0])
    available = torch.zeros(n_groups, width, dtype=torch.bool)
    P = torch.softmax(H @ W.T, dim=1)
    P[torch.arange(len(y)), y] -= 1  # row j's gradient is the outer product P[j] H[j]
    for g, (members, _) in enumerate(groups):
        rows = torch.as_tensor(members)
        Hg[g, : len(rows)], Pg[g, : len(rows)], available[g, : len(rows)] = H[rows], P[rows], True
    quotas = torch.as_tensor([k for _, k in groups])
    Wg = W.expand(n_groups, *W.shape).clone()
    chosen = torch.zeros(n_groups, max(k for _, k in groups), dtype=torch.int64)
    n_val, (n_classes, width_h) = len(y_val), W.shape
    onehot_val = torch.nn.functional.one_hot(y_val, n_classes).to(H.dtype)[:, None]
    for t in range(chosen.shape[1]):
        # Every group's validation gradient with two plain matrix products, (n_val, G, C)
        # laid out so that neither broadcasts, and a softmax written out (torch's is
        # slow over a last dimension this short).
        logits = (H_val @ Wg.reshape(-1, width_h).T).view(n_val, n_groups, n_classes)
        P_val = (logits - logits.amax(2, keepdim=True)).exp_()
        P_val = P_val / P_val.sum(2, keepdim=True) - onehot_val
        g_val = (P_val.reshape(n_val, -1).T @ H_val).view(n_groups, n_classes, width_h) / n_val
        gains = -((Pg @ g_val) * Hg).sum(2)  # <P[j] H[j], g_val>, without the (n, C, h) products
        j = gains.masked_fill(~available, -torch.inf).argmax(1)
        active = t < quotas  # groups whose quota is not filled yet
        rows = torch.arange(n_groups)
        chosen[:, t] = j
        available[rows[active], j[active]] = False
        step = Pg[rows, j][:, :, None] * Hg[rows, j][:, None, :]
        Wg = Wg - eta * step * active[:, None, None].to(H.dtype)
    return [chosen[g, :k].numpy() for g, (_, k) in enumerate(groups)]


class GlisterPruner(EmbeddingPruner):
    """GLISTER: keep the samples whose gradient steps most lower a validation loss.

    Killamsetty et al., "GLISTER: Generalization based Data Subset Selection
    for Efficient and Robust Learning" (AAAI 2021), as DeepCore selects with
    it, on the last layer of a fitted network: a stratified
    ``validation_fraction`` of the training rows serves as the validation
    set; greedily, per class, each step keeps the sample whose loss gradient
    with respect to the last linear layer (weights and bias) has the largest
    dot product with minus the validation loss gradient, then moves that
    layer one step of size ``eta`` along the kept sample's gradient, so the
    next gains are taken where the kept samples would leave the model. The
    penultimate features stay fixed (the usual last-layer approximation).
    Cost: one inference pass, then per kept sample one validation gradient
    (``O(n_val C h)``) and one gain per candidate (``O(n C h)``). Departure
    from the reference code: DeepCore trains a proxy first; here ``model=``
    is any fitted torch network, such as the teacher. DeepCore's greedy also
    never moves the validation gradient (its update is passed under a
    misspelt keyword, so it is never called) and validates on the training
    rows themselves; here it moves after every pick, as in the paper, on
    held-out rows. The layer is read in float32, the network's precision.

    Parameters
    ----------
    model : torch module or fitted skorch net
        The network whose last linear layer is updated.
    validation_fraction : float in (0, 1), default=0.1
        Share of the training rows held out (stratified) as the validation
        set; they stay selectable.
    eta : float, default=0.1
        Step size of the simulated updates.
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    class_balanced : bool, default=True
        Select within every class, with the class quotas of every pruner.
    random_state : int, RandomState instance or None, default=None
        Draws the validation rows.
    memory : str, joblib.Memory or None, default=None
        Caches the scores (see :class:`~prunekd.pruning.BasePruner`).

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Every sample's first-order gain at the model's own weights (a
        description: the selection updates the weights as it goes).
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from prunekd.pruning import GlisterPruner
    >>> torch.manual_seed(0) and None
    >>> model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> X = np.random.RandomState(0).randn(40, 2).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> GlisterPruner(model=model, fraction=0.25, random_state=0).fit_transform(X, y).shape
    (10,)
    """

    _parameter_constraints = {
        **EmbeddingPruner._parameter_constraints,
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "eta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        model=None,
        *,
        validation_fraction=0.1,
        eta=0.1,
        fraction=0.5,
        class_balanced=True,
        random_state=None,
        memory=None,
    ):
        super().__init__(
            model,
            fraction=fraction,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
        )
        self.validation_fraction = validation_fraction
        self.eta = eta

    def _layer(self, X, y_encoded, seed):
        module = torch_module(
            _needs_model(self), "GlisterPruner updates the model's last linear layer"
        )
        last = _last_linear(module)
        # float32, the model's own precision: the greedy's matrix products cost half as much
        W = torch.cat([last.weight, last.bias[:, None]], dim=1).detach().float().cpu()
        H = torch.as_tensor(embed(module, X), dtype=torch.float32)
        H = torch.cat([H, torch.ones(len(H), 1, dtype=H.dtype)], dim=1)
        y = torch.as_tensor(y_encoded)
        _, val = train_test_split(
            np.arange(len(y)),
            test_size=self.validation_fraction,
            stratify=y_encoded,
            random_state=seed,
        )
        return H, y, H[val], y[val], W

    def compute_scores(self, X, y, random_state):
        """Every sample's first-order gain at the model's own weights."""
        y_encoded = np.unique(y, return_inverse=True)[1]
        seed = int(random_state.randint(2**31 - 1))
        # Kept for select_samples, which runs next in the same fit (scores are never cached).
        self._fit_layer = H, y_t, H_val, y_val, W = self._layer(X, y_encoded, seed)
        P = torch.softmax(H @ W.T, dim=1)
        P[torch.arange(len(y_t)), y_t] -= 1
        g_val = _gradient(H_val, y_val, W)
        return -(P @ g_val * H).sum(1).numpy()

    def _cache_key(self, fingerprint, y, seed):
        return None  # the selection needs the layer again: one inference pass, not cached

    def select_samples(self, X, scores, y_encoded, n_keep, tiebreak):
        """GLISTER's greedy per class (with ``class_balanced``), sharing one validation set."""
        H, y, H_val, y_val, W = self.__dict__.pop("_fit_layer")
        groups = budgets(y_encoded, n_keep, self.class_balanced)
        picked = glister_groups(H, y, H_val, y_val, W, groups, self.eta)
        return np.sort(np.concatenate([m[p] for (m, _), p in zip(groups, picked)]))
