"""Accuracy against compute: what each student cost, beside what it reached.

Cost is in samples processed (see ``_cost.py``), relative to one full-data
student without KD trained the sweep's budget: "student" counts the student's
training and the teacher passes KD adds; "student + pruner" adds the pruner's
own scoring (proxy training and passes). The teacher's own training is paid
once, whatever the students do, and reported apart.
"""

import numpy as np

from ._dynamic_report import dynamic_points
from ._methods import get_method, method_names
from ._methods import label as method_label
from ._results import Results, complete, fmt_accuracy, nanmean
from ._stats import t_interval


def _mean(values):
    values = complete(values)
    return float(values.mean()) if len(values) else np.nan


def _reference(r):
    """Mean samples and seconds of the full-data student without KD at the sweep's budget."""
    samples = _mean(r.kd("random", 1.0, 0.0, "student_samples"))
    seconds = _mean(r.kd("random", 1.0, 0.0, "fit_seconds"))
    return samples, seconds


def _pays_teacher(point):
    """Whether a point needs the fitted teacher: KD, or a pruner that reads the teacher."""
    name = point["pruner"]
    return point["kd"] or (name in method_names() and get_method(name).reads_teacher)


def compute_points(rows, frozen=None, teacher_samples=None):
    """One point per (pruner, KD or not, fraction): relative costs and accuracy with interval.

    Returns a list of dicts with ``pruner``, ``kd`` (bool), ``fraction``,
    ``student`` and ``total`` (cost relative to the full-data student
    without KD: student only, and student + pruner), ``seconds`` (the
    student's wall time, relative), ``accuracy`` ``(mean, low, high)`` and
    ``pareto`` (on the front of accuracy against student + pruner cost).
    Empty for rows without cost columns (an earlier schema). ``frozen``: the
    protocol's choices of alpha (see :class:`Results`). The dynamic study's
    students are points too, with ``fraction`` None and their ``prune_ratio``.
    ``teacher_samples``: the teacher's own training, in samples; given, every
    point also has ``with_teacher`` (student + pruner, plus the teacher's
    training where it needs the teacher, amortised over one student) and
    ``pareto_teacher`` (on the front against that cost).
    """
    r = Results(rows, frozen)
    ref_samples, ref_seconds = _reference(r)
    if not np.isfinite(ref_samples) or ref_samples <= 0:
        return []
    points = []
    for p in r.pruners:
        for kd in (False, True):
            for f in r.fractions:
                if kd and not r.kd_alphas:
                    continue

                def get(metric, p=p, f=f, kd=kd):
                    return r.kd_accuracy(p, f, metric) if kd else r.kd(p, f, 0.0, metric)

                accuracy = complete(get("test_accuracy"))
                if not len(accuracy):
                    continue
                student = _mean(get("student_samples") + get("teacher_samples")) / ref_samples
                pruner = _mean(get("pruner_samples")) / ref_samples
                points.append(
                    dict(
                        pruner=p,
                        kd=kd,
                        fraction=f,
                        student=student,
                        total=student + pruner,
                        seconds=_mean(get("fit_seconds")) / ref_seconds,
                        accuracy=t_interval(accuracy),
                    )
                )
    points += dynamic_points(rows, ref_samples, ref_seconds)
    _mark_pareto(points)
    if teacher_samples is not None:
        for q in points:
            q["with_teacher"] = q["total"] + _pays_teacher(q) * teacher_samples / ref_samples
        _mark_pareto(points, "with_teacher", "pareto_teacher")
    return points


def _mark_pareto(points, cost="total", flag="pareto"):
    """Flag the points no other point beats in both accuracy and ``cost``."""
    for a in points:
        a[flag] = not any(
            b[cost] <= a[cost]
            and b["accuracy"][0] >= a["accuracy"][0]
            and (b[cost] < a[cost] or b["accuracy"][0] > a["accuracy"][0])
            for b in points
        )


def _table_order(q):
    """Random first, then by method, KD, fraction, and a dynamic method's prune ratio."""
    return (
        q["pruner"] != "random",
        q["pruner"],
        q["kd"],
        q["fraction"] or 1,
        q.get("prune_ratio", 0),
    )


def compute_table(rows, frozen=None, teacher_samples=None):
    """Markdown lines: the accuracy-against-compute table (★: on the Pareto front).

    With ``teacher_samples``, a column with the teacher's training counted
    (amortised over one student; ☆: on that cost's Pareto front).
    """
    points = compute_points(rows, frozen, teacher_samples)
    if not points:
        return []
    both = teacher_samples is not None
    extra = " cost, with the teacher's training (×) |" if both else ""
    lines = [
        "| pruner | KD | f | cost, student (×) | cost, student + pruner (×) |"
        f"{extra} student wall time (×) | test accuracy (%) [95% interval] |",
        "| --- " * (7 + both) + "|",
    ]
    for q in sorted(points, key=_table_order):
        kept = f"{q['fraction']:g}" if q["fraction"] else f"dynamic, r={q['prune_ratio']:g}"
        teacher = f" {q['with_teacher']:.2f}{' ☆' if q['pareto_teacher'] else ''} |" if both else ""
        lines.append(
            f"| {method_label(q['pruner'])} | {'yes' if q['kd'] else 'no'} | {kept} "
            f"| {q['student']:.2f} | {q['total']:.2f}{' ★' if q['pareto'] else ''} |{teacher}"
            f" {q['seconds']:.2f} | {fmt_accuracy(q['accuracy'])} |"
        )
    return lines


def budget_points(rows, alpha):
    """Random pruning at every budget scale: ``{(kd, scale): [(fraction, cost, accuracy)]}``."""
    r = Results(rows)
    ref_samples, _ = _reference(r)
    out = {}
    for scale in r.scales:
        for kd in (False, True):
            a = alpha if kd else 0.0
            for f in r.fractions:
                accuracy = complete(r.kd("random", f, a, scale=scale))
                if not len(accuracy):
                    continue
                cost = (
                    nanmean(
                        r.kd("random", f, a, "student_samples", scale)
                        + r.kd("random", f, a, "teacher_samples", scale)
                    )
                    / ref_samples
                )
                out.setdefault((kd, scale), []).append((f, cost, t_interval(accuracy)))
    return out


def budget_table(rows, alpha, epochs):
    """Markdown lines: random pruning with and without KD at every budget and fraction."""
    points = budget_points(rows, alpha)
    if len({scale for _, scale in points}) < 2:
        return []
    lines = [
        "| KD | epochs | f | cost, student (×) | test accuracy (%) [95% interval] |",
        "| --- | --- | --- | --- | --- |",
    ]
    for (kd, scale), cells in sorted(points.items()):
        for f, cost, accuracy in cells:
            lines.append(
                f"| {f'alpha={alpha:g}' if kd else 'no'} | {scale * epochs:g} | {f:g} "
                f"| {cost:.2f} | {fmt_accuracy(accuracy)} |"
            )
    return lines


def _half(intervals):
    """Half-widths of ``(mean, low, high)`` intervals, in points; 0 where undefined (one seed)."""
    half = np.array([100 * (high - mean) for mean, _, high in intervals], dtype=float)
    return np.where(np.isfinite(half), half, 0.0)


def _plot_cost_lines(ax, points, x):
    """One line per pruner, with and without KD: accuracy (95% interval) against cost ``x``."""
    for p in dict.fromkeys(q["pruner"] for q in points):
        for kd in (False, True):
            line = sorted(
                (q for q in points if q["pruner"] == p and q["kd"] == kd), key=lambda q: q[x]
            )
            if not line:
                continue
            mean = np.array([100 * q["accuracy"][0] for q in line])
            half = _half([q["accuracy"] for q in line])
            ax.errorbar(
                [q[x] for q in line],
                mean,
                yerr=half,
                marker="o",
                ms=3,
                capsize=2,
                ls="-" if kd else "--",
                label=f"{method_label(p)}{' + KD' if kd else ''}",
            )


def plot_compute(rows, path, frozen=None):
    """``accuracy_vs_compute.png``: accuracy against both costs, Pareto front marked."""
    import matplotlib.pyplot as plt

    points = compute_points(rows, frozen)
    if not points:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, x, title in (
        (axes[0], "student", "student only"),
        (axes[1], "total", "student + pruner"),
    ):
        _plot_cost_lines(ax, points, x)
        ax.set_xscale("log")
        ax.set_xlabel(f"cost, {title} (× full-data student without KD)")
        ax.set_title(f"Accuracy against compute: {title}")
        ax.grid(alpha=0.3)
    front = sorted((q for q in points if q["pareto"]), key=lambda q: q["total"])
    axes[1].plot(
        [q["total"] for q in front],
        [100 * q["accuracy"][0] for q in front],
        "k:",
        lw=2.5,
        zorder=10,
        label="Pareto front",
    )
    axes[0].set_ylabel("test accuracy (%), 95% interval")
    axes[1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_budget(rows, alpha, epochs, path):
    """``budget_axis.png``: random pruning with and without KD at every budget, against cost."""
    import matplotlib.pyplot as plt

    points = budget_points(rows, alpha)
    if len({scale for _, scale in points}) < 2:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for (kd, scale), cells in sorted(points.items()):
        cells = sorted(cells, key=lambda c: c[1])
        ax.errorbar(
            [c[1] for c in cells],
            [100 * c[2][0] for c in cells],
            yerr=_half([c[2] for c in cells]),
            marker="o",
            ms=3,
            capsize=2,
            ls="-" if kd else "--",
            label=f"{'KD' if kd else 'no KD'}, {scale * epochs:g} epochs",
        )
    ax.set_xscale("log")
    ax.set_xlabel("cost, student (× full-data student without KD); points: kept fractions")
    ax.set_ylabel("test accuracy (%), 95% interval")
    ax.set_title("Prune and distill, or all the data for fewer epochs?", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
