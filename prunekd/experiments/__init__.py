"""The pruning x distillation sweep behind the ``prunekd`` command, and its report."""

from ._data import DATASETS, MODELS
from ._report import load_results, suggest_auto_alpha, write_figures, write_summary
from ._sweep import PRUNERS, SweepConfig, plan_runs, run_sweep, split_data

__all__ = [
    "DATASETS",
    "MODELS",
    "PRUNERS",
    "SweepConfig",
    "load_results",
    "plan_runs",
    "run_sweep",
    "split_data",
    "suggest_auto_alpha",
    "write_figures",
    "write_summary",
]
