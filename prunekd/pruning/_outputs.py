"""Pruners scored from predicted class probabilities: a proxy's, or the fitted teacher's."""

import numpy as np
import torch

from .._docstrings import fill_sections, shared_sections
from .._nets import outputs_probabilities, to_logits
from .._utils import _input_batches
from ..distillation._teacher import column_positions, make_teacher
from ._proxy import ProxyPruner

_INFERENCE_BATCH = 1024


def _proxy_logits(net, X):
    """A trained proxy's logits on ``X``, batch by batch."""
    probabilities = outputs_probabilities(net)
    for output in net.forward_iter(X, training=False):
        output = output[0] if isinstance(output, (tuple, list)) else output
        yield to_logits(output.float(), probabilities)


# The parameters of every OutputPruner, written once for all their docstrings.
_PARAMETERS = """
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1].
    keep : {"hard", "easy"}, default="hard"
        Which end of the score ranking is kept.
    class_balanced : bool, default=True
        Keep the same fraction of every class.
    model : None, torch module, fitted skorch net or fitted scikit-learn classifier, default=None
        Score with this fitted model instead of training proxies, such as the
        teacher a :class:`~prunekd.DistillationClassifier` learns from.
    estimator : None, torch module class or instance, or skorch net, default=None
        The proxy; ``None`` picks an MLP for flat features and a small CNN for
        images (see :class:`~prunekd.pruning.ProxyPruner`).
    n_proxies : int, default=3
        Proxies averaged over.
    max_epochs : int, default=10
        Training epochs of each proxy before scoring.
    batch_size : int, default=128
        Mini-batch size of the proxies.
    lr : float, default=1e-3
        Learning rate (Adam).
    device : str, default="cpu"
        Device of the proxies.
    mixed_precision : bool, default=False
        Train the proxies under bfloat16 autocast; scores are computed in float32.
    random_state : int, RandomState instance or None, default=None
        Seeds the proxies and tie-breaking; an int lets ``memory`` cache the scores.
    memory : str, joblib.Memory or None, default=None
        Folder (or ``joblib.Memory``) caching the scores across fits and
        processes; see :class:`~prunekd.pruning.BasePruner`.
    verbose : int, default=0
        Above 0, a progress bar over the proxies' training epochs (the scores
        and their cache key do not change).
    teacher : fitted model, default="deprecated"
        Deprecated since 0.2, removed in 0.3: the former name of ``model``.
"""


@shared_sections(parameters=_PARAMETERS)
class OutputPruner(ProxyPruner):
    """Base class of the pruners that score samples from predicted probabilities.

    The probabilities come from ``n_proxies`` briefly trained proxies, as for
    every :class:`ProxyPruner`, or, with ``model=``, from a classifier
    already fitted on the full data, at no extra training (the proxy
    parameters are then unused). Subclasses implement
    :meth:`scores_from_logits`.

    Parameters
    ----------
    {{parameters}}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from prunekd.pruning import EntropyPruner
    >>> X = np.array([[-3.0], [-0.1], [0.2], [3.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> teacher = LogisticRegression().fit(X, y)
    >>> EntropyPruner(model=teacher, fraction=0.5, class_balanced=False).fit_transform(X, y)
    array([1, 2])
    """

    _parameter_constraints = {
        **ProxyPruner._parameter_constraints,
        "model": "no_validation",
        "teacher": "no_validation",
    }
    # Parameters holding a fitted model: keyed by their learned state, not their settings.
    _fitted_params = ("model", "teacher")
    _model_alias = "teacher"

    def __init__(
        self,
        *,
        fraction=0.5,
        keep="hard",
        class_balanced=True,
        model=None,
        estimator=None,
        n_proxies=3,
        max_epochs=10,
        batch_size=128,
        lr=1e-3,
        device="cpu",
        mixed_precision=False,
        random_state=None,
        memory=None,
        verbose=0,
        teacher="deprecated",
    ):
        super().__init__(
            fraction=fraction,
            keep=keep,
            class_balanced=class_balanced,
            estimator=estimator,
            n_proxies=n_proxies,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            device=device,
            mixed_precision=mixed_precision,
            random_state=random_state,
            memory=memory,
            verbose=verbose,
        )
        self.model = model
        self.teacher = teacher

    def scores_from_logits(self, logits, y_encoded):
        """Scores of a batch from its logits (larger is harder).

        Parameters
        ----------
        logits : torch.Tensor of shape (n_batch, n_classes)
            Columns in the order of the sorted class labels.
        y_encoded : ndarray of shape (n_batch,)
            Integer labels of the batch.

        Returns
        -------
        scores : ndarray of shape (n_batch,)
        """
        raise NotImplementedError

    def _scores_of(self, logit_batches, y_encoded):
        scores, start = [], 0
        for logits in logit_batches:
            stop = start + len(logits)
            scores.append(np.asarray(self.scores_from_logits(logits, y_encoded[start:stop])))
            start = stop
        return np.concatenate(scores)

    def compute_scores(self, X, y, random_state):
        """Scores from the teacher when one is given, else averaged over proxies.

        Parameters
        ----------
        X : ndarray of shape (n_samples, ...) or torch Dataset
        y : ndarray of shape (n_samples,)
        random_state : RandomState

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        if self._model() is None:
            return super().compute_scores(X, y, random_state)
        classes, y_encoded = np.unique(y, return_inverse=True)
        teacher = make_teacher(self._model())
        columns = None if teacher.classes is None else column_positions(teacher.classes, classes)

        def batches():
            for _, xb in _input_batches(X, _INFERENCE_BATCH):
                logits = teacher.logits(xb).float().cpu()
                if columns is not None:
                    logits = logits[:, columns]
                elif logits.shape[1] != len(classes):
                    raise ValueError(
                        f"the teacher returns {logits.shape[1]} columns for {len(classes)} "
                        "classes; a torch teacher's columns must be the sorted classes"
                    )
                yield logits

        return self._scores_of(batches(), y_encoded.astype(np.int64))

    def _proxy_scores(self, X, y_encoded, n_classes, seed):
        net = self._train_proxy(X, y_encoded, n_classes, seed)
        return self._scores_of(_proxy_logits(net, X), y_encoded)


def _uncertainty_doc(summary, attributes, example):
    return fill_sections(
        f"""{summary}

    Parameters
    ----------
    {{{{parameters}}}}

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        {attributes}
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features of the fitted ``X``.

    Examples
    --------
{example}
    """,
        {"parameters": _PARAMETERS},
    )


class EntropyPruner(OutputPruner):
    __doc__ = _uncertainty_doc(
        "Prune by the entropy of the predicted class probabilities (uncertainty).\n\n"
        "    ``-sum_k p_k log p_k``: largest for a model torn between classes. The\n"
        "    labels are not used.",
        "Entropy of every sample's predicted probabilities.",
        "    >>> import numpy as np\n"
        "    >>> from prunekd.pruning import EntropyPruner\n"
        "    >>> X = np.r_[np.linspace(-3, 3, 12)[:, None]]\n"
        "    >>> y = (X[:, 0] > 0).astype(int)\n"
        "    >>> EntropyPruner(fraction=0.5, n_proxies=1, max_epochs=2, random_state=0).fit_transform(X, y).shape\n"
        "    (6,)",
    )

    def scores_from_logits(self, logits, y_encoded):
        """Entropy of ``softmax(logits)``."""
        log_p = torch.log_softmax(logits.double(), dim=1)
        return -(log_p.exp() * log_p).sum(1).numpy()


class MarginPruner(OutputPruner):
    __doc__ = _uncertainty_doc(
        "Prune by the margin between the two most probable classes (uncertainty).\n\n"
        "    The score is ``1 - (p_first - p_second)``: largest when the two top\n"
        "    classes are nearly tied. The labels are not used.",
        "One minus the gap between the two largest predicted probabilities.",
        "    >>> import numpy as np\n"
        "    >>> from prunekd.pruning import MarginPruner\n"
        "    >>> X = np.r_[np.linspace(-3, 3, 12)[:, None]]\n"
        "    >>> y = (X[:, 0] > 0).astype(int)\n"
        "    >>> MarginPruner(fraction=0.5, n_proxies=1, max_epochs=2, random_state=0).fit_transform(X, y).shape\n"
        "    (6,)",
    )

    def scores_from_logits(self, logits, y_encoded):
        """``1 - (p_first - p_second)`` of ``softmax(logits)``."""
        p = torch.softmax(logits.double(), dim=1)
        if p.shape[1] < 2:
            return np.zeros(len(p))
        top = p.topk(2, dim=1).values
        return (1 - (top[:, 0] - top[:, 1])).numpy()


class LeastConfidencePruner(OutputPruner):
    __doc__ = _uncertainty_doc(
        "Prune by the confidence of the most probable class (uncertainty).\n\n"
        "    The score is ``1 - max_k p_k``. The labels are not used.",
        "One minus the largest predicted probability.",
        "    >>> import numpy as np\n"
        "    >>> from prunekd.pruning import LeastConfidencePruner\n"
        "    >>> X = np.r_[np.linspace(-3, 3, 12)[:, None]]\n"
        "    >>> y = (X[:, 0] > 0).astype(int)\n"
        "    >>> LeastConfidencePruner(fraction=0.5, n_proxies=1, max_epochs=2, random_state=0).fit_transform(X, y).shape\n"
        "    (6,)",
    )

    def scores_from_logits(self, logits, y_encoded):
        """``1 - max softmax(logits)``."""
        return (1 - torch.softmax(logits.double(), dim=1).max(1).values).numpy()
