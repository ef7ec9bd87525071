"""Results protocol v3's verdicts, as markdown: teacher checks, the primary family, secondaries.

A pure function of a dataset's rows (the main and the dynamic sweeps), its
``info.json`` and the protocol; the results page puts one such section per
dataset side by side.
"""

import numpy as np

from ._config import STORED_BEFORE
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
from ._protocol import protocol_v3, protocol_v3_hash, v3_design
from ._results import Results, fmt_interval, nanmean, paired_interval


def _teacher_lines(r, info, margin):
    """Each teacher's validation and test accuracy beside the full-data student's, and the checks."""
    delta = margin / 2
    full_val = r.kd("random", 1.0, 0.0, "val_accuracy")
    lines = [
        "| network | validation (%) | test (%) |",
        "| --- | --- | --- |",
        (
            f"| full-data student, no KD | {100 * nanmean(full_val):.2f} "
            f"| {100 * nanmean(r.kd('random', 1.0, 0.0)):.2f} |"
        ),
    ]
    runs = info["teacher_runs"]
    for name in sorted(runs, key=lambda n: (_ORDER.get(n, len(_ORDER)), n)):  # by width
        by_seed = runs[name]
        val = nanmean([v.get("val_accuracy", np.nan) for v in by_seed.values()])
        test = nanmean([v["test_accuracy"] for v in by_seed.values()])
        lines.append(f"| teacher {name} | {100 * val:.2f} | {100 * test:.2f} |")
    full_val = dict(zip(r.seeds, full_val))
    equal = teacher_gap(info, full_val)
    passed = equal >= -delta
    lines += ["", *_recorded_seeds_lines(r, runs, info.get("teachers_borrowed", {}))]
    lines.append(
        f"Teacher check (equal teacher minus the full-data student, validation): {equal:+.2f} "
        f"points, against -delta = {-delta:.3f}: {'passed' if passed else 'FAILED: no verdict'}."
    )
    if "large" in runs:
        large = teacher_gap(info, full_val, "large", "equal")
        lines.append(f"Large-teacher gate for F4 (large minus equal, validation): {large:+.2f}.")
    return lines, passed


_ORDER = {"small": 0, "equal": 1, "large": 2}


def _recorded_seeds_lines(r, runs, borrowed):
    """Which seeds' teachers the main run's ``info.json`` lacks, if any, and where the page
    found the ones it borrowed (:func:`borrow_teachers`): the checks pair on those it has."""
    taken = {s for entries in borrowed.values() for _, seeds, _ in entries for s in seeds}
    recorded = set.intersection(*(set(map(int, by_seed)) for by_seed in runs.values()))
    missing = sorted((set(r.seeds) - recorded) | taken)
    if not missing:
        return []
    lines = [
        (
            f"info.json records the teachers of {len(r.seeds) - len(missing)} of "
            f"{len(r.seeds)} seeds (not {_seed_list(missing)}: fitted by an invocation killed "
            "before the run completed, whose teachers the cache did not yet carry into info.json)."
        )
    ]
    for name, entries in borrowed.items():
        lines += [
            f"The {name} teacher of seeds {_seed_list(seeds)} is the {source}'s, which fits the "
            f"same teacher on each seed: on all {shared} seeds both runs record, its validation "
            "and test accuracies equal the main run's."
            for source, seeds, shared in entries
        ]
    lines.append(
        "The table averages the seeds each network has, and each check pairs its two networks "
        "on the seeds both have."
    )
    return [" ".join(lines), ""]


def same_teachers(info, other, name="equal"):
    """``(shared, same)``: the seeds both runs record teacher ``name`` on, and those of them on
    which its validation and test accuracies are equal. Two runs of one design fit the same
    teacher on a seed; equal records on every shared seed say they did."""
    a = info["teacher_runs"].get(name, {})
    b = (other.get("teacher_runs") or {}).get(name, {})
    shared = sorted(set(a) & set(b), key=int)
    keys = ("val_accuracy", "test_accuracy")
    return shared, [s for s in shared if all(a[s].get(k) == b[s].get(k) for k in keys)]


def _machines(info):
    return "; ".join(info.get("machines", [])) or "not recorded"


def teacher_agreement_lines(main, info, n_seeds, label="methods sweep"):
    """Whether run ``info``'s equal teachers are those of the main run (``main``), seed by seed.

    Says on how many of its ``n_seeds`` seeds the run records its equal
    teacher, on how many of those both runs do and agree, and, where they do
    not, the machines each run's invocations ran on: a fit is deterministic
    on one machine, not across machines.
    """
    shared, same = same_teachers(main, info)
    recorded = len(info["teacher_runs"].get("equal", {}))
    lines = []
    if recorded != n_seeds:
        lines.append(f"The {label} records its equal teacher on {recorded} of its {n_seeds} seeds.")
    agree = (
        f"On {len(same)} of {len(shared)} seeds both runs record, the {label}'s equal teacher "
        "has the main run's validation and test accuracy"
    )
    if same == shared:
        lines.append(f"{agree}: it fits the main run's teachers again.")
    else:
        lines.append(
            f"{agree}; on the other {len(shared) - len(same)} it does not. A fit is "
            "deterministic on one machine, not across machines. The main run's machines: "
            f"{_machines(main)}. The {label}'s: {_machines(info)}. Claim 2 reads the {label} "
            "alone: on each seed and fraction, random and every method learn from one teacher."
        )
    return [" ".join(lines), ""]


def borrow_teachers(info, others, seeds):
    """``info`` with the teachers it lacks on ``seeds`` taken from ``others`` (``{label: info}``).

    A run borrows teacher ``name`` from another only when the other records it on
    at least one seed that this run records too and on every such seed its
    accuracies equal this run's; ``info["teachers_borrowed"]`` says which seeds
    came from where, and on how many seeds the two runs were compared. The
    returned dict is new; ``info`` is left as it was.
    """
    runs = {name: dict(by_seed) for name, by_seed in info["teacher_runs"].items()}
    borrowed = {}
    for source, other in others.items():
        for name, by_seed in (other.get("teacher_runs") or {}).items():
            shared, same = same_teachers(info, other, name) if name in runs else ([], [])
            wanted = {str(s) for s in seeds} - set(runs.get(name, {}))
            missing = sorted(wanted & set(by_seed), key=int)
            if missing and shared and same == shared:
                runs[name].update({s: by_seed[s] for s in missing})
                borrowed.setdefault(name, []).append(
                    (source, [int(s) for s in missing], len(shared))
                )
    return {**info, "teacher_runs": runs, "teachers_borrowed": borrowed}


def _seed_list(seeds):
    """``[70, 71, 72, 80]`` as ``"70-72, 80"``."""
    spans = []
    for s in seeds:
        if spans and s == spans[-1][1] + 1:
            spans[-1][1] = s
        else:
            spans.append([s, s])
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in spans)


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
    out += _contrasts(r, small, large)
    values, _ = f6_dynamic_minus_full(dynamic, r)
    if np.isfinite(values).any():
        out.append(("F6: dynamic with KD minus the full data (prune ratio 0.5)", values / POINTS))
    out.sort(key=lambda item: item[0].split(":")[0])  # stable: each finding's lines together
    return [(label, POINTS * v) for label, v in out]


def _contrasts(r, small, large):
    """v2's interactions (small f minus large f) of F3 and F4, and F4's small teacher."""
    mean = mean_over

    def alpha_gain(fractions):
        per = [mean([r.kd(p, f, 1.0) - r.kd(p, f, 0.25) for f in fractions]) for p in PAPER_PRUNERS]
        return mean(per)

    def teachers(fractions, first="equal", second="large"):
        return mean(
            [
                r.values("random", f, 0.5, first) - r.values("random", f, 0.5, second)
                for f in fractions
            ]
        )

    out = [
        (
            "F3: at small f minus at large f, mean over pruners (v2's 3)",
            alpha_gain(small) - alpha_gain(large),
        )
    ]
    if "large" in r.teachers:
        out += [
            ("F4: at small f minus at large f (v2's 4)", teachers(small) - teachers(large)),
            ("F4: the small teacher minus the large one at small f", teachers(small, "small")),
        ]
    return out


def _gain_cells(r, fractions):
    """F1's secondary: the KD gain of every (pruner, fraction) cell, frozen alpha, 95% interval."""
    lines = [
        "| pruner | " + " | ".join(f"f = {f:g}" for f in fractions) + " |",
        "| --- " * (len(fractions) + 1) + "|",
    ]
    for p in PAPER_PRUNERS:
        cells = [
            fmt_interval(*paired_interval(POINTS * r.kd_gain(p, f)), scale=1) for f in fractions
        ]
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    return lines


def _f6_cost_lines(r, dynamic, info):
    """F6's cost condition, as measured: the student's samples, with KD's passes, with the teacher."""
    _, processed = f6_dynamic_minus_full(dynamic, r)
    if not np.isfinite(processed).any():
        return []
    full = nanmean(r.kd("random", 1.0, 0.0, "student_samples"))
    passes = (
        nanmean(
            [
                row["teacher_samples"]
                for row in dynamic
                if row["study"] == "dynamic"
                and row["pruner"] == "infobatch"
                and row["prune_ratio"] == 0.5
                and row["alpha"] > 0
            ]
        )
        / full
    )
    teacher = (info.get("teacher_samples") or {}).get("equal", np.nan) / full
    student = nanmean(processed)
    total = student + passes + teacher
    # judged as primary_family's gate judges it: on the samples the dynamic student processed
    met = "met" if student <= 0.75 else "not met: F6 is not tested"
    above = "above 1, so the sentence cannot hold at that cost" if total > 1 else "at most 1"
    return [
        (
            "F6's cost condition, at most 0.75 of the full-data student's samples (the teacher's "
            f"training apart): the dynamic student with KD processed {student:.3f}: {met}. With "
            f"KD's teacher passes it costs {student + passes:.3f}; with the teacher's training "
            f"counted (amortised over one student), {total:.2f}, {above}."
        ),
        "",
    ]


def v3_section(main_rows, dynamic_rows, info, spec, dataset, frozen, margin):
    """Markdown lines: one dataset's v3 verdicts, teacher checks and secondary statistics."""
    r = Results(main_rows, frozen)
    teachers, passed = _teacher_lines(r, info, margin)
    lines = [f"## {dataset}: results protocol v3", "", *teachers, ""]
    if not passed:
        return lines + ["The teacher check failed: this dataset publishes no verdict.", ""]
    family, notes = primary_family(r, dynamic_rows, spec, dataset, frozen, margin, info)
    lines += [
        (
            f"Primary findings, one Holm family (alpha {spec['family']['alpha']}), margin "
            f"{margin:.2f} points:"
        ),
        "",
        *_primary_lines(family, notes, spec),
        "",
        *_f6_cost_lines(r, dynamic_rows, info),
        "Secondary statistics (descriptions, 95% t-intervals; never a verdict):",
        "",
    ]
    small, large = spec["small_fractions"], spec["large_fractions"]
    for label, values in _secondary(r, dynamic_rows, small, large, frozen):
        lines.append(f"- {label}: {fmt_interval(*paired_interval(values), scale=1, digits=2)}")
    return lines + [
        "",
        "F1's cells (secondary): the KD gain, frozen alpha minus no KD, test accuracy points:",
        "",
        *_gain_cells(r, [f for f in r.fractions if f < 1]),
        "",
    ]


def v3_verdict_table(rows, info, dataset):
    """Protocol v3's verdicts on a run of its ``dataset`` design, as plain text for the terminal.

    ``rows`` hold the main and the dynamic study (one run, or both runs' rows).
    The family is read as the protocol reads it, on however many seeds the
    run has; the protocol sized its confirmatory run, whose verdicts the
    results page publishes.
    """
    spec = protocol_v3()
    frozen = spec["frozen"][dataset]
    r = Results(rows, frozen)
    family, notes = primary_family(r, rows, spec, dataset, frozen, frozen["margin"], info)
    verdicts = holm_verdicts(family, alpha=spec["family"]["alpha"])
    teachers, passed = _teacher_lines(r, info, frozen["margin"])
    lines = [
        f"Results protocol v3, {dataset} design: {len(r.seeds)} seeds, one Holm family "
        f"(family-wise error {spec['family']['alpha']}), margin {frozen['margin']} points. "
        f"The protocol sized its confirmatory run at {frozen['n_seeds']} seeds (seeds "
        f"{frozen['confirmatory_seeds']}); a run of fewer seeds reads fewer findings. The "
        "published verdicts: docs/results_v3.md.",
        f"{'finding':8} {'verdict':13} {'estimate [interval], points':30} claim",
    ]
    for name, v in verdicts.items():
        # a failed teacher check publishes no word: the statistics stay, as descriptions
        word = notes.get(name, v.word) if passed else "no verdict"
        interval = fmt_interval(v.estimate, v.low, v.high, scale=1, digits=2)
        lines.append(f"{name:8} {word:13} {interval:30} {spec['findings'][name]['claim']}")
    check = next(line for line in teachers if line.startswith("Teacher check"))
    return "\n".join([*lines, check])


def v3_summary_lines(rows, config, info):
    """A run's summary section under protocol v3, when it trains as a frozen v3 design, else None."""
    dataset = v3_design(config)
    if dataset is None or not (info or {}).get("teacher_runs"):
        return None
    spec = protocol_v3()
    frozen = spec["frozen"][dataset]
    lines = [
        "## The paper's findings on this run, under results protocol v3",
        "",
        f"This run trains as protocol v3's {dataset} design (`prunekd/experiments/protocol_v3.json`, "
        f"sha256 `{protocol_v3_hash()[:16]}`), so its alphas and F2's comparators are the frozen "
        f"ones. It has {len({r['seed'] for r in rows})} seeds; the protocol sized its "
        f"confirmatory run at {frozen['n_seeds']} (seeds {frozen['confirmatory_seeds']}), whose "
        "verdicts the results page publishes (docs/results_v3.md).",
        "",
    ]
    if not {**STORED_BEFORE, **config}["secondary"]:
        untrained = (
            "It trains the runs the primary findings read. The runs only secondary statistics "
            "read (every pruner and teacher at the large fractions, the dynamic study's methods "
            "without KD and its same-cost comparators) were not trained and show – or n/a "
            "below; `prunekd --secondary` trains them."
        )
        lines += [untrained, ""]
    section = v3_section(rows, rows, info, spec, dataset, frozen, frozen["margin"])
    return lines + section[1:]  # the section's own title gives way to this one
