"""Score caching on disk, shared by every process that sees the same ``memory``.

A pruner's scores are decided by the data, by the parameters that change them
and by the score seed. The cache key is built from exactly those, in a form that
is the same in every process:

- a class or function is identified by its code (bytecode, constants, names,
  defaults) as well as its name, so a class redefined in a notebook with other
  code gets other keys, and the same code gets the same key in a worker;
- a torch module *instance* is identified by its architecture: its classes'
  code, its ``repr`` and the weights it has after the re-initialisation every
  proxy gets (drawn here under a fixed seed), so its own random initial
  weights do not enter the key while weights that are never re-drawn do;
- a skorch net by its class and its ``get_params``, each value as above.

Two processes that need the same missing entry at once compute it once: the
second waits on a lock file next to the cache entry, then reads it.
"""

import copy
import hashlib
import os
import types

import joblib
import numpy as np
import torch
from filelock import FileLock
from sklearn.utils.validation import check_memory
from skorch import NeuralNet
from skorch.utils import is_dataset

from ._nets import _reset_parameters  # the re-initialisation proxies get
from ._utils import _fingerprint

# Library code is identified by its version, not by hashing its bytecode.
_LIBRARIES = ("torch", "skorch", "sklearn", "numpy", "builtins", "abc", "typing")


def _is_library(obj):
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in _LIBRARIES


def _const_repr(value):
    # A set's repr follows string hashing, which differs between processes.
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(map(repr, value))) + "}"
    return repr(value)


def _code_token(code):
    """What decides a code object's behaviour, nested code objects included."""
    consts = tuple(
        _code_token(c) if isinstance(c, types.CodeType) else _const_repr(c) for c in code.co_consts
    )
    return (code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars)


def _function_token(func):
    func = getattr(func, "__func__", func)  # bound, static and class methods
    if not isinstance(func, types.FunctionType):
        return (
            "object",
            getattr(func, "__module__", None),
            getattr(func, "__qualname__", repr(func)),
        )
    return (
        "function",
        func.__module__,
        func.__qualname__,
        _code_token(func.__code__),
        token(func.__defaults__),
        token(func.__kwdefaults__),
        tuple(_cell_token(cell) for cell in func.__closure__ or ()),
    )


def _cell_token(cell):
    try:
        value = cell.cell_contents
    except ValueError:  # an empty cell
        return None
    if isinstance(value, type):  # such as super()'s __class__ cell: by name, no recursion
        return ("cell-type", value.__module__, value.__qualname__)
    return token(value)


def _class_token(cls):
    """A class by name and by the code of its own, non-library, ancestors."""
    parts = [("class", cls.__module__, cls.__qualname__)]
    for klass in cls.__mro__:
        if _is_library(klass):
            continue
        members = []
        for name, value in sorted(vars(klass).items()):
            if name in ("__dict__", "__weakref__", "__doc__", "__module__", "__qualname__"):
                continue
            if isinstance(value, (types.FunctionType, staticmethod, classmethod)):
                members.append((name, _function_token(value)))
            elif isinstance(value, property):
                members.append(
                    (name, tuple(_function_token(f) for f in (value.fget, value.fset) if f))
                )
            elif isinstance(value, (int, float, str, bytes, bool, type(None), tuple, frozenset)):
                members.append((name, _const_repr(value)))
        parts.append((klass.__module__, klass.__qualname__, tuple(members)))
    return tuple(parts)


def _module_token(module):
    """A module instance by architecture and by the weights every proxy starts from."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        reset = _reset_parameters(copy.deepcopy(module).cpu())
    state = {k: v.detach().numpy() for k, v in reset.state_dict().items()}
    classes = {type(m) for m in module.modules()}
    classes = sorted((_class_token(c) for c in classes), key=repr)
    return ("module", repr(module), tuple(classes), joblib.hash(state))


def token(value):
    """A picklable stand-in for ``value`` that is equal across processes iff it behaves alike."""
    if isinstance(value, torch.nn.Module):
        return _module_token(value)
    if isinstance(value, NeuralNet):
        params = value.get_params(deep=False)
        return ("net", _class_token(type(value)), token(params))
    if isinstance(value, type):
        return ("type",) + (
            _class_token(value)
            if not _is_library(value)
            else (value.__module__, value.__qualname__)
        )
    if isinstance(value, (types.FunctionType, types.MethodType, staticmethod, classmethod)):
        return _function_token(value)
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), token(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(token(v) for v in value))
    if isinstance(value, torch.Tensor):
        return ("tensor", joblib.hash(value.detach().cpu().numpy()))
    if isinstance(value, torch.device):
        return ("device", str(value))
    if isinstance(value, (str, bytes, int, float, complex, bool, type(None), np.ndarray)):
        return value
    # Other objects (callbacks, transforms...) by class and state, not by a
    # reference to a class that another process may not be able to import.
    if hasattr(value, "get_params"):
        fitted = getattr(value, "_fitted_params", ())  # a pruner's teacher: by its weights
        params = {
            k: fitted_token(v) if k in fitted else token(v)
            for k, v in value.get_params(deep=False).items()
        }
        return ("params", token(type(value)), token(params))
    if hasattr(value, "__dict__"):
        return ("object", token(type(value)), token(vars(value)))
    return value


def fitted_token(value):
    """A fitted model by what it has learned: weights, fitted attributes, code."""
    if value is None:
        return None
    if isinstance(value, NeuralNet):
        return ("fitted-net", token(type(value)), fitted_token(getattr(value, "module_", None)))
    if isinstance(value, torch.nn.Module):
        state = {k: v.detach().cpu().numpy() for k, v in value.state_dict().items()}
        classes = sorted(
            (_class_token(type(m)) for m in {type(m) for m in value.modules()}), key=repr
        )
        return ("fitted-module", repr(value), tuple(classes), joblib.hash(state))
    return ("fitted", token(type(value)), joblib.hash(value))


def score_memory(memory):
    """``memory`` as a joblib.Memory, or None when nothing is to be cached."""
    memory = check_memory(os.fspath(memory) if isinstance(memory, os.PathLike) else memory)
    return None if memory.location is None else memory


def cached_call(memory, func, key, *args):
    """``func(*args)``, computed once per ``key`` across every process sharing ``memory``.

    ``args`` are not hashed: ``key`` must hold everything that decides the result.
    """
    cached = memory.cache(_keyed, ignore=["func", "args"])
    digest = hashlib.sha1(joblib.hash(key).encode()).hexdigest()
    lock_dir = os.path.join(memory.location, "prunekd-locks")
    os.makedirs(lock_dir, exist_ok=True)
    with FileLock(os.path.join(lock_dir, digest + ".lock")):
        return cached(key, func, args)


def _keyed(key, func, args):
    return func(*args)


def input_fingerprint(X):
    """What identifies the X a pruner is fitted on: a content hash.

    A torch Dataset is hashed through its pickled state (file paths, arrays,
    transforms); one that cannot be pickled is identified by the object itself,
    which is good enough for ``transform`` but not for the score cache.
    """
    if is_dataset(X):
        try:
            return joblib.hash((type(X).__qualname__, X))
        except Exception:  # an unpicklable dataset: the very same object then
            return ("id", id(X), len(X))
    return _fingerprint(X)
