"""The verdict rules on synthetic sweeps built to land on each of the three words."""

import numpy as np
import pytest
from scipy import stats

from prunekd.experiments import (
    all_cells_word,
    bootstrap_interval,
    findings,
    smoothed_best_alpha,
    t_interval,
    word,
)
from prunekd.experiments._findings import (
    Results,
    best_alpha_falls,
    kd_helps,
    kd_helps_most_when_small,
    random_against_each,
    random_matches_scores,
    teacher_capacity,
)

FRACTIONS = (0.1, 0.3, 0.7, 1.0)
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def sweep(accuracy, seeds=range(6), pruners=("random", "el2n"), noise=0.002, teachers=("small", "large")):
    """Rows of a sweep whose mean accuracy per run is ``accuracy(pruner, f, alpha, teacher)``.

    Every seed shifts all of its runs by a common offset (which paired
    comparisons cancel) and adds independent noise of scale ``noise``.
    """
    rows = []
    for seed in seeds:
        rng = np.random.RandomState(seed)
        offset = rng.uniform(-0.03, 0.03)
        runs = [(p, f, a, "equal" if a else "none", "main") for f in FRACTIONS
                for p in (pruners if f < 1 else ["random"]) for a in ALPHAS]  # fmt: skip
        runs += [("random", f, 0.5, t, "capacity") for f in FRACTIONS for t in teachers]
        for p, f, a, t, study in runs:
            acc = accuracy(p, f, a, t) + offset + noise * rng.randn()
            rows.append(dict(study=study, pruner=p, fraction=f, alpha=a, teacher=t, seed=seed,
                             val_accuracy=acc, test_accuracy=acc))  # fmt: skip
    return rows


def kd_gain_model(gain_small=0.05, gain_large=0.01, random_penalty=0.0, best=(1.0, 0.25), large=0.0):
    """Accuracy: 0.9, plus a KD gain falling with f, peaking in alpha at ``best[f small / large]``."""

    def accuracy(p, f, a, t):
        if a == 0:
            return 0.9
        gain = np.interp(f, [0.1, 1.0], [gain_small, gain_large])
        peak = np.interp(f, [0.1, 1.0], best)
        acc = 0.9 + gain - 0.02 * (a - peak) ** 2
        if p == "random":
            acc -= random_penalty
        if t == "large":
            acc += large if f <= 0.3 else 0.0
        if t == "small":
            acc -= 0.01
        return acc

    return accuracy


def test_t_interval_matches_the_closed_form():
    d = np.array([0.01, 0.03, 0.02, 0.05])
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
    assert t_interval(d) == pytest.approx((d.mean(), d.mean() - half, d.mean() + half))
    assert np.isinf(t_interval([0.1])[1]) and np.isnan(t_interval([])[0])


def test_bootstrap_resamples_seeds_reproducibly():
    values = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    first = bootstrap_interval(5, lambda s: values[s].mean(), random_state=1)
    assert first == bootstrap_interval(5, lambda s: values[s].mean(), random_state=1)
    estimate, low, high = first
    assert estimate == 3.2 and values.min() <= low < estimate < high <= values.max()


def test_words_follow_the_interval():
    assert word(0.001, 0.1) == "reproduced"
    assert word(-0.1, -0.001) == "contradicted"
    assert word(-0.1, 0.1) == "inconclusive"
    assert word(0.0, 0.1) == "inconclusive"  # touching the threshold is not beyond it
    assert word(-0.009, 0.1, threshold=-0.01) == "reproduced"
    assert word(np.nan, np.nan) == "inconclusive"
    # One cell straddling makes "every cell" inconclusive; one Bonferroni-clear
    # cell on the other side contradicts it.
    ok = ((0.01, 0.02), (0.005, 0.03))
    assert all_cells_word([ok, ok]) == "reproduced"
    assert all_cells_word([ok, ((-0.01, 0.02), (-0.02, 0.03))]) == "inconclusive"
    assert all_cells_word([ok, ((-0.03, -0.01), (-0.04, -0.005))]) == "contradicted"
    assert all_cells_word([ok, ((-0.03, -0.01), (-0.04, 0.001))]) == "inconclusive"


@pytest.mark.parametrize(
    "model, expected",
    [
        (kd_gain_model(gain_small=0.05, gain_large=0.02), "reproduced"),
        (kd_gain_model(gain_small=0.05, gain_large=-0.08), "contradicted"),  # -3.7 at f=0.7
        (kd_gain_model(gain_small=0.05, gain_large=-0.025), "inconclusive"),  # 0 at f=0.7
    ],
)
def test_kd_helps_every_cell(model, expected):
    verdict = kd_helps(Results(sweep(model)))
    assert verdict.word == expected
    assert "weakest cell" in verdict.statistic


@pytest.mark.parametrize(
    "gains, expected",
    [((0.08, 0.01), "reproduced"), ((0.01, 0.08), "contradicted"), ((0.03, 0.03), "inconclusive")],
)
def test_kd_helps_most_at_small_fractions(gains, expected):
    verdict = kd_helps_most_when_small(Results(sweep(kd_gain_model(*gains))))
    assert verdict.word == expected
    # the statistic is the paired difference of gains between f=0.1 and f=0.7
    want = np.interp(0.1, [0.1, 1], gains) - np.interp(0.7, [0.1, 1], gains)
    assert verdict.estimate == pytest.approx(want, abs=0.004)


@pytest.mark.parametrize(
    "penalty, expected",
    [(0.0, "reproduced"), (0.03, "contradicted"), (0.01, "inconclusive")],
)
def test_random_matches_score_based_within_the_stated_margin(penalty, expected):
    rows = sweep(kd_gain_model(random_penalty=penalty), noise=0.004)
    verdict = random_matches_scores(Results(rows))
    assert verdict.word == expected
    assert "margin 1 point" in verdict.claim
    assert verdict.estimate == pytest.approx(-penalty, abs=0.004)


def test_claim_2_against_each_method_cell_by_cell():
    # GraNd beats random by 3 points with KD at f=0.1 only; EL2N and Forgetting do not.
    base = kd_gain_model()

    def accuracy(p, f, a, t):
        return base(p, f, a, t) + (0.03 if p == "grand" and a > 0 and f == 0.1 else 0.0)

    rows = sweep(accuracy, pruners=("random", "el2n", "grand", "forgetting"), noise=0.004)
    cells, verdict = random_against_each(Results(rows))
    words = {(c["pruner"], c["fraction"]): c["kd_word"] for c in cells}
    assert words == {("el2n", 0.1): "reproduced", ("el2n", 0.3): "reproduced",
                     ("grand", 0.1): "contradicted", ("grand", 0.3): "reproduced",
                     ("forgetting", 0.1): "reproduced", ("forgetting", 0.3): "reproduced"}  # fmt: skip
    assert all(c["no_kd_word"] == "reproduced" for c in cells)  # no KD: all equal at 0.9
    grand = next(c for c in cells if c["pruner"] == "grand" and c["fraction"] == 0.1)
    assert grand["kd"][0] == pytest.approx(-0.03, abs=0.004)
    assert verdict.word == "contradicted" and "GraNd f=0.1" in verdict.statistic
    # the best-on-validation verdict sees GraNd too, and so is contradicted
    assert random_matches_scores(Results(rows)).word == "contradicted"
    only_random = [r for r in rows if r["pruner"] == "random"]
    assert random_against_each(Results(only_random))[0] == []


@pytest.mark.parametrize(
    "best, expected",
    [((1.0, 0.25), "reproduced"), ((0.25, 1.0), "contradicted"), ((1.0, 1.0), "inconclusive"),
     ((0.5, 0.5), "inconclusive")],
)  # fmt: skip
def test_best_alpha_trend_from_fitted_curves(best, expected):
    verdict = best_alpha_falls(Results(sweep(kd_gain_model(best=best), noise=0.0005)))
    assert verdict.word == expected
    if best[0] == best[1]:
        # Equal best alphas at both ends never count as "larger".
        assert verdict.estimate == pytest.approx(0, abs=0.05) and verdict.low <= 0


def test_argmax_noise_does_not_move_the_fitted_best_alpha():
    # A flat-topped curve: the argmax of noisy cells jumps, the fitted peak does not.
    alphas = [0.25, 0.5, 0.75, 1.0]
    curve = np.array([0.950, 0.958, 0.960, 0.958])
    rng = np.random.RandomState(0)
    fitted = [smoothed_best_alpha(alphas, curve + rng.randn(4) * 0.0005) for _ in range(50)]
    assert np.ptp(fitted) < 0.1
    assert smoothed_best_alpha(alphas, curve) == pytest.approx(0.75, abs=0.03)


@pytest.mark.parametrize(
    "large, expected_small, expected_top",
    [(-0.02, "reproduced", "reproduced"), (0.02, "contradicted", "reproduced"),
     (0.0, "inconclusive", "reproduced")],
)  # fmt: skip
def test_teacher_capacity(large, expected_small, expected_top):
    small, top = teacher_capacity(Results(sweep(kd_gain_model(large=large))), capacity_alpha=0.5)
    assert (small.finding, small.word) == ("4a", expected_small)
    assert (top.finding, top.word) == ("4b", expected_top)


def test_large_teacher_hurting_at_full_data_contradicts_4b():
    def model(p, f, a, t):
        return 0.9 - (0.03 if t == "large" and f == 1.0 else 0.0)

    _, top = teacher_capacity(Results(sweep(model)), capacity_alpha=0.5)
    assert top.word == "contradicted"


def test_verdicts_do_not_flip_between_disjoint_seed_sets():
    model = kd_gain_model(gain_small=0.06, gain_large=0.0, large=-0.02)
    first = [(v.finding, v.word) for v in findings(sweep(model, seeds=range(0, 5), noise=0.002))]
    second = [(v.finding, v.word) for v in findings(sweep(model, seeds=range(5, 10), noise=0.002))]
    assert first == second
    assert dict(first) == {"1a": "reproduced", "1b": "reproduced", "2": "reproduced",
                           "3": "reproduced", "4a": "reproduced", "4b": "reproduced"}  # fmt: skip
