"""The sweep's figures, one function each, written by :func:`write_figures`."""

import os

import numpy as np

from ._compute import plot_budget, plot_compute
from ._protocol import frozen_choices
from ._methods import label as method_label
from ._results import Results, complete
from ._store import read_json, read_results


def _errorbar(ax, fractions, values_per_f, label, **kw):
    """Mean ± standard deviation over seeds, in %, against the kept fraction."""
    present = [complete(v) for v in values_per_f]
    mean = [100 * v.mean() if len(v) else np.nan for v in present]
    std = [100 * v.std() if len(v) else np.nan for v in present]
    ax.errorbar(fractions, mean, yerr=std, marker="o", capsize=3, label=label, **kw)


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def plot_accuracy(t, path):
    """``accuracy_vs_fraction.png``: per pruner, with and without KD."""
    import matplotlib.pyplot as plt

    n = len(t.pruners)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4), sharey=True, squeeze=False)
    for ax, p in zip(axes[0], t.pruners):
        _errorbar(ax, t.fractions, [t.kd(p, f, 0.0) for f in t.fractions], "no KD")
        _errorbar(ax, t.fractions, [t.kd_accuracy(p, f) for f in t.fractions], "KD")
        ax.set_title(f"{method_label(p)} pruning")
        ax.set_xlabel("kept fraction")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("test accuracy (%)")
    axes[0, 0].legend()
    return _save(fig, path)


def plot_alpha_heatmap(t, path):
    """``alpha_heatmap.png``: accuracy over fraction x alpha, the alpha in use starred."""
    import matplotlib.pyplot as plt

    n = len(t.pruners)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4), squeeze=False)
    for ax, p in zip(axes[0], t.pruners):
        grid = np.array(
            [
                [
                    100 * np.mean(complete(t.kd(p, f, a)))
                    if len(complete(t.kd(p, f, a)))
                    else np.nan
                    for f in t.fractions
                ]
                for a in t.alphas
            ]
        )
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(t.fractions)), [f"{f:g}" for f in t.fractions])
        ax.set_yticks(range(len(t.alphas)), [f"{a:g}" for a in t.alphas])
        for j, f in enumerate(t.fractions):
            best = t.chosen_alpha(p, f)
            if not np.isnan(best):
                ax.plot(j, t.alphas.index(best), marker="*", color="white", markersize=11)
        ax.set_title(f"{method_label(p)}: test accuracy")
        ax.set_xlabel("kept fraction")
        fig.colorbar(im, ax=ax, fraction=0.046)
    label = "the protocol's" if t.frozen else "best on validation"
    axes[0, 0].set_ylabel(f"alpha (★ {label})")
    return _save(fig, path)


def plot_capacity(t, config, path):
    """``teacher_capacity.png``: random pruning with each teacher of the capacity study."""
    import matplotlib.pyplot as plt

    teachers = [te for te in config["teacher_widths"] if te in t.teachers]
    if len(teachers) < 2:
        return None
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    _errorbar(ax, t.fractions, [t.kd("random", f, 0.0) for f in t.fractions], "no KD", color="grey")
    for te in teachers:
        values = [t.values("random", f, config["capacity_alpha"], te) for f in t.fractions]
        _errorbar(ax, t.fractions, values, f"{te} teacher (width {config['teacher_widths'][te]})")
    ax.set_xlabel("kept fraction (random pruning)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"Teacher capacity, alpha={config['capacity_alpha']:g}")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


def write_figures(out, config=None):
    """Write the sweep's PNG figures into ``out``; return their paths.

    ``accuracy_vs_fraction.png`` (per pruner, with and without KD),
    ``alpha_heatmap.png`` (accuracy over fraction x alpha, the alpha in use
    starred), ``teacher_capacity.png``, ``accuracy_vs_compute.png`` (both
    costs, the Pareto front marked) and ``budget_axis.png`` (random pruning at
    every budget), each where the sweep has its runs.

    Parameters
    ----------
    out : str
        A sweep's output folder.
    config : dict, default=None
        The sweep's settings; read from ``out/config.json`` if None.

    Returns
    -------
    paths : list of str

    Examples
    --------
    See :func:`prunekd.experiments.run_sweep`:

    >>> from prunekd.experiments import write_figures
    >>> paths = write_figures("prunekd-results")  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    rows = read_results(os.path.join(out, "results.csv"))
    config = config if config is not None else read_json(os.path.join(out, "config.json"))["config"]
    t = Results(rows, frozen_choices(config))
    paths = [
        plot_accuracy(t, os.path.join(out, "accuracy_vs_fraction.png")),
        plot_alpha_heatmap(t, os.path.join(out, "alpha_heatmap.png")),
        plot_capacity(t, config, os.path.join(out, "teacher_capacity.png")),
        plot_compute(rows, os.path.join(out, "accuracy_vs_compute.png"), t.frozen),
        plot_budget(
            rows,
            config["capacity_alpha"],
            config.get("epochs", 1),
            os.path.join(out, "budget_axis.png"),
        ),
    ]
    return [p for p in paths if p]
