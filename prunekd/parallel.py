"""Sharing fitted teachers with the workers of a dask.distributed cluster."""

import uuid
from contextlib import contextmanager

__all__ = ["shared_teachers"]

# In the process that runs the search: id(teacher) -> (key, teacher)
_SHARED = {}
# In every worker process: key -> teacher, installed by shared_teachers
_INSTALLED = {}


class _SharedTeacher:
    """What a student pickles in place of a shared teacher: the teacher's key."""

    def __init__(self, key):
        self.key = key

    def resolve(self):
        """The teacher: this process's original, or the copy installed in this worker."""
        for key, teacher in _SHARED.values():
            if key == self.key:
                return teacher
        try:
            return _INSTALLED[self.key]
        except KeyError:
            raise RuntimeError(
                "the shared teacher is not in this process: a student pickled inside "
                "prunekd.parallel.shared_teachers() holds only a reference to it, valid in "
                "the cluster's workers (those present when the block started) and, while "
                "the block is open, in the process that opened it"
            ) from None


def _install(key, teacher):
    _INSTALLED[key] = teacher


def _uninstall(keys):
    for key in keys:
        _INSTALLED.pop(key, None)


def shared_key(teacher):
    """The key of a teacher shared by :func:`shared_teachers`, or None."""
    entry = _SHARED.get(id(teacher))
    return None if entry is None or entry[1] is not teacher else entry[0]


@contextmanager
def shared_teachers(*teachers, client=None):
    """Send teachers to every dask worker once, not once per search candidate.

    Each teacher is installed in every worker process of the cluster (one copy
    per worker). Inside the block, a :class:`~prunekd.DistillationClassifier`
    whose teacher is one of ``teachers`` pickles a small reference instead of
    the teacher, so a ``GridSearchCV`` run through joblib's dask backend no
    longer ships the teacher with every candidate and fold.

    Parameters
    ----------
    *teachers : objects
        Fitted teachers.
    client : distributed.Client, default=None
        The cluster's client; the current one if None.

    Notes
    -----
    Why a block and not automatic: joblib's dask backend shares (scatters)
    only the top-level arguments of a task, and a teacher sits inside each
    candidate's estimator, which is pickled with it. Nothing at pickling time
    says whether a student is bound for a worker or for a file, so the search
    states it. Only inside the block do students pickle a reference; a student
    saved there with :mod:`pickle` can be loaded only while the block is open.

    Examples
    --------
    >>> import joblib
    >>> from prunekd.parallel import shared_teachers
    >>> with shared_teachers(teacher), joblib.parallel_config(backend="dask"):  # doctest: +SKIP
    ...     search.fit(X, y)
    """
    from distributed import get_client

    client = client or get_client()
    keys = []
    for teacher in teachers:
        key = f"prunekd-teacher-{uuid.uuid4().hex}"
        client.run(_install, key, teacher)
        _SHARED[id(teacher)] = (key, teacher)
        keys.append(key)
    try:
        yield
    finally:
        for teacher in teachers:
            _SHARED.pop(id(teacher), None)
        client.run(_uninstall, keys)
