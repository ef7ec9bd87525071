"""The pruning x distillation sweep behind the ``prunekd`` command, and its report."""

from ._auto_alpha import alpha_regret, fit_auto_alpha, knots_rule, validate_auto_alpha
from ._data import DATASETS, MODELS, flip_labels
from ._findings import Results, Verdict, findings, format_verdict, smoothed_best_alpha
from ._report import load_results, render_summary, write_figures, write_summary
from ._stats import all_cells_word, bootstrap_interval, t_interval, word
from ._sweep import (
    PRUNERS,
    SweepConfig,
    plan_groups,
    plan_runs,
    provenance,
    run_sweep,
    split_data,
)

__all__ = [
    "DATASETS",
    "MODELS",
    "PRUNERS",
    "Results",
    "SweepConfig",
    "Verdict",
    "all_cells_word",
    "alpha_regret",
    "bootstrap_interval",
    "findings",
    "fit_auto_alpha",
    "flip_labels",
    "format_verdict",
    "knots_rule",
    "load_results",
    "plan_groups",
    "plan_runs",
    "provenance",
    "render_summary",
    "run_sweep",
    "smoothed_best_alpha",
    "split_data",
    "t_interval",
    "validate_auto_alpha",
    "word",
    "write_figures",
    "write_summary",
]
