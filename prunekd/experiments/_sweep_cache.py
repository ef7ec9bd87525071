"""What an unfinished sweep keeps between invocations: its fitted teachers and its pruners' scores.

A sweep that stops (killed, or its session over) refits nothing when the same
command runs again. Each teacher is stored under ``out/cache/`` as soon as it
is fitted, with its log-probabilities, accuracies and fit time, and the
pruners' scores live in a ``joblib.Memory`` there. Loading a teacher gives the
same arrays and the same fitted network (a pickle round trip), so the rows of
a resumed sweep are those of an uninterrupted one. A teacher's file is named by
its seed, name, width and epochs (the grid may change between invocations);
the settings it also depends on are the sweep's key, which a resume must match
(:func:`~prunekd.experiments._store.prepare_out`). The cache is removed when
the sweep completes, and by ``restart``.
"""

import os
import shutil

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


def save_teacher(out, config, seed, name, fitted):
    """Store one fitted teacher, atomically: a file is whole or absent after a kill."""
    path = _teacher_path(out, config, seed, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    joblib.dump(fitted, path + ".part")
    os.replace(path + ".part", path)


def clear(out):
    """Remove the cache: the sweep completed, or restarts."""
    shutil.rmtree(cache_dir(out), ignore_errors=True)
