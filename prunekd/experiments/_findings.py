"""The paper's findings as paired statistics over seeds, each with an interval and a verdict.

Every rule compares runs that share a seed (hence the initial weights, the data
order and, where the pruner is the same, the kept rows), so the seed-to-seed
spread cancels. ``docs/user_guide.rst`` states the rules for readers.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from ._stats import LEVEL, all_cells_word, bootstrap_interval, t_interval, word

PRUNER_LABELS = {
    "random": "Random",
    "el2n": "EL2N",
    "grand": "GraNd",
    "forgetting": "Forgetting",
    "entropy": "Entropy",
    "margin": "Margin",
    "least_confidence": "Least confidence",
    "ccs": "CCS (EL2N)",
    "kcenter": "k-center",
    "herding": "Herding",
    "moderate": "Moderate-DS",
    "facility_location": "Facility location",
    "graph_cut": "Graph cut",
    "log_determinant": "Log-determinant",
    "el2n_teacher": "EL2N (teacher)",
    "forgetting_teacher": "Forgetting (teacher)",
    "aum_teacher": "AUM (teacher)",
}
# Fractions at which finding 2 ("at small fractions") is judged.
SMALL_FRACTION = 0.3
# Equivalence margin of findings 2 and 4b, in accuracy (1 point).
MARGIN = 0.01


def nanmean(values, axis=None):
    """``np.nanmean`` that returns NaN quietly where every value is missing (incomplete sweeps)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


@dataclass
class Verdict:
    """One finding's verdict: the statistic, its interval and one of three words.

    Attributes
    ----------
    finding : str
        "1a", "1b", "2", "3", "4a" or "4b".
    claim : str
        The paper's claim, in words.
    statistic : str
        What was measured.
    estimate, low, high : float
        The statistic and its 95% interval (accuracy, or alpha for finding 3).
    word : {"reproduced", "contradicted", "inconclusive"}
    detail : list of str
        Per-cell or per-pruner figures.

    Examples
    --------
    >>> from prunekd.experiments import Verdict, format_verdict
    >>> v = Verdict("1b", "KD helps most at small fractions", "gain difference (points)",
    ...             0.15, 0.12, 0.18, "reproduced")
    >>> format_verdict(v)
    '**1b. KD helps most at small fractions: reproduced.** gain difference (points): +15.0 [+12.0, +18.0].'
    """

    finding: str
    claim: str
    statistic: str
    estimate: float
    low: float
    high: float
    word: str
    detail: list = field(default_factory=list)


class Results:
    """A sweep's rows indexed by (pruner, fraction, alpha, teacher, seed).

    At fraction 1.0 every pruner keeps everything; the run made once (as
    "random") stands for all of them.

    Parameters
    ----------
    rows : list of dict
        A sweep's results, as :func:`load_results` returns them.

    Examples
    --------
    >>> from prunekd.experiments import Results
    >>> rows = [dict(study="main", pruner="random", fraction=0.1, alpha=a, seed=s,
    ...              teacher="equal" if a else "none", val_accuracy=0.8 + a / 10,
    ...              test_accuracy=0.8 + a / 10 + s / 100)
    ...         for s in (0, 1) for a in (0.0, 0.5, 1.0)]
    >>> r = Results(rows)
    >>> r.seeds, r.kd_alphas, r.chosen_alpha("random", 0.1)
    ([0, 1], [0.5, 1.0], 1.0)
    >>> r.kd_gain("random", 0.1).round(3).tolist()  # per seed: KD - no KD
    [0.1, 0.1]
    """

    def __init__(self, rows):
        self.rows = {}
        for r in rows:
            key = (r["pruner"], r["fraction"], r["alpha"], r["teacher"], r["seed"])
            self.rows.setdefault(key, r)
        self.fractions = sorted({r["fraction"] for r in rows})
        self.alphas = sorted({r["alpha"] for r in rows if r["study"] == "main"})
        self.kd_alphas = [a for a in self.alphas if a > 0]
        self.pruners = [p for p in PRUNER_LABELS
                        if any(r["pruner"] == p and r["study"] == "main" for r in rows)]  # fmt: skip
        self.seeds = sorted({r["seed"] for r in rows})
        self.teachers = sorted({r["teacher"] for r in rows} - {"none"})

    def values(self, pruner, fraction, alpha, teacher, metric="test_accuracy"):
        """One value per seed of ``self.seeds`` (NaN where the run is missing)."""
        pruner = "random" if fraction == 1.0 else pruner
        rows = (self.rows.get((pruner, fraction, alpha, teacher, s)) for s in self.seeds)
        return np.array([r[metric] if r else np.nan for r in rows])

    def kd(self, pruner, fraction, alpha, metric="test_accuracy"):
        return self.values(pruner, fraction, alpha, "none" if alpha == 0 else "equal", metric)

    def chosen_alpha(self, pruner, fraction):
        """The KD alpha with the best mean validation accuracy over seeds (ties: the smaller)."""
        means = [nanmean(self.kd(pruner, fraction, a, "val_accuracy")) if self._has(
            pruner, fraction, a) else np.nan for a in self.kd_alphas]  # fmt: skip
        if not self.kd_alphas or np.all(np.isnan(means)):
            return np.nan
        return self.kd_alphas[int(np.nanargmax(means))]

    def _has(self, pruner, fraction, alpha):
        return not np.all(np.isnan(self.kd(pruner, fraction, alpha, "val_accuracy")))

    def kd_gain(self, pruner, fraction):
        """Per seed: test accuracy with KD (alpha chosen on validation) minus without."""
        alpha = self.chosen_alpha(pruner, fraction)
        if np.isnan(alpha):
            return np.full(len(self.seeds), np.nan)
        return self.kd(pruner, fraction, alpha) - self.kd(pruner, fraction, 0.0)

    def kd_accuracy(self, pruner, fraction):
        """Per seed: test accuracy with KD at the alpha chosen on validation."""
        alpha = self.chosen_alpha(pruner, fraction)
        return (
            np.full(len(self.seeds), np.nan)
            if np.isnan(alpha)
            else self.kd(pruner, fraction, alpha)
        )

    def alpha_curves(self, pruners=None):
        """Validation accuracy, shape (seeds, pruners, fractions, KD alphas)."""
        pruners = pruners or self.pruners
        return np.array([[[[self.kd(p, f, a, "val_accuracy")[i] for a in self.kd_alphas]
                           for f in self.fractions] for p in pruners]
                         for i in range(len(self.seeds))])  # fmt: skip


def smoothed_best_alpha(alphas, accuracy):
    """The alpha maximising a quadratic fitted to accuracy over alpha (a line for 2 alphas).

    Searched on a fine grid between the smallest and largest alpha tried; ties
    go to the smaller alpha. A fitted curve, unlike the argmax of the noisy
    cells, moves little when one cell moves a little.

    Examples
    --------
    >>> from prunekd.experiments import smoothed_best_alpha
    >>> round(smoothed_best_alpha([0.25, 0.5, 0.75, 1.0], [0.90, 0.95, 0.96, 0.95]), 2)
    0.76
    """
    alphas, accuracy = np.asarray(alphas, float), np.asarray(accuracy, float)
    keep = ~np.isnan(accuracy)
    alphas, accuracy = alphas[keep], accuracy[keep]
    if len(alphas) == 0:
        return np.nan
    if len(alphas) == 1:
        return float(alphas[0])
    coef = np.polyfit(alphas, accuracy, deg=min(2, len(alphas) - 1))
    grid = np.linspace(alphas.min(), alphas.max(), 301)
    return float(grid[int(np.argmax(np.polyval(coef, grid)))])


def fmt_interval(estimate, low, high, scale=100, digits=1):
    """``+1.2 [+0.3, +2.1]``: an estimate and its interval, scaled (points by default)."""
    if not np.isfinite(estimate):
        return "n/a"
    value = f"{scale * estimate:+.{digits}f}"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{value} [n/a]"
    return f"{value} [{scale * low:+.{digits}f}, {scale * high:+.{digits}f}]"


def _cell(differences, n_cells):
    """(mean, 95% interval, Bonferroni interval) of one cell's paired differences."""
    d = np.asarray(differences)
    d = d[~np.isnan(d)]
    mean, low, high = t_interval(d)
    _, adj_low, adj_high = t_interval(d, level=1 - (1 - LEVEL) / max(n_cells, 1))
    return mean, (low, high), (adj_low, adj_high)


def _across_cells(finding, claim, cells, threshold, statistic):
    """A verdict over several cells; the statistic shown is the weakest cell's."""
    if not cells:
        return Verdict(finding, claim, statistic, np.nan, np.nan, np.nan, "inconclusive",
                       ["no cell to compare in this sweep"])  # fmt: skip
    verdict = all_cells_word([(c["ci"], c["adj"]) for c in cells], threshold)
    weakest = min(cells, key=lambda c: c["ci"][0] if np.isfinite(c["ci"][0]) else -np.inf)
    counts = [
        sum(word(*c["ci"], threshold) == w for c in cells)
        for w in ("reproduced", "contradicted", "inconclusive")
    ]
    detail = [
        f"{len(cells)} cells: {counts[0]} on the paper's side, {counts[1]} on the other side, "
        f"{counts[2]} straddling"
    ]
    return Verdict(finding, claim, f"{statistic}, weakest cell ({weakest['label']})",
                   weakest["mean"], *weakest["ci"], verdict, detail)  # fmt: skip


def kd_helps(results):
    """F1a: KD minus no KD, paired, in every (pruner, pruned fraction) cell."""
    pruned = [f for f in results.fractions if f < 1.0]
    keys = [(p, f) for p in results.pruners for f in pruned]
    cells = []
    for p, f in keys:
        mean, ci, adj = _cell(results.kd_gain(p, f), len(keys))
        cells.append(dict(label=f"{PRUNER_LABELS[p]} f={f:g}", mean=mean, ci=ci, adj=adj))
    verdict = _across_cells(
        "1a", "KD improves every pruner at every pruned fraction", cells, 0.0,
        "KD − no KD (test accuracy points, alpha chosen on validation)",
    )  # fmt: skip
    return verdict


def kd_helps_most_when_small(results):
    """F1b: (gain at the smallest pruned fraction) − (gain at the largest), mean over pruners."""
    pruned = [f for f in results.fractions if f < 1.0]
    claim = "KD helps most at small fractions"
    if len(pruned) < 2:
        return Verdict("1b", claim, "needs two pruned fractions", np.nan, np.nan, np.nan,
                       "inconclusive")  # fmt: skip
    f_min, f_max = min(pruned), max(pruned)
    per_pruner = np.array(
        [results.kd_gain(p, f_min) - results.kd_gain(p, f_max) for p in results.pruners]
    )
    mean, low, high = t_interval(_complete(per_pruner.mean(axis=0)))
    detail = [f"{PRUNER_LABELS[p]}: {fmt_interval(*t_interval(_complete(d)))}"
              for p, d in zip(results.pruners, per_pruner)]  # fmt: skip
    return Verdict(
        "1b", claim,
        f"KD gain at f={f_min:g} − KD gain at f={f_max:g}, mean over pruners (points)",
        mean, low, high, word(low, high), detail,
    )  # fmt: skip


def random_matches_scores(results, margin=MARGIN):
    """F2: with KD, random − the best score-based pruner (chosen on validation), per small fraction."""
    scored = [p for p in results.pruners if p != "random"]
    claim = (f"With KD, random pruning matches or beats score-based pruning at small fractions "
             f"(non-inferiority, margin {100 * margin:g} point)")  # fmt: skip
    if "random" not in results.pruners or not scored:
        return Verdict("2", claim, "needs random and a score-based pruner", np.nan, np.nan,
                       np.nan, "inconclusive")  # fmt: skip
    pruned = [f for f in results.fractions if f < 1.0]
    small = [f for f in pruned if f <= SMALL_FRACTION] or pruned[:1]
    cells, detail = [], []  # one cell per small fraction
    for f in small:
        val = {q: nanmean(results.values(q, f, results.chosen_alpha(q, f), "equal", "val_accuracy"))
               for q in scored}  # fmt: skip
        best = max(scored, key=lambda q: (val[q], -scored.index(q)))
        mean, ci, adj = _cell(
            results.kd_accuracy("random", f) - results.kd_accuracy(best, f), len(small)
        )
        no_kd = t_interval(_complete(results.kd("random", f, 0.0) - results.kd(best, f, 0.0)))
        label = f"f={f:g} vs {PRUNER_LABELS[best]}"
        cells.append(dict(label=label, mean=mean, ci=ci, adj=adj))
        detail.append(f"{label}: with KD {fmt_interval(mean, *ci)}, without KD "
                      f"{fmt_interval(*no_kd)}")  # fmt: skip
    verdict = _across_cells("2", claim, cells, -margin,
                            "random − best score-based, with KD (points)")  # fmt: skip
    verdict.detail += detail
    return verdict


def random_against_each(results, margin=MARGIN):
    """Claim 2 against every method: random − each score-based pruner, per small fraction.

    For every score-based pruner of the sweep and every small kept fraction
    (at most ``SMALL_FRACTION``), the paired difference random − that pruner,
    with KD (each at its alpha chosen on validation) and without, with the
    95% interval over seeds, and the non-inferiority word of each: the paper's
    side is above ``-margin``. The last item is the verdict "random matches
    every method with KD": reproduced only when every cell's interval clears
    the margin, contradicted when one cell's Bonferroni interval lies below it.

    Parameters
    ----------
    results : Results
    margin : float, default=MARGIN

    Returns
    -------
    cells : list of dict
        ``pruner``, ``fraction``, ``kd`` and ``no_kd`` (each ``(mean, low,
        high)``), ``kd_word`` and ``no_kd_word``.
    verdict : Verdict

    Examples
    --------
    >>> from prunekd.experiments._findings import Results, random_against_each
    >>> rows = [dict(study="main", pruner=p, fraction=0.1, alpha=a, seed=s,
    ...              teacher="equal" if a else "none", val_accuracy=0.9,
    ...              test_accuracy=0.9 + (0.05 if a else 0) - (0.02 if p == "el2n" and not a else 0)
    ...              + s / 1000)
    ...         for p in ("random", "el2n") for a in (0.0, 1.0) for s in range(5)]
    >>> cells, verdict = random_against_each(Results(rows))
    >>> [(c["pruner"], c["kd_word"], c["no_kd_word"]) for c in cells], verdict.word
    ([('el2n', 'reproduced', 'reproduced')], 'reproduced')
    """
    scored = [p for p in results.pruners if p != "random"]
    claim = (f"With KD, random pruning matches or beats every score-based method at small "
             f"fractions (non-inferiority, margin {100 * margin:g} point)")  # fmt: skip
    pruned = [f for f in results.fractions if f < 1.0]
    small = [f for f in pruned if f <= SMALL_FRACTION] or pruned[:1]
    if "random" not in results.pruners:
        scored = []
    cells, keyed = [], []
    for q in scored:
        for f in small:
            with_kd = _cell(results.kd_accuracy("random", f) - results.kd_accuracy(q, f),
                            len(scored) * len(small))  # fmt: skip
            without = t_interval(_complete(results.kd("random", f, 0.0) - results.kd(q, f, 0.0)))
            cells.append(dict(pruner=q, fraction=f, kd=(with_kd[0], *with_kd[1]), no_kd=without,
                              kd_word=word(*with_kd[1], -margin),
                              no_kd_word=word(*without[1:], -margin)))  # fmt: skip
            keyed.append(dict(label=f"{PRUNER_LABELS[q]} f={f:g}", mean=with_kd[0],
                              ci=with_kd[1], adj=with_kd[2]))  # fmt: skip
    verdict = _across_cells("2*", claim, keyed, -margin,
                            "random − each score-based method, with KD (points)")  # fmt: skip
    return cells, verdict


def _small_and_large(fractions):
    """Fractions up to ``SMALL_FRACTION`` and above it; the smallest and largest if one side is empty."""
    small = [f for f in fractions if f <= SMALL_FRACTION]
    large = [f for f in fractions if f > SMALL_FRACTION]
    if not small or not large:
        small, large = fractions[:1], fractions[-1:]
    return small, large


def _fraction_set(fractions):
    return "{" + ", ".join(f"{f:g}" for f in fractions) + "}"


def best_alpha_falls(results, random_state=0):
    """F3: mean smoothed best alpha at small fractions − at large ones, bootstrap over seeds."""
    claim = "The best alpha is larger at small fractions"
    if len(results.kd_alphas) < 2 or len(results.fractions) < 2:
        return Verdict("3", claim, "needs two KD alphas and two fractions", np.nan, np.nan,
                       np.nan, "inconclusive")  # fmt: skip
    curves = results.alpha_curves()  # (seeds, pruners, fractions, alphas)
    alphas = results.kd_alphas
    small, large = _small_and_large(results.fractions)
    at = {f: j for j, f in enumerate(results.fractions)}

    def best(mean, fractions):
        return np.mean([smoothed_best_alpha(alphas, mean[at[f]]) for f in fractions])

    def delta(seeds):
        mean = nanmean(curves[seeds], axis=(0, 1))
        return best(mean, small) - best(mean, large)

    estimate, low, high = bootstrap_interval(len(results.seeds), delta, random_state=random_state)
    detail = []
    for i, p in enumerate(results.pruners):
        mean = nanmean(curves[:, i], axis=0)
        detail.append(f"{PRUNER_LABELS[p]}: {best(mean, small):.2f} vs {best(mean, large):.2f}")
    return Verdict(
        "3", claim,
        f"mean best alpha at f in {_fraction_set(small)} − at f in {_fraction_set(large)}, the "
        "best alpha of each fraction from a quadratic fitted to the validation accuracy over "
        "alpha (mean over seeds and pruners), bootstrap over seeds",
        estimate, low, high, word(low, high), detail,
    )  # fmt: skip


def best_alpha_table(results, random_state=0):
    """Per fraction: the smoothed best alpha (pooled over pruners) and its bootstrap interval."""
    if not results.kd_alphas:
        return []
    curves = results.alpha_curves()
    out = []
    for j, f in enumerate(results.fractions):

        def stat(seeds, j=j):
            return smoothed_best_alpha(
                results.kd_alphas, nanmean(curves[seeds][:, :, j], axis=(0, 1))
            )

        out.append((f, *bootstrap_interval(len(results.seeds), stat, random_state=random_state)))
    return out


def teacher_capacity(results, capacity_alpha, margin=MARGIN):
    """F4: large − equal teacher, paired, averaged over the small and over the large fractions."""
    out = []
    if not {"large", "equal"} <= set(results.teachers):
        return out
    small, large = _small_and_large(results.fractions)

    def diff(fractions):
        d = np.mean([results.values("random", f, capacity_alpha, "large")
                     - results.values("random", f, capacity_alpha, "equal") for f in fractions],
                    axis=0)  # fmt: skip
        return t_interval(_complete(d))

    def endpoint(f, sign=1):
        """The same difference at one fraction (``sign=-1``: equal − large)."""
        mean, low, high = diff([f])
        low, high = sorted((sign * low, sign * high))
        return f"At f={f:g} alone: {fmt_interval(sign * mean, low, high)}"

    mean, low, high = diff(small)
    # Oriented so that the paper's side (the large teacher hurts) is above 0.
    out.append(Verdict(
        "4a", "At small fractions a larger teacher hurts the student",
        f"equal − large teacher, mean over f in {_fraction_set(small)}, random pruning, "
        f"alpha={capacity_alpha:g} (points)",
        -mean, -high, -low, word(-high, -low), [endpoint(small[0], -1)],
    ))  # fmt: skip
    mean, low, high = diff(large)
    out.append(Verdict(
        "4b", f"At large fractions a larger teacher does not hurt (margin {100 * margin:g} point)",
        f"large − equal teacher, mean over f in {_fraction_set(large)}, random pruning, "
        f"alpha={capacity_alpha:g} (points)",
        mean, low, high, word(low, high, -margin), [endpoint(large[-1])],
    ))  # fmt: skip
    return out


def _complete(d):
    d = np.asarray(d, dtype=float)
    return d[~np.isnan(d)]


def findings(rows, capacity_alpha=0.5):
    """Every finding's :class:`Verdict` for a sweep's rows.

    Parameters
    ----------
    rows : list of dict
        A sweep's results, as :func:`load_results` returns them.
    capacity_alpha : float, default=0.5
        The alpha of the teacher-capacity study.

    Returns
    -------
    verdicts : list of Verdict

    Examples
    --------
    >>> from prunekd.experiments import findings
    >>> rows = [dict(study="main", pruner="random", fraction=f, alpha=a, seed=s,
    ...              teacher="equal" if a else "none", val_accuracy=acc + s / 100,
    ...              test_accuracy=acc + s / 100)
    ...         for s in range(5)
    ...         for f, a, acc in [(0.1, 0.0, .80), (0.1, 1.0, .90), (0.5, 0.0, .90), (0.5, 1.0, .92)]]
    >>> [(v.finding, v.word) for v in findings(rows)][:2]
    [('1a', 'reproduced'), ('1b', 'reproduced')]
    """
    results = Results(rows)
    if not [f for f in results.fractions if f < 1.0]:
        return []
    return [
        kd_helps(results),
        kd_helps_most_when_small(results),
        random_matches_scores(results),
        best_alpha_falls(results),
        *teacher_capacity(results, capacity_alpha),
    ]


def format_verdict(v):
    """One markdown paragraph: claim, verdict, statistic and interval, then details.

    Examples
    --------
    See :class:`Verdict`:

    >>> from prunekd.experiments import Verdict, format_verdict
    >>> format_verdict(Verdict("3", "claim", "statistic", 0.5, 0.2, 0.7, "reproduced"))
    '**3. claim: reproduced.** statistic: +0.50 [+0.20, +0.70].'
    """
    scale, digits = (1, 2) if v.finding == "3" else (100, 1)
    interval = fmt_interval(v.estimate, v.low, v.high, scale, digits)
    text = f"**{v.finding}. {v.claim}: {v.word}.** {v.statistic}: {interval}."
    if v.detail:
        text += " " + "; ".join(v.detail) + "."
    return text
