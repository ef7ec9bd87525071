"""skorch callbacks that record training dynamics, and the scores read off the record."""

from ._dynamic_pruning import DynamicPruning
from ._dynamics import TrainingDynamics, dynamic_uncertainty, forgetting_counts, tdds_scores

__all__ = [
    "DynamicPruning",
    "TrainingDynamics",
    "dynamic_uncertainty",
    "forgetting_counts",
    "tdds_scores",
]
