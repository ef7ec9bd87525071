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


def _module_class_by_value(teacher):
    """Whether a fitted skorch teacher's module class cannot be imported by name.

    A class defined in the user's script (``__main__``, a notebook) or inside a
    function exists only in this process.
    """
    from skorch import NeuralNet
    from torch.nn import Module

    module = getattr(teacher, "module_", None) if isinstance(teacher, NeuralNet) else None
    if not isinstance(module, Module):
        return False
    cls = type(module)
    return cls.__module__ == "__main__" or "<locals>" in cls.__qualname__


def _restore_net(cls, attributes):
    net = cls.__new__(cls)
    net.__dict__.update(attributes)
    return net


class _PortableNet:
    """Pickles a fitted skorch teacher with its torch objects as they are.

    skorch pickles a net's module through ``torch.save``, which refers to the
    module's class by name, so a class defined in the user's script cannot be
    found in a joblib worker (``BrokenProcessPool``). Pickled as plain
    attributes, the module goes through joblib's cloudpickle, which sends
    such a class by value. Unpickling gives the skorch net back.
    """

    def __init__(self, net):
        self.net = net

    def __reduce__(self):
        return _restore_net, (type(self.net), dict(self.net.__dict__))


def portable_teacher(teacher):
    """What a student pickles for its teacher: a shared teacher's key, or a portable net."""
    key = shared_key(teacher)
    if key is not None:  # inside shared_teachers
        return _SharedTeacher(key)
    if _module_class_by_value(teacher):
        return _PortableNet(teacher)
    return teacher


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
