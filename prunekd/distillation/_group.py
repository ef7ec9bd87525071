"""Students that differ only in their rows, KD weight or teacher, trained as one vectorised model.

The private trainer behind the ``prunekd`` sweep, and for any search over
alpha or teachers. Its API (``_StudentGroup``):

- ``_StudentGroup(module, alphas=(...), teachers=(...), temperature=,
  kd_loss=, random_state=, max_steps=, **skorch_kwargs)``: ``K = len(alphas)`` members;
  ``teachers[k]`` indexes the teachers' outputs (-1: none, with alpha 0).
- ``fit(X, y, rows, teacher_log_p=None, weights=None)``: member ``k`` trains
  on ``X[rows[k]]`` (``rows`` is ``(K, n_kept)``; every member keeps as many
  rows), with the teachers' :func:`teacher_log_probs` on all of ``X``
  (``(n_teachers, n, C)``) and optional per-row weights per member.
- ``member_correct(X, y)``: every member's number of correct predictions;
  ``member_proba(X)``: every member's class probabilities, ``(K, n, C)``;
  ``module_.weights``: the stacked parameters, member ``k`` at index ``k``.
- ``vectorisable(module, **kwargs)``: whether members of a network can share
  one model (a network with buffers trains one member at a time).

The members all start from the same initial weights (same seed) and visit
their rows in the same order (same permutation of positions), so they take
the same number of steps in lockstep. They are stacked into one network
(``torch.func.vmap`` over stacked weights, each member with its own
mini-batch) and trained by one skorch loop: one optimiser call and one
vectorised forward/backward per step for all of them. The loss is the sum of
the members' objectives (:func:`kd_objective`, the student's own, over
members' rows), so each member's gradient, hence its Adam update
(element-wise), is the one it would get alone.
"""

import copy

import numpy as np
import torch
from skorch.utils import to_tensor
from torch import nn
from torch.func import functional_call, vmap

from .._skorch import _BatchedArrays, _Classifier
from .._utils import _seed_from_random_state, _torch_seeded
from ._budget import StepBudgetMixin
from ._losses import check_kd_loss, kd_objective
from ._targets import pack_targets, unpack_targets

_INFERENCE_BATCH = 1024


def vectorisable(module_class, **module_kwargs):
    """Whether members of this network can share one vmapped model.

    Modules with buffers (batch norm's running statistics) update them in
    place while training, which vmap cannot batch; they are trained one by one.
    """
    with torch.device("meta"):
        return not any(True for _ in module_class(**module_kwargs).buffers())


class _Stacked(nn.Module):
    """``n_members`` copies of one network with stacked weights; outputs ``(K, n, C)``.

    The network is built once (drawing its initial weights from torch's
    generator exactly as a single student would), and every member starts
    from those weights. A member's arithmetic does not depend on how many
    members share the model: vmap over one member (or the plain network) takes
    other kernels than over several, whose results differ in the last bits, so
    a lone member trains beside an idle copy of itself (its outputs are
    dropped, so it gets no gradient). A resumed sweep, which trains only its
    missing members, then gives the rows of an uninterrupted one.
    """

    def __init__(self, module, n_members, **module_kwargs):
        super().__init__()
        template = module(**module_kwargs)
        self.n_members = n_members
        if any(True for _ in template.buffers()):
            if n_members > 1:
                raise ValueError(f"{type(template).__name__} has buffers; it cannot be vectorised")
            self.net = template
            return
        self._names = [name for name, _ in template.named_parameters()]
        n_stacked = max(n_members, 2)
        self.weights = nn.ParameterList(
            nn.Parameter(p.detach().unsqueeze(0).repeat(n_stacked, *[1] * p.dim()).clone())
            for _, p in template.named_parameters()
        )
        # A weightless copy to call functionally; kept off the module tree so
        # that skorch neither moves nor optimises it.
        object.__setattr__(self, "_template", copy.deepcopy(template).to("meta"))

    def _one(self, weights, x):
        return functional_call(self._template, dict(zip(self._names, weights)), (x,))

    def forward(self, x):
        if not hasattr(self, "weights"):
            return self.net(x[0]).unsqueeze(0)
        n_stacked = len(self.weights[0])
        if len(x) < n_stacked:  # the idle copy reads the lone member's batch
            x = x.expand(n_stacked, *x.shape[1:])
        return vmap(self._one)(tuple(self.weights), x)[: self.n_members]


class _MemberRows(_BatchedArrays):
    """Position ``i`` of every member's kept rows: inputs ``(K, B, ...)``, targets ``(K, B, m)``.

    With ``weights`` (``(K, n_kept)``, a weight per member and kept row), the
    targets get them as a last column.
    """

    def __init__(self, X, targets, rows, weights=None):
        super().__init__(X, targets)
        self.rows = rows
        self.weights = None if weights is None else torch.as_tensor(weights, dtype=targets.dtype)

    def __len__(self):
        return self.rows.shape[1]

    def __getitems__(self, positions):
        rows = self.rows[:, positions]
        targets = self.y[torch.as_tensor(rows)]
        if self.weights is not None:
            targets = torch.cat([targets, self.weights[:, positions, None]], dim=-1)
        return torch.as_tensor(self.X[rows]), targets


class _StudentGroup(StepBudgetMixin, _Classifier):
    """K students: member ``k`` trains on ``X[rows[k]]`` with ``alphas[k]`` and teacher ``teachers[k]``.

    ``fit(X, y, rows, teacher_log_p)`` takes the labels as class indices,
    ``rows`` of shape ``(K, n_kept)`` and the teachers' temperature-scaled
    log-probabilities on all of ``X``, shape ``(n_teachers, n, n_classes)``;
    ``teachers[k]`` indexes them (-1: none, for alpha 0). ``weights``, one
    entry per member, gives a member the per-row weights of its kept rows
    (a weighted coreset such as CRAIG's) or ``None``. Training is the
    library's KD objective per member, through skorch's loop, seeded like a
    :class:`~prunekd.DistillationClassifier` with the same ``random_state``
    fitted on ``X[rows[k]]`` (with ``sample_weight=weights[k]``): same
    initial weights, same batches.
    """

    def __init__(
        self,
        module,
        *args,
        alphas=(0.0,),
        teachers=(-1,),
        temperature=4.0,
        kd_loss="kd",
        random_state=None,
        max_steps=None,
        **kwargs,
    ):
        kwargs.setdefault("iterator_train__shuffle", True)
        kwargs.setdefault("train_split", None)
        kwargs.setdefault("criterion", nn.CrossEntropyLoss)
        super().__init__(
            _Stacked, *args, module__module=module, module__n_members=len(alphas), **kwargs
        )
        self.alphas = alphas
        self.teachers = teachers
        self.temperature = temperature
        self.kd_loss = kd_loss
        self.random_state = random_state
        self.max_steps = max_steps

    def fit(self, X, y, rows, teacher_log_p=None, weights=None):
        y = np.asarray(y, dtype=np.int64)
        rows = np.asarray(rows)
        n_teachers = 0 if teacher_log_p is None else len(teacher_log_p)
        if rows.shape[0] != len(self.alphas) or any(t >= n_teachers for t in self.teachers):
            raise ValueError("rows needs one row per member, and teachers must index teacher_log_p")
        # Label and teachers' log-probabilities side by side, one float row per sample.
        log_p = None if not n_teachers else torch.as_tensor(teacher_log_p).permute(1, 0, 2)
        targets = pack_targets(y, log_p)
        self._weighted_ = self._weighted_members(weights, rows.shape)
        member_weights = None
        if self._weighted_ is not None:  # unweighted members' ones are never read
            member_weights = np.stack([np.ones(rows.shape[1]) if w is None else w for w in weights])
        self._train_ = _MemberRows(X, targets, rows, member_weights)
        try:
            with _torch_seeded(_seed_from_random_state(self.random_state)):
                self.initialize()
                self.partial_fit(X, y)
        finally:
            self._train_ = None
        return self

    def _weighted_members(self, weights, shape):
        """Which members are weighted, as a bool tensor; ``None`` when none is."""
        if weights is None or all(w is None for w in weights):
            return None
        if len(weights) != shape[0] or any(
            w is not None and np.shape(w) != shape[1:] for w in weights
        ):
            raise ValueError("weights needs one entry per member: None or one weight per kept row")
        # A loss that is not a mean of per-sample losses (DIST) says so now, not mid-training.
        probe = torch.zeros(1, 2)
        check_kd_loss(self.kd_loss).per_sample(
            probe, probe.log_softmax(-1), torch.zeros(1, dtype=torch.long), 1.0
        )
        return torch.as_tensor([w is not None for w in weights])

    def get_split_datasets(self, X, y=None, **fit_params):
        return self._train_, None

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)  # (K, B, 1 + n_teachers * C [+ 1])
        weight, weighted = None, getattr(self, "_weighted_", None)
        if weighted is not None:
            y_true, weight = y_true[..., :-1], y_true[..., -1]
            weighted = weighted.to(y_pred.device)
        labels, teacher_log_p = unpack_targets(y_true, (y_true.shape[-1] - 1) // y_pred.shape[-1])
        teacher, pick = None, self._teacher_of_member()
        if pick is not None:
            pick = pick.to(y_true.device)
            teacher = teacher_log_p[torch.arange(len(pick), device=y_true.device), :, pick]
        alphas = torch.as_tensor(self.alphas, dtype=y_pred.dtype, device=y_pred.device)
        return kd_objective(
            y_pred,
            labels,
            teacher,
            alphas,
            self.temperature,
            self.criterion_,
            check_kd_loss(self.kd_loss),
            weight,
            weighted,
        ).sum()

    def _teacher_of_member(self):
        """Member k's column of the packed teachers; None when no member has a teacher.

        Members without one (alpha 0) read the first teacher as a placeholder,
        whose term is multiplied by 0.
        """
        if all(t < 0 for t in self.teachers):
            return None
        return torch.as_tensor([max(t, 0) for t in self.teachers])

    @torch.no_grad()
    def _member_logits(self, X):
        """Every member's logits on ``X``, batch by batch: tensors of shape ``(K, batch, C)``."""
        self.module_.eval()
        n_members = len(self.alphas)
        for start in range(0, len(X), _INFERENCE_BATCH):
            xb = torch.as_tensor(X[start : start + _INFERENCE_BATCH])
            yield self.module_(to_tensor(xb.expand(n_members, *xb.shape), device=self.device))

    def member_proba(self, X):
        """Every member's class probabilities on ``X``: float array of shape ``(K, n, C)``.

        What each member's :meth:`~prunekd.DistillationClassifier.predict_proba`
        would give (a softmax of its logits), computed for all members at once.
        """
        parts = [torch.softmax(z.float(), dim=-1).cpu() for z in self._member_logits(X)]
        return torch.cat(parts, dim=1).numpy()

    def member_correct(self, X, y):
        """How many of ``X`` every member classifies as ``y`` (class indices): ints, shape ``(K,)``."""
        correct = torch.zeros(len(self.alphas), dtype=torch.int64)
        y, start = torch.as_tensor(np.asarray(y)), 0
        for logits in self._member_logits(X):  # the argmax of the logits, as the sweep stores it
            pred = logits.argmax(-1).cpu()
            correct += (pred == y[start : start + pred.shape[1]]).sum(1)
            start += pred.shape[1]
        return correct.tolist()
