import pickle

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score

from prunekd import DistillationClassifier, RandomPruner, distillation_loss
from prunekd.distillation._loss import kd_objective, teacher_log_probs
from prunekd.models import MLP

from _helpers import dtype_probe, make_student

# These teachers are untrained or contradict the labels on purpose: the warning
# that a teacher does not know its training rows is expected.
UNTRAINED_TEACHER = pytest.mark.filterwarnings("ignore:the teacher predicts the labels:UserWarning")


def mlp_student(cls=DistillationClassifier, **kwargs):
    params = dict(
        module__n_features=2,
        module__n_classes=3,
        module__hidden=(16,),
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=5,
        batch_size=16,
        verbose=0,
        random_state=0,
    )
    params.update(kwargs)
    return cls(MLP, **params)


@pytest.fixture
def lr_teacher(blobs):
    X, y = blobs
    return LogisticRegression().fit(X, y)


class CountingModule(torch.nn.Module):
    """Wraps a module and counts its forward calls."""

    def __init__(self, module):
        super().__init__()
        self.module = module
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.module(x)


# ---------------------------------------------------------------- the loss


def test_distillation_loss_closed_form():
    s = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    t = torch.tensor([[1.0, 1.0, 0.0], [0.5, 0.0, 3.0]])
    tau = 2.0
    ps = np.exp(s.numpy() / tau) / np.exp(s.numpy() / tau).sum(1, keepdims=True)
    pt = np.exp(t.numpy() / tau) / np.exp(t.numpy() / tau).sum(1, keepdims=True)
    kl_per_sample = (pt * np.log(pt / ps)).sum(1)
    expected = tau**2 * kl_per_sample.mean()  # tau^2 factor, averaged per sample
    assert float(distillation_loss(s, t, tau)) == pytest.approx(expected, rel=1e-5)
    assert float(distillation_loss(t, t, tau)) == pytest.approx(0.0, abs=1e-7)


def test_kd_objective_weights_the_two_terms():
    s = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    t = torch.tensor([[0.0, 2.0], [1.0, 0.0]])
    y = torch.tensor([0, 1])
    ce = torch.nn.CrossEntropyLoss()
    hard, soft = float(ce(s, y)), float(distillation_loss(s, t, 4.0))
    assert float(kd_objective(s, y, None, 0.0, 4.0, ce)) == pytest.approx(hard)
    log_pt = teacher_log_probs(t, 4.0)
    assert float(kd_objective(s, y, log_pt, 1.0, 4.0, ce)) == pytest.approx(soft)
    assert float(kd_objective(s, y, log_pt, 0.3, 4.0, ce)) == pytest.approx(0.7 * hard + 0.3 * soft)


# ---------------------------------------------------------------- training


def test_alpha_zero_is_plain_training_with_the_same_seed(blobs, lr_teacher):
    X, y = blobs
    student = mlp_student(alpha=0.0, teacher=lr_teacher, random_state=7).fit(X, y)
    torch.manual_seed(7)
    plain = NeuralNetClassifier(
        MLP,
        module__n_features=2,
        module__n_classes=3,
        module__hidden=(16,),
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=5,
        batch_size=16,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    ).fit(X, y)
    for a, b in zip(student.module_.parameters(), plain.module_.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_same_random_state_same_predictions_and_global_rng_untouched(blobs, lr_teacher):
    X, y = blobs
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = mlp_student(teacher=lr_teacher, random_state=3).fit(X, y)
    assert torch.rand(1) == expected_next  # a seeded fit leaves the caller's torch stream alone
    p1 = first.predict_proba(X)
    p2 = mlp_student(teacher=lr_teacher, random_state=3).fit(X, y).predict_proba(X)
    p3 = mlp_student(teacher=lr_teacher, random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)


@UNTRAINED_TEACHER
def test_teacher_outputs_are_computed_once_per_fit(blobs):
    X, y = blobs
    teacher = CountingModule(MLP(2, 3, hidden=(8,)))
    for epochs in (1, 6):
        teacher.calls = 0
        mlp_student(teacher=teacher, max_epochs=epochs, batch_size=16).fit(X, y)
        # one probe of two samples + one inference batch of all 60, whatever the epochs
        assert teacher.calls == 2


@UNTRAINED_TEACHER
def test_teacher_stays_frozen(blobs):
    X, y = blobs
    teacher = MLP(2, 3, hidden=(8,))
    teacher.train()
    before = [p.detach().clone() for p in teacher.parameters()]
    student = mlp_student(teacher=teacher, alpha=0.9, max_epochs=3).fit(X, y)
    for p, q in zip(teacher.parameters(), before):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
        assert p.grad is None
    assert teacher.training  # mode restored
    optimized = {id(p) for group in student.optimizer_.param_groups for p in group["params"]}
    assert not optimized & {id(p) for p in teacher.parameters()}


class _CountingLR(LogisticRegression):
    def predict_proba(self, X):
        self.calls_ += 1
        return super().predict_proba(X)


def test_on_the_fly_teacher_matches_cached_teacher(blobs):
    X, y = blobs
    teacher = _CountingLR().fit(X, y)
    teacher.calls_ = 0
    cached = mlp_student(teacher=teacher, cache_teacher=True).fit(X, y)
    calls_cached, teacher.calls_ = teacher.calls_, 0
    fresh = mlp_student(teacher=teacher, cache_teacher=False).fit(X, y)
    np.testing.assert_allclose(cached.predict_proba(X), fresh.predict_proba(X), atol=1e-5)
    # the two paths are really taken: the probe and one pass, against every batch
    assert calls_cached == 2
    assert teacher.calls_ == 1 + 5 * 4  # the probe, then 5 epochs of 4 batches of 16


def test_float16_teacher_cache_halves_memory_and_keeps_the_fit(blobs, lr_teacher):
    X, y = blobs
    stored = {}

    class Recording(DistillationClassifier):
        # The targets of the training set skorch iterates over.
        def get_split_datasets(self, X, y=None, **fit_params):
            train, valid = super().get_split_datasets(X, y, **fit_params)
            stored[self.teacher_cache_dtype] = train.y
            return train, valid

    fits = {
        dtype: mlp_student(Recording, teacher=lr_teacher, teacher_cache_dtype=dtype, alpha=0.7)
        .fit(X, y)
        for dtype in ("float32", "float16")
    }
    full, half = stored["float32"], stored["float16"]
    assert half.dtype == torch.float16 and half.element_size() * 2 == full.element_size()
    # Labels exact; log-probabilities rounded, not changed.
    torch.testing.assert_close(half[:, 0].float(), full[:, 0], rtol=0, atol=0)
    torch.testing.assert_close(half[:, 1:].float(), full[:, 1:], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(
        fits["float16"].predict_proba(X), fits["float32"].predict_proba(X), atol=1e-2
    )


def test_float16_teacher_cache_refuses_more_classes_than_it_stores_exactly():
    n_classes = 2049
    X = np.random.RandomState(0).randn(4, 2).astype(np.float32)
    student = mlp_student(
        teacher=MLP(2, n_classes), module__n_classes=n_classes, classes=np.arange(n_classes),
        teacher_cache_dtype="float16",
    )  # fmt: skip
    with pytest.raises(ValueError, match="up to 2048 classes; got 2049"):
        student.fit(X, np.arange(4))
    assert not student.initialized_


def test_float16_teacher_cache_takes_exactly_2048_classes():
    n_classes = 2048  # labels up to 2047, every one exact in float16
    X = np.random.RandomState(0).randn(4, 2).astype(np.float32)
    y = np.array([0, 1, 2046, 2047])
    student = mlp_student(
        teacher=MLP(2, n_classes), module__n_classes=n_classes, classes=np.arange(n_classes),
        teacher_cache_dtype="float16", max_epochs=1,
    )  # fmt: skip
    student.fit(X, y)
    assert student.initialized_


@UNTRAINED_TEACHER
@pytest.mark.parametrize("kind", ["torch", "skorch", "sklearn", "frozen"])
def test_teacher_kinds(blobs, lr_teacher, kind):
    X, y = blobs
    if kind == "torch":
        teacher = MLP(2, 3, hidden=(8,))
    elif kind == "skorch":
        teacher = mlp_student(alpha=0, max_epochs=10).fit(X, y)
    elif kind == "sklearn":
        teacher = lr_teacher
    else:
        teacher = FrozenEstimator(lr_teacher)
    student = mlp_student(teacher=teacher, alpha=1.0, max_epochs=40).fit(X, y)
    assert student.score(X, y) > 0.9 or kind == "torch"  # an untrained torch teacher
    cloned = clone(student)
    assert cloned.teacher is teacher and not hasattr(cloned, "module_")


@UNTRAINED_TEACHER
def test_alpha_one_follows_the_teacher_not_the_labels(blobs):
    X, y = blobs
    wrong = (y + 1) % 3  # a teacher that is confidently wrong in a fixed way
    teacher = LogisticRegression().fit(X, wrong)
    student = mlp_student(teacher=teacher, alpha=1.0, max_epochs=60, classes=[0, 1, 2]).fit(X, y)
    assert np.mean(student.predict(X) == wrong) > 0.9


def test_skorch_teacher_with_nll_loss_outputs_probabilities(blobs):
    X, y = blobs

    class SoftmaxMLP(MLP):
        def forward(self, x):
            return torch.softmax(super().forward(x), dim=1)

    torch.manual_seed(1)  # the teacher's initialisation, whatever ran before in this process
    teacher = NeuralNetClassifier(
        SoftmaxMLP, module__n_features=2, module__n_classes=3, max_epochs=30, lr=0.5,
        train_split=None, verbose=0,
    ).fit(X, y)
    assert teacher.score(X, y) > 0.9
    student = mlp_student(teacher=teacher, alpha=1.0, max_epochs=40).fit(X, y)
    assert student.score(X, y) > 0.9


def test_any_labels(blobs, lr_teacher):
    X, y = blobs
    for labels in (np.array(["a", "b", "c"]), np.array([-5, 10, 99])):
        yl = labels[y]
        teacher = LogisticRegression().fit(X, yl)
        student = mlp_student(teacher=teacher, max_epochs=30).fit(X, yl)
        assert set(student.predict(X)) <= set(labels)
        assert student.classes_.tolist() == sorted(labels.tolist())
        assert student.score(X, yl) > 0.9


def test_student_learns_every_teacher_class_when_the_subset_misses_one(blobs, lr_teacher):
    X, y = blobs
    keep = y != 2
    student = mlp_student(teacher=lr_teacher, alpha=0.9, max_epochs=60).fit(X[keep], y[keep])
    assert student.classes_.tolist() == [0, 1, 2]
    assert student.predict_proba(X).shape == (60, 3)


# ---------------------------------------------------------------- sklearn


@UNTRAINED_TEACHER
def test_clone_pickle_set_params(blobs, lr_teacher):
    X, y = blobs
    student = mlp_student(teacher=lr_teacher).fit(X, y)
    cloned = clone(student)
    assert cloned.teacher is lr_teacher and cloned.alpha == 0.5
    assert hasattr(lr_teacher, "coef_")  # still fitted
    restored = pickle.loads(pickle.dumps(student))
    np.testing.assert_array_equal(restored.predict_proba(X), student.predict_proba(X))
    other = MLP(2, 3, hidden=(4,))
    student.set_params(teacher=other, alpha=0.2, temperature=2.0)
    assert student.teacher is other and student.alpha == 0.2
    assert student.fit(X, y).alpha_ == 0.2


def test_grid_search_and_cross_val_score(blobs, lr_teacher):
    X, y = blobs
    search = GridSearchCV(
        mlp_student(teacher=lr_teacher), {"alpha": [0.0, 0.9], "temperature": [1.0, 4.0]}, cv=3
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.teacher is lr_teacher
    scores = cross_val_score(mlp_student(teacher=lr_teacher, max_epochs=20), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": 1.5}, "alpha must be"),
        ({"alpha": -0.1}, "alpha must be"),
        ({"alpha": "high"}, "alpha must be"),
        ({"temperature": 0}, "temperature must be"),
        ({"temperature": "warm"}, "temperature must be"),
        ({"cache_teacher": "sometimes"}, "cache_teacher must be"),
        ({"teacher_cache_dtype": "int8"}, r"teacher_cache_dtype must be one of \['float16', 'float32'\]"),
        ({"random_state": "x"}, "random_state must be"),
        ({"teacher": None, "alpha": 0.5}, "needs a teacher"),
        ({"teacher": "a teacher"}, "teacher must be"),
        ({"teacher": LogisticRegression()}, "not fitted"),
        ({"teacher": NeuralNetClassifier(MLP)}, "has not been fitted"),
        ({"teacher": MLP(2, 5)}, r"teacher returns outputs of shape \(2, 5\)"),
        ({"teacher": MLP(7, 3)}, "teacher could not predict"),
        ({"module__n_classes": 4}, r"student returns outputs of shape \(2, 4\)"),
        ({"alpha": "auto"}, "alpha='auto'"),
    ],
)
def test_bad_parameters_fail_early_and_leave_nothing_fitted(blobs, lr_teacher, params, match):
    X, y = blobs
    student = mlp_student(**{"teacher": lr_teacher, **params})
    with pytest.raises((ValueError, TypeError), match=match):
        student.fit(X, y)
    assert not student.initialized_ and not hasattr(student, "module_")
    assert not hasattr(student, "classes_inferred_")


def test_teacher_with_other_classes(blobs):
    X, y = blobs
    teacher = LogisticRegression().fit(X, np.array(["a", "b", "c"])[y])
    with pytest.raises(ValueError, match="not among the classes"):
        mlp_student(teacher=teacher).fit(X, y)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.array([[0.0, 1.0], [np.nan, 0.0]]), [0, 1], "NaN"),
        (np.zeros((4, 2)), [0, 1, 0], "inconsistent numbers of samples"),
        (np.zeros((3, 2)), [0.5, 0.2, 0.1], "Unknown label type"),
    ],
)
def test_bad_data(lr_teacher, X, y, match):
    with pytest.raises(ValueError, match=match):
        mlp_student(teacher=lr_teacher).fit(X, y)


# ---------------------------------------------------------------- the science


def test_kd_beats_plain_training_at_ten_percent_on_digits(digits_split, digits_teacher):
    """Random 10% of digits: KD (alpha=0.5) gains >= 5 points over plain training (3 seeds)."""
    X_train, X_test, y_train, y_test = digits_split
    plain, kd = [], []
    for seed in range(3):
        idx = RandomPruner(fraction=0.1, random_state=seed).fit_transform(X_train, y_train)
        Xs, ys = X_train[idx], y_train[idx]
        common = dict(max_epochs=150, random_state=seed)
        plain.append(make_student(alpha=0.0, **common).fit(Xs, ys).score(X_test, y_test))
        kd.append(
            make_student(alpha=0.5, teacher=digits_teacher, **common).fit(Xs, ys).score(X_test, y_test)
        )
    gain = np.mean(kd) - np.mean(plain)
    assert gain >= 0.05, (plain, kd)


def test_mixed_precision_trains_in_bfloat16(blobs, lr_teacher):
    X, y = blobs
    Probe, dtypes = dtype_probe(MLP)
    student = DistillationClassifier(
        Probe, module__n_features=2, module__n_classes=3, module__hidden=(16,),
        teacher=lr_teacher, alpha=0.5, mixed_precision=True, optimizer=torch.optim.Adam,
        lr=0.01, max_epochs=20, batch_size=16, verbose=0, random_state=0,
    ).fit(X, y)  # fmt: skip
    assert set(dtypes) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in student.module_.parameters())
    assert student.score(X, y) > 0.9
    with pytest.raises(ValueError, match="mixed_precision"):
        mlp_student(teacher=lr_teacher, mixed_precision="fp8").fit(X, y)


def test_release_teacher_keeps_predictions_and_drops_the_teacher_from_the_pickle():
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32) / 16
    teacher = RandomForestClassifier(n_estimators=200, random_state=0).fit(X, y)
    student = DistillationClassifier(MLP, module__n_features=64, module__n_classes=10,
                                     teacher=teacher, alpha=0.5, max_epochs=2, random_state=0,
                                     verbose=0).fit(X, y)  # fmt: skip
    before = student.predict_proba(X)
    with_teacher = len(pickle.dumps(student))
    released = pickle.loads(pickle.dumps(student.release_teacher()))
    assert len(pickle.dumps(student)) < with_teacher / 10  # the forest was most of it
    np.testing.assert_array_equal(released.predict_proba(X), before)
    assert released.score(X, y) == student.score(X, y) and released.teacher_released_
    with pytest.raises(ValueError, match=r"release_teacher\(\) dropped .*set_params\(teacher="):
        released.fit(X, y)
    released.set_params(teacher=teacher).fit(X, y)  # a teacher again: fits
    assert not released.teacher_released_
