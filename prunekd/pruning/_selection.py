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


def select(scores, y_encoded, n_keep, keep, tiebreak, class_balanced):
    """Sorted indices of the ``n_keep`` samples kept, per class or globally."""
    if not class_balanced:
        return np.sort(rank(scores, tiebreak, keep)[:n_keep])
    counts = np.bincount(y_encoded)
    quotas = class_quotas(counts, n_keep)
    kept = []
    for c, quota in enumerate(quotas):
        members = np.flatnonzero(y_encoded == c)
        order = rank(scores[members], tiebreak[members], keep)
        kept.append(members[order[:quota]])
    return np.sort(np.concatenate(kept))
