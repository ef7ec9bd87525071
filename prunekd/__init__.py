"""prunekd: prune the training set, distill from a teacher fitted on all of it.

Prune the training set with a pruner, then train a student on what is kept
with the soft predictions of a teacher fitted on the full data; the
``prunekd`` command measures what that keeps of the accuracy and what it
saves in compute (see the documentation's results page).
"""

from ._rows import take
from .distillation import (
    AcceleratedDistillationClassifier,
    DistillationClassifier,
    distillation_loss,
)
from .model_selection import (
    DistillationSearchCV,
    best_alpha_per_fraction,
    smallest_fraction_within,
)
from .pipeline import Pipeline, make_pipeline
from .pruning import (
    BasePruner,
    CalPruner,
    ContextualDiversityPruner,
    CoverageCentricPruner,
    CraigPruner,
    D2Pruner,
    DeepFoolPruner,
    DynamicsPruner,
    EL2NPruner,
    EmbeddingPruner,
    EntropyPruner,
    FacilityLocationPruner,
    ForgettingPruner,
    GlisterPruner,
    GraNdPruner,
    GradMatchPruner,
    GraphCutPruner,
    HerdingPruner,
    KCenterGreedyPruner,
    LeastConfidencePruner,
    LogDeterminantPruner,
    MarginPruner,
    ModerateDSPruner,
    OutputPruner,
    PrototypePruner,
    ProxyPruner,
    RandomPruner,
    ScorePruner,
    as_sampler,
)

__version__ = "0.2.0"

__all__ = [
    "AcceleratedDistillationClassifier",
    "BasePruner",
    "CalPruner",
    "ContextualDiversityPruner",
    "CoverageCentricPruner",
    "CraigPruner",
    "D2Pruner",
    "DeepFoolPruner",
    "DistillationClassifier",
    "DistillationSearchCV",
    "DynamicsPruner",
    "EL2NPruner",
    "EmbeddingPruner",
    "EntropyPruner",
    "FacilityLocationPruner",
    "ForgettingPruner",
    "GlisterPruner",
    "GraNdPruner",
    "GradMatchPruner",
    "GraphCutPruner",
    "HerdingPruner",
    "KCenterGreedyPruner",
    "LeastConfidencePruner",
    "LogDeterminantPruner",
    "MarginPruner",
    "ModerateDSPruner",
    "OutputPruner",
    "Pipeline",
    "PrototypePruner",
    "ProxyPruner",
    "RandomPruner",
    "ScorePruner",
    "as_sampler",
    "best_alpha_per_fraction",
    "distillation_loss",
    "make_pipeline",
    "smallest_fraction_within",
    "take",
]
