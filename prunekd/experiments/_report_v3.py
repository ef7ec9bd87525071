"""Results protocol v3's verdicts, as markdown: teacher checks, the primary family, secondaries.

A pure function of a dataset's rows (the main and the dynamic sweeps), its
``info.json`` and the protocol; the results page puts one such section per
dataset side by side.
"""

import numpy as np

from ._family import holm_verdicts
from ._findings_v3 import (
    PAPER_PRUNERS,
    POINTS,
    f5_half_with_kd_minus_full,
    f6_dynamic_minus_full,
    mean_over,
    primary_family,
    teacher_gap,
)
from ._results import Results, fmt_interval, nanmean, paired_interval


def _teacher_lines(r, info, margin):
    """Each teacher's validation and test accuracy beside the full-data student's, and the checks."""
    delta = margin / 2
    full_val = r.kd("random", 1.0, 0.0, "val_accuracy")
    lines = [
        "| network | validation (%) | test (%) |",
        "| --- | --- | --- |",
        f"| full-data student, no KD | {100 * nanmean(full_val):.2f} "
        f"| {100 * nanmean(r.kd('random', 1.0, 0.0)):.2f} |",
    ]
    for name, by_seed in info["teacher_runs"].items():
        val = nanmean([v.get("val_accuracy", np.nan) for v in by_seed.values()])
        test = nanmean([v["test_accuracy"] for v in by_seed.values()])
        lines.append(f"| teacher {name} | {100 * val:.2f} | {100 * test:.2f} |")
    equal = teacher_gap(info, full_val)
    passed = equal >= -delta
    lines += [
        "",
        f"Teacher check (equal teacher minus the full-data student, validation): {equal:+.2f} "
        f"points, against -delta = {-delta:.3f}: {'passed' if passed else 'FAILED: no verdict'}.",
    ]
    if "large" in info["teacher_runs"]:
        large = teacher_gap(info, full_val, "large", "equal")
        lines.append(f"Large-teacher gate for F4 (large minus equal, validation): {large:+.2f}.")
    return lines, passed


def _primary_lines(family, notes, spec):
    verdicts = holm_verdicts(family, alpha=spec["family"]["alpha"])
    lines = [
        "| finding | claim | primary statistic (points) | interval level | adjusted p | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, v in verdicts.items():
        word = notes.get(name, v.word)
        if v.below_zero:
            word += " (significantly below 0)"
        interval = fmt_interval(v.estimate, v.low, v.high, scale=1, digits=2)
        lines.append(
            f"| {name} | {spec['findings'][name]['claim']} | {interval} | {100 * v.level:.2f}% "
            f"| {v.p:.4f} | **{word}** ({v.n_seeds} seeds) |"
        )
    return lines


def _secondary(r, dynamic, small, large, frozen):
    """The secondary statistics: ``[(label, per-seed values in points)]``."""
    comparators, mean = frozen["comparators"], mean_over
    gain = {p: mean([r.kd_gain(p, f) for f in small]) for p in PAPER_PRUNERS}
    gain_large = {p: mean([r.kd_gain(p, f) for f in large]) for p in PAPER_PRUNERS}
    no_kd = mean([r.kd("random", f, 0.0) - r.kd(comparators[f"{f:g}"], f, 0.0) for f in small])
    with_kd = mean(
        [r.kd_accuracy("random", f) - r.kd_accuracy(comparators[f"{f:g}"], f) for f in small]
    )
    random_alpha = mean([r.kd("random", f, 1.0) - r.kd("random", f, 0.25) for f in small])
    gain_mean = mean(list(gain.values()))
    out = [
        ("F1: KD gain at small f, mean over the four pruners", gain_mean),
        (
            "F1: gain at small f minus at large f, mean over pruners (v2's 1b)",
            gain_mean - mean(list(gain_large.values())),
        ),
        ("F2: random minus the comparator without KD", no_kd),
        ("F2: KD's part (with KD minus without)", with_kd - no_kd),
        ("F3: alpha 1 minus 0.25 at small f, random pruning alone", random_alpha),
        (
            "F5a: the same difference against 0 (the paper's 'beats')",
            f5_half_with_kd_minus_full(r) / POINTS,
        ),
    ]
    values, _ = f6_dynamic_minus_full(dynamic, r)
    if np.isfinite(values).any():
        out.append(("F6: dynamic with KD minus the full data (prune ratio 0.5)", values / POINTS))
    return [(label, POINTS * v) for label, v in out]


def v3_section(main_rows, dynamic_rows, info, spec, dataset, frozen, margin):
    """Markdown lines: one dataset's v3 verdicts, teacher checks and secondary statistics."""
    r = Results(main_rows, frozen)
    teachers, passed = _teacher_lines(r, info, margin)
    lines = [f"## {dataset}: results protocol v3", "", *teachers, ""]
    if not passed:
        return lines + ["The teacher check failed: this dataset publishes no verdict.", ""]
    family, notes = primary_family(r, dynamic_rows, spec, dataset, frozen, margin, info)
    lines += [
        f"Primary findings, one Holm family (alpha {spec['family']['alpha']}), margin "
        f"{margin:.2f} points:",
        "",
        *_primary_lines(family, notes, spec),
        "",
        "Secondary statistics (descriptions, 95% t-intervals; never a verdict):",
        "",
    ]
    small, large = spec["small_fractions"], spec["large_fractions"]
    for label, values in _secondary(r, dynamic_rows, small, large, frozen):
        lines.append(f"- {label}: {fmt_interval(*paired_interval(values), scale=1, digits=2)}")
    return lines + [""]
