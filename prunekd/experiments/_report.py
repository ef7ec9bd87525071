"""Tables, verdicts on the paper's findings, and figures from a sweep's results."""

import csv
import json
import os
from collections import defaultdict

import numpy as np
from sklearn.isotonic import IsotonicRegression

PRUNER_LABELS = {"random": "Random", "el2n": "EL2N", "grand": "GraNd", "forgetting": "Forgetting"}


def load_results(out):
    """Rows of ``out/results.csv`` with numbers parsed.

    Parameters
    ----------
    out : str
        A sweep's output folder.

    Returns
    -------
    rows : list of dict

    Examples
    --------
    See :func:`prunekd.experiments.run_sweep`:

    >>> from prunekd.experiments import load_results
    >>> load_results("docs/results")[0]["study"]  # doctest: +SKIP
    'main'
    """
    with open(os.path.join(out, "results.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in ("fraction", "alpha", "val_accuracy", "test_accuracy", "fit_seconds"):
            r[k] = float(r[k])
        for k in ("seed", "n_kept", "epochs", "teacher_width"):
            r[k] = int(r[k])
    return rows


class _Table:
    """Accuracies grouped by (pruner, fraction, alpha, teacher) over seeds."""

    def __init__(self, rows):
        self.groups = defaultdict(list)
        for r in rows:
            pruner = r["pruner"]
            self.groups[pruner, r["fraction"], r["alpha"], r["teacher"]].append(r)
        self.fractions = sorted({r["fraction"] for r in rows})
        self.alphas = sorted({r["alpha"] for r in rows if r["study"] == "main"})
        self.pruners = [p for p in PRUNER_LABELS if any(r["pruner"] == p for r in rows)]
        self.seeds = sorted({r["seed"] for r in rows})

    def get(self, pruner, fraction, alpha, teacher, metric="test_accuracy"):
        # At fraction 1.0 every pruner keeps everything: the random run stands for all.
        p = "random" if fraction == 1.0 else pruner
        rows = self.groups.get((p, fraction, alpha, teacher), [])
        return np.array([r[metric] for r in rows])

    def mean(self, *args, **kwargs):
        values = self.get(*args, **kwargs)
        return float(values.mean()) if len(values) else np.nan

    def best_alpha(self, pruner, fraction):
        """The KD alpha (> 0) with the best mean validation accuracy; ties to the smaller."""
        kd = [a for a in self.alphas if a > 0]
        vals = [self.mean(pruner, fraction, a, "equal", "val_accuracy") for a in kd]
        if not kd or np.all(np.isnan(vals)):
            return np.nan
        return kd[int(np.nanargmax(vals))]


def _config(out, config):
    """The sweep's settings: ``config`` itself, or those stored in ``out/config.json``."""
    if config is not None:
        return config
    with open(os.path.join(out, "config.json")) as f:
        return json.load(f)["config"]


def _fmt(values):
    if len(values) == 0:
        return "–"
    values = 100 * np.asarray(values)
    return f"{values.mean():.1f} ± {values.std():.1f}"


def _row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _header(first, fractions):
    cols = [*first, *(f"f={f:g}" for f in fractions)]
    return [_row(cols), _row(["---"] * len(cols))]


def suggest_auto_alpha(rows):
    """A non-increasing alpha(fraction) fitted to the best alphas of a sweep.

    Per fraction, the mean over pruners of the validation-chosen alpha; then an
    isotonic (non-increasing) regression.

    Parameters
    ----------
    rows : list of dict
        A sweep's results, as :func:`load_results` returns them.

    Returns
    -------
    knots : list of (fraction, alpha)

    Examples
    --------
    >>> from prunekd.experiments import suggest_auto_alpha
    >>> rows = [dict(study="main", pruner="random", fraction=f, alpha=a, seed=0,
    ...              teacher="equal" if a else "none", val_accuracy=acc, test_accuracy=acc)
    ...         for f, a, acc in [(0.1, 0.0, .8), (0.1, 0.5, .9), (0.1, 1.0, .95),
    ...                           (0.5, 0.0, .9), (0.5, 0.5, .96), (0.5, 1.0, .94)]]
    >>> suggest_auto_alpha(rows)
    [(0.1, 1.0), (0.5, 0.5)]
    """
    table = rows if isinstance(rows, _Table) else _Table(rows)
    fractions, alphas = [], []
    for f in table.fractions:
        best = [table.best_alpha(p, f) for p in table.pruners]
        best = [b for b in best if not np.isnan(b)]
        if best:
            fractions.append(f)
            alphas.append(float(np.mean(best)))
    if not fractions:
        return []
    fitted = IsotonicRegression(increasing=False).fit_transform(fractions, alphas)
    return [(f, round(float(a), 2)) for f, a in zip(fractions, fitted)]


def _findings(t, capacity_alpha):
    lines = ["## The paper's findings on this run", ""]
    small_fs = [f for f in t.fractions if f < 1.0]
    if not small_fs:
        return lines + ["No fraction below 1.0 in this sweep: nothing to compare.", ""]
    f_min, f_max = min(small_fs), max(small_fs)

    # 1. KD helps at every fraction, most at small ones.
    gains = {
        (p, f): t.mean(p, f, t.best_alpha(p, f), "equal") - t.mean(p, f, 0.0, "none")
        for p in t.pruners
        for f in small_fs
    }
    all_pos = all(g > 0 for g in gains.values() if not np.isnan(g))
    g_small = np.nanmean([gains[p, f_min] for p in t.pruners])
    g_large = np.nanmean([gains[p, f_max] for p in t.pruners])
    verdict = "reproduced" if all_pos and g_small > g_large else (
        "partly reproduced" if all_pos or g_small > g_large else "not reproduced")
    lines += [
        f"**1. KD improves every pruner at every fraction, most at small fractions: {verdict}.** "
        f"KD (alpha chosen on validation) minus no KD, in test accuracy points: positive in "
        f"{sum(g > 0 for g in gains.values())} of {len(gains)} (pruner, fraction) cells; mean gain "
        f"{100 * g_small:+.1f} at f={f_min:g} vs {100 * g_large:+.1f} at f={f_max:g}.",
        "",
    ]

    # 2. With KD, random pruning matches or beats the score-based pruners at small f.
    scored = [p for p in t.pruners if p != "random"]
    if "random" in t.pruners and scored:
        cells = []
        for f in [f for f in small_fs if f <= 0.3] or [f_min]:
            rnd = t.mean("random", f, t.best_alpha("random", f), "equal")
            best_p = max(scored, key=lambda p: t.mean(p, f, t.best_alpha(p, f), "equal"))
            best = t.mean(best_p, f, t.best_alpha(best_p, f), "equal")
            rnd0 = t.mean("random", f, 0.0, "none")
            best0 = max(t.mean(p, f, 0.0, "none") for p in scored)
            cells.append((f, rnd, best, best_p, rnd0, best0))
        ok = all(rnd >= best - 0.01 for _, rnd, best, *_ in cells)
        verdict = "reproduced" if ok else "not reproduced"
        detail = "; ".join(
            f"f={f:g}: random {100 * rnd:.1f} vs best score-based {100 * best:.1f} "
            f"({PRUNER_LABELS[bp]}) with KD, {100 * rnd0:.1f} vs {100 * best0:.1f} without"
            for f, rnd, best, bp, rnd0, best0 in cells
        )
        lines += [
            f"**2. With KD, random pruning matches or beats score-based pruning at small "
            f"fractions (within 1 point): {verdict}.** {detail}.",
            "",
        ]

    # 3. The best alpha grows as the fraction shrinks.
    pairs = [(p, t.best_alpha(p, f_min), t.best_alpha(p, f_max)) for p in t.pruners]
    grows = sum(a_small >= a_large for _, a_small, a_large in pairs)
    strictly = sum(a_small > a_large for _, a_small, a_large in pairs)
    verdict = (
        "reproduced" if grows == len(pairs) and strictly > 0
        else "partly reproduced" if grows > len(pairs) / 2 else "not reproduced"
    )  # fmt: skip
    detail = ", ".join(f"{PRUNER_LABELS[p]} {a:g} → {b:g}" for p, a, b in pairs)
    lines += [
        f"**3. The best alpha is larger at small fractions: {verdict}.** Best alpha on "
        f"validation at f={f_min:g} → f={f_max:g}: {detail}.",
        "",
    ]

    # 4. At small f a larger teacher hurts; at large f it is neutral or helps.
    teachers = sorted({k[3] for k in t.groups if k[3] not in ("none",)})
    if {"small", "equal", "large"} <= set(teachers):
        acc = {(te, f): t.mean("random", f, capacity_alpha, te) for te in teachers for f in t.fractions}
        f_top = max(t.fractions)
        small_ok = acc["large", f_min] < max(acc["small", f_min], acc["equal", f_min])
        large_ok = acc["large", f_top] >= max(acc["small", f_top], acc["equal", f_top]) - 0.005
        verdict = "reproduced" if small_ok and large_ok else (
            "partly reproduced" if small_ok or large_ok else "not reproduced")
        detail = "; ".join(
            f"f={f:g}: small {100 * acc['small', f]:.1f}, equal {100 * acc['equal', f]:.1f}, "
            f"large {100 * acc['large', f]:.1f}"
            for f in (f_min, f_top)
        )
        lines += [
            f"**4. At small fractions a larger teacher hurts, at large fractions it does not: "
            f"{verdict}.** Random pruning, alpha={capacity_alpha:g}: {detail}.",
            "",
        ]
    return lines


def write_summary(out, config=None, command=None):
    """Write ``out/summary.md`` from ``out/results.csv``; return its text.

    Tables of accuracy by pruner, fraction and alpha, the best alpha per
    fraction (chosen on validation), the teacher-capacity study, a verdict on
    each of the paper's findings, and suggested ``alpha="auto"`` knots.

    Parameters
    ----------
    out : str
        A sweep's output folder.
    config : dict, default=None
        The sweep's settings; read from ``out/config.json`` if None.
    command : str, default=None
        The command that regenerates the sweep, quoted in the summary.

    Returns
    -------
    text : str

    Examples
    --------
    See :func:`prunekd.experiments.run_sweep`:

    >>> from prunekd.experiments import write_summary
    >>> text = write_summary("prunekd-results", command="prunekd")  # doctest: +SKIP
    """
    rows = load_results(out)
    t = _Table(rows)
    info = {}
    if os.path.exists(os.path.join(out, "info.json")):
        with open(os.path.join(out, "info.json")) as f:
            info = json.load(f)
    config = _config(out, config)
    capacity_alpha = config["capacity_alpha"]
    lines = [f"# prunekd sweep on {config['dataset']}", ""]
    if command:
        lines += ["Regenerate with:", "", "```bash", command, "```", ""]
    widths = config["teacher_widths"]
    acc = info.get("teacher_test_accuracy", {})
    lines += [
        f"Train / validation / test: {info.get('n_train', '?')} / {info.get('n_val', '?')} / "
        f"{info.get('n_test', '?')} samples. Student: {config['model']} (width {config['width']}), "
        f"about {config['steps']} Adam steps (lr {config['lr']:g}, batch {config['batch_size']}) "
        f"whatever the fraction; temperature {config['temperature']:g}; seeds "
        f"{', '.join(map(str, t.seeds))}. Accuracies are test accuracy in %, mean ± std over seeds; "
        "'best alpha' is chosen on the validation split, never on the test split.",
        "",
        "Teachers, fitted on the full training split: "
        + ", ".join(
            f"{name} (width {w}): {100 * acc[name]:.1f}%" for name, w in widths.items() if name in acc
        )
        + ".",
        "",
        "## Accuracy by pruner and kept fraction",
        "",
        *_header(["pruner", "training"], t.fractions),
    ]
    for p in t.pruners:
        lines.append(_row([PRUNER_LABELS[p], "no KD", *(_fmt(t.get(p, f, 0.0, "none")) for f in t.fractions)]))
        lines.append(
            _row(["", "KD, best alpha",
                  *(_fmt(t.get(p, f, t.best_alpha(p, f), "equal")) for f in t.fractions)])
        )  # fmt: skip
    lines += ["", "## Best alpha per fraction (validation)", "", *_header(["pruner"], t.fractions)]
    for p in t.pruners:
        lines.append(_row([PRUNER_LABELS[p], *(f"{t.best_alpha(p, f):g}" for f in t.fractions)]))
    lines += ["", "## Accuracy over alpha", ""]
    for p in t.pruners:
        lines += [f"{PRUNER_LABELS[p]} pruning:", "", *_header(["alpha"], t.fractions)]
        for a in t.alphas:
            teacher = "none" if a == 0 else "equal"
            lines.append(_row([f"{a:g}", *(_fmt(t.get(p, f, a, teacher)) for f in t.fractions)]))
        lines.append("")
    teachers = [te for te in widths if any(k[3] == te for k in t.groups)]
    if teachers:
        lines += [
            f"## Teacher capacity (random pruning, alpha={capacity_alpha:g})",
            "",
            *_header(["teacher"], t.fractions),
            _row(["none (no KD)", *(_fmt(t.get("random", f, 0.0, "none")) for f in t.fractions)]),
        ]
        for te in teachers:
            label = f"{te} (width {widths[te]})"
            lines.append(_row([label, *(_fmt(t.get("random", f, capacity_alpha, te)) for f in t.fractions)]))
        lines.append("")
    lines += _findings(t, capacity_alpha)
    knots = suggest_auto_alpha(t)
    if knots:
        lines += [
            "## Suggested `alpha=\"auto\"` knots",
            "",
            "Mean over pruners of the best alpha per fraction, made non-increasing by isotonic "
            "regression: " + ", ".join(f"({f:g}, {a:g})" for f, a in knots) + ".",
            "",
        ]
    lines += ["## Figures", ""]
    for name in ("accuracy_vs_fraction.png", "alpha_heatmap.png", "teacher_capacity.png"):
        if os.path.exists(os.path.join(out, name)):
            lines.append(f"![{name}]({name})")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    return text


def write_figures(out, config=None):
    """Write the sweep's PNG figures into ``out``; return their paths.

    ``accuracy_vs_fraction.png`` (per pruner, with and without KD),
    ``alpha_heatmap.png`` (accuracy over fraction x alpha, best alpha starred)
    and ``teacher_capacity.png``.

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
    import matplotlib.pyplot as plt

    rows = load_results(out)
    t = _Table(rows)
    config = _config(out, config)
    paths = []

    def errorbar(ax, values_per_f, label, **kw):
        mean = [100 * np.mean(v) if len(v) else np.nan for v in values_per_f]
        std = [100 * np.std(v) if len(v) else np.nan for v in values_per_f]
        ax.errorbar(t.fractions, mean, yerr=std, marker="o", capsize=3, label=label, **kw)

    n = len(t.pruners)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4), sharey=True, squeeze=False)
    for ax, p in zip(axes[0], t.pruners):
        errorbar(ax, [t.get(p, f, 0.0, "none") for f in t.fractions], "no KD")
        errorbar(ax, [t.get(p, f, t.best_alpha(p, f), "equal") for f in t.fractions], "KD")
        ax.set_title(f"{PRUNER_LABELS[p]} pruning")
        ax.set_xlabel("kept fraction")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("test accuracy (%)")
    axes[0, 0].legend()
    fig.tight_layout()
    paths.append(os.path.join(out, "accuracy_vs_fraction.png"))
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4), squeeze=False)
    for ax, p in zip(axes[0], t.pruners):
        grid = np.array(
            [[100 * t.mean(p, f, a, "none" if a == 0 else "equal") for f in t.fractions] for a in t.alphas]
        )
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(t.fractions)), [f"{f:g}" for f in t.fractions])
        ax.set_yticks(range(len(t.alphas)), [f"{a:g}" for a in t.alphas])
        for j, f in enumerate(t.fractions):
            best = t.best_alpha(p, f)
            if not np.isnan(best):
                ax.plot(j, t.alphas.index(best), marker="*", color="white", markersize=11)
        ax.set_title(f"{PRUNER_LABELS[p]}: test accuracy")
        ax.set_xlabel("kept fraction")
        fig.colorbar(im, ax=ax, fraction=0.046)
    axes[0, 0].set_ylabel("alpha (★ best on validation)")
    fig.tight_layout()
    paths.append(os.path.join(out, "alpha_heatmap.png"))
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    teachers = [te for te in config["teacher_widths"] if any(k[3] == te for k in t.groups)]
    if teachers:
        fig, ax = plt.subplots(figsize=(4.8, 3.6))
        errorbar(ax, [t.get("random", f, 0.0, "none") for f in t.fractions], "no KD", color="grey")
        for te in teachers:
            width = config["teacher_widths"][te]
            values = [t.get("random", f, config["capacity_alpha"], te) for f in t.fractions]
            errorbar(ax, values, f"{te} teacher (width {width})")
        ax.set_xlabel("kept fraction (random pruning)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"Teacher capacity, alpha={config['capacity_alpha']:g}")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        paths.append(os.path.join(out, "teacher_capacity.png"))
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths
