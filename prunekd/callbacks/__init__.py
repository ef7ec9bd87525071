"""skorch callbacks that record training dynamics, and the scores read off the record."""

from ._dynamics import TrainingDynamics, dynamic_uncertainty, forgetting_counts, tdds_scores

__all__ = ["TrainingDynamics", "dynamic_uncertainty", "forgetting_counts", "tdds_scores"]
