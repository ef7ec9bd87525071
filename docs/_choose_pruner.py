"""The "Choose a pruner" page: every method of the stored methods sweep, by what it needs and costs."""

import numpy as np

from prunekd.experiments import t_interval
from prunekd.experiments._results import PRUNER_LABELS, Results

# What each method of `prunekd --pruners` needs beyond the data, in the order of the page.
NEEDS = {
    "nothing": ["random"],
    "the inputs (distances in the input space)": [
        "kcenter", "herding", "moderate", "facility_location", "graph_cut", "log_determinant",
        "prototype"],
    "proxies (networks trained to score)": [
        "el2n", "grand", "forgetting", "entropy", "margin", "least_confidence", "ccs", "d2",
        "deepfool"],
    "the teacher's outputs (one inference pass)": [
        "el2n_teacher", "cd_teacher", "cal_teacher", "prototype_teacher"],
    "the teacher's outputs, and the student trains with the coreset's weights": [
        "craig_teacher", "gradmatch_teacher"],
    "the teacher's outputs and a validation split taken from the training rows": [
        "glister_teacher"],
    "the teacher's recorded training (no pass at all)": [
        "forgetting_teacher", "aum_teacher", "dyn_unc_teacher", "tdds_teacher"],
}  # fmt: skip
FRACTIONS = (0.1, 0.3)


def _cost(rows, pruner):
    """The pruner's scoring cost relative to one full-data student without KD (median over seeds)."""
    full = np.median([r["student_samples"] for r in rows
                      if r["pruner"] == "random" and r["fraction"] == 1.0 and r["alpha"] == 0.0])  # fmt: skip
    spent = [r["pruner_samples"] for r in rows if r["pruner"] == pruner and r["fraction"] < 1.0]
    return float(np.median(spent)) / full if spent else float("nan")


def _cell(values):
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return "n/a"
    mean, low, high = (100 * v for v in t_interval(values))
    return f"{mean:.1f} [{low:.1f}, {high:.1f}]"


def choose_pruner_page(rows, command):
    """Markdown: per method, what it needs, its cost, and test accuracy with and without KD."""
    results = Results(rows)
    header = " | ".join(f"f={f:g}, {kd}" for f in FRACTIONS for kd in ("no KD", "KD"))
    lines = [
        "# Choose a pruner",
        "",
        "Every selection method of `prunekd --pruners`, grouped by what it needs beyond the "
        "data and ordered by what it costs. Cost: the samples its scoring processes, relative "
        "to one full-data student trained without KD (median over seeds; 0 when it runs no "
        "network). Accuracy: test accuracy (%) of the students of the stored methods sweep "
        "(digits, SmallCNN, 10 confirmatory seeds, each with its own split and teacher), mean "
        "with a 95% interval over seeds, without KD and with KD at the alpha chosen on "
        "validation for that method and fraction. The intervals describe; the verdicts are "
        "on the [results page](results.md) (claim 2's family).",
        "",
        f"| needs | method | cost (x one student) | {header} |",
        "| --- | --- | --- | " + " | ".join("---" for _ in range(2 * len(FRACTIONS))) + " |",
    ]
    for need, names in NEEDS.items():
        present = sorted((n for n in names if n in results.pruners), key=lambda n: _cost(rows, n))
        for name in present:
            cells = []
            for f in FRACTIONS:
                cells += [_cell(results.kd(name, f, 0.0)), _cell(results.kd_accuracy(name, f))]
            lines.append(f"| {need} | {PRUNER_LABELS[name]} | {_cost(rows, name):.2f} | "
                         + " | ".join(cells) + " |")  # fmt: skip
    lines += [
        "",
        "CRAIG's and GradMatch's students train with the coresets' per-row weights "
        "(`sample_weight_`, as `prunekd.Pipeline` passes them); DeepFool's cost counts its "
        "proxies' training and every DeepFool step it took. Regenerate with:",
        "",
        "```bash",
        command,
        "```",
    ]
    return "\n".join(lines) + "\n"
