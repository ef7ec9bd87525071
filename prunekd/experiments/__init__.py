"""The pruning x distillation sweep behind the ``prunekd`` command, and its report."""

from ._auto_alpha import alpha_regret, fit_auto_alpha, knots_rule, validate_auto_alpha
from ._config import BUDGETS, KD_LOSS_NAMES, SweepConfig
from ._data import DATASETS, MODELS, flip_labels, split_data
from ._figures import write_figures
from ._findings import Verdict, findings, format_verdict
from ._methods import (
    DYNAMIC,
    PRUNERS,
    WEIGHTED,
    Method,
    get_method,
    method_names,
    methods,
    register,
)
from ._plan import pending_runs, plan_groups, plan_runs
from ._protocol import protocol, protocol_hash
from ._report import load_results, render_summary, verdict_table, write_summary
from ._results import Results, smoothed_best_alpha
from ._stats import all_cells_word, bootstrap_interval, t_interval, word
from ._store import provenance
from ._sweep import run_sweep

__all__ = [
    "BUDGETS",
    "DATASETS",
    "DYNAMIC",
    "KD_LOSS_NAMES",
    "MODELS",
    "PRUNERS",
    "WEIGHTED",
    "Method",
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
    "get_method",
    "knots_rule",
    "load_results",
    "method_names",
    "methods",
    "pending_runs",
    "plan_groups",
    "plan_runs",
    "protocol",
    "protocol_hash",
    "provenance",
    "register",
    "render_summary",
    "run_sweep",
    "smoothed_best_alpha",
    "split_data",
    "t_interval",
    "validate_auto_alpha",
    "verdict_table",
    "word",
    "write_figures",
    "write_summary",
]
