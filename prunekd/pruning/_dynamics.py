"""Scores read off the teacher's own training (Forgetting, AUM, Dyn-Unc, TDDS): no extra cost."""

from numbers import Integral, Real

import numpy as np

from .._compat import Interval, StrOptions
from ..callbacks import TrainingDynamics
from ..distillation._teacher import make_teacher
from ._base import ScorePruner


def _net_of(model):
    """The fitted skorch net the resolver finds in ``model``, or None."""
    try:
        return make_teacher(model).net
    except TypeError:
        return None


def _recorder(dynamics):
    net = None if isinstance(dynamics, TrainingDynamics) else _net_of(dynamics)
    if isinstance(dynamics, TrainingDynamics):
        recorder = dynamics
    elif net is not None:
        found = [cb for _, cb in getattr(net, "callbacks_", []) if isinstance(cb, TrainingDynamics)]
        if not found:
            raise ValueError(
                "model is a skorch net without a TrainingDynamics callback; fit the teacher "
                "with callbacks=[prunekd.callbacks.TrainingDynamics()]"
            )
        recorder = found[0]
    else:
        raise TypeError(
            "model must be a prunekd.callbacks.TrainingDynamics that recorded a training, "
            f"or a fitted skorch net holding one; got {type(dynamics).__name__}"
        )
    if not hasattr(recorder, "correct_"):
        raise ValueError(
            "the TrainingDynamics callback has recorded nothing yet: fit its net first"
        )
    return recorder


class DynamicsPruner(ScorePruner):
    """Prune by Forgetting, AUM, dynamic uncertainty or TDDS, read off a training that happened.

    The teacher trains on the full data anyway; with a
    :class:`~prunekd.callbacks.TrainingDynamics` callback it records every
    sample's correctness, margin and true-class probability after each epoch,
    and this pruner ranks the samples from that record: no proxy trains.

    Parameters
    ----------
    model : TrainingDynamics or fitted skorch net, default=None
        The net (such as the teacher) whose callbacks hold a
        :class:`~prunekd.callbacks.TrainingDynamics`, or the recorder itself.
        It must have recorded a training on the ``X`` and ``y`` pruned.
    score : {"forgetting", "aum", "dyn_unc", "tdds"}, default="forgetting"
        Forgetting events per sample (never-learned samples: the number of
        epochs); the area under the margin, negated (larger is harder); the
        dynamic uncertainty of the true-class probability
        (:func:`~prunekd.callbacks.dynamic_uncertainty`, He et al., 2023); or
        temporal dual-depth scores (:func:`~prunekd.callbacks.tdds_scores`,
        Zhang et al., CVPR 2024), whose docstring says where it departs from
        the reference code.
    window : int, default=10
        Epochs per window of ``"dyn_unc"`` and ``"tdds"``; at most the epochs
        recorded.
    decay : float in [0, 1), default=0.9
        Weight of the past in TDDS's moving average over windows.
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    keep : {"hard", "easy"}, default="hard"
        Which end of the ranking is kept.
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    random_state : int, RandomState instance or None, default=None
        Orders ties (forgetting counts tie often).
    memory : str, joblib.Memory or None, default=None
        Accepted for a common interface; the scores are read, not computed.
    dynamics : TrainingDynamics or fitted skorch net, default="deprecated"
        Deprecated since 0.2, removed in 0.3: the former name of ``model``.

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        The chosen score of every sample (larger is harder).
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features of the fitted ``X``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skorch import NeuralNetClassifier
    >>> from prunekd.callbacks import TrainingDynamics
    >>> from prunekd.pruning import DynamicsPruner
    >>> X = np.random.RandomState(0).randn(40, 3).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> teacher = NeuralNetClassifier(torch.nn.Linear(3, 2), criterion=torch.nn.CrossEntropyLoss,
    ...                               max_epochs=4, train_split=None, verbose=0,
    ...                               callbacks=[TrainingDynamics()]).fit(X, y)
    >>> DynamicsPruner(teacher, score="aum", fraction=0.25).fit_transform(X, y).shape
    (10,)
    """

    _parameter_constraints = {
        **ScorePruner._parameter_constraints,
        "model": "no_validation",
        "dynamics": "no_validation",
        "score": [StrOptions({"forgetting", "aum", "dyn_unc", "tdds"})],
        "window": [Interval(Integral, 2, None, closed="left")],
        "decay": [Interval(Real, 0, 1, closed="left")],
    }
    _fitted_params = ("model", "dynamics")
    _model_alias = "dynamics"

    def __init__(
        self,
        model=None,
        *,
        score="forgetting",
        window=10,
        decay=0.9,
        fraction=0.5,
        keep="hard",
        class_balanced=True,
        random_state=None,
        memory=None,
        dynamics="deprecated",
    ):
        super().__init__(
            fraction=fraction,
            keep=keep,
            class_balanced=class_balanced,
            random_state=random_state,
            memory=memory,
        )
        self.model = model
        self.score = score
        self.window = window
        self.decay = decay
        self.dynamics = dynamics

    def compute_scores(self, X, y, random_state):
        """The recorded scores, checked against ``y``."""
        recorder = _recorder(self._model())
        y_encoded = np.unique(y, return_inverse=True)[1]
        recorded = np.unique(recorder.y_, return_inverse=True)[1]
        if len(recorded) != len(y_encoded) or not np.array_equal(recorded, y_encoded):
            raise ValueError(
                f"the dynamics were recorded on {len(recorded)} samples with other labels than "
                f"the {len(y_encoded)} given; record the training on the data you prune, in "
                "the same order"
            )
        if self.score == "aum":
            return recorder.aum_scores()
        if self.score == "dyn_unc":
            return recorder.dynamic_uncertainty(self.window)
        if self.score == "tdds":
            return recorder.tdds_scores(self.window, self.decay)
        return recorder.forgetting_counts()

    def _cache_key(self, fingerprint, y, seed):
        return None  # nothing to save: the scores are read off the record
