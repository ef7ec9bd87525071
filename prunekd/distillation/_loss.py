"""Moved to :mod:`prunekd.distillation._losses`; kept so that old imports still work."""

from ._losses import distillation_loss, kd_objective, teacher_log_probs

__all__ = ["distillation_loss", "kd_objective", "teacher_log_probs"]
