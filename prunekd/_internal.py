"""The internals that prunekd's experiments build on, named in one place.

``prunekd.experiments`` trains and scores students through the public API,
except where the sweep needs what no public name gives: the vectorised group
trainer subclasses the student's skorch base and reads target rows, and the
sweep computes each teacher's outputs once for all its students. Everything it
takes from inside the package comes from this module, so that a change inside
shows here.
"""

from ._skorch import _BatchedArrays, _Classifier
from ._utils import _seed_from_random_state, _torch_seeded
from .distillation._losses import check_kd_loss, teacher_log_probs
from .distillation._targets import pack_targets, unpack_targets
from .distillation._teacher import make_teacher
from .pruning._proxy import default_proxy_module

__all__ = [
    "_BatchedArrays",
    "_Classifier",
    "_seed_from_random_state",
    "_torch_seeded",
    "check_kd_loss",
    "default_proxy_module",
    "make_teacher",
    "pack_targets",
    "teacher_log_probs",
    "unpack_targets",
]
