"""What an unfinished sweep keeps between invocations: teachers, scores, wall time, revisions.

A sweep that stops (killed, or its session over) refits nothing when the same
command runs again. Each teacher is stored under ``out/cache/`` as soon as it
is fitted, with its log-probabilities, accuracies and fit time, and the
pruners' scores live in a ``joblib.Memory`` there. Loading a teacher gives the
same arrays and the same fitted network (a pickle round trip), so the rows of
a sweep resumed on the same machine are those of an uninterrupted one. A
teacher's file is named by its seed, name, width and epochs (the grid may
change between invocations); the settings it also depends on are the sweep's
key, which a resume must match
(:func:`~prunekd.experiments._store.prepare_out`). The cache is removed when
the sweep completes, and by ``restart``. So is the wall time of invocations
that stopped before completing (:class:`WallClock`), and the code revision
each invocation started with (:func:`note_revision`) and the machine it ran on
(:func:`note_machine`), which ``info.json`` would otherwise never count.
"""

import json
import os
import shutil
import time
import warnings

import joblib

CACHE = "cache"


def cache_dir(out):
    """The folder of ``out``'s cache."""
    return os.path.join(out, CACHE)


def scores_memory(out):
    """The ``joblib.Memory`` of the pruners' scores, shared by the workers and the invocations."""
    return joblib.Memory(os.path.join(cache_dir(out), "scores"), verbose=0)


def _teacher_path(out, config, seed, name):
    width, epochs = config.teacher_widths[name], config.teacher_epochs_of(name)
    return os.path.join(cache_dir(out), "teachers", f"seed{seed}-{name}-w{width}-e{epochs}.joblib")


def load_teacher(out, config, seed, name, keep):
    """``(log-probabilities, accuracies, seconds, teacher or None)`` stored by an earlier
    invocation, or None: not stored, or stored without the fitted network that ``keep`` asks for."""
    path = _teacher_path(out, config, seed, name)
    if not os.path.exists(path):
        return None
    stored = joblib.load(path)
    return None if keep and stored[3] is None else stored


def stored_teachers(out, config):
    """``{(seed, name): stored teacher}`` of every teacher of ``config`` in the cache.

    A seed whose students all finished in an invocation that was then killed
    needs no teacher in the invocation that completes the sweep; its teachers'
    accuracies and fit times are in the cache only, until it is cleared.
    """
    found = {}
    for seed in config.seeds:
        for name in config.teacher_widths:
            stored = load_teacher(out, config, seed, name, keep=False)
            if stored is not None:
                found[seed, name] = stored
    return found


def save_teacher(out, config, seed, name, fitted):
    """Store one fitted teacher, atomically: a file is whole or absent after a kill."""
    path = _teacher_path(out, config, seed, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    joblib.dump(fitted, path + ".part")
    os.replace(path + ".part", path)


def clear(out):
    """Remove the cache: the sweep completed, or restarts."""
    shutil.rmtree(cache_dir(out), ignore_errors=True)


def _note(out, name, value):
    """The values an invocation of the unfinished sweep started with, ``value`` added (sorted)."""
    path = os.path.join(cache_dir(out), f"{name}.json")
    seen = set()
    if os.path.exists(path):
        with open(path) as f:
            seen = set(json.load(f))
    values = sorted(seen | {str(value)})
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".part", "w") as f:
        json.dump(values, f)
    os.replace(path + ".part", path)
    return values


def note_revision(out, revision):
    """Every code revision an invocation of the unfinished sweep started with, ``revision`` added.

    A sweep resumed across sessions may run at several revisions; ``info.json``
    is written once, at completion, and names them all.
    """
    return _note(out, "revisions", revision)


def note_machine(out, machine):
    """Every machine an invocation of the unfinished sweep ran on, ``machine`` added.

    Warns when there are several: fits are deterministic on one machine only
    (see :func:`~prunekd.experiments._store.machine`), so the rows this
    invocation adds are not those an uninterrupted run on the first machine
    would have written.
    """
    machines = _note(out, "machines", machine)
    if len(machines) > 1:
        others = "; ".join(m for m in machines if m != machine)
        warnings.warn(
            f"{out} was started on another machine ({others}) and resumes on {machine}: "
            "floating-point kernels differ between processors, so the rows added now are not "
            "bit-identical to an uninterrupted run's. To have every row from one machine, "
            "rerun with restart=True (prunekd --restart).",
            stacklevel=3,
        )
    return machines


class WallClock:
    """A sweep's wall seconds since its last completion, invocations that were killed included.

    ``tick`` stores the running total in the cache after each unit of work (a
    teacher, a pruner's scores, a group of students), so a killed invocation
    loses only the time since its last tick; the next one starts from it.

    Parameters
    ----------
    out : str
        The sweep's folder.
    start : float
        ``time.perf_counter()`` when this invocation started.
    """

    def __init__(self, out, start):
        self.path = os.path.join(cache_dir(out), "wall_seconds.json")
        self.start = start
        self.carried = 0.0
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.carried = float(json.load(f)["seconds"])

    def seconds(self):
        """Wall seconds of the killed invocations and of this one so far."""
        return self.carried + time.perf_counter() - self.start

    def tick(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path + ".part", "w") as f:
            json.dump({"seconds": round(self.seconds(), 3)}, f)
        os.replace(self.path + ".part", self.path)
