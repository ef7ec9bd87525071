"""Contextual diversity, Cal and prototype distance, against slow loops and known answers."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from prunekd.pruning import CalPruner, ContextualDiversityPruner, PrototypePruner
from prunekd.pruning._contextual import _KLCenter, cal_scores, probabilities, symmetric_kl
from prunekd.pruning._greedy import greedy_select


def _kl(p, q):
    return float(np.sum(p * (np.log(p) - np.log(q))))


def _probs(n, k, seed):
    return np.random.RandomState(seed).dirichlet(np.ones(k), size=n)


def test_symmetric_kl_equals_the_loop():
    P, Q = _probs(5, 4, 0), _probs(3, 4, 1)
    expected = [[0.5 * (_kl(p, q) + _kl(q, p)) for q in Q] for p in P]
    np.testing.assert_allclose(symmetric_kl(P, Q).numpy(), expected)


def _kl_center_loop(P, k, first):
    chosen = [first]
    while len(chosen) < k:
        gaps = [min(0.5 * (_kl(P[i], P[j]) + _kl(P[j], P[i])) for j in chosen)
                if i not in chosen else -np.inf for i in range(len(P))]  # fmt: skip
        chosen.append(int(np.argmax(gaps)))
    return chosen


@pytest.mark.parametrize("first", [0, 7])
def test_kl_center_traversal_equals_the_loop(first):
    P = _probs(15, 3, 2)
    assert greedy_select(6, _KLCenter(P, first)).tolist() == _kl_center_loop(P, 6, first)


def test_contextual_diversity_keeps_duplicated_predictions_once():
    # three rows predicted alike and three predicted apart: the cover keeps one of the alike
    X = np.array([[0.0], [0.0], [0.0], [-4.0], [4.0], [8.0]])
    y = np.array([0, 1, 0, 0, 1, 1])
    teacher = LogisticRegression().fit(X, y)
    kept = ContextualDiversityPruner(model=teacher, fraction=0.5, class_balanced=False,
                                     random_state=0).fit_transform(X, y)  # fmt: skip
    assert len(set(kept) & {0, 1, 2}) <= 1 and len(kept) == 3


def _cal_loop(Z, P, y, k):
    scores = np.zeros(len(P))
    for i in range(len(P)):
        mates = [j for j in range(len(P)) if y[j] == y[i] and j != i]
        mates.sort(key=lambda j: (np.linalg.norm(Z[j] - Z[i]), j))
        scores[i] = np.mean([_kl(P[j], P[i]) for j in mates[:k]])
    return scores


def test_cal_scores_equal_the_loop():
    rng = np.random.RandomState(3)
    Z, P, y = rng.randn(30, 2), _probs(30, 3, 4), rng.randint(0, 2, 30)
    np.testing.assert_allclose(cal_scores(Z, P, y, 4), _cal_loop(Z, P, y, 4))


def test_cal_pruner_reads_the_teachers_embedding_and_probabilities():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3).astype("float32")
    y = (X[:, 0] + 0.3 * rng.randn(60) > 0).astype(int)
    teacher = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    pruner = CalPruner(model=teacher, n_neighbors=5, fraction=0.25).fit(X, y)
    with torch.no_grad():
        Z = teacher[1](teacher[0](torch.as_tensor(X))).double().numpy()
    P = probabilities(teacher, X)
    np.testing.assert_allclose(pruner.scores_, cal_scores(Z, P, y, 5), rtol=1e-6)
    kept = pruner.sample_indices_
    for c in (0, 1):  # the largest scores of every class are kept
        members = np.flatnonzero(y == c)
        top = members[np.argsort(-pruner.scores_[members], kind="stable")][: np.sum(y[kept] == c)]
        assert set(top) == set(kept[y[kept] == c])


@pytest.mark.parametrize("pruner", [ContextualDiversityPruner(), CalPruner()])
def test_a_model_is_required(pruner):
    with pytest.raises(ValueError, match="pass model= a fitted classifier"):
        pruner.fit(np.zeros((6, 2)), [0, 1] * 3)


def test_prototype_distances_supervised_and_kmeans():
    rng = np.random.RandomState(5)
    X = np.r_[rng.randn(20, 2), rng.randn(20, 2) + 6]
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    supervised = PrototypePruner(fraction=0.5).fit(X, y).scores_
    centre = np.array([X[y == c].mean(0) for c in (0, 1)])[y]
    np.testing.assert_allclose(supervised, np.linalg.norm(X - centre, axis=1), rtol=1e-6)
    # three far-apart blobs, labels ignored: k-means finds them, the scores are the distances
    # to the blob means
    blobs = np.r_[rng.randn(15, 2), rng.randn(15, 2) + [40, 0], rng.randn(15, 2) + [0, 40]]
    labels = np.repeat([0, 1, 2], 15)
    scores = PrototypePruner(n_prototypes=3, fraction=0.5, random_state=0).fit(
        blobs, np.zeros(45, int)).scores_
    means = np.array([blobs[labels == c].mean(0) for c in range(3)])[labels]
    np.testing.assert_allclose(scores, np.linalg.norm(blobs - means, axis=1), rtol=1e-4)
    easy = PrototypePruner(fraction=0.25, keep="easy").fit_transform(X, y)
    hard = PrototypePruner(fraction=0.25, keep="hard").fit_transform(X, y)
    assert supervised[easy].max() < supervised[hard].min()
