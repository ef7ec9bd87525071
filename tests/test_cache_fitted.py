"""Score caches stay honest for every pruner that reads a fitted model.

Two models with other weights, sharing one ``memory=``, must each get their
own scores: the scores a pruner computes with nothing cached.
"""

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

from prunekd import (
    CalPruner,
    ContextualDiversityPruner,
    CoverageCentricPruner,
    DeepFoolPruner,
    EL2NPruner,
    EntropyPruner,
    FacilityLocationPruner,
    GraphCutPruner,
    HerdingPruner,
    KCenterGreedyPruner,
    LeastConfidencePruner,
    LogDeterminantPruner,
    MarginPruner,
    ModerateDSPruner,
    PrototypePruner,
)
from prunekd.callbacks import TrainingDynamics
from prunekd.models import MLP
from prunekd.pruning import DynamicsPruner

FAST = dict(n_proxies=1, max_epochs=1, batch_size=32)


def _net(seed, **kwargs):
    torch.manual_seed(seed)
    params = dict(module__n_features=2, module__n_classes=3, module__hidden=(8,),
                  criterion=torch.nn.CrossEntropyLoss, max_epochs=3, lr=0.05, train_split=None,
                  verbose=0)  # fmt: skip
    params.update(kwargs)
    return NeuralNetClassifier(MLP, **params)


def _module(seed):
    torch.manual_seed(seed)
    return MLP(2, 3, hidden=(8,))


def _models(kind, X, y):
    """Two fitted models of one kind whose weights differ."""
    if kind == "torch":
        return _module(0), _module(1)
    if kind == "skorch":
        return _net(0).fit(X, y), _net(1).fit(X, y)
    if kind == "sklearn-classifier":
        return LogisticRegression().fit(X, y), LogisticRegression().fit(X, np.roll(y, 7))
    if kind == "sklearn-transformer":
        return PCA(1).fit(X), PCA(1).fit(X * [1.0, 5.0])
    raise ValueError(kind)


# Pruners that read a fitted classifier's predictions (contextual diversity and Cal too).
OUTPUT_PRUNERS = [EL2NPruner, EntropyPruner, MarginPruner, LeastConfidencePruner,
                  ContextualDiversityPruner, CalPruner]  # fmt: skip
EMBEDDING_PRUNERS = [ModerateDSPruner, KCenterGreedyPruner, HerdingPruner, FacilityLocationPruner,
                     GraphCutPruner, LogDeterminantPruner, PrototypePruner]  # fmt: skip


def _assert_own_scores(make, first, second, X, y, memory):
    cached_a = make(first, memory).fit(X, y)
    cached_b = make(second, memory).fit(X, y)
    plain_b = make(second, None).fit(X, y)
    plain_a = make(first, None).fit(X, y)
    assert not np.array_equal(plain_a.scores_, plain_b.scores_), "the two models score alike"
    np.testing.assert_array_equal(cached_a.scores_, plain_a.scores_)
    np.testing.assert_array_equal(cached_b.scores_, plain_b.scores_)
    assert any(memory.iterdir()), "nothing was cached: the test would prove nothing"


@pytest.mark.parametrize("pruner", OUTPUT_PRUNERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("kind", ["torch", "skorch", "sklearn-classifier"])
def test_output_pruners_key_the_teachers_weights(blobs, tmp_path, pruner, kind):
    X, y = blobs
    first, second = _models(kind, X, y)

    def make(model, memory):
        return pruner(model=model, fraction=0.5, random_state=0, memory=memory)

    _assert_own_scores(make, first, second, X, y, tmp_path)


@pytest.mark.parametrize("kind", ["torch", "skorch"])
def test_deepfool_keys_the_models_weights(blobs, tmp_path, kind):
    X, y = blobs
    first, second = _models(kind, X, y)

    def make(model, memory):
        return DeepFoolPruner(model=model, deepfool_steps=5, fraction=0.5, random_state=0, memory=memory)

    _assert_own_scores(make, first, second, X, y, tmp_path)


@pytest.mark.parametrize("pruner", EMBEDDING_PRUNERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("kind", ["torch", "skorch", "sklearn-transformer"])
def test_embedding_pruners_key_the_embeddings_weights(blobs, tmp_path, pruner, kind):
    X, y = blobs
    first, second = _models(kind, X, y)

    def make(model, memory):
        return pruner(model=model, fraction=0.5, random_state=0, memory=memory)

    _assert_own_scores(make, first, second, X, y, tmp_path)


def test_coverage_pruner_keys_its_inner_teacher(blobs, tmp_path):
    X, y = blobs
    first, second = _models("skorch", X, y)

    def make(model, memory):
        inner = EL2NPruner(model=model)
        return CoverageCentricPruner(inner, fraction=0.5, n_strata=3, random_state=0, memory=memory)

    _assert_own_scores(make, first, second, X, y, tmp_path)


def test_dynamics_pruner_reads_its_own_record(blobs, tmp_path):
    X, y = blobs
    first = _net(0, callbacks=[TrainingDynamics()], max_epochs=4).fit(X, y)
    second = _net(1, callbacks=[TrainingDynamics()], max_epochs=4, lr=0.5).fit(X, y)

    def make(model, memory):
        return DynamicsPruner(model, score="aum", fraction=0.5, random_state=0, memory=memory)

    cached_a = make(first, tmp_path).fit(X, y)
    cached_b = make(second, tmp_path).fit(X, y)
    assert not np.array_equal(cached_a.scores_, cached_b.scores_)
    np.testing.assert_array_equal(cached_b.scores_, make(second, None).fit(X, y).scores_)


def test_proxy_nets_with_other_parameters_train_again(blobs, tmp_path):
    # An unfitted skorch net as the proxy is keyed by its parameters.
    X, y = blobs

    def make(net, memory):
        return EL2NPruner(estimator=net, n_proxies=1, fraction=0.5, random_state=0, memory=memory)

    first, second = _net(0, lr=0.01), _net(0, lr=0.5)
    _assert_own_scores(make, first, second, X, y, tmp_path)
    assert clone(make(first, tmp_path)).fit(X, y).scores_ is not None


@pytest.mark.parametrize("make", [
    lambda m: EL2NPruner(model=m), lambda m: KCenterGreedyPruner(model=m),
    lambda m: DynamicsPruner(m), lambda m: CoverageCentricPruner(EL2NPruner(model=m)),
], ids=["teacher", "embedding", "dynamics", "nested"])  # fmt: skip
def test_clone_shares_the_fitted_model(blobs, make):
    # GridSearchCV clones every candidate: a cloned fitted model would be unfitted.
    X, y = blobs
    model = _net(0, callbacks=[TrainingDynamics()]).fit(X, y)
    cloned = clone(make(model))
    inner = cloned.pruner if isinstance(cloned, CoverageCentricPruner) else cloned
    assert inner.get_params()["model"] is model
    assert len(cloned.fit_transform(X, y)) == 30


@pytest.mark.parametrize("make, old", [
    (lambda m, **kw: EL2NPruner(**kw), "teacher"),
    (lambda m, **kw: KCenterGreedyPruner(**kw), "embedding"),
    (lambda m, **kw: DynamicsPruner(**kw), "dynamics"),
], ids=["teacher", "embedding", "dynamics"])  # fmt: skip
def test_the_old_model_keywords_are_deprecated_aliases(blobs, make, old):
    X, y = blobs
    model = _net(0, callbacks=[TrainingDynamics()]).fit(X, y)
    new = make(model, model=model, fraction=0.5, random_state=0).fit(X, y)
    with pytest.warns(FutureWarning, match=f"{old}=.*deprecated.*model="):
        aliased = make(model, **{old: model}, fraction=0.5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(aliased.scores_, new.scores_)
    assert clone(make(model, **{old: model})).get_params()[old] is model
    with pytest.raises(ValueError, match=f"{old}= is the deprecated name of model="):
        make(model, **{old: model}, model=model).fit(X, y)
