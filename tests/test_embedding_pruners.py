"""Pruners in an embedding: k-center greedy, herding and Moderate-DS on known data."""

import itertools

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from prunekd.models import MLP
from prunekd.pruning import HerdingPruner, KCenterGreedyPruner, ModerateDSPruner
from prunekd.pruning._embed import embed
from prunekd.pruning._embedding import herding, k_center_greedy


def _k_center_loop(Z, k, first):
    chosen = [first]
    while len(chosen) < k:
        gaps = [min(np.linalg.norm(z - Z[c]) for c in chosen) if i not in chosen else -1
                for i, z in enumerate(Z)]  # fmt: skip
        chosen.append(int(np.argmax(gaps)))
    return chosen


def _herding_loop(Z, k):
    chosen, mu = [], Z.mean(0)
    for t in range(1, k + 1):
        gaps = [np.inf if i in chosen else np.linalg.norm(mu - (Z[chosen].sum(0) + z) / t)
                for i, z in enumerate(Z)]  # fmt: skip
        chosen.append(int(np.argmin(gaps)))
    return chosen


def _radius(Z, centers):
    return max(min(np.linalg.norm(z - Z[c]) for c in centers) for z in Z)


def test_greedy_selections_match_their_slow_loops():
    Z = np.random.RandomState(0).randn(40, 3)
    for first in (0, 7):
        assert k_center_greedy(Z, 8, first).tolist() == _k_center_loop(Z, 8, first)
    assert herding(Z, 8).tolist() == _herding_loop(Z, 8)


def test_k_center_is_within_twice_the_optimal_radius():
    Z = np.random.RandomState(1).rand(9, 2)
    best = min(_radius(Z, c) for c in itertools.combinations(range(9), 3))
    for first in range(9):
        assert _radius(Z, k_center_greedy(Z, 3, first)) <= 2 * best + 1e-12


def test_k_center_keeps_one_of_each_duplicate_cluster():
    rng = np.random.RandomState(0)
    far = rng.randn(5, 2) * 20
    X = np.concatenate([np.zeros((30, 2)), far])  # 30 duplicates, 5 distinct points
    kept = KCenterGreedyPruner(fraction=6 / 35, random_state=0).fit_transform(X, np.zeros(35, int))
    assert (kept < 30).sum() == 1 and set(range(30, 35)) <= set(kept.tolist())


def test_herding_tracks_the_mean_better_than_random_subsets():
    rng = np.random.RandomState(0)
    X = rng.exponential(size=(200, 2))  # skewed: a random subset's mean wanders
    y = np.zeros(200, dtype=int)
    kept = HerdingPruner(fraction=0.05).fit_transform(X, y)
    herd_error = np.linalg.norm(X[kept].mean(0) - X.mean(0))
    random_errors = [np.linalg.norm(X[rng.choice(200, 10, replace=False)].mean(0) - X.mean(0))
                     for _ in range(200)]  # fmt: skip
    assert herd_error < np.percentile(random_errors, 1)


def test_moderate_ds_keeps_the_middle_ring_of_each_class():
    # per class: rings at radius 1, 2 and 3 around the class centre, 8 points each
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ring = np.c_[np.cos(angles), np.sin(angles)]
    rows, labels = [], []
    for c, centre in enumerate(([0.0, 0.0], [20.0, 0.0])):
        for r in (1, 2, 3):
            rows.append(centre + r * ring)
            labels += [c] * 8
    X, y = np.concatenate(rows), np.array(labels)
    kept = ModerateDSPruner(fraction=1 / 3).fit_transform(X, y)
    radii = np.linalg.norm(X[kept] - np.where(y[kept, None] == 0, 0.0, [20.0, 0.0]), axis=1)
    np.testing.assert_allclose(radii, 2.0)  # the median ring, in both classes


def test_embeddings_of_a_torch_model_and_a_scikit_learn_transformer():
    X = np.random.RandomState(0).randn(20, 4).astype(np.float32)
    mlp = MLP(4, 3, hidden=(5,))  # Flatten, Linear(4, 5), ReLU, Linear(5, 3)
    with torch.no_grad():
        manual = torch.relu(mlp.net[1](torch.as_tensor(X))).numpy()
    np.testing.assert_allclose(embed(mlp, X), manual, rtol=1e-5, atol=1e-6)
    pca = PCA(2).fit(X)
    np.testing.assert_allclose(embed(pca, X), pca.transform(X))
    np.testing.assert_array_equal(embed(None, X.reshape(20, 2, 2)), X.astype(np.float64))


def test_an_embedding_without_a_linear_layer_is_refused():
    with pytest.raises(ValueError, match="no torch.nn.Linear"):
        KCenterGreedyPruner(torch.nn.ReLU()).fit(np.zeros((6, 2)), np.zeros(6, int))


def _similarity_np(Z):
    U = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    return (1 + U @ U.T) / 2


def _facility_value(S, chosen):
    return S[:, chosen].max(1).sum()


def test_submodular_greedy_selections_match_their_slow_loops():
    from prunekd.pruning._embedding import facility_location, graph_cut

    Z = np.random.RandomState(2).randn(30, 4)
    S = _similarity_np(Z)
    chosen = []
    for _ in range(6):
        gains = [-1 if j in chosen else _facility_value(S, chosen + [j]) -
                 (_facility_value(S, chosen) if chosen else 0) for j in range(30)]  # fmt: skip
        chosen.append(int(np.argmax(gains)))
    assert facility_location(Z, 6).tolist() == chosen

    def cut(sel, lam):
        return S[:, sel].sum() - lam * S[np.ix_(sel, sel)].sum()

    chosen = []
    for _ in range(6):
        gains = [-np.inf if j in chosen else cut(chosen + [j], 0.7) - cut(chosen, 0.7)
                 for j in range(30)]  # fmt: skip
        chosen.append(int(np.argmax(gains)))
    assert graph_cut(Z, 6, lam=0.7).tolist() == chosen


def test_facility_location_is_within_one_minus_one_over_e_of_the_best():
    from prunekd.pruning._embedding import facility_location

    Z = np.random.RandomState(3).randn(10, 3)
    S = _similarity_np(Z)
    best = max(_facility_value(S, list(c)) for c in itertools.combinations(range(10), 3))
    assert _facility_value(S, list(facility_location(Z, 3))) >= (1 - 1 / np.e) * best


def test_submodular_pruners_cover_every_bundle_of_directions():
    from prunekd import FacilityLocationPruner, GraphCutPruner

    # three tight bundles of directions, of 20, 10 and 5 samples
    rng = np.random.RandomState(0)
    directions = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    bundle = np.repeat([0, 1, 2], [20, 10, 5])
    X = directions[bundle] + rng.randn(35, 3) * 0.01
    y = np.zeros(35, int)
    kept = FacilityLocationPruner(fraction=3 / 35).fit_transform(X, y)
    assert sorted(bundle[kept].tolist()) == [0, 1, 2]  # one representative each
    # graph cut: no redundancy penalty keeps the most central bundle only; a
    # strong one (gains 2.5 against -2.5, then -10 against -12.5) covers all three
    kept = GraphCutPruner(lam=0.0, fraction=3 / 35).fit_transform(X, y)
    assert bundle[kept].tolist() == [0, 0, 0]
    kept = GraphCutPruner(lam=10.0, fraction=3 / 35).fit_transform(X, y)
    assert sorted(bundle[kept].tolist()) == [0, 1, 2]


def test_log_determinant_matches_its_slow_loop_and_prefers_diversity():
    from prunekd import LogDeterminantPruner
    from prunekd.pruning._embedding import log_determinant

    Z = np.random.RandomState(4).randn(25, 5)
    L = _similarity_np(Z) + 1e-3 * np.eye(25)
    chosen = [int(np.argmax(np.diag(L)))]
    for _ in range(5):
        gains = [-np.inf if j in chosen else np.linalg.slogdet(L[np.ix_(chosen + [j], chosen + [j])])[1]
                 for j in range(25)]  # fmt: skip
        chosen.append(int(np.argmax(gains)))
    assert log_determinant(Z, 6).tolist() == chosen
    # near-duplicates add almost no volume: one of each bundle is kept
    rng = np.random.RandomState(0)
    bundle = np.repeat([0, 1, 2], [20, 10, 5])
    X = np.eye(3)[bundle] + rng.randn(35, 3) * 0.01
    kept = LogDeterminantPruner(fraction=3 / 35).fit_transform(X, np.zeros(35, int))
    assert sorted(bundle[kept].tolist()) == [0, 1, 2]
