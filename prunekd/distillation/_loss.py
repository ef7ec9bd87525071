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
    tau = float(temperature)
    log_p_student = F.log_softmax(student_logits / tau, dim=1)
    log_p_teacher = F.log_softmax(teacher_logits.to(student_logits.dtype) / tau, dim=1)
    kl = F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True)
    return kl * tau**2


def kd_objective(student_logits, y, teacher_logits, alpha, temperature, hard_loss):
    """``(1 - alpha) * hard_loss(s, y) + alpha * distillation_loss(s, t, tau)``.

    ``alpha == 0`` returns the hard loss itself, so that no teacher is needed
    and training is exactly plain training.
    """
    hard = hard_loss(student_logits, y)
    if alpha == 0:
        return hard
    soft = distillation_loss(student_logits, teacher_logits, temperature)
    if alpha == 1:
        return soft
    return (1.0 - alpha) * hard + alpha * soft


__all__ = ["distillation_loss", "kd_objective"]
