"""Claim 2 under results protocol v3: random pruning against every method of the protocol's list.

Secondary to F2. The family is ``protocol_v3.json``'s ``claim_2_family``,
read from there: a method registered later is reported on its own, labelled
"added after the freeze", and never enters the family's word.
"""

import numpy as np

from ._findings_v3 import POINTS, mean_over
from ._methods import label
from ._protocol import claim_2_family_v3, protocol_v3
from ._results import Results, complete, fmt_interval, md_row
from ._stats import LEVEL, t_interval, word


def _per_method(r, method, small):
    """Per seed, random minus ``method``, both with KD at their frozen alphas, mean over ``small``."""
    return POINTS * mean_over(
        [r.kd_accuracy("random", f) - r.kd_accuracy(method, f) for f in small]
    )


def _row_word(interval, margin):
    """One method's word, as the family reads it: "reproduced" when its 95% interval lies above
    ``-margin``, "contradicted" when its Bonferroni interval lies below, else "inconclusive"."""
    _, low, high, b_low, b_high = interval
    if word(low, high, -margin) == "reproduced":
        return "reproduced"
    return "contradicted" if word(b_low, b_high, -margin) == "contradicted" else "inconclusive"


def claim_2_v3(rows, frozen, margin, family=None):
    """Claim 2's family verdict under protocol v3, and every method's interval.

    Per method: random minus the method, both with KD, mean over the small
    fractions, in points, paired per seed. The family reads "reproduced" when
    every member's 95% interval lies above ``-margin`` (an intersection-union
    test: no correction needed) and no member is missing from ``rows``;
    "contradicted" when one member's Bonferroni interval (level
    ``1 - 0.05 / m``) lies below ``-margin``; "inconclusive" otherwise.

    Parameters
    ----------
    rows : list of dict
        The methods sweep's rows (random and the methods, with and without KD).
    frozen : dict
        The dataset's frozen choices: ``alphas`` per design pruner and
        ``pooled_alphas``, the alpha of every other method, per fraction.
    margin : float
        The dataset's margin, in points.
    family : sequence of str, default=None
        The members; the protocol's list if None.

    Returns
    -------
    result : dict
        ``word``; ``members`` and ``later``, each ``{method: (estimate, low,
        high, bonferroni_low, bonferroni_high)}``; ``missing``, the members
        ``rows`` lacks; ``level``, the Bonferroni level; ``alphas``, the KD
        alpha at each small fraction (``fractions``) of random, of each design
        pruner run, and of every other method (``"pooled"``).

    Examples
    --------
    >>> from prunekd.experiments._claim2_v3 import claim_2_v3
    >>> rows = [dict(study="main", pruner=p, fraction=0.1, alpha=a, seed=s, budget_scale=1.0,
    ...              teacher="equal" if a else "none", val_accuracy=0.9,
    ...              test_accuracy=0.9 - (0.1 if p == "grand" else 0.0) + s / 1000)
    ...         for p in ("random", "el2n", "grand") for a in (0.0, 1.0) for s in range(5)]
    >>> frozen = {"alphas": {}, "pooled_alphas": {"0.1": 1.0}}
    >>> out = claim_2_v3(rows, frozen, margin=1.0, family=["el2n"])
    >>> out["word"], sorted(out["members"]), sorted(out["later"])
    ('reproduced', ['el2n'], ['grand'])
    """
    family = list(claim_2_family_v3() if family is None else family)
    r = Results(rows, frozen)
    small = [f for f in protocol_v3()["small_fractions"] if f in r.fractions]
    scored = [p for p in r.pruners if p != "random"]
    level = 1 - (1 - LEVEL) / len(family)

    def intervals(method):
        d = complete(_per_method(r, method, small))
        return (*t_interval(d), *t_interval(d, level=level)[1:])

    members = {q: intervals(q) for q in family if q in scored}
    later = {q: intervals(q) for q in scored if q not in family}
    missing = [q for q in family if q not in scored]
    words = [_row_word(v, margin) for v in members.values()]
    reproduced = words.count("reproduced") == len(family) and not missing
    verdict = (
        "contradicted"
        if "contradicted" in words
        else "reproduced"
        if reproduced
        else "inconclusive"
    )
    design = [p for p in ("random", *frozen["alphas"]) if p in r.pruners]
    alphas = {p: [r.chosen_alpha(p, f) for f in small] for p in dict.fromkeys(design)}
    alphas["pooled"] = [frozen["pooled_alphas"].get(f"{f:g}") for f in small]
    return {
        "word": verdict,
        "members": members,
        "later": later,
        "missing": missing,
        "level": level,
        "alphas": alphas,
        "fractions": small,
    }


def claim_2_lines(result, margin):
    """Markdown lines of :func:`claim_2_v3`: the family's word, then one row per method."""
    members, later = result["members"], result["later"]
    weakest = min(members, key=lambda q: np.nan_to_num(members[q][0], nan=np.inf), default=None)
    lines = [
        f"**Claim 2 against every method of the protocol's list ({len(members)} of "
        f"{len(members) + len(result['missing'])} run): {result['word']}** (secondary to F2). "
        "Random minus each method, both with KD, mean over the small fractions, in points; "
        f"'every method' needs each 95% interval above −{margin:g}, a contradiction one "
        f"Bonferroni interval ({100 * result['level']:.2f}%) below it; each row's word reads "
        "its method the same way."
        + _alpha_sentence(result)
        + (f" Weakest (the lowest estimate): {label(weakest)}." if weakest else ""),
        "",
        "| method | random − method, KD (95%) | Bonferroni interval | word | in the family |",
        "| --- | --- | --- | --- | --- |",
    ]
    for group, name in ((members, "yes"), (later, "no: added after the freeze")):
        for q, (est, low, high, b_low, b_high) in group.items():
            # two decimals: a bound within 0.05 of the margin reads on the right side of it
            interval = fmt_interval(est, low, high, scale=1, digits=2)
            bonferroni = fmt_interval(est, b_low, b_high, scale=1, digits=2)
            cells = [
                label(q),
                interval,
                bonferroni,
                _row_word((est, low, high, b_low, b_high), margin),
                name,
            ]
            lines.append(md_row(cells))
    missing = ", ".join(label(q) for q in result["missing"])
    return lines + (["", f"Not run: {missing}."] if missing else []) + [""]


def _alpha_sentence(result):
    """Which KD alpha each side trained at: the protocol's frozen ones, per small fraction."""
    if not result.get("fractions"):
        return ""
    names = {"pooled": "every other method"}
    parts = [
        f"{names.get(p) or label(p)} {', '.join(f'{a:g}' for a in alphas)}"
        for p, alphas in result["alphas"].items()
    ]
    fractions = ", ".join(f"{f:g}" for f in result["fractions"])
    return f" KD alphas, frozen before the run, at f = {fractions}: {'; '.join(parts)}."
