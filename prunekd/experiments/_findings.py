"""The paper's findings as paired statistics over seeds, each with an interval and a verdict.

Every statistic, its cells and its threshold come from the protocol
(``protocol.json``, see :func:`protocol`), fixed before the confirmatory run.
Each finding is one number per seed, a paired difference of runs that share
that seed's split, teachers, initial weights and data order; its 95% Student
t interval over seeds gives the verdict by one rule, the same both ways.
"""

from dataclasses import dataclass, field

import numpy as np

from ._protocol import frozen_choices, protocol, threshold
from ._methods import label as method_label
from ._results import Results, complete, fmt_interval, nanmean
from ._results import paired_interval as _t
from ._stats import LEVEL, t_interval, word


@dataclass
class Verdict:
    """One finding's verdict: the statistic, its interval and one of three words.

    Attributes
    ----------
    finding : str
        "1a", "1b", "2", "2*", "3", "4", "5a" or "5b".
    claim : str
        The paper's claim, in words.
    statistic : str
        What was measured.
    estimate, low, high : float
        The statistic and its 95% interval (accuracy).
    word : {"reproduced", "contradicted", "inconclusive"}
    detail : list of str
        Per-cell or per-pruner figures.

    Examples
    --------
    >>> from prunekd.experiments import Verdict, format_verdict
    >>> v = Verdict("1b", "KD helps more at small fractions", "gain difference (points)",
    ...             0.15, 0.12, 0.18, "reproduced")
    >>> format_verdict(v)
    '**1b. KD helps more at small fractions: reproduced.** gain difference (points): +15.0 [+12.0, +18.0].'
    """

    finding: str
    claim: str
    statistic: str
    estimate: float
    low: float
    high: float
    word: str
    detail: list = field(default_factory=list)


def _verdict(finding, per_seed, detail=(), level=LEVEL):
    """The protocol's verdict on one statistic, given its value per seed (NaN: incomplete)."""
    spec = protocol()["findings"][finding]
    values = complete(per_seed)
    mean, low, high = t_interval(values, level=level)
    detail = list(detail)
    if len(values) < len(per_seed):
        detail.insert(0, f"{len(values)} of {len(per_seed)} seeds have every run it needs")
    verdict = Verdict(
        finding,
        spec["claim"],
        spec["statistic"] + " (points)",
        mean,
        low,
        high,
        word(low, high, threshold(finding)),
        detail,
    )
    return _enough_seeds(verdict, len(values))


def _enough_seeds(verdict, n_seeds):
    """No verdict is read from fewer seeds than the protocol's minimum (a smoke test)."""
    minimum = protocol()["min_seeds"]
    if n_seeds < minimum and verdict.word != "inconclusive":
        verdict.word = "inconclusive"
        verdict.detail.insert(0, f"{n_seeds} seeds, fewer than the {minimum} a verdict needs")
    return verdict


def _missing(finding, needs):
    spec = protocol()["findings"][finding]
    return Verdict(finding, spec["claim"], f"needs {needs}", np.nan, np.nan, np.nan, "inconclusive")


def _sides(results):
    """The sweep's fractions in the protocol's small and large sets."""
    p = protocol()
    small = [f for f in results.fractions if f in p["small_fractions"]]
    large = [f for f in results.fractions if f in p["large_fractions"]]
    return small, large


def _fraction_set(fractions):
    return "{" + ", ".join(f"{f:g}" for f in fractions) + "}"


def _over(fractions, per_fraction):
    """Per seed: the mean over ``fractions`` of ``per_fraction(f)``; NaN where a run is missing."""
    return np.mean(np.array([per_fraction(f) for f in fractions]), axis=0)


def kd_helps(results):
    """F1a: KD minus no KD, mean over the sweep's pruners and pruned fractions."""
    pruned = [f for f in results.fractions if f < 1.0]
    if not pruned or not results.kd_alphas:
        return _missing("1a", "a fraction below 1 and a KD alpha")
    cells = np.array([results.kd_gain(p, f) for p in results.pruners for f in pruned])
    return _verdict("1a", cells.mean(axis=0))


def kd_helps_more_when_small(results):
    """F1b: KD gain at the small fractions minus at the large ones, mean over pruners."""
    small, large = _sides(results)
    if not small or not large or not results.kd_alphas:
        return _missing("1b", "a small and a large fraction of the protocol, and a KD alpha")
    per_pruner = {
        p: _over(small, lambda f, p=p: results.kd_gain(p, f))
        - _over(large, lambda f, p=p: results.kd_gain(p, f))
        for p in results.pruners
    }
    detail = [
        f"{method_label(p)}: {fmt_interval(*t_interval(complete(d)))}"
        for p, d in per_pruner.items()
    ]
    return _verdict("1b", np.mean(list(per_pruner.values()), axis=0), detail)


def _comparator(results, scored, f):
    """Finding 2's score-based pruner at ``f``: the protocol's, else the best on validation."""
    frozen = (results.frozen or {}).get("comparators", {}).get(f"{f:g}")
    if frozen in scored:
        return frozen
    val = {q: nanmean(results.kd_accuracy(q, f, "val_accuracy")) for q in scored}
    return max(scored, key=lambda q: (np.nan_to_num(val[q], nan=-1.0), -scored.index(q)))


def random_matches_scores(results):
    """F2: with KD, random minus the protocol's score-based comparator, small fractions."""
    scored = [p for p in results.pruners if p != "random"]
    small = [f for f in _sides(results)[0] if f < 1.0]
    if "random" not in results.pruners or not scored or not small:
        return _missing("2", "random, a score-based pruner and a small fraction")
    best = {f: _comparator(results, scored, f) for f in small}
    per_seed = _over(
        small, lambda f: results.kd_accuracy("random", f) - results.kd_accuracy(best[f], f)
    )
    detail = [f"f={f:g}: against {method_label(best[f])}" for f in small]
    return _verdict("2", per_seed, detail)


def alpha_contrast(results):
    """F3: accuracy at alpha=1 minus at alpha=0.25, mean over pruners, small minus large fractions."""
    low_alpha, high_alpha = protocol()["findings"]["3"]["alphas"]
    small, large = _sides(results)
    if not {low_alpha, high_alpha} <= set(results.kd_alphas) or not small or not large:
        return _missing(
            "3",
            f"alphas {low_alpha:g} and {high_alpha:g}, a small and a large "
            "fraction of the protocol",
        )

    def gain(p, f):
        return results.kd(p, f, high_alpha) - results.kd(p, f, low_alpha)

    per_pruner = {
        p: _over(small, lambda f, p=p: gain(p, f)) - _over(large, lambda f, p=p: gain(p, f))
        for p in results.pruners
    }
    detail = [
        f"{method_label(p)}: {fmt_interval(*t_interval(complete(d)))}"
        for p, d in per_pruner.items()
    ]
    return _verdict("3", np.mean(list(per_pruner.values()), axis=0), detail)


def teacher_contrast(results, capacity_alpha):
    """F4: equal minus large teacher, random pruning, at small minus at large fractions."""
    small, large = _sides(results)
    if not {"large", "equal"} <= set(results.teachers) or not small or not large:
        return _missing("4", "the equal and large teachers, a small and a large fraction")

    def gap(f):
        return results.values("random", f, capacity_alpha, "equal") - results.values(
            "random", f, capacity_alpha, "large"
        )

    detail = [
        f"equal − large at f in {_fraction_set(small)}: {fmt_interval(*_t(_over(small, gap)))}",
        f"at f in {_fraction_set(large)}: {fmt_interval(*_t(_over(large, gap)))}",
    ]
    return _verdict("4", _over(small, gap) - _over(large, gap), detail)


def half_data_with_kd(results):
    """F5a and F5b: random f=0.5 with KD against the full data without KD, two budgets."""
    out = []
    for finding in ("5a", "5b"):
        spec = protocol()["findings"][finding]
        f, scale = spec["fraction"], spec.get("budget_scale", 1.0)
        baseline = results.kd("random", 1.0, 0.0, scale=scale)
        if f not in results.fractions or np.all(np.isnan(baseline)):
            out.append(
                _missing(finding, f"random at f={f:g} and f=1 without KD at {scale:g}x the epochs")
            )
            continue
        out.append(_verdict(finding, results.kd_accuracy("random", f) - baseline))
    return out


def cell_word(mean, low, high, threshold_value):
    """A per-cell description: the rule's word, and a significant deficit named.

    Examples
    --------
    >>> from prunekd.experiments._findings import cell_word
    >>> cell_word(-0.005, -0.009, -0.001, -0.01)
    'non-inferior, but lower by 0.5'
    >>> cell_word(0.0, -0.004, 0.004, -0.01), cell_word(-0.02, -0.03, -0.015, -0.01)
    ('reproduced', 'contradicted')
    """
    verdict = word(low, high, threshold_value)
    if verdict == "reproduced" and threshold_value < 0 and high < 0:
        return f"non-inferior, but lower by {-100 * mean:.1f}"
    return verdict


def _random_cell(results, q, f, limit):
    """Random − method ``q`` at fraction ``f``, with KD and without, each with its word."""
    with_kd = _t(results.kd_accuracy("random", f) - results.kd_accuracy(q, f))
    without = _t(results.kd("random", f, 0.0) - results.kd(q, f, 0.0))
    return dict(
        pruner=q,
        fraction=f,
        kd=with_kd,
        no_kd=without,
        kd_word=cell_word(*with_kd, limit),
        no_kd_word=cell_word(*without, limit),
    )


def random_against_each(results):
    """Claim 2 against every method: random − each score-based pruner at the small fractions.

    Returns the descriptive cells (per method and small fraction, with KD at
    each method's alpha chosen on validation and without KD, each with its
    95% interval and word) and the family verdict "2*": per method, random −
    method with KD averaged over the small fractions, with a Bonferroni
    interval over the family; reproduced when every interval lies above
    minus the margin, contradicted when one lies below it.

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
    scored = [p for p in results.pruners if p != "random"] if "random" in results.pruners else []
    small = [f for f in _sides(results)[0] if f < 1.0]
    if not scored or not small:
        return [], _missing("2*", "random, a score-based pruner and a small fraction")
    limit = threshold("2*")
    cells = [_random_cell(results, q, f, limit) for q in scored for f in small]
    level = 1 - (1 - LEVEL) / len(scored)
    per_method = {
        q: _over(small, lambda f, q=q: results.kd_accuracy("random", f) - results.kd_accuracy(q, f))
        for q in scored
    }
    plain = {q: t_interval(complete(d)) for q, d in per_method.items()}
    adjusted = {q: t_interval(complete(d), level=level) for q, d in per_method.items()}
    # "Every method" holds when every 95% interval clears the margin (an intersection-union
    # test needs no correction); "some method is better" needs the Bonferroni interval.
    above = [q for q in scored if word(*plain[q][1:], limit) == "reproduced"]
    below = [q for q in scored if word(*adjusted[q][1:], limit) == "contradicted"]
    family = (
        "contradicted" if below else "reproduced" if len(above) == len(scored) else "inconclusive"
    )
    weakest = min(scored, key=lambda q: np.nan_to_num(plain[q][1], nan=-np.inf))
    spec = protocol()["findings"]["2*"]
    verdict = Verdict(
        "2*",
        spec["claim"],
        f"random − each of {len(scored)} methods with KD, mean over f in {_fraction_set(small)}; "
        f"weakest: {method_label(weakest)} (points, 95% interval)",
        *plain[weakest],
        family,
        [
            f"{len(above)} methods above −{100 * -limit:g} point at 95%, {len(below)} below it at "
            f"the Bonferroni level {100 * level:.2f}%"
        ],
    )
    return cells, _enough_seeds(verdict, min(len(complete(d)) for d in per_method.values()))


def findings(rows, capacity_alpha=0.5, config=None):
    """Every finding's :class:`Verdict` for a sweep's rows, by the protocol's rules.

    Parameters
    ----------
    rows : list of dict
        A sweep's results, as :func:`load_results` returns them.
    capacity_alpha : float, default=0.5
        The alpha of the teacher-capacity study.
    config : dict, default=None
        The sweep's settings. Where they train as the protocol's design does,
        the protocol's frozen alphas and comparators are used; otherwise each
        is chosen on the sweep's validation split.

    Returns
    -------
    verdicts : list of Verdict
        Findings 1a, 1b, 2, 3, 4, 5a and 5b (claim 2's family, "2*", comes
        with its table from :func:`random_against_each`).

    Examples
    --------
    >>> from prunekd.experiments import findings
    >>> rows = [dict(study="main", pruner="random", fraction=f, alpha=a, seed=s,
    ...              teacher="equal" if a else "none", val_accuracy=acc + s / 100,
    ...              test_accuracy=acc + s / 100 + (s % 2) / 1000)
    ...         for s in range(5)
    ...         for f, a, acc in [(0.1, 0.0, .80), (0.1, 1.0, .90), (0.5, 0.0, .90), (0.5, 1.0, .92)]]
    >>> [(v.finding, v.word) for v in findings(rows)][:2]
    [('1a', 'reproduced'), ('1b', 'reproduced')]
    """
    results = Results(rows, frozen_choices(config))
    if not [f for f in results.fractions if f < 1.0]:
        return []
    return [
        kd_helps(results),
        kd_helps_more_when_small(results),
        random_matches_scores(results),
        alpha_contrast(results),
        teacher_contrast(results, capacity_alpha),
        *half_data_with_kd(results),
    ]


def format_verdict(v):
    """One markdown paragraph: claim, verdict, statistic and interval, then details.

    Examples
    --------
    See :class:`Verdict`:

    >>> from prunekd.experiments import Verdict, format_verdict
    >>> format_verdict(Verdict("3", "claim", "statistic", 0.005, 0.002, 0.007, "reproduced"))
    '**3. claim: reproduced.** statistic: +0.5 [+0.2, +0.7].'
    """
    interval = fmt_interval(v.estimate, v.low, v.high)
    text = f"**{v.finding}. {v.claim}: {v.word}.** {v.statistic}: {interval}."
    if v.detail:
        text += " " + "; ".join(v.detail) + "."
    return text
