"""The internals that prunekd's experiments build on, named in one place.

``prunekd.experiments`` trains and scores students through the public API,
except where the sweep needs what no public name gives: the vectorised group
trainer (``prunekd.distillation._group``, whose small API its module
docstring gives), and each teacher's outputs computed once for all its
students, and a digest of the arrays a run was made on. Everything it
takes from inside the package comes from this module, so that a change inside
shows here.
"""

from .datasets._mnist1d import array_digest
from .distillation._group import _INFERENCE_BATCH, _StudentGroup, vectorisable
from .distillation._losses import KD_LOSSES, teacher_log_probs
from .distillation._teacher import make_teacher
from .pruning._proxy import default_proxy_module

__all__ = [
    "_INFERENCE_BATCH",
    "KD_LOSSES",
    "_StudentGroup",
    "array_digest",
    "default_proxy_module",
    "make_teacher",
    "teacher_log_probs",
    "vectorisable",
]
