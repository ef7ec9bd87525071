"""Distillation losses: vanilla KD, DKD, DIST and MSE on logits.

Each loss reads the teacher through ``log_softmax(t / tau)``, the one array the
student caches per fit (:func:`teacher_log_probs`):
probabilities at temperature ``tau`` are its exponential, and logits up to a
per-row constant are ``tau`` times it. Losses are averaged over the batch.
"""

from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator

_EPS = 1e-8


def distillation_loss(student_logits, teacher_logits, temperature=4.0):
    """Temperature-scaled KL divergence from the teacher to the student.

    ``tau**2 * KL(softmax(t / tau) || softmax(s / tau))``, summed over classes
    and averaged over the samples of the batch. The ``tau**2`` factor keeps the
    gradient scale independent of the temperature.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
    teacher_logits : torch.Tensor of shape (n_samples, n_classes)
    temperature : float, default=4.0

    Returns
    -------
    loss : torch.Tensor
        A scalar.

    Examples
    --------
    >>> import torch
    >>> from prunekd import distillation_loss
    >>> s = torch.tensor([[1.0, 0.0]])
    >>> float(distillation_loss(s, s))
    0.0
    """
    tau = float(temperature)
    return _kd_divergence(student_logits, teacher_log_probs(teacher_logits, tau), tau).mean(-1)


def teacher_log_probs(teacher_logits, temperature):
    """``log_softmax(t / tau)``: what the KD term needs of the teacher, computable once."""
    return F.log_softmax(teacher_logits.float() / float(temperature), dim=-1)


def _kd_divergence(student_logits, teacher_log_p, tau):
    """Vanilla KD of every row, ``tau**2 * KL(p_teacher || p_student)``: shape ``(...)``.

    The one place the KD term is computed: the student (rows ``(B, C)``) and
    the group trainer (members' rows ``(K, B, C)``) both call it.
    """
    log_p = F.log_softmax(student_logits / tau, dim=-1)
    log_t = teacher_log_p.to(log_p.dtype)
    return (log_t.exp() * (log_t - log_p)).sum(-1) * tau**2


def _hard_per_sample(criterion, student_logits, y):
    """The criterion's loss of every sample (its ``reduction`` set to "none" for the call)."""
    if not hasattr(criterion, "reduction"):
        raise ValueError(
            f"sample_weight needs a criterion with a reduction parameter, such as "
            f"torch.nn.CrossEntropyLoss; got {type(criterion).__name__}"
        )
    reduction, criterion.reduction = criterion.reduction, "none"
    try:
        n_classes = student_logits.shape[-1]
        return criterion(student_logits.reshape(-1, n_classes), y.reshape(-1)).view(y.shape)
    finally:
        criterion.reduction = reduction


def _mean(values, weight=None, weighted=None):
    """The mean over the last axis; with ``weight``, ``sum w v / sum w``.

    ``weighted`` (bool, one per leading index) keeps the plain mean where it is
    False: ``torch.where`` passes a zero gradient to the branch not taken, so
    an unweighted member's gradient is the plain mean's, bit for bit. A batch
    whose weights are all zero contributes nothing (not a division by zero).
    """
    if weight is None:
        return values.mean(-1)
    weight = weight.to(values.dtype)
    mean = (weight * values).sum(-1) / weight.sum(-1).clamp_min(torch.finfo(values.dtype).tiny)
    return mean if weighted is None else torch.where(weighted, mean, values.mean(-1))


def kd_objective(
    student_logits,
    y,
    teacher_log_p,
    alpha,
    temperature,
    hard_loss,
    soft_loss=None,
    weight=None,
    weighted=None,
):
    """``(1 - alpha) * hard + alpha * soft``: the student's objective, and every member's.

    Rows ``(B, C)`` give a scalar; members' rows ``(K, B, C)``, with ``alpha``
    a tensor of ``K`` weights, give one objective per member, ``(K,)``.
    ``teacher_log_p`` is :func:`teacher_log_probs` of the teacher's logits,
    shaped as the logits. ``hard_loss`` is the student's criterion;
    ``soft_loss`` a loss object, vanilla KD by default. With per-row
    ``weight`` both terms are ``sum_i w_i l_i / sum_i w_i`` over the batch: a
    sample of weight 2 counts as the sample twice (``weighted``: see
    :func:`_mean`). A scalar ``alpha == 0`` without weights returns the hard
    loss itself, so that no teacher is needed and training is exactly plain
    training.
    """
    soft_loss = KDLoss() if soft_loss is None else soft_loss
    scalar = not torch.is_tensor(alpha)
    rows = student_logits.dim() == 2 and weight is None
    if scalar and alpha == 0 and rows:
        return hard_loss(student_logits, y)
    loss = 0.0
    if not (scalar and alpha == 1):
        if rows:  # the criterion as the user gave it, reduction included
            hard = hard_loss(student_logits, y)
        else:
            hard = _mean(_hard_per_sample(hard_loss, student_logits, y), weight, weighted)
        loss = (1.0 - alpha) * hard
    if teacher_log_p is not None and not (scalar and alpha == 0):
        soft = soft_loss.members(student_logits, teacher_log_p, y, temperature, weight, weighted)
        loss = loss + alpha * soft
    return loss


weighted_objective = kd_objective  # the weighted objective is the objective with weights


class _KDLossBase(BaseEstimator):
    """A distillation loss: ``loss(student_logits, teacher_log_p, y, temperature)``.

    Subclasses implement the divergence of every row, ``_per_sample``, over
    the last axis of rows ``(..., B, C)``; a loss that is no mean of per-row
    terms (DIST) implements its batch form ``_batch`` instead. Every parameter
    of theirs is a non-negative weight, checked on each call.
    """

    def __call__(self, student_logits, teacher_log_p, y, temperature):
        return self.members(student_logits, teacher_log_p, y, temperature)

    def members(self, student_logits, teacher_log_p, y, temperature, weight=None, weighted=None):
        """The loss of every member's batch: logits ``(K, B, C)`` give ``(K,)``, ``(B, C)`` a scalar.

        With ``weight`` (shaped as ``y``), each batch's ``sum w l / sum w``
        (``weighted``: which members are weighted, the others the plain mean).
        """
        self._check_parameters()
        tau = float(temperature)
        if weight is None:
            return self._batch(student_logits, teacher_log_p, y, tau)
        return _mean(self._per_sample(student_logits, teacher_log_p, y, tau), weight, weighted)

    def per_sample(self, student_logits, teacher_log_p, y, temperature):
        """The loss of every sample, shape ``(n,)``, whose mean is the loss (for ``sample_weight``)."""
        self._check_parameters()
        return self._per_sample(student_logits, teacher_log_p, y, float(temperature))

    def _batch(self, student_logits, teacher_log_p, y, tau):
        return self._per_sample(student_logits, teacher_log_p, y, tau).mean(-1)

    def _check_parameters(self):
        # The attributes are the parameters (scikit-learn's convention); read
        # directly, since get_params on every batch would cost a signature lookup.
        for name, value in vars(self).items():
            if not (isinstance(value, Real) and not isinstance(value, bool) and value >= 0):
                raise ValueError(
                    f"{type(self).__name__}: {name} must be a non-negative float; got {value!r}"
                )

    def _per_sample(self, student_logits, teacher_log_p, y, tau):
        raise ValueError(
            f"{type(self).__name__} is not a mean of per-sample losses, so sample_weight cannot "
            "weight it; use kd_loss='kd', 'dkd' or 'mse' with sample_weight"
        )


class KDLoss(_KDLossBase):
    """Vanilla knowledge distillation: ``tau**2 * KL(p_teacher || p_student)``.

    The default loss of :class:`~prunekd.DistillationClassifier`; both
    distributions are softmaxes at temperature ``tau``.

    Examples
    --------
    >>> import torch
    >>> from prunekd.distillation import KDLoss
    >>> s = torch.tensor([[2.0, 0.0]])
    >>> float(KDLoss()(s, torch.log_softmax(s / 4, 1), torch.tensor([0]), 4.0))
    0.0
    """

    def _per_sample(self, student_logits, teacher_log_p, y, tau):
        return _kd_divergence(student_logits, teacher_log_p, tau)


class DKDLoss(_KDLossBase):
    """Decoupled knowledge distillation (DKD): target and non-target parts weighted apart.

    ``tau**2 * (alpha * TCKD + beta * NCKD)``, where TCKD is the KL divergence
    between the teacher's and the student's binary (target class, all others)
    probabilities, and NCKD the KL divergence between their distributions over
    the non-target classes alone, all at temperature ``tau``. With
    ``alpha = beta = 1`` it is not vanilla KD: vanilla KD weights NCKD by the
    teacher's non-target mass ``1 - p_t``.

    Parameters
    ----------
    alpha : float, default=1.0
        Weight of the target-class term (TCKD).
    beta : float, default=8.0
        Weight of the non-target term (NCKD).

    Examples
    --------
    >>> import torch
    >>> from prunekd.distillation import DKDLoss
    >>> s = torch.tensor([[2.0, 0.0, -1.0]])
    >>> float(DKDLoss()(s, torch.log_softmax(s / 4, 1), torch.tensor([0]), 4.0))
    0.0
    """

    def __init__(self, alpha=1.0, beta=8.0):
        self.alpha = alpha
        self.beta = beta

    def _per_sample(self, student_logits, teacher_log_p, y, tau):
        log_s = F.log_softmax(student_logits.float() / tau, dim=-1)
        log_t = teacher_log_p.float()
        target = F.one_hot(y.long(), log_s.shape[-1]).bool()
        # log p_target and log (1 - p_target), for student and teacher
        s_in = log_s.gather(-1, y.long()[..., None])[..., 0]
        t_in = log_t.gather(-1, y.long()[..., None])[..., 0]
        s_out = torch.log1p(-s_in.exp().clamp(max=1 - _EPS))
        t_out = torch.log1p(-t_in.exp().clamp(max=1 - _EPS))
        tckd = t_in.exp() * (t_in - s_in) + t_out.exp() * (t_out - s_out)
        # distributions over the non-target classes: p_i / (1 - p_target)
        s_rest = (log_s - s_out[..., None]).masked_fill(target, 0.0)
        t_rest = (log_t - t_out[..., None]).masked_fill(target, 0.0)
        nckd = (t_rest.exp().masked_fill(target, 0.0) * (t_rest - s_rest)).sum(-1)
        return tau**2 * (self.alpha * tckd + self.beta * nckd)


def _pearson_distance(a, b, dim):
    """``1 - Pearson correlation`` of ``a`` and ``b`` along ``dim``, averaged over the last axis left."""
    a = a - a.mean(dim, keepdim=True)
    b = b - b.mean(dim, keepdim=True)
    corr = (a * b).sum(dim) / (a.norm(dim=dim) * b.norm(dim=dim) + _EPS)
    return (1 - corr).mean(-1)


class DISTLoss(_KDLossBase):
    """DIST: distillation from a stronger teacher by correlation, not exact match.

    ``tau**2 * (beta * inter + gamma * intra)``: ``inter`` is one minus the
    Pearson correlation between the student's and the teacher's class
    probabilities of each sample (averaged over the batch), ``intra`` one
    minus their correlation over the batch for each class (averaged over the
    classes). Matching correlations instead of values leaves the student free
    of the teacher's scale and shift, which is meant for a teacher much larger
    than the student (the capacity gap).

    Parameters
    ----------
    beta : float, default=1.0
        Weight of the inter-class (per-sample) relation.
    gamma : float, default=1.0
        Weight of the intra-class (per-class, over the batch) relation.

    Examples
    --------
    >>> import torch
    >>> from prunekd.distillation import DISTLoss
    >>> s = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.5]])
    >>> round(float(DISTLoss()(s, torch.log_softmax(s, 1), torch.tensor([0, 1]), 1.0)), 6)
    0.0
    """

    def __init__(self, beta=1.0, gamma=1.0):
        self.beta = beta
        self.gamma = gamma

    def _batch(self, student_logits, teacher_log_p, y, tau):
        p_t = teacher_log_p.float().exp()
        p_s = F.softmax(student_logits.float() / tau, dim=-1)
        inter = _pearson_distance(p_s, p_t, dim=-1)
        if p_s.shape[-2] > 1:
            intra = _pearson_distance(p_s, p_t, dim=-2)
        else:  # one row has no correlation over the batch
            intra = p_s.new_zeros(p_s.shape[:-2])
        return tau**2 * (self.beta * inter + self.gamma * intra)


class MSELoss(_KDLossBase):
    """Mean squared error between the student's and the teacher's logits.

    Logits are defined up to a constant per row (a scikit-learn teacher's are
    its log-probabilities), so both are centred per row first; the error is
    summed over classes and averaged over the batch. The temperature does not
    enter.

    Examples
    --------
    >>> import torch
    >>> from prunekd.distillation import MSELoss
    >>> s = torch.tensor([[1.0, -1.0]])
    >>> t = torch.log_softmax(torch.tensor([[0.0, 0.0]]) / 4, 1)
    >>> float(MSELoss()(s, t, torch.tensor([0]), 4.0))
    2.0
    """

    def _per_sample(self, student_logits, teacher_log_p, y, tau):
        s = student_logits.float()
        t = teacher_log_p.float() * tau
        s = s - s.mean(-1, keepdim=True)
        t = t - t.mean(-1, keepdim=True)
        return ((s - t) ** 2).sum(-1)


def weighs_samples(kd_loss):
    """Whether a loss object is a mean of per-sample losses (so ``sample_weight`` can weight it)."""
    return type(kd_loss)._per_sample is not _KDLossBase._per_sample


KD_LOSSES = {"kd": KDLoss, "dkd": DKDLoss, "dist": DISTLoss, "mse": MSELoss}


def check_kd_loss(kd_loss):
    """The loss object a ``kd_loss`` parameter names, or a clear error."""
    if isinstance(kd_loss, str) and kd_loss in KD_LOSSES:
        return KD_LOSSES[kd_loss]()
    if isinstance(kd_loss, _KDLossBase):
        return kd_loss
    raise ValueError(
        f"kd_loss must be one of {sorted(KD_LOSSES)} or a loss object such as "
        f"DKDLoss(beta=4.0); got {kd_loss!r}"
    )
