"""Results protocol v3's primary findings: the paper's sentences, one paired difference per seed.

Each function returns a finding's values per seed (in points, NaN where a
run is missing) for :func:`~prunekd.experiments._family.holm_verdicts`, which
reads them against their thresholds as one family. ``r`` is a
:class:`~prunekd.experiments._results.Results` of the main sweep, built with
the frozen choices (``{"alphas", "pooled_alphas", "comparators"}``);
``dynamic`` the dynamic sweep's rows.
"""

import math

import numpy as np

from ._results import nanmean

POINTS = 100.0
PAPER_PRUNERS = ("random", "el2n", "grand", "forgetting")
# The "not worse" findings, read against -margin; the others against 0.
NOT_WORSE = ("F2", "F5a", "F5b", "F5c", "F6")


def mean_over(values):
    """Per seed, the mean of several per-seed arrays (NaN if any is missing)."""
    return np.mean(np.vstack(values), axis=0)


def f1_kd_gain_random(r, small):
    """F1: random pruning with KD minus without, mean over the small fractions."""
    return POINTS * mean_over([r.kd_gain("random", f) for f in small])


def f2_random_minus_comparator(r, small, comparators):
    """F2: random minus the frozen comparator, both with KD, mean over the small fractions."""
    diffs = [r.kd_accuracy("random", f) - r.kd_accuracy(comparators[f"{f:g}"], f) for f in small]
    return POINTS * mean_over(diffs)


def f3_larger_alpha(r, small, pruners=PAPER_PRUNERS, high=1.0, low=0.25):
    """F3: alpha = 1 minus alpha = 0.25, mean over the pruners and the small fractions."""
    per_pruner = [mean_over([r.kd(p, f, high) - r.kd(p, f, low) for f in small]) for p in pruners]
    return POINTS * mean_over(per_pruner)


def f4_equal_minus_large(r, small, alpha=0.5):
    """F4: the equal teacher minus the large one, random pruning, mean over the small fractions."""
    diffs = [
        r.values("random", f, alpha, "equal") - r.values("random", f, alpha, "large") for f in small
    ]
    return POINTS * mean_over(diffs)


def f5_half_with_kd_minus_full(r, scale=1.0, fraction=0.5):
    """F5a/b/c: random f = 0.5 with KD minus the full data without KD at budget ``scale``."""
    return POINTS * (r.kd_accuracy("random", fraction) - r.kd("random", 1.0, 0.0, scale=scale))


def f5c_scale(epochs, teacher_epochs, teacher_cost=1.0, fraction=0.5):
    """F5c's budget scale: ceil(E (0.5 + T + P)) / E, the teacher's training and passes counted.

    ``T``: the equal teacher's training over one full-data student's;
    ``P``: KD's teacher passes over the kept rows, once, over the same.

    Examples
    --------
    >>> from prunekd.experiments._findings_v3 import f5c_scale
    >>> f5c_scale(70, 70), round(70 * f5c_scale(70, 70))
    (1.5142857142857142, 106)
    """
    t = teacher_epochs * teacher_cost / epochs
    p = fraction * teacher_cost / epochs
    return math.ceil(epochs * (fraction + t + p)) / epochs


def f6_dynamic_minus_full(dynamic, r, ratio=0.5, pruner="infobatch"):
    """F6: the dynamic student with KD minus the full data without KD, paired per seed.

    Returns ``(values, processed)``: the differences, and per seed the samples
    the dynamic student processed over the full-data student's.
    """
    rows = {
        row["seed"]: row
        for row in dynamic
        if row["study"] == "dynamic"
        and row["pruner"] == pruner
        and row["prune_ratio"] == ratio
        and row["alpha"] > 0
    }
    full = r.kd("random", 1.0, 0.0)
    samples = r.kd("random", 1.0, 0.0, "student_samples")
    values, processed = [], []
    for i, seed in enumerate(r.seeds):
        row = rows.get(seed)
        values.append(np.nan if row is None else POINTS * (row["test_accuracy"] - full[i]))
        processed.append(np.nan if row is None else row["student_samples"] / samples[i])
    return np.array(values), np.array(processed)


def teacher_gap(info, full_val, first="equal", second=None):
    """Validation accuracy of teacher ``first`` minus ``second`` (or the full-data student),
    in points, paired: the mean over the seeds both record.

    ``full_val``: ``{seed: the full-data student's validation accuracy}``. A
    run's ``info.json`` may lack the teachers of some seeds (an invocation
    killed before a run completed, before the cache carried them); pairing
    compares the networks on the same splits.
    """
    runs = info["teacher_runs"]  # a run that trained no capacity study fitted no large teacher
    a = {int(s): v["val_accuracy"] for s, v in runs.get(first, {}).items()}
    b = (
        full_val
        if second is None
        else {int(s): v["val_accuracy"] for s, v in runs.get(second, {}).items()}
    )
    seeds = sorted(set(a) & set(b))
    return POINTS * nanmean([a[s] - b[s] for s in seeds]) if seeds else np.nan


def primary_family(r, dynamic, spec, dataset, frozen, margin, info=None):
    """The primary findings of one dataset as Holm reads them, with the gates of the protocol.

    Returns ``(family, notes)``: ``{name: (values per seed, threshold)}`` for
    :func:`~prunekd.experiments._family.holm_verdicts`, and ``{name: note}``
    for a finding whose gate failed (it enters with no values, so p = 1):
    F4 when the large teacher had not finished learning, F6 when the dynamic
    student processed more than the cost condition allows.
    """
    small = spec["small_fractions"]
    settings = spec["design"]["settings"][dataset]
    scale_c = f5c_scale(settings["epochs"], settings["teacher_epochs"]["equal"])
    values = {
        "F1": f1_kd_gain_random(r, small),
        "F2": f2_random_minus_comparator(r, small, frozen["comparators"]),
        "F3": f3_larger_alpha(r, small),
        "F4": f4_equal_minus_large(r, small),
        "F5a": f5_half_with_kd_minus_full(r),
        "F5b": f5_half_with_kd_minus_full(r, scale=0.5),
        "F5c": f5_half_with_kd_minus_full(r, scale=round(scale_c, 4)),
    }
    values["F6"], processed = f6_dynamic_minus_full(dynamic, r)
    notes = {}
    if info is not None and teacher_gap(info, {}, "large", "equal") < -margin / 2:
        notes["F4"] = "not tested: the large teacher had not finished learning"
    if not nanmean(processed) <= 0.75:
        notes["F6"] = f"not tested at 0.75: the dynamic student processed {nanmean(processed):.2f}"
    family = {}
    for name, v in values.items():
        threshold = -margin if name in NOT_WORSE else 0.0
        family[name] = (np.full(len(v), np.nan) if name in notes else v, threshold)
    return family, notes
