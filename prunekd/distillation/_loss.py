"""The knowledge-distillation objective."""

import torch.nn.functional as F


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
    return _kd_term(student_logits, teacher_log_probs(teacher_logits, temperature), temperature)


def teacher_log_probs(teacher_logits, temperature):
    """``log_softmax(t / tau)``: what the KD term needs of the teacher, computable once."""
    return F.log_softmax(teacher_logits.float() / float(temperature), dim=1)


def _kd_term(student_logits, teacher_log_p, temperature):
    tau = float(temperature)
    log_p_student = F.log_softmax(student_logits / tau, dim=1)
    kl = F.kl_div(
        log_p_student, teacher_log_p.to(log_p_student.dtype), reduction="batchmean", log_target=True
    )
    return kl * tau**2


def kd_objective(student_logits, y, teacher_log_p, alpha, temperature, hard_loss, soft_loss=None):
    """``(1 - alpha) * hard_loss(s, y) + alpha * soft_loss``.

    ``teacher_log_p`` is :func:`teacher_log_probs` of the teacher's logits.
    ``soft_loss(s, teacher_log_p, y, temperature)`` defaults to vanilla KD,
    ``tau**2 * KL(p_teacher || p_student)``. ``alpha == 0`` returns the hard
    loss itself, so that no teacher is needed and training is exactly plain
    training.
    """
    if alpha == 0:
        return hard_loss(student_logits, y)
    if soft_loss is None:
        soft = _kd_term(student_logits, teacher_log_p, temperature)
    else:
        soft = soft_loss(student_logits, teacher_log_p, y, temperature)
    if alpha == 1:
        return soft
    return (1.0 - alpha) * hard_loss(student_logits, y) + alpha * soft
