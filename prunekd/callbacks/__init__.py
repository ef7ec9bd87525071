"""skorch callbacks that record training dynamics."""

from ._dynamics import TrainingDynamics, forgetting_counts

__all__ = ["TrainingDynamics", "forgetting_counts"]
