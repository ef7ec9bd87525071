"""Protocol v3's primary statistics on rows whose per-seed differences are planted."""

import json
import math
import pathlib

import numpy as np
import pytest

from prunekd.experiments._family import holm_verdicts
from prunekd.experiments._findings_v3 import (
    f1_kd_gain_random,
    f2_random_minus_comparator,
    f3_larger_alpha,
    f4_equal_minus_large,
    f5_half_with_kd_minus_full,
    f5c_scale,
    f6_dynamic_minus_full,
    primary_family,
)
from prunekd.experiments._results import Results

SPEC = json.loads((pathlib.Path(__file__).resolve().parents[1]
                   / "prunekd/experiments/protocol_v3.json").read_text())  # fmt: skip
SEEDS = range(6)
SMALL = [0.1, 0.2, 0.3]
FROZEN = {"alphas": {p: {f"{f:g}": 0.5 for f in (*SMALL, 0.5, 1.0)}
                     for p in ("random", "el2n", "grand", "forgetting")},
          "pooled_alphas": {}, "comparators": {"0.1": "grand", "0.2": "el2n", "0.3": "grand"}}  # fmt: skip
SCALE_C = round(f5c_scale(70, 70), 4)


def _acc(seed, pruner, f, alpha, teacher, scale):
    """Accuracy: a seed level, plus planted effects that vary with the seed."""
    acc = 0.90 + 0.003 * seed + 0.05 * f
    if alpha > 0:
        acc += 0.02 + 0.001 * seed  # KD gain
        acc += 0.004 * alpha * (f < 0.5) * (1 + (pruner != "random"))  # larger alpha pays
        acc -= 0.006 * (teacher == "large") * (f < 0.5) + 0.0005 * seed * (teacher == "large")
    acc -= {"random": 0.0, "el2n": 0.01, "grand": 0.003 + 0.0002 * seed, "forgetting": 0.02}[pruner]
    return acc - 0.01 * (1 - scale) + 0.001 * seed * (scale != 1.0)


def _rows():
    rows = []

    def add(study, pruner, f, alpha, teacher, seed, scale=1.0):
        acc = _acc(seed, pruner, f, alpha, teacher, scale)
        rows.append(dict(study=study, pruner=pruner, fraction=f, alpha=alpha, seed=seed,
                         teacher=teacher, budget_scale=scale, val_accuracy=acc,
                         test_accuracy=acc, student_samples=1000.0 * f * scale,
                         prune_ratio=0.0))  # fmt: skip

    for seed in SEEDS:
        for f in (*SMALL, 0.5, 1.0):
            for pruner in ("random", "el2n", "grand", "forgetting") if f < 1 else ("random",):
                for alpha in (0.0, 0.25, 0.5, 1.0):
                    add("main", pruner, f, alpha, "equal" if alpha else "none", seed)
            add("capacity", "random", f, 0.5, "large", seed)
        for scale in (0.5, SCALE_C):
            add("budget", "random", 1.0, 0.0, "none", seed, scale)
    return rows


def _dynamic(processed=0.7):
    return [dict(study="dynamic", pruner="infobatch", fraction=1.0, alpha=0.5, seed=s,
                 teacher="equal", prune_ratio=0.5, test_accuracy=0.95 - 0.001 * s,
                 student_samples=1000.0 * processed, teacher_samples=10.0) for s in SEEDS]  # fmt: skip


@pytest.fixture(scope="module")
def r():
    return Results(_rows(), FROZEN)


def _expected(fn):
    return np.array([fn(s) for s in SEEDS])


def test_f1_is_the_kd_gain_of_random_pruning_at_small_fractions(r):
    want = _expected(lambda s: np.mean([_acc(s, "random", f, 0.5, "equal", 1) -
                                        _acc(s, "random", f, 0, "none", 1) for f in SMALL]))  # fmt: skip
    np.testing.assert_allclose(f1_kd_gain_random(r, SMALL), 100 * want)


def test_f2_is_random_minus_the_frozen_comparator_of_each_fraction(r):
    comp = FROZEN["comparators"]
    want = _expected(lambda s: np.mean([_acc(s, "random", f, 0.5, "equal", 1) -
                                        _acc(s, comp[f"{f:g}"], f, 0.5, "equal", 1)
                                        for f in SMALL]))  # fmt: skip
    np.testing.assert_allclose(f2_random_minus_comparator(r, SMALL, comp), 100 * want)


def test_f3_is_alpha_one_minus_a_quarter_over_the_four_pruners(r):
    pruners = ("random", "el2n", "grand", "forgetting")
    want = _expected(lambda s: np.mean([_acc(s, p, f, 1.0, "equal", 1) - _acc(s, p, f, 0.25, "equal", 1)
                                        for p in pruners for f in SMALL]))  # fmt: skip
    np.testing.assert_allclose(f3_larger_alpha(r, SMALL), 100 * want)
    assert f3_larger_alpha(r, SMALL)[0] == pytest.approx(100 * 0.004 * 0.75 * 1.75)


def test_f4_is_equal_minus_large_at_small_fractions(r):
    want = _expected(lambda s: np.mean([_acc(s, "random", f, 0.5, "equal", 1) -
                                        _acc(s, "random", f, 0.5, "large", 1) for f in SMALL]))  # fmt: skip
    np.testing.assert_allclose(f4_equal_minus_large(r, SMALL), 100 * want)
    assert f4_equal_minus_large(r, SMALL)[3] == pytest.approx(100 * (0.006 + 0.0015))


@pytest.mark.parametrize("scale", [1.0, 0.5, SCALE_C])
def test_f5_compares_half_the_data_with_kd_to_the_full_data_at_its_budget(r, scale):
    want = _expected(lambda s: _acc(s, "random", 0.5, 0.5, "equal", 1) -
                     _acc(s, "random", 1.0, 0.0, "none", scale))  # fmt: skip
    np.testing.assert_allclose(f5_half_with_kd_minus_full(r, scale=scale), 100 * want)


def test_f5c_counts_the_teachers_training_and_passes():
    assert round(70 * f5c_scale(70, 70)) == 106  # 70 x (0.5 + 1 + 0.5/70) = 105.5, rounded up
    # T = 340 x 0.5 / 170 = 1, P = 0.5 x 0.5 / 170
    assert f5c_scale(170, 340, teacher_cost=0.5) == pytest.approx(math.ceil(170 * 1.50147) / 170)


def test_f6_pairs_the_dynamic_student_with_the_full_data_and_measures_its_cost(r):
    values, processed = f6_dynamic_minus_full(_dynamic(0.7), r)
    want = _expected(lambda s: 0.95 - 0.001 * s - _acc(s, "random", 1.0, 0.0, "none", 1))
    np.testing.assert_allclose(values, 100 * want)
    np.testing.assert_allclose(processed, 0.7)


def test_the_family_gates_f4_and_f6_and_reads_not_worse_findings_against_the_margin(r):
    info = {"teacher_runs": {"equal": {str(s): {"val_accuracy": 0.97} for s in SEEDS},
                             "large": {str(s): {"val_accuracy": 0.96} for s in SEEDS}}}  # fmt: skip
    family, notes = primary_family(r, _dynamic(0.8), SPEC, "digits", FROZEN, margin=0.85,
                                   info=info)
    assert set(notes) == {"F4", "F6"}  # large 1 point below equal > 0.425; 0.8 > 0.75
    assert "not tested at 0.75: the dynamic student processed 0.80" == notes["F6"]
    assert {name: t for name, (_, t) in family.items()} == {
        "F1": 0.0, "F2": -0.85, "F3": 0.0, "F4": 0.0, "F5a": -0.85, "F5b": -0.85, "F5c": -0.85,
        "F6": -0.85}  # fmt: skip
    verdicts = holm_verdicts(family)
    assert verdicts["F4"].word == verdicts["F6"].word == "inconclusive"
    assert verdicts["F1"].word == "reproduced"
    info["teacher_runs"]["large"] = info["teacher_runs"]["equal"]
    assert primary_family(r, _dynamic(0.7), SPEC, "digits", FROZEN, 0.85, info)[1] == {}



def _info(equal=0.96, large=0.96):
    return {"teacher_runs": {
        "equal": {str(s): {"val_accuracy": equal, "test_accuracy": equal} for s in SEEDS},
        "large": {str(s): {"val_accuracy": large, "test_accuracy": large} for s in SEEDS}}}  # fmt: skip


def test_the_v3_section_reads_the_family_and_the_teacher_checks():
    from prunekd.experiments._report_v3 import v3_section

    text = "\n".join(v3_section(_rows(), _dynamic(0.7), _info(), SPEC, "digits", FROZEN, 0.85))
    for name in SPEC["family"]["primary"]:
        assert f"| {name} | {SPEC['findings'][name]['claim']} |" in text
    assert "**reproduced** (6 seeds)" in text and ": passed." in text
    assert "Secondary statistics" in text and "KD's part" in text
    # F6's cost condition as measured: 0.7 of the full data's samples, 0.01 more with KD's passes
    assert "processed 0.700: met. With KD's teacher passes it costs 0.710" in text
    # the full-data student: 0.95 + 0.003 x seed, 95.75% on average; a teacher 1 point
    # below it fails the check, and no verdict is published
    failed = "\n".join(v3_section(_rows(), _dynamic(0.7), _info(equal=0.9575 - 0.01), SPEC,
                                  "digits", FROZEN, 0.85))  # fmt: skip
    assert "FAILED: no verdict" in failed and "| F1 |" not in failed


def _teachers(large, equal=0.970):
    return {"teacher_runs": {"equal": {str(s): {"val_accuracy": equal} for s in SEEDS},
                             "large": {str(s): {"val_accuracy": large} for s in SEEDS}}}  # fmt: skip


def test_the_f4_gate_sits_at_half_the_margin(r):
    notes = primary_family(r, _dynamic(0.7), SPEC, "digits", FROZEN, 0.85, _teachers(0.964))[1]
    assert set(notes) == {"F4"}  # 0.6 points below the equal teacher: past 0.425
    assert primary_family(r, _dynamic(0.7), SPEC, "digits", FROZEN, 0.85, _teachers(0.967))[1] == {}


def test_f6_without_dynamic_rows_is_not_tested(r):
    family, notes = primary_family(r, [], SPEC, "digits", FROZEN, 0.85)
    assert "F6" in notes and np.isnan(family["F6"][0]).all()


def test_the_family_holds_the_findings_values(r):
    family, _ = primary_family(r, _dynamic(0.7), SPEC, "digits", FROZEN, 0.85)
    expect = {"F1": f1_kd_gain_random(r, SMALL), "F5a": f5_half_with_kd_minus_full(r),
              "F5b": f5_half_with_kd_minus_full(r, scale=0.5),
              "F5c": f5_half_with_kd_minus_full(r, scale=SCALE_C),
              "F6": f6_dynamic_minus_full(_dynamic(0.7), r)[0]}  # fmt: skip
    for name, want in expect.items():
        assert np.isfinite(family[name][0]).all()
        np.testing.assert_allclose(family[name][0], want)


def test_f6_reads_only_the_kd_student_at_its_ratio_and_pairs_any_seeds(r):
    rows = _dynamic(0.7)
    others = ([dict(row, alpha=0.0, teacher="none", test_accuracy=0.5) for row in rows]
              + [dict(row, prune_ratio=0.3, test_accuracy=0.5) for row in rows])  # fmt: skip
    want = f6_dynamic_minus_full(rows, r)[0]
    np.testing.assert_allclose(f6_dynamic_minus_full(rows + others, r)[0], want)

    def shift(rows):
        return [dict(row, seed=row["seed"] + 10) for row in rows]

    r10 = Results(shift(_rows()), FROZEN)
    np.testing.assert_allclose(f6_dynamic_minus_full(shift(rows), r10)[0], want)
