"""Holm's rule over a family of findings: against an adjusted-p oracle, both ways, with intervals."""

import json
import pathlib
import sys

import numpy as np
import pytest
from scipy import stats

from prunekd.experiments._family import holm_verdicts

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _oracle(family, alpha):
    """Holm over both one-sided tests of every finding, by adjusted p-values.

    p_adj of the j-th smallest of the 2k p-values: max over i <= j of min(1, (2k - i) p_(i)).
    """
    p = []
    for values, threshold in family.values():
        p += [stats.ttest_1samp(values, threshold, alternative=side).pvalue
              for side in ("greater", "less")]  # fmt: skip
    p = np.array(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    adjusted[order] = np.maximum.accumulate(np.minimum(1, (len(p) - np.arange(len(p))) * p[order]))
    words = {}
    for i, name in enumerate(family):
        up, down = adjusted[2 * i] <= alpha, adjusted[2 * i + 1] <= alpha
        words[name] = "reproduced" if up else "contradicted" if down else "inconclusive"
    return words


def test_the_words_are_holms_on_random_families():
    rng = np.random.RandomState(0)
    for _ in range(300):
        k = rng.randint(1, 8)
        family = {f"F{i}": (rng.randn(rng.randint(5, 30)) * rng.uniform(0.5, 2)
                            + rng.uniform(-1.5, 1.5), rng.choice([0.0, -0.85]))
                  for i in range(k)}  # fmt: skip
        got = {name: v.word for name, v in holm_verdicts(family).items()}
        assert got == _oracle(family, 0.05)


def test_testing_stops_at_the_first_finding_that_fails():
    # One-sided p-values 0.001, 0.011 and 0.012 among 6 hypotheses: the first passes
    # 0.05/6, the second fails 0.05/5, so the third is not tested at 0.05/4, which it
    # would pass.
    n, rng = 12, np.random.RandomState(1)

    def with_p(target):
        base = rng.randn(n)
        base = (base - base.mean()) / base.std(ddof=1)
        t = stats.t.isf(target / 2, n - 1)
        return base + t / np.sqrt(n)

    family = {"a": (with_p(0.002), 0.0), "b": (with_p(0.022), 0.0), "c": (with_p(0.024), 0.0)}
    verdicts = holm_verdicts(family)
    assert [round(verdicts[k].p, 4) for k in "abc"] == [0.006, 0.055, 0.055]  # adjusted
    assert [verdicts[k].word for k in "abc"] == ["reproduced", "inconclusive", "inconclusive"]
    # rejected: at its own level; the others at the level where testing stopped
    assert [verdicts[k].level for k in "abc"] == pytest.approx([1 - 0.1 / 6, 1 - 0.1 / 5, 1 - 0.1 / 5])
    assert verdicts["c"].low < 0 < verdicts["c"].high


def test_the_interval_at_its_level_agrees_with_the_word_both_ways():
    rng = np.random.RandomState(2)
    for _ in range(200):
        family = {f"F{i}": (rng.randn(15) + rng.uniform(-2, 2), 0.0) for i in range(4)}
        for v in holm_verdicts(family).values():
            if v.word == "reproduced":
                assert v.low > 0
            elif v.word == "contradicted":
                assert v.high < 0
            else:  # shown at the level where testing stopped: it holds the threshold
                assert v.low <= 0 <= v.high


def test_a_not_worse_finding_significantly_below_zero_says_so_whatever_its_word():
    values = -0.3 + 0.05 * np.random.RandomState(3).randn(20)  # within a margin of 0.85
    v = holm_verdicts({"F5a": (values, -0.85)})["F5a"]
    assert v.word == "reproduced" and v.below_zero and v.high < 0
    values = -0.8 + 0.1 * np.random.RandomState(3).randn(20)  # at the margin, below 0
    v = holm_verdicts({"F5a": (values, -0.85)})["F5a"]
    assert v.word == "inconclusive" and v.below_zero
    assert not holm_verdicts({"F1": (values, 0.0)})["F1"].below_zero  # a gain has no margin


def test_missing_seeds_are_left_out_and_too_few_read_inconclusive():
    values = np.array([1.0, 1.1, np.nan, 0.9, 1.2])
    v = holm_verdicts({"F1": (values, 0.0)})["F1"]
    assert v.n_seeds == 4 and v.word == "reproduced"
    v = holm_verdicts({"F1": (values, 0.0)}, min_seeds=5)["F1"]
    assert v.word == "inconclusive" and v.p == 1.0


def test_the_draft_protocol_sizes_every_primary_finding_and_keeps_the_family_below_alpha():
    protocol = json.loads((ROOT / "prunekd/experiments/protocol_v3.json").read_text())
    primary = protocol["family"]["primary"]
    assert set(protocol["findings"]) == set(primary)
    for plan in protocol["sizing"]["datasets"].values():
        assert list(plan["findings"]) == primary
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import simulate_protocol as sim
    finally:
        sys.path.pop(0)
    # the exact power against a simulation of the same test
    rng = np.random.RandomState(4)
    n, sd, effect, level = 20, 1.0, 0.85, 0.05 / 8
    draws = effect + sd * rng.randn(4000, n)
    t = draws.mean(1) / (draws.std(1, ddof=1) / np.sqrt(n))
    simulated = np.mean(np.abs(t) > stats.t.ppf(1 - level / 2, n - 1))
    assert sim.power(n, sd, effect, level) == pytest.approx(simulated, abs=0.03)
    assert sim.seeds_needed(sd, effect, level) == 22  # the F5 rows of the draft
    # a large effect: the far tail is NaN in scipy's noncentral t, and must not stop the search
    n, sd, effect = 4, sim.upper_sd(0.545, 9), 2.5  # MNIST-1D's F3 at its freeze
    draws = effect + sd * rng.randn(20000, n)
    t = draws.mean(1) / (draws.std(1, ddof=1) / np.sqrt(n))
    simulated = np.mean(np.abs(t) > stats.t.ppf(1 - level / 2, n - 1))
    assert sim.power(n, sd, effect, level) == pytest.approx(simulated, abs=0.02)  # 0.62
    assert sim.seeds_needed(sd, effect, level) == 5


def test_a_not_worse_interval_straddling_zero_is_not_flagged_below_zero():
    values = -0.1 + 0.5 * np.random.RandomState(0).randn(20)
    v = holm_verdicts({"F5a": (values, -0.85)})["F5a"]
    assert v.low < 0 < v.high and not v.below_zero


def test_constant_values_read_on_their_side():
    assert holm_verdicts({"F1": (np.full(10, 1.0), 0.0)})["F1"].word == "reproduced"
    assert holm_verdicts({"F1": (np.full(10, -1.0), 0.0)})["F1"].word == "contradicted"


def test_exactly_min_seeds_values_take_part():
    v = holm_verdicts({"F1": ([1.0, 1.1, 0.9], 0.0)}, min_seeds=3)["F1"]
    assert v.word == "reproduced" and v.p < 1
