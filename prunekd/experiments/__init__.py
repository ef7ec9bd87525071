"""The pruning x distillation sweep behind the ``prunekd`` command, and its report."""

from ._data import DATASETS, MODELS, flip_labels
from ._report import load_results, suggest_auto_alpha, write_figures, write_summary
from ._sweep import PRUNERS, SweepConfig, plan_groups, plan_runs, provenance, run_sweep, split_data

__all__ = [
    "DATASETS",
    "MODELS",
    "PRUNERS",
    "SweepConfig",
    "flip_labels",
    "load_results",
    "plan_groups",
    "plan_runs",
    "provenance",
    "run_sweep",
    "split_data",
    "suggest_auto_alpha",
    "write_figures",
    "write_summary",
]
