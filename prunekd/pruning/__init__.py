"""Pruners: score every training sample and keep a fraction of them."""

from .._nets import el2n_scores
import warnings

from ._base import BasePruner, ScorePruner
from ._contextual import CalPruner, ContextualDiversityPruner, PrototypePruner
from ._coverage import CoverageCentricPruner
from ._d2 import D2Pruner
from ._deepfool import DeepFoolPruner
from ._dynamics import DynamicsPruner
from ._el2n import EL2NPruner
from ._embedding import (
    EmbeddingPruner,
    FacilityLocationPruner,
    GraphCutPruner,
    HerdingPruner,
    KCenterGreedyPruner,
    LogDeterminantPruner,
    ModerateDSPruner,
)
from ._forgetting import ForgettingPruner
from ._glister import GlisterPruner
from ._gradients import CraigPruner, GradMatchPruner
from ._grand import GraNdPruner, per_sample_grad_norms
from ._outputs import EntropyPruner, LeastConfidencePruner, MarginPruner, OutputPruner
from ._precomputed import PrecomputedPruner
from ._sampler import PrunerSampler, as_sampler
from ._proxy import ProxyPruner
from ._random import RandomPruner
from ._selection import class_quotas

__all__ = [
    "BasePruner",
    "CalPruner",
    "ContextualDiversityPruner",
    "CoverageCentricPruner",
    "CraigPruner",
    "D2Pruner",
    "DeepFoolPruner",
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
    "PrecomputedPruner",
    "PrototypePruner",
    "ProxyPruner",
    "PrunerSampler",
    "RandomPruner",
    "ScorePruner",
    "as_sampler",
    "class_quotas",
    "el2n_scores",
    "per_sample_grad_norms",
]

# Names on their way out: still importable until 0.3, with a warning, but not listed.
_DEPRECATED = {
    "clear_score_cache": ("._deprecated", "a no-op since pruners cache only with memory="),
    "per_sample_grad_norms_loop": ("._grand", "a test oracle; use per_sample_grad_norms"),
}


def __getattr__(name):
    if name not in _DEPRECATED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, why = _DEPRECATED[name]
    warnings.warn(
        f"prunekd.pruning.{name} is deprecated ({why}) and will be removed in 0.3.",
        FutureWarning,
        stacklevel=2,
    )
    from importlib import import_module

    return getattr(import_module(module, __name__), name)
