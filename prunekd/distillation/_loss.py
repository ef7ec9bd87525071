"""Moved to :mod:`prunekd.distillation._losses`; kept so that old imports still work."""

from ._losses import _kd_term, distillation_loss, kd_objective, teacher_log_probs

__all__ = ["_kd_term", "distillation_loss", "kd_objective", "teacher_log_probs"]
