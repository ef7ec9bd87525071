"""Names kept until 0.3 for old code, each with a warning."""

import warnings


def clear_score_cache():
    """Deprecated: pruners no longer keep scores in memory; this does nothing.

    Scores are cached only where asked, on disk, with ``memory=`` on a pruner
    or on :class:`~prunekd.Pipeline`; delete that folder (or call
    ``joblib.Memory.clear``) to free it. This function will be removed in 0.3.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):
    ...     from prunekd.pruning import clear_score_cache
    ...     clear_score_cache()
    """
    warnings.warn(
        "clear_score_cache is deprecated and does nothing: pruners cache scores only "
        "with memory=, on disk. It will be removed in 0.3.",
        FutureWarning,
        stacklevel=2,
    )
