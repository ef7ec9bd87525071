import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from prunekd import EL2NPruner, ForgettingPruner, GraNdPruner, RandomPruner
from prunekd.callbacks import forgetting_counts
from prunekd.models import MLP
from prunekd.pruning import (
    BasePruner,
    KCenterGreedyPruner,
    ScorePruner,
    el2n_scores,
    per_sample_grad_norms,
)
from prunekd.pruning._grand import per_sample_grad_norms_loop

from _helpers import dtype_probe


class FirstFeaturePruner(ScorePruner):
    """Difficulty is the first feature: the kept set is known exactly."""

    def compute_scores(self, X, y, random_state):
        return X[:, 0]


FAST = dict(n_proxies=1, max_epochs=2, random_state=0)


# ---------------------------------------------------------------- contract


def test_subclass_with_only_a_scoring_method_keeps_known_indices():
    X = np.array([[5.0], [1.0], [4.0], [2.0], [9.0], [8.0], [7.0], [0.0]])
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    hard = FirstFeaturePruner(fraction=0.5).fit(X, y)
    assert hard.transform(X).tolist() == [0, 2, 4, 5]
    assert hard.scores_.tolist() == X[:, 0].tolist()
    assert FirstFeaturePruner(fraction=0.5, keep="easy").fit_transform(X, y).tolist() == [1, 3, 6, 7]
    glob = FirstFeaturePruner(fraction=0.5, class_balanced=False).fit_transform(X, y)
    assert glob.tolist() == [0, 4, 5, 6]


def test_ties_are_broken_reproducibly_by_random_state():
    X, y = np.zeros((40, 1)), np.zeros(40, dtype=int)
    first = FirstFeaturePruner(fraction=0.25, random_state=3).fit_transform(X, y)
    again = FirstFeaturePruner(fraction=0.25, random_state=3).fit_transform(X, y)
    other = FirstFeaturePruner(fraction=0.25, random_state=4).fit_transform(X, y)
    assert first.tolist() == again.tolist()
    assert first.tolist() != other.tolist()


@pytest.mark.parametrize("fraction", [0.05, 0.1, 0.33, 0.5, 0.77, 1.0])
def test_random_pruner_exact_budget_and_class_balance(fraction):
    y = np.repeat([0, 1, 2, 3], [50, 30, 15, 5])
    X = np.arange(len(y), dtype=float)[:, None]
    idx = RandomPruner(fraction=fraction, random_state=0).fit_transform(X, y)
    assert len(idx) == max(1, round(fraction * len(y)))
    assert np.all(np.diff(idx) > 0) and idx.dtype.kind == "i"
    per_class = np.bincount(y[idx], minlength=4)
    assert np.all(per_class >= 1)
    assert np.all(np.abs(per_class - fraction * np.bincount(y)) <= 1.5)


def test_random_pruner_is_reproducible_and_seed_dependent():
    X, y = np.zeros((100, 2)), np.repeat([0, 1], 50)
    a = RandomPruner(fraction=0.3, random_state=1).fit_transform(X, y)
    b = RandomPruner(fraction=0.3, random_state=1).fit_transform(X, y)
    c = RandomPruner(fraction=0.3, random_state=2).fit_transform(X, y)
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()


def test_string_labels_are_accepted(blobs):
    X, y = blobs
    labels = np.array(["cat", "dog", "emu"])[y]
    idx = RandomPruner(fraction=0.5, random_state=0).fit_transform(X, labels)
    assert sorted(set(labels[idx])) == ["cat", "dog", "emu"]


def test_transform_rejects_any_other_X(blobs):
    X, y = blobs
    pruner = RandomPruner(fraction=0.5, random_state=0).fit(X, y)
    assert pruner.transform(X.copy()).tolist() == pruner.sample_indices_.tolist()
    other = X.copy()
    other[0, 0] += 1
    with pytest.raises(ValueError, match="only accepts the X it was fitted on"):
        pruner.transform(other)
    with pytest.raises(ValueError, match="only accepts the X"):
        pruner.transform(X[:10])
    with pytest.raises(NotFittedError):
        RandomPruner().transform(X)


def test_pruners_pickle_and_clone(blobs):
    X, y = blobs
    pruner = EL2NPruner(fraction=0.3, **FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(pruner))
    assert restored.transform(X).tolist() == pruner.sample_indices_.tolist()
    assert clone(pruner).get_params() == pruner.get_params()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "params, match",
    [
        ({"fraction": 0}, "fraction"),
        ({"fraction": 1.5}, "fraction"),
        ({"fraction": "half"}, "fraction"),
        ({"keep": "middle"}, "keep"),
        ({"class_balanced": "yes"}, "class_balanced"),
        ({"n_proxies": 0}, "n_proxies"),
        ({"max_epochs": -1}, "max_epochs"),
        ({"lr": 0}, "lr"),
        ({"estimator": "resnet"}, "estimator"),
        ({"mixed_precision": "bf16"}, "mixed_precision"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_parameters_name_the_parameter(blobs, params, match):
    X, y = blobs
    pruner = EL2NPruner(**{**FAST, **params})
    with pytest.raises(ValueError, match=match):
        pruner.fit(X, y)
    assert not hasattr(pruner, "scores_") and not hasattr(pruner, "sample_indices_")


def test_a_failed_fit_leaves_the_pruner_as_it_was(blobs):
    from skorch import NeuralNetClassifier

    X, y = blobs
    fresh = RandomPruner(fraction=2 / 60, random_state=0)  # fewer than the 3 classes
    with pytest.raises(ValueError, match="fewer than the 3 classes"):
        fresh.fit(X, y)
    assert not [name for name in vars(fresh) if name.endswith("_")]
    fitted = RandomPruner(fraction=0.5, random_state=0).fit(X, y)
    before = {k: v.copy() if hasattr(v, "copy") else v for k, v in vars(fitted).items()}
    with pytest.raises(ValueError, match="fewer than the 3 classes"):
        fitted.set_params(fraction=2 / 60).fit(X[:, :1], y)  # other X, too few kept
    assert fitted.n_features_in_ == 2
    assert fitted.sample_indices_.tolist() == before["sample_indices_"].tolist()
    assert fitted.transform(X).tolist() == before["sample_indices_"].tolist()
    net = NeuralNetClassifier(MLP, module__n_features=2, module__n_classes=3, max_epochs=1)
    refused = EL2NPruner(estimator=net, mixed_precision=True, **FAST)
    with pytest.raises(ValueError, match="mixed_precision"):
        refused.fit(X, y)
    assert not [name for name in vars(refused) if name.endswith("_")]


def test_forgetting_needs_at_least_one_epoch(blobs):
    with pytest.raises(ValueError, match="max_epochs"):
        ForgettingPruner(max_epochs=0).fit(*blobs)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.array([[0.0], [np.nan], [1.0]]), [0, 1, 0], "NaN"),
        (np.array([[0.0], [np.inf], [1.0]]), [0, 1, 0], "infinity"),
        (np.zeros((4, 2)), [0, 1, 0], "inconsistent numbers of samples"),
        (np.zeros((4, 2)), [0.5, 1.5, 0.2, 0.1], "Unknown label type"),
    ],
)
def test_bad_data_is_rejected_early(X, y, match):
    # A pruner that reads X (RandomPruner never does, so it keeps NaN rows).
    with pytest.raises(ValueError, match=match):
        KCenterGreedyPruner().fit(X, y)


def test_too_few_samples_for_the_class_balance():
    X, y = np.zeros((20, 1)), np.arange(20) % 5
    with pytest.raises(ValueError, match="fewer than the 5 classes"):
        RandomPruner(fraction=0.1).fit(X, y)
    assert len(RandomPruner(fraction=0.1, class_balanced=False).fit_transform(X, y)) == 2


def test_bad_scores_from_a_subclass_are_caught():
    class Broken(BasePruner):
        def compute_scores(self, X, y, random_state):
            return np.ones(len(y) - 1)

    with pytest.raises(ValueError, match="one score per sample"):
        Broken().fit(np.zeros((4, 1)), [0, 1, 0, 1])


# ---------------------------------------------------------------- scores


def test_el2n_closed_form():
    logits = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    # softmax = [.5, .5] and [.75, .25]; labels 0 and 1
    expected = [np.sqrt(0.5), np.sqrt(0.75**2 + 0.75**2)]
    np.testing.assert_allclose(el2n_scores(logits, np.array([0, 1])), expected)


def _mislabeled_blobs():
    rng = np.random.RandomState(0)
    X = np.concatenate([rng.randn(60, 2) * 0.4 + c for c in ([-3, 0], [3, 0])]).astype(np.float32)
    y = np.repeat([0, 1], 60)
    flipped = np.array([3, 17, 70, 101])
    y[flipped] = 1 - y[flipped]
    return X, y, flipped


@pytest.mark.parametrize(
    "pruner",
    [
        EL2NPruner(n_proxies=2, max_epochs=15, lr=0.05, random_state=0),
        GraNdPruner(n_proxies=2, max_epochs=15, lr=0.05, random_state=0),
        ForgettingPruner(n_proxies=2, max_epochs=15, lr=0.05, random_state=0),
    ],
    ids=["el2n", "grand", "forgetting"],
)
def test_score_pruners_rank_mislabeled_samples_hardest(pruner):
    X, y, flipped = _mislabeled_blobs()
    pruner.set_params(fraction=4 / 120, class_balanced=False)
    assert pruner.fit_transform(X, y).tolist() == flipped.tolist()
    # keep="easy" never keeps them
    easy = clone(pruner).set_params(keep="easy", fraction=0.5).fit_transform(X, y)
    assert not set(easy) & set(flipped)


def test_grand_vectorised_matches_per_sample_loop():
    torch.manual_seed(0)
    from prunekd.models import SmallCNN

    X = np.random.RandomState(0).rand(37, 1, 8, 8).astype(np.float32)
    y = np.random.RandomState(1).randint(0, 10, 37)
    module = SmallCNN(n_classes=10, width=4)
    fast = per_sample_grad_norms(module, X, y, batch_size=16)
    slow = per_sample_grad_norms_loop(module, X, y)
    np.testing.assert_allclose(fast, slow, rtol=1e-4)
    assert all(p.grad is None for p in module.parameters())


class _Tied(torch.nn.Module):
    """One Linear layer applied twice: its per-sample gradient is not one outer product."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(6, 6)

    def forward(self, x):
        return self.layer(torch.relu(self.layer(x)))


class _Tokens(torch.nn.Module):
    """A Linear layer on (batch, tokens, features): a sum of outer products per sample."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(3, 6)

    def forward(self, x):
        return self.layer(x.view(len(x), 2, 3)).mean(1)


@pytest.mark.parametrize(
    "make, separable",
    [
        (lambda: torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(inplace=True),
                                     torch.nn.Linear(8, 6)), True),  # fmt: skip
        (lambda: torch.nn.Sequential(torch.nn.Linear(6, 8, bias=False), torch.nn.Tanh(),
                                     torch.nn.Dropout(0.5), torch.nn.Linear(8, 6)), True),  # fmt: skip
        (_Tied, False),
        (_Tokens, False),
    ],
    ids=["inplace-relu", "no-bias-dropout", "tied-layer", "token-inputs"],
)
def test_grand_linear_shortcut_matches_the_per_sample_loop(make, separable):
    from prunekd.pruning._grand import _linear_squared_norms

    torch.manual_seed(0)
    module = make()
    module[0].weight.requires_grad_(False) if separable else None  # frozen weights drop out
    X = np.random.RandomState(0).randn(23, 6).astype(np.float32)
    y = np.random.RandomState(1).randint(0, 6, 23)
    module.eval()
    shortcut = _linear_squared_norms(module, torch.as_tensor(X), torch.as_tensor(y), False)
    assert (shortcut is not None) == separable
    fast = per_sample_grad_norms(module, X, y, batch_size=8)
    np.testing.assert_allclose(fast, per_sample_grad_norms_loop(module, X, y), rtol=1e-4)
    if separable:
        np.testing.assert_allclose(fast, shortcut.sqrt().numpy(), rtol=1e-6)
    assert all(p.grad is None for p in module.parameters())


def test_grand_closed_form_for_a_linear_softmax_model():
    # d CE / dW = (p - onehot) x^T and d CE / db = p - onehot, so the norm is
    # ||p - onehot|| * sqrt(||x||^2 + 1).
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 4)
    X = np.random.RandomState(0).randn(10, 3).astype(np.float32)
    y = np.random.RandomState(1).randint(0, 4, 10)
    with torch.no_grad():
        logits = lin(torch.as_tensor(X)).numpy()
    expected = el2n_scores(logits, y) * np.sqrt((X.astype(float) ** 2).sum(1) + 1)
    np.testing.assert_allclose(per_sample_grad_norms(lin, X, y, batch_size=4), expected, rtol=1e-5)


def test_forgetting_counts_hand_made_record():
    correct = np.array(
        [
            [1, 0, 1, 0],
            [0, 0, 1, 1],
            [1, 0, 0, 1],
            [0, 0, 1, 1],
        ],
        dtype=bool,
    )
    # sample 0 forgotten twice; 1 never learned (= n_epochs = 4); 2 once; 3 never forgotten
    assert forgetting_counts(correct).tolist() == [2, 4, 1, 0]


def test_proxy_estimators_of_every_kind(blobs):
    from skorch import NeuralNetClassifier

    X, y = blobs
    net = NeuralNetClassifier(
        MLP,
        module__n_features=2,
        module__n_classes=3,
        module__hidden=(8,),
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
    )
    seen = []
    for estimator in (None, MLP(2, 3, hidden=(8,)), net):
        scores = EL2NPruner(estimator=estimator, fraction=0.5, **FAST).fit(X, y).scores_
        assert scores.shape == (60,) and np.all((scores >= 0) & (scores <= np.sqrt(2)))
        seen.append(scores)
    # each estimator is the one trained: three proxies, three sets of scores
    assert not np.allclose(seen[0], seen[1]) and not np.allclose(seen[1], seen[2])


def test_built_proxies_train_exactly_as_plain_skorch(blobs):
    # The proxies the pruner builds fetch whole batches from arrays; the
    # batches, hence the weights and scores, are skorch's.
    from skorch import NeuralNetClassifier

    X, y = blobs
    net = NeuralNetClassifier(
        MLP, module__n_features=2, module__n_classes=3, criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam, lr=1e-3, max_epochs=3, batch_size=16, train_split=None,
        iterator_train__shuffle=True, verbose=0,
    )  # fmt: skip
    common = dict(fraction=0.5, n_proxies=2, max_epochs=3, batch_size=16, random_state=0)
    built = EL2NPruner(**common).fit(X, y).scores_
    plain = EL2NPruner(estimator=net, **common).fit(X, y).scores_
    np.testing.assert_array_equal(built, plain)
    # and the net given is the one trained: another learning rate, other scores
    other = EL2NPruner(estimator=clone(net).set_params(lr=3e-2), **common).fit(X, y).scores_
    assert np.abs(other - plain).max() > 1e-3


@pytest.mark.parametrize("pruner_class", [EL2NPruner, GraNdPruner, ForgettingPruner])
def test_mixed_precision_proxies_train_in_bfloat16(blobs, pruner_class):
    X, y = blobs
    Probe, dtypes = dtype_probe(MLP)
    common = dict(estimator=Probe(2, 3, hidden=(16,)), fraction=0.5, n_proxies=2, max_epochs=10, lr=0.05, random_state=0)
    mixed = pruner_class(mixed_precision=True, **common).fit(X, y)
    assert dtypes and set(dtypes) == {torch.bfloat16}
    dtypes.clear()
    full = pruner_class(mixed_precision=False, **common).fit(X, y)
    assert set(dtypes) == {torch.float32}
    # Same seeds, same batches: the scores differ only by rounding in training.
    assert mixed.scores_.dtype == full.scores_.dtype == np.float64
    assert np.corrcoef(mixed.scores_, full.scores_)[0, 1] > 0.99


def test_mixed_precision_is_refused_for_a_given_skorch_net(blobs):
    from skorch import NeuralNetClassifier

    X, y = blobs
    net = NeuralNetClassifier(MLP, module__n_features=2, module__n_classes=3, max_epochs=1)
    with pytest.raises(ValueError, match="mixed_precision=True applies to the proxies"):
        EL2NPruner(estimator=net, mixed_precision=True, **FAST).fit(X, y)


def test_scores_for_free_from_the_teachers_training_dynamics():
    """A teacher's recorded dynamics rank the mislabeled samples hardest, no proxy needed."""
    from prunekd import DistillationClassifier
    from prunekd.callbacks import TrainingDynamics
    from prunekd.pruning import PrecomputedPruner

    X, y, flipped = _mislabeled_blobs()
    record = TrainingDynamics(keep_logits_at=(5,))
    teacher = DistillationClassifier(
        MLP, module__n_features=2, module__n_classes=2, module__hidden=(16,), alpha=0.0,
        optimizer=torch.optim.Adam, lr=0.05, max_epochs=15, batch_size=16, verbose=0,
        random_state=0, callbacks=[("dynamics", record)],
    )  # fmt: skip
    teacher.fit(X, y)
    assert record.correct_.shape == (15, 120) and record.y_.tolist() == y.tolist()
    for scores in (record.forgetting_counts(), record.aum_scores(), record.el2n_scores(5)):
        kept = PrecomputedPruner(scores, fraction=4 / 120, class_balanced=False).fit_transform(X, y)
        assert kept.tolist() == flipped.tolist()
    # AUM is the negated mean margin, computed from the record
    np.testing.assert_allclose(record.aum_scores(), -record.margins_.mean(0))
    with pytest.raises(ValueError, match="keep_logits_at"):
        record.el2n_scores(3)
    with pytest.raises(ValueError, match="one value per sample"):
        PrecomputedPruner(record.aum_scores()[:-1]).fit(X, y)


@pytest.mark.parametrize("pruner", [EL2NPruner, GraNdPruner, ForgettingPruner],
                         ids=lambda c: c.__name__)  # fmt: skip
def test_proxies_are_seeded_apart_and_averaged(blobs, pruner):
    # The slow oracle: one proxy per seed drawn from the score generator, in order.
    X, y = blobs
    est = pruner(n_proxies=3, max_epochs=2, random_state=0)
    rng = np.random.RandomState(5)
    per_proxy = [est._proxy_scores(X, y, 3, int(rng.randint(2**31 - 1))) for _ in range(3)]
    assert not np.allclose(per_proxy[0], per_proxy[1]), "two proxies scored alike"
    scores = est.compute_scores(X, y, np.random.RandomState(5))
    np.testing.assert_allclose(scores, np.mean(per_proxy, axis=0), rtol=1e-12)


def test_random_pruning_accepts_missing_values_it_never_reads():
    X = np.random.RandomState(0).randn(20, 3)
    y = np.arange(20) % 2
    holes = X.copy()
    holes[::3, 1] = np.nan
    holes[1, 0] = np.inf
    pruner = RandomPruner(fraction=0.5, random_state=0)
    kept = pruner.fit_transform(holes, y)
    np.testing.assert_array_equal(kept, RandomPruner(fraction=0.5, random_state=0).fit_transform(X, y))
    np.testing.assert_array_equal(pruner.transform(holes), kept)
    with pytest.raises(ValueError, match="NaN"):  # a pruner that reads X still refuses them
        EL2NPruner(**FAST).fit(holes, y)


def test_verbose_draws_a_bar_over_the_proxy_epochs_and_changes_no_score(blobs, tmp_path, capsys):
    X, y = blobs
    quiet = EL2NPruner(n_proxies=2, max_epochs=3, random_state=0, fraction=0.5)
    kept = quiet.fit_transform(X, y)
    assert capsys.readouterr().err == ""
    loud = clone(quiet).set_params(verbose=1, memory=str(tmp_path))
    np.testing.assert_array_equal(loud.fit_transform(X, y), kept)
    err = capsys.readouterr().err
    assert "EL2NPruner proxies" in err and "6/6" in err  # 2 proxies x 3 epochs
    assert not hasattr(loud, "_progress")  # the bar lives for one fit only
    # verbose is not part of the cache key: a quiet pruner finds the loud one's scores
    calls = []
    cached = clone(quiet).set_params(memory=str(tmp_path))
    original = cached._checked_scores
    cached._checked_scores = lambda *a: calls.append(1) or original(*a)
    np.testing.assert_array_equal(cached.fit_transform(X, y), kept)
    assert calls == []
