"""Knowledge distillation from a teacher fitted on the full data."""

from ._accelerate import AcceleratedDistillationClassifier
from ._alpha import AUTO_ALPHA_KNOTS, auto_alpha
from ._classifier import DistillationClassifier
from ._losses import DISTLoss, DKDLoss, KDLoss, MSELoss, distillation_loss
from ._stored import TeacherOutputs

__all__ = [
    "AUTO_ALPHA_KNOTS",
    "AcceleratedDistillationClassifier",
    "DISTLoss",
    "DKDLoss",
    "DistillationClassifier",
    "KDLoss",
    "MSELoss",
    "TeacherOutputs",
    "auto_alpha",
    "distillation_loss",
]
