"""Which rows a teacher predicts on when a pipeline offers two views of the same samples.

A teacher fitted on raw features and a student behind a scaler is an ordinary
pipeline. Fed the scaled rows, such a teacher still predicts something, often
well enough to pass a sanity check, and the student learns from its errors.
``prunekd.Pipeline(teacher_input="auto")`` offers the teacher the raw rows
next to the transformed ones, and the student keeps the view on which the
teacher agrees clearly more often with the labels of the rows it trains on
(a teacher fitted on the full data has seen them), or refuses to guess.
"""

import numpy as np

from .._compat import _num_samples
from .._rows import take

# "Clearly better": a paired difference in agreement of at least this many
# standard errors (McNemar's, on the rows where exactly one view is right)...
_CLEAR_Z = 3.0
# ... and of at least one point.
_CLEAR_GAP = 0.01
# Below that, views whose predictions differ on more rows than this are not
# interchangeable, and the choice is left to the user.
_MAX_DISAGREEMENT = 0.10


class RawView:
    """The untransformed rows of a pipeline's input, offered to the teacher as a second view.

    What ``prunekd.Pipeline(teacher_input="auto")`` passes to the final step's
    ``fit`` as ``teacher_X``; pruned with the rows, like ``teacher_X``.
    """

    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return _num_samples(self.rows)

    def take(self, indices):
        return RawView(take(self.rows, indices))


def _predictions(teacher, X, batch):
    try:
        return teacher.logits_array(X, batch)
    except Exception as exc:  # the teacher cannot read this view at all
        return exc


def choose_view(teacher, views, labels, batch):
    """The name of the view to use, its logits and the agreement of every view.

    Parameters
    ----------
    teacher : _Teacher
        Columns in the order of the encoded ``labels``.
    views : dict of {"transformed": rows, "raw": rows}
    labels : ndarray of int
        The encoded labels of the rows.
    batch : int
        Rows per inference batch.

    Returns
    -------
    name : str
    logits : torch.Tensor
    agreement : dict of {str: float}
        Share of the rows whose label the teacher predicts, per readable view.
    """
    outs = {name: _predictions(teacher, rows, batch) for name, rows in views.items()}
    ok = {name: out for name, out in outs.items() if not isinstance(out, Exception)}
    if not ok:
        raise ValueError(
            "the teacher could predict neither the rows the student gets nor the raw rows: "
            + "; ".join(f"{name}: {exc}" for name, exc in outs.items())
        )
    right = {name: out.argmax(1).numpy() == labels for name, out in ok.items()}
    agreement = {name: float(r.mean()) for name, r in right.items()}
    if len(ok) == 1:
        (name,) = ok
        return name, ok[name], agreement
    best = _clearly_better(right["raw"], right["transformed"], ok, agreement)
    return best, ok[best], agreement


def _clearly_better(raw, transformed, outs, agreement):
    n = len(raw)
    only_raw, only_transformed = np.mean(raw & ~transformed), np.mean(transformed & ~raw)
    gap = only_raw - only_transformed
    se = np.sqrt(max(only_raw + only_transformed - gap**2, 1e-12) / n)
    if abs(gap) >= _CLEAR_GAP and abs(gap) / se >= _CLEAR_Z:
        return "raw" if gap > 0 else "transformed"
    differ = float(np.mean(outs["raw"].argmax(1).numpy() != outs["transformed"].argmax(1).numpy()))
    if differ > _MAX_DISAGREEMENT:
        raise ValueError(
            "teacher_input='auto' cannot tell which rows the teacher was fitted on: it agrees "
            f"with the labels of {agreement['raw']:.1%} of the kept rows on the raw input and "
            f"{agreement['transformed']:.1%} on the transformed input, and its predictions "
            f"differ between the two on {differ:.1%} of them. Set teacher_input='raw' or "
            "teacher_input='transformed' on the prunekd Pipeline"
        )
    return "raw" if gap > 0 else "transformed"
