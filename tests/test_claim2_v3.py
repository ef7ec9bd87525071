"""Claim 2 under protocol v3: the protocol's list is the family, a later method never enters it."""

import numpy as np
import pytest

from prunekd.experiments._claim2_v3 import claim_2_lines, claim_2_v3

FROZEN = {
    "alphas": {"random": {"0.1": 0.5, "0.2": 0.5, "0.3": 0.5}},
    "pooled_alphas": {"0.1": 1.0, "0.2": 1.0, "0.3": 1.0},
}
SEEDS = range(8)
NOISE = np.array([0.3, -0.1, 0.2, -0.4, 0.0, 0.1, -0.2, 0.1])  # points, mean 0


def _rows(offsets):
    """Rows whose random-minus-method difference with KD is ``offsets[method]`` + NOISE points.

    Random trains at its frozen alpha 0.5, every other method at the pooled 1.0; rows at the
    alphas not chosen carry a large accuracy, so reading the wrong alpha changes every number.
    """
    rows = []
    for method, offset in {"random": 0.0, **offsets}.items():
        chosen = 0.5 if method == "random" else 1.0
        for seed in SEEDS:
            for f in (0.1, 0.2, 0.3):
                for alpha in (0.0, 0.5, 1.0):
                    base = 90.0 if method == "random" else 90.0 - offset - NOISE[seed]
                    acc = base if alpha == chosen else 99.0
                    rows.append(
                        {
                            "study": "main",
                            "pruner": method,
                            "fraction": f,
                            "alpha": alpha,
                            "seed": seed,
                            "teacher": "equal" if alpha else "none",
                            "budget_scale": 1.0,
                            "val_accuracy": 0.5,
                            "test_accuracy": acc / 100,
                        }
                    )
    return rows


def _t_half(level, n=len(SEEDS)):
    from scipy import stats

    return stats.t.ppf(0.5 + level / 2, n - 1) * NOISE.std(ddof=1) / np.sqrt(n)


def test_the_intervals_are_the_paired_t_intervals_at_the_frozen_alphas():
    out = claim_2_v3(_rows({"el2n": 0.4, "grand": -0.2}), FROZEN, 1.0, family=["el2n", "grand"])
    est, _, high, _, b_high = out["members"]["el2n"]
    assert est == pytest.approx(0.4) and high - est == pytest.approx(_t_half(0.95))
    assert out["level"] == pytest.approx(1 - 0.05 / 2)
    assert b_high - est == pytest.approx(_t_half(1 - 0.05 / 2))
    assert out["members"]["grand"][0] == pytest.approx(-0.2) and out["word"] == "reproduced"


def test_a_method_outside_the_protocols_list_is_reported_but_never_enters_the_family():
    rows = _rows({"el2n": 0.4, "grand": 0.1, "kcenter": -5.0})  # k-center far better than random
    out = claim_2_v3(rows, FROZEN, 1.0, family=["el2n", "grand"])
    assert out["word"] == "reproduced" and set(out["members"]) == {"el2n", "grand"}
    assert list(out["later"]) == ["kcenter"] and out["later"]["kcenter"][0] == pytest.approx(-5.0)
    # in the family, the same method contradicts it
    inside = claim_2_v3(rows, FROZEN, 1.0, family=["el2n", "grand", "kcenter"])
    assert inside["word"] == "contradicted" and inside["later"] == {}
    lines = "\n".join(claim_2_lines(out, 1.0))
    assert "| k-center | -5.00 [" in lines and "no: added after the freeze |" in lines


def test_a_member_not_run_leaves_the_family_inconclusive():
    out = claim_2_v3(_rows({"el2n": 0.4}), FROZEN, 1.0, family=["el2n", "grand"])
    assert out["missing"] == ["grand"] and out["word"] == "inconclusive"
    assert "Not run: GraNd." in "\n".join(claim_2_lines(out, 1.0))


def test_contradicted_needs_the_bonferroni_interval_below_the_margin():
    # -1.21: the 95% interval lies below -1 (not 'every method'), the Bonferroni one straddles it
    half95, half_b = _t_half(0.95), _t_half(1 - 0.05 / 2)
    assert -1.21 + half95 < -1.0 < -1.21 + half_b
    out = claim_2_v3(_rows({"el2n": 0.4, "grand": -1.21}), FROZEN, 1.0, family=["el2n", "grand"])
    assert out["word"] == "inconclusive"
    out = claim_2_v3(_rows({"el2n": 0.4, "grand": -2.0}), FROZEN, 1.0, family=["el2n", "grand"])
    assert out["word"] == "contradicted"


def test_the_page_renders_claim_2_from_a_complete_methods_run(tmp_path, monkeypatch):
    import os
    import shutil
    import sys

    docs = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
    sys.path.insert(0, docs)
    try:
        import _results_v3
    finally:
        sys.path.remove(docs)
    from prunekd.experiments._protocol import protocol_v3

    spec = protocol_v3()
    monkeypatch.setattr(_results_v3, "V3", str(tmp_path))  # no methods run stored yet
    assert "## Claim 2 against every method: not run yet under v3" in "\n".join(
        _results_v3._claim_2_sections(spec)
    )
    # v2's stored methods sweep stands in for a complete v3 one
    shutil.copytree(os.path.join(docs, "results", "methods"), tmp_path / "digits" / "methods")
    text = "\n".join(_results_v3._claim_2_sections(spec))
    assert "## digits: claim 2 against every method" in text
    assert "(27 of 27 run): inconclusive**" in text and "| k-center | " in text


def test_every_method_reads_the_95_interval_and_so_does_each_rows_word():
    # kills: "every method" (above) judged on the Bonferroni interval; the table's word column
    # taken from the Bonferroni interval
    from prunekd.experiments._methods import label

    # -0.79: the 95% interval lies above -1, the Bonferroni one straddles it
    half95, half_b = _t_half(0.95), _t_half(1 - 0.05 / 2)
    assert -0.79 - half95 > -1.0 > -0.79 - half_b
    out = claim_2_v3(_rows({"el2n": 0.4, "grand": -0.79}), FROZEN, 1.0, family=["el2n", "grand"])
    assert out["word"] == "reproduced"
    rows = [line for line in claim_2_lines(out, 1.0) if line.startswith(f"| {label('grand')} |")]
    assert len(rows) == 1 and "| reproduced | yes |" in rows[0]


def test_a_rows_word_reads_a_contradiction_on_the_bonferroni_interval_only():
    # kills: each row's word taken from its 95% interval in both directions (a method whose
    # 95% interval lies below -margin, its Bonferroni one straddling it, read "contradicted"
    # beside a family that is not)
    from prunekd.experiments._methods import label

    half95, half_b = _t_half(0.95), _t_half(1 - 0.05 / 2)
    below = -1.0 - (half95 + half_b) / 2  # 95% interval below -1, Bonferroni one across it
    out = claim_2_v3(_rows({"el2n": 0.4, "grand": below}), FROZEN, 1.0, family=["el2n", "grand"])
    assert out["members"]["grand"][2] < -1.0 < out["members"]["grand"][4]
    assert out["word"] == "inconclusive"
    lines = claim_2_lines(out, 1.0)
    (row,) = [line for line in lines if line.startswith(f"| {label('grand')} |")]
    assert "| inconclusive | yes |" in row
    out = claim_2_v3(_rows({"el2n": 0.4, "grand": -1.0 - half_b - 0.05}), FROZEN, 1.0,
                     family=["el2n", "grand"])  # fmt: skip
    (row,) = [line for line in claim_2_lines(out, 1.0) if line.startswith(f"| {label('grand')} |")]
    assert out["word"] == "contradicted" and "| contradicted | yes |" in row


def test_the_page_names_the_alpha_each_side_trained_at():
    out = claim_2_v3(_rows({"el2n": 0.4}), FROZEN, 1.0, family=["el2n"])
    assert out["alphas"] == {"random": [0.5, 0.5, 0.5], "pooled": [1.0, 1.0, 1.0]}
    text = "\n".join(claim_2_lines(out, 1.0))
    assert "at f = 0.1, 0.2, 0.3: Random 0.5, 0.5, 0.5; every other method 1, 1, 1." in text


def test_the_bonferroni_level_counts_the_family_not_the_methods_added_later():
    # kills: level = 1 - 0.05 / len(scored) (a later method would widen the family's intervals)
    out = claim_2_v3(_rows({"el2n": 0.4, "grand": 0.1, "kcenter": 0.0}), FROZEN, 1.0,
                     family=["el2n", "grand"])  # fmt: skip
    assert list(out["later"]) == ["kcenter"]
    assert out["level"] == pytest.approx(1 - 0.05 / 2)
    est, _, _, _, b_high = out["members"]["el2n"]
    assert b_high - est == pytest.approx(_t_half(1 - 0.05 / 2))
    assert "Bonferroni interval (97.50%)" in "\n".join(claim_2_lines(out, 1.0))


def test_only_the_small_fractions_enter_the_difference():
    # kills: small = every fraction of the rows (a methods sweep run with a larger fraction)
    frozen = {
        "alphas": {"random": {**FROZEN["alphas"]["random"], "0.5": 0.5}},
        "pooled_alphas": {**FROZEN["pooled_alphas"], "0.5": 1.0},
    }
    rows = _rows({"el2n": 0.4})
    for method, acc in (("random", 0.90), ("el2n", 0.80)):  # 10 points apart at fraction 0.5
        for seed in SEEDS:
            for alpha in (0.0, 0.5, 1.0):
                rows.append(
                    {
                        "study": "main",
                        "pruner": method,
                        "fraction": 0.5,
                        "alpha": alpha,
                        "seed": seed,
                        "teacher": "equal" if alpha else "none",
                        "budget_scale": 1.0,
                        "val_accuracy": 0.5,
                        "test_accuracy": acc,
                    }
                )
    out = claim_2_v3(rows, frozen, 1.0, family=["el2n"])
    assert out["members"]["el2n"][0] == pytest.approx(0.4)


def test_the_lines_name_the_weakest_member_and_count_the_family():
    # kills: weakest = max(...); "(k of n run)" counting the members run only
    from prunekd.experiments._methods import label

    out = claim_2_v3(_rows({"el2n": 0.4, "grand": -0.2, "kcenter": -3.0}), FROZEN, 1.0,
                     family=["el2n", "grand", "forgetting"])  # fmt: skip
    text = "\n".join(claim_2_lines(out, 1.0))
    # the weakest of the family's members run (k-center, added later, is not one of them)
    assert f"Weakest (the lowest estimate): {label('grand')}." in text
    assert f"(2 of 3 run): {out['word']}**" in text and out["missing"] == ["forgetting"]
