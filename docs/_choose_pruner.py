"""The "Choose a pruner" page: every method of the stored methods sweep, by what it needs and costs."""

import numpy as np

from prunekd.experiments import t_interval
from prunekd.experiments._methods import NEEDS, methods
from prunekd.experiments._methods import label as method_label
from prunekd.experiments._results import Results

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


def _dynamic_section():
    """The dynamic methods: chosen afresh each epoch, so not in the table of kept fractions."""
    names = ", ".join(f"`{m.name}`" for m in methods("dynamic"))
    return [
        "## Dynamic selection",
        "",
        f"Dynamic methods ({names}) need {NEEDS['training']}. They keep no fixed fraction: "
        "the student trains on every row, skipping each epoch some of those it has learned "
        "(`prunekd.callbacks.DynamicPruning`), so they save a share of every epoch rather "
        "than most of the data. `prunekd --pruners infobatch,infobatch_kd --prune-ratios "
        "0.3,0.5,0.7` runs them beside static random pruning with KD and the full data "
        "trained for fewer epochs, each at the cost the dynamic student measured. When to "
        "choose which: the user guide's \"Static or dynamic pruning\".",
        "",
    ]


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
    for need, words in NEEDS.items():
        names = [m.name for m in methods("static") if m.needs == need and m.name in results.pruners]
        for name in sorted(names, key=lambda n: _cost(rows, n)):
            cells = []
            for f in FRACTIONS:
                cells += [_cell(results.kd(name, f, 0.0)), _cell(results.kd_accuracy(name, f))]
            lines.append(f"| {words} | {method_label(name)} | {_cost(rows, name):.2f} | "
                         + " | ".join(cells) + " |")  # fmt: skip
    lines += [
        "",
        "CRAIG's and GradMatch's students train with the coresets' per-row weights "
        "(`sample_weight_`, as `prunekd.Pipeline` passes them); DeepFool's cost counts its "
        "proxies' training and every DeepFool step it took.",
        "",
        *_dynamic_section(),
        "Regenerate with:",
        "",
        "```bash",
        command,
        "```",
    ]
    return "\n".join(lines) + "\n"
