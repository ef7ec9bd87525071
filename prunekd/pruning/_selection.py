"""Budgets and ranking: which samples a pruner keeps, given their scores."""

import numpy as np


def n_kept(fraction, n_samples):
    """Number of samples kept for a fraction: ``round(fraction * n_samples)``, at least 1."""
    return max(1, int(round(fraction * n_samples)))


def class_quotas(counts, n_keep):
    """Split a budget of ``n_keep`` samples over classes with the given ``counts``.

    Quotas are proportional to the class counts, rounded by the largest-remainder
    method so that they add up to exactly ``n_keep``; every class then gets at
    least one sample, taken from the class whose quota most exceeds its exact
    share. Ties go to the lower class index, so the result is deterministic.

    Parameters
    ----------
    counts : ndarray of shape (n_classes,)
        Number of samples in each class (all positive).
    n_keep : int
        Total budget, with ``n_classes <= n_keep <= counts.sum()``.

    Returns
    -------
    quotas : ndarray of shape (n_classes,)
        Samples to keep per class; ``1 <= quotas <= counts`` and
        ``quotas.sum() == n_keep``.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning import class_quotas
    >>> class_quotas(np.array([50, 30, 20]), 7)  # exact shares 3.5, 2.1, 1.4
    array([4, 2, 1])
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_classes = len(counts)
    exact = n_keep * counts / counts.sum()
    quotas = np.floor(exact).astype(np.int64)
    remainder = n_keep - quotas.sum()
    # Largest fractional part first; lexsort's last key is the primary one.
    order = np.lexsort((np.arange(n_classes), -(exact - quotas)))
    quotas[order[:remainder]] += 1
    for c in np.flatnonzero(quotas == 0):
        slack = np.where(quotas > 1, quotas - exact, -np.inf)
        donor = int(np.argmax(slack))
        quotas[donor] -= 1
        quotas[c] = 1
    return quotas


def rank(scores, tiebreak, keep):
    """Indices of ``scores`` ordered from first-kept to last-kept.

    ``keep="hard"`` puts the largest scores first, ``keep="easy"`` the smallest;
    equal scores are ordered by ``tiebreak`` (a random permutation drawn from the
    pruner's ``random_state``).
    """
    primary = -scores if keep == "hard" else scores
    return np.lexsort((tiebreak, primary))


def budgets(y_encoded, n_keep, class_balanced):
    """``(members, quota)`` of every class with a positive quota, or of all samples at once."""
    if not class_balanced:
        return [(np.arange(len(y_encoded)), n_keep)]
    quotas = class_quotas(np.bincount(y_encoded), n_keep)
    return [(np.flatnonzero(y_encoded == c), q) for c, q in enumerate(quotas) if q]


def per_class(y_encoded, n_keep, class_balanced, choose):
    """Sorted indices chosen by ``choose(members, quota)``, per class or over all samples.

    With ``class_balanced`` the budget is split by :func:`class_quotas` and
    ``choose`` is called once per class with that class's members; otherwise
    once, with every sample. ``choose`` returns indices taken from ``members``.
    """
    if not class_balanced:
        return np.sort(np.asarray(choose(np.arange(len(y_encoded)), n_keep)))
    quotas = class_quotas(np.bincount(y_encoded), n_keep)
    kept = [choose(np.flatnonzero(y_encoded == c), q) for c, q in enumerate(quotas)]
    return np.sort(np.concatenate(kept))


def select(scores, y_encoded, n_keep, keep, tiebreak, class_balanced):
    """Sorted indices of the ``n_keep`` samples kept, per class or globally."""

    def best(members, quota):
        return members[rank(scores[members], tiebreak[members], keep)[:quota]]

    return per_class(y_encoded, n_keep, class_balanced, best)


def coverage_select(scores, n_keep, hard_cutoff, n_strata, tiebreak):
    """Coverage-centric selection (CCS) among samples with these ``scores``.

    The ``round(hard_cutoff * n)`` hardest samples are dropped (fewer if the
    budget needs them), the score range of the rest is cut into ``n_strata``
    strata of equal width, and the budget is spread from the smallest stratum
    up: each takes ``min(its size, budget left // strata left)`` samples, at
    random (the smallest ``tiebreak``). Returns positions into ``scores``.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.pruning._selection import coverage_select
    >>> scores = np.array([0.0, 0.1, 0.2, 5.0, 5.1, 9.9, 10.0])
    >>> # 10.0 is cut; strata [0, 4.95) and [4.95, 9.9] get 1 and 2 of the 3 kept
    >>> coverage_select(scores, 3, hard_cutoff=1 / 7, n_strata=2, tiebreak=np.arange(7))
    array([0, 3, 4])
    """
    n = len(scores)
    n_cut = min(int(round(hard_cutoff * n)), n - n_keep)
    order = np.lexsort((tiebreak, -scores))  # hardest first
    rest = np.sort(order[n_cut:])
    values = scores[rest]
    low, high = values.min(), values.max()
    edges = np.linspace(low, high, n_strata + 1)
    stratum = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n_strata - 1)
    groups = [rest[stratum == k] for k in range(n_strata)]
    groups = [g for g in groups if len(g)]
    groups.sort(key=len)
    chosen, budget = [], n_keep
    for i, group in enumerate(groups):
        take = min(len(group), budget // (len(groups) - i))
        chosen.append(group[np.argsort(tiebreak[group], kind="stable")[:take]])
        budget -= take
    chosen = np.concatenate(chosen) if chosen else np.array([], dtype=np.int64)
    if budget:  # strata too small for an even share: fill at random from the rest
        left = np.setdiff1d(rest, chosen)
        chosen = np.concatenate([chosen, left[np.argsort(tiebreak[left], kind="stable")[:budget]]])
    return np.sort(chosen)
