"""Sharing fitted teachers with the workers of a dask.distributed cluster."""

from contextlib import contextmanager

__all__ = ["shared_teachers"]

# id(teacher) -> (key of its copy in the workers' memory, the teacher)
_SHARED = {}


class _SharedTeacher:
    """What a student pickles in place of a shared teacher: the key of its copy."""

    def __init__(self, key):
        self.key = key

    def resolve(self):
        """The teacher: the worker's scattered copy, or this process's original."""
        try:
            from distributed import get_worker

            return get_worker().data[self.key]
        except (ImportError, ValueError, KeyError):
            pass
        for key, teacher in _SHARED.values():
            if key == self.key:
                return teacher
        from distributed import Future, get_client

        return get_client().gather(Future(self.key))


def shared_key(teacher):
    """The key of a teacher shared by :func:`shared_teachers`, or None."""
    entry = _SHARED.get(id(teacher))
    return None if entry is None or entry[1] is not teacher else entry[0]


@contextmanager
def shared_teachers(*teachers, client=None):
    """Send teachers to every dask worker once, not once per search candidate.

    Inside the block, a :class:`~prunekd.DistillationClassifier` whose teacher
    is one of ``teachers`` pickles a reference to the workers' copy instead of
    the teacher itself, so a ``GridSearchCV`` run through joblib's dask
    backend ships each teacher to each worker once.

    Parameters
    ----------
    *teachers : objects
        Fitted teachers.
    client : distributed.Client, default=None
        The cluster's client; the current one if None.

    Examples
    --------
    >>> import joblib
    >>> from prunekd.parallel import shared_teachers
    >>> with shared_teachers(teacher), joblib.parallel_config(backend="dask"):  # doctest: +SKIP
    ...     search.fit(X, y)
    """
    from distributed import get_client

    client = client or get_client()
    futures = []
    for teacher in teachers:
        # hash=False: a random key, and no pickling of the teacher just to name it
        future = client.scatter(teacher, broadcast=True, hash=False)
        futures.append(future)
        _SHARED[id(teacher)] = (future.key, teacher)
    try:
        yield
    finally:
        for teacher in teachers:
            _SHARED.pop(id(teacher), None)
        for future in futures:
            future.release()
