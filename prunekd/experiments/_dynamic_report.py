"""The dynamic study's section of a summary: what each student processed, and paired comparisons.

Costs are in samples processed by a network of the student's size, relative
to one full-data student without KD at the sweep's budget (the main study's);
the teacher passes KD adds are counted, the teacher's own training is not
(it is reported once, beside the other costs).
"""

import numpy as np

from ._methods import get_method
from ._methods import label as method_label
from ._results import fmt_accuracy, fmt_interval
from ._stats import t_interval


def _by_seed(rows, **match):
    """``{seed: row}`` of the rows matching every ``key=value`` of ``match``."""
    return {r["seed"]: r for r in rows if all(r.get(k) == v for k, v in match.items())}


def _by_ratio(rows):
    """``(prune ratio, its rows)``, by increasing ratio."""
    return [
        (q, [r for r in rows if r["prune_ratio"] == q])
        for q in sorted({r["prune_ratio"] for r in rows})
    ]


def _role(row):
    """How a dynamic-study row is named in the table."""
    if get_method(row["pruner"]).kind == "dynamic":
        return f"{method_label(row['pruner'])}, {'KD' if row['alpha'] > 0 else 'no KD'}"
    if row["alpha"] > 0:
        return "static random + KD, same cost"
    return "full data, no KD, same cost (fewer epochs)"


def _cost(rows, reference):
    samples = [r["student_samples"] + r["teacher_samples"] for r in rows]
    return float(np.mean(samples)) / reference


def _paired(a, b):
    """Mean difference a - b over the seeds both have, in points, with its interval."""
    seeds = sorted(set(a) & set(b))
    d = [a[s]["test_accuracy"] - b[s]["test_accuracy"] for s in seeds]
    return fmt_interval(*t_interval(d)), len(seeds)


def dynamic_points(rows, ref_samples, ref_seconds):
    """Points of the accuracy-against-compute table: one per (dynamic method, KD, prune ratio).

    As :func:`~prunekd.experiments._compute.compute_points` gives them, with
    ``fraction`` None and ``prune_ratio`` set; a dynamic method scores nothing
    before the student, so both costs are its training's.
    """
    dynamic = [r for r in rows if r["study"] == "dynamic" and r["pruner"] != "random"]
    points = []
    for key in dict.fromkeys((r["pruner"], r["alpha"] > 0, r["prune_ratio"]) for r in dynamic):
        group = [r for r in dynamic if (r["pruner"], r["alpha"] > 0, r["prune_ratio"]) == key]
        cost = _cost(group, ref_samples)
        points.append(
            dict(
                pruner=key[0],
                kd=key[1],
                fraction=None,
                prune_ratio=key[2],
                student=cost,
                total=cost,
                seconds=float(np.mean([r["fit_seconds"] for r in group])) / ref_seconds,
                accuracy=t_interval([r["test_accuracy"] for r in group]),
            )
        )
    return points


def dynamic_lines(rows):
    """Markdown lines: the dynamic study's table and its paired differences (none without it)."""
    dynamic = [r for r in rows if r["study"] == "dynamic"]
    full = _by_seed(rows, study="main", pruner="random", fraction=1.0, alpha=0.0)
    if not dynamic or not full:
        return []
    reference = float(np.mean([r["student_samples"] for r in full.values()]))
    lines = [
        "## Dynamic pruning",
        "",
        "InfoBatch's recipe on the student (`prunekd.callbacks.DynamicPruning`): each epoch "
        "skips a fraction (the prune ratio) of the rows whose last loss is below the mean. "
        "Cost: samples the student processed plus the teacher passes KD adds, relative to one "
        "full-data student without KD (the teacher's own training is apart). Its comparators "
        "train at the cost the first dynamic student with KD measured. Each student here "
        "trains alone (the main study's train as vectorised groups, so wall times compare "
        "within a study only).",
        "",
        "| prune ratio | student | cost (×) | test accuracy (%) [95% interval] |",
        "| --- | --- | --- | --- |",
    ]
    for ratio, here in _by_ratio(dynamic):
        for role in dict.fromkeys(_role(r) for r in here):
            group = [r for r in here if _role(r) == role]
            accuracy = fmt_accuracy(t_interval([r["test_accuracy"] for r in group]))
            lines.append(f"| {ratio:g} | {role} | {_cost(group, reference):.2f} | {accuracy} |")
    return lines + ["", *_difference_lines(dynamic, full), ""]


def _difference_lines(dynamic, full):
    """Paired differences of each dynamic student with KD against its comparators."""
    lines = [
        "Paired differences (points, mean over seeds with a 95% t-interval):",
        "",
        "| prune ratio | dynamic student | minus | difference | seeds |",
        "| --- | --- | --- | --- | --- |",
    ]
    for ratio, here in _by_ratio(dynamic):
        static = _by_seed(here, pruner="random", teacher="equal")
        shorter = _by_seed(here, pruner="random", teacher="none")
        comparators = (
            ("static random + KD, same cost", static),
            ("full data, no KD, same cost", shorter),
            ("full data, no KD, whole budget", full),
        )
        for name in dict.fromkeys(r["pruner"] for r in here if r["pruner"] != "random"):
            student = _by_seed(here, pruner=name, teacher="equal")
            for words, other in comparators:
                diff, n = _paired(student, other)
                label = f"{method_label(name)}, KD"
                lines.append(f"| {ratio:g} | {label} | {words} | {diff} | {n} |")
    return lines
