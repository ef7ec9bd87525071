"""Pruners scored from predicted probabilities: uncertainty, and EL2N from the teacher."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from prunekd import EL2NPruner, EntropyPruner, LeastConfidencePruner, MarginPruner
from prunekd.pruning import el2n_scores

UNCERTAINTY = [EntropyPruner, MarginPruner, LeastConfidencePruner]


def _signed_teacher():
    """logits [x, -x]: most uncertain at x = 0, sure at both ends."""
    lin = torch.nn.Linear(1, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        lin.bias.zero_()
    return lin


X_LINE = np.linspace(-3, 3, 12)[:, None].astype(np.float32)
Y_LINE = (X_LINE[:, 0] > 0).astype(int)


@pytest.mark.parametrize("pruner_class", UNCERTAINTY)
def test_uncertainty_keeps_the_samples_nearest_the_boundary(pruner_class):
    common = dict(model=_signed_teacher(), fraction=1 / 3, class_balanced=False)
    assert pruner_class(**common).fit_transform(X_LINE, Y_LINE).tolist() == [4, 5, 6, 7]
    easy = pruner_class(keep="easy", **common).fit_transform(X_LINE, Y_LINE)
    assert easy.tolist() == [0, 1, 10, 11]


def test_uncertainty_scores_closed_form():
    x = X_LINE[:, 0].astype(np.float64)
    p = 1 / (1 + np.exp(-2 * x))  # softmax([x, -x])[0]
    expected = {
        EntropyPruner: -(p * np.log(p) + (1 - p) * np.log(1 - p)),
        MarginPruner: 1 - np.abs(2 * p - 1),
        LeastConfidencePruner: 1 - np.maximum(p, 1 - p),
    }
    for pruner_class, scores in expected.items():
        got = pruner_class(model=_signed_teacher()).fit(X_LINE, Y_LINE).scores_
        np.testing.assert_allclose(got, scores, rtol=1e-5)


def test_a_fitted_teacher_scores_without_training(proxy_fits):
    X, y = X_LINE, np.where(Y_LINE == 1, "b", "a")
    teacher = LogisticRegression().fit(X, y)
    for pruner_class in UNCERTAINTY + [EL2NPruner]:
        pruner_class(model=teacher, random_state=0).fit(X, y)
    assert proxy_fits == []
    # EL2N of the teacher, its columns put in the order of the sorted labels
    scores = EL2NPruner(model=teacher).fit(X, y).scores_
    log_p = np.log(teacher.predict_proba(X))
    np.testing.assert_allclose(scores, el2n_scores(log_p, (y == "b").astype(int)), rtol=1e-5)


def test_planted_ambiguous_points_are_the_most_uncertain(blobs):
    X, y = blobs  # three tight clusters at (0, 0), (6, 6), (0, 6)
    planted = np.array([[3.0, 3.0], [0.0, 3.0], [3.0, 6.0]], dtype=np.float32)
    X = np.concatenate([X, planted])
    y = np.concatenate([y, [0, 0, 2]])
    for pruner_class in UNCERTAINTY:
        pruner = pruner_class(fraction=3 / 63, class_balanced=False, n_proxies=2, max_epochs=30,
                              lr=0.05, batch_size=16, random_state=0)  # fmt: skip
        assert pruner.fit_transform(X, y).tolist() == [60, 61, 62], pruner_class.__name__


def test_teachers_are_cached_by_what_they_learned(tmp_path):
    X = X_LINE
    first = LogisticRegression().fit(X, Y_LINE)
    flipped = LogisticRegression().fit(X, 1 - Y_LINE)  # same settings, other weights
    common = dict(random_state=0, memory=tmp_path)
    a = EL2NPruner(model=first, **common).fit(X, Y_LINE).scores_
    b = EL2NPruner(model=flipped, **common).fit(X, Y_LINE).scores_
    assert np.abs(a - b).min() > 0.1  # the flipped teacher is wrong everywhere
    lin = _signed_teacher()
    c = EntropyPruner(model=lin, **common).fit(X, Y_LINE).scores_
    with torch.no_grad():
        lin.weight.mul_(3.0)  # sharper teacher: lower entropy everywhere
    d = EntropyPruner(model=lin, **common).fit(X, Y_LINE).scores_
    assert np.all(d < c)


def test_a_teacher_without_every_class_is_refused():
    teacher = LogisticRegression().fit(X_LINE, Y_LINE)
    with pytest.raises(ValueError, match=r"does not know the classes \[2\]"):
        EL2NPruner(model=teacher).fit(X_LINE, np.where(Y_LINE == 1, 2, 0))
    with pytest.raises(TypeError, match="teacher must be"):
        EntropyPruner(model="a teacher").fit(X_LINE, Y_LINE)
