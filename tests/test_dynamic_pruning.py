"""Dynamic pruning: exact counts, the rescaling identity, annealing, seeds, refusals."""

import math
import pickle
import random
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from skorch.callbacks import Callback

from prunekd import DistillationClassifier
from prunekd.callbacks import DynamicPruning
from prunekd.callbacks._dynamic_pruning import epoch_rows
from prunekd.models import MLP
from prunekd.pruning import PrecomputedPruner

N, EPOCHS = 240, 8


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(N, 5).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
    return X, y, LogisticRegression(max_iter=500).fit(X, y)


def _student(prune=None, **kwargs):
    params = dict(module__hidden=(16,), alpha=0.5, max_epochs=EPOCHS, lr=0.01, batch_size=32,
                  verbose=0, random_state=0)  # fmt: skip
    params.update(kwargs)
    callbacks = [("prune", prune)] if prune is not None else None
    return DistillationClassifier(MLP, callbacks=callbacks, **params)


def test_a_pruned_epoch_skips_exactly_the_floor_of_its_share_of_the_well_learned_rows():
    scores = np.array([5.0, 0.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 0.5, 6.0, 4.0])  # mean 4.14
    well = scores < scores.mean()  # 6 rows
    for ratio, skipped in ((0.5, 3), (0.3, 1), (0.99, 5), (0.0, 0)):
        rows, weights = epoch_rows(scores, ratio, np.random.default_rng(1))
        assert len(rows) == len(scores) - skipped
        assert set(np.flatnonzero(~well)) <= set(rows)  # the others are all kept
        # the identity: the kept well-learned rows weigh as many as the well-learned rows
        assert weights[well[rows]].sum() == pytest.approx(well.sum())
        assert np.all(weights[~well[rows]] == 1.0)
        assert np.all(weights[well[rows]] == well.sum() / (well.sum() - skipped))


def test_each_well_learned_row_has_expected_weight_one():
    # over many draws, P(kept) x weight = 1 for every well-learned row: the full epoch's share
    scores = np.arange(9.0)
    total = np.zeros(9)
    rng = np.random.default_rng(0)
    for _ in range(4000):
        rows, weights = epoch_rows(scores, 0.5, rng)
        total[rows] += weights
    np.testing.assert_allclose(total / 4000, 1.0, atol=0.05)


def test_the_fit_keeps_exact_counts_and_anneals_to_every_row(data):
    X, y, teacher = data
    prune = DynamicPruning(prune_ratio=0.5, anneal=0.75, random_state=0)
    student = _student(prune, teacher=teacher).fit(X, y)
    counts = student.history[:, "dynamic_rows"]
    last_pruned = math.floor(0.75 * EPOCHS)  # epochs 1..5 pruned, 0 and 6..7 full
    assert counts[0] == N and counts[last_pruned:] == [N] * (EPOCHS - last_pruned)
    assert all(c < N for c in counts[1:last_pruned])
    assert counts == prune.rows_per_epoch_.tolist()
    assert student.history[:, "samples_processed"] == np.cumsum(counts).tolist()
    assert prune.samples_processed_ == sum(counts)
    assert prune.fraction_processed_ == pytest.approx(sum(counts) / (N * EPOCHS))
    # each pruned epoch skips floor(0.5 k) of its k rows below the mean score
    assert all(N - c <= N // 2 for c in counts)
    assert prune.keep_counts_.max() == EPOCHS and prune.keep_counts_.min() >= 3
    assert prune.teacher_samples_ == N  # the teacher's outputs on every row, once


def test_the_same_seed_gives_the_same_selections_and_leaves_global_generators_alone(data):
    X, y, teacher = data
    np_state, py_state, torch_state = np.random.get_state(), random.getstate(), torch.get_rng_state()
    first = DynamicPruning(random_state=3)
    _student(first, teacher=teacher).fit(X, y)
    again = DynamicPruning(random_state=3)
    _student(again, teacher=teacher).fit(X, y)
    np.testing.assert_array_equal(first.keep_counts_, again.keep_counts_)
    np.testing.assert_array_equal(first.rows_per_epoch_, again.rows_per_epoch_)
    assert np.array_equal(np.random.get_state()[1], np_state[1])
    assert random.getstate() == py_state and torch.equal(torch.get_rng_state(), torch_state)
    other = DynamicPruning(random_state=4)
    _student(other, teacher=teacher).fit(X, y)
    assert not np.array_equal(first.keep_counts_, other.keep_counts_)


def test_scores_come_from_the_training_pass_and_kd_ranks_by_the_teacher(data):
    X, y, teacher = data
    loss, kd = DynamicPruning(score="loss", random_state=0), DynamicPruning(score="kd", random_state=0)
    _student(loss, teacher=teacher).fit(X, y)
    _student(kd, teacher=teacher).fit(X, y)
    assert np.all(np.isfinite(loss.scores_)) and np.all(kd.scores_ >= 0)
    assert not np.allclose(loss.scores_, kd.scores_)


def test_user_weights_and_dynamic_weights_combine(data):
    X, y, teacher = data
    weights = np.where(y == 0, 2.0, 1.0)
    prune = DynamicPruning(random_state=0)
    student = _student(prune, teacher=teacher).fit(X, y, weights)
    assert np.isfinite(student.history[-1, "train_loss"])
    # with every row at weight 0.5 the fit is the unweighted one (sum w l / sum w)
    halves, ones = DynamicPruning(random_state=0), DynamicPruning(random_state=0)
    a = _student(halves, teacher=teacher).fit(X, y, np.full(N, 0.5))
    b = _student(ones, teacher=teacher).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-5)


def test_a_static_selection_of_the_rows_kept_most_often(data):
    X, y, teacher = data
    prune = DynamicPruning(random_state=0)
    _student(prune, teacher=teacher).fit(X, y)
    static = PrecomputedPruner(scores=prune.keep_counts_, fraction=0.25).fit(X, y)
    kept = static.sample_indices_
    others = np.setdiff1d(np.arange(N), kept)
    for c in np.unique(y):  # class by class, the kept rows were trained at least as often
        assert prune.keep_counts_[kept[y[kept] == c]].min() >= prune.keep_counts_[
            others[y[others] == c]
        ].max()


def test_a_student_carrying_it_clones_and_pickles(data):
    X, y, teacher = data
    student = _student(DynamicPruning(prune_ratio=0.3, random_state=1), teacher=teacher)
    fresh = clone(student)
    assert fresh.callbacks[0][1].get_params() == {"anneal": 0.875, "prune_ratio": 0.3,
                                                  "random_state": 1, "score": "loss"}  # fmt: skip
    student.fit(X, y)
    copy = pickle.loads(pickle.dumps(student))
    np.testing.assert_array_equal(copy.predict(X), student.predict(X))
    np.testing.assert_array_equal(dict(copy.callbacks_)["prune"].keep_counts_,
                                  dict(student.callbacks_)["prune"].keep_counts_)  # fmt: skip


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(prune_ratio=1.0), r"prune_ratio must be a float in \[0, 1\); got 1.0"),
        (dict(prune_ratio=-0.1), r"prune_ratio must be a float in \[0, 1\)"),
        (dict(anneal=0.0), r"anneal must be a float in \(0, 1\]; got 0.0"),
        (dict(anneal=1.5), r"anneal must be a float in \(0, 1\]"),
        (dict(score="margin"), r"score must be one of \['loss', 'kd'\]"),
        (dict(random_state="x"), r"random_state must be None, an int or a RandomState"),
    ],
)
def test_bad_parameters_are_refused_at_fit(data, params, match):
    X, y, teacher = data
    student = _student(DynamicPruning(**params), teacher=teacher)
    with pytest.raises(ValueError, match=match):
        student.fit(X, y)
    assert not student.initialized_


def test_what_cannot_work_is_refused_with_the_fix(data):
    from skorch.dataset import ValidSplit

    X, y, teacher = data
    with pytest.raises(ValueError, match="kd_loss=DISTLoss is not a mean of per-row terms"):
        _student(DynamicPruning(), teacher=teacher, kd_loss="dist").fit(X, y)
    with pytest.raises(ValueError, match="max_steps=30 fixes the optimiser steps"):
        _student(DynamicPruning(), teacher=teacher, max_steps=30).fit(X, y)
    with pytest.raises(ValueError, match="score='kd' .* needs alpha > 0"):
        _student(DynamicPruning(score="kd"), alpha=0.0).fit(X, y)
    with pytest.raises(ValueError, match="train_split=None"):
        _student(DynamicPruning(), teacher=teacher, train_split=ValidSplit(4)).fit(X, y)
    from skorch import NeuralNetClassifier

    plain = NeuralNetClassifier(MLP, module__n_features=5, module__n_classes=3, max_epochs=2,
                                train_split=None, callbacks=[DynamicPruning()], verbose=0)  # fmt: skip
    with pytest.raises(TypeError, match="a callback of prunekd.DistillationClassifier"):
        plain.fit(X, y)


@pytest.mark.parametrize("score", ["loss", "kd"])
def test_a_rows_score_is_its_objective_or_its_kd_term(data, score):
    from prunekd.distillation._losses import teacher_log_probs
    from prunekd.distillation._targets import pack_targets

    X, y, teacher = data
    student = _student(None, teacher=teacher, max_epochs=1).fit(X, y)
    logits = torch.as_tensor(np.random.RandomState(0).randn(6, 3), dtype=torch.float32)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    log_p = teacher_log_probs(torch.randn(6, 3, generator=torch.Generator().manual_seed(1)), 4.0)
    scores = DynamicPruning(score=score)._row_scores(student, logits, pack_targets(labels, log_p))
    hard = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    p_t = log_p.exp()
    kd = (p_t * (log_p - torch.log_softmax(logits / 4.0, -1))).sum(-1) * 16.0
    expected = kd if score == "kd" else 0.5 * hard + 0.5 * kd
    np.testing.assert_allclose(scores, expected.numpy(), rtol=1e-5)


def test_a_per_batch_schedule_steps_once_per_batch_run_and_the_fit_warns(data):
    from skorch.callbacks import LRScheduler

    X, y, teacher = data
    prune = DynamicPruning(prune_ratio=0.5, random_state=0)
    full_batches = EPOCHS * math.ceil(N / 32)
    schedule = LRScheduler(torch.optim.lr_scheduler.OneCycleLR, step_every="batch",
                           max_lr=0.01, total_steps=full_batches)  # fmt: skip
    student = _student(teacher=teacher)
    student.set_params(callbacks=[("prune", prune), ("lr", schedule)])
    with pytest.warns(UserWarning, match="step_every='epoch'"):
        student.fit(X, y)
    run = sum(math.ceil(n / 32) for n in prune.rows_per_epoch_)
    assert run < full_batches
    assert schedule.lr_scheduler_.last_epoch == run  # one step per batch actually run
    # the cycle did not finish: the last learning rate is above the schedule's floor
    assert student.optimizer_.param_groups[0]["lr"] > 100 * 0.01 / 25 / 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # per-epoch schedules are fine: no warning
        schedule = LRScheduler(torch.optim.lr_scheduler.StepLR, step_size=2)
        student.set_params(callbacks=[("prune", prune), ("lr", schedule)]).fit(X, y)


def test_skips_follow_the_scores_and_every_class_keeps_its_expected_weight():
    classes = np.repeat([0, 1, 2], [30, 30, 40])
    # class 0 is learned (low losses), the others not
    scores = np.where(classes == 0, 0.1, 2.0) + np.linspace(0, 0.05, len(classes))
    rng = np.random.default_rng(0)
    kept, weighted = np.zeros(3), np.zeros(3)
    for _ in range(2000):
        rows, weights = epoch_rows(scores, 0.5, rng)
        kept += np.bincount(classes[rows], minlength=3)
        weighted += np.bincount(classes[rows], weights=weights, minlength=3)
    assert kept[0] / 2000 == 15 and kept[1] / 2000 == 30  # the easy class loses half its rows
    np.testing.assert_allclose(weighted / 2000, [30, 30, 40], rtol=0.01)


class _Rows(torch.utils.data.Dataset):
    """The rows of X as a torch Dataset, with Gaussian noise as augmentation (or none)."""

    def __init__(self, X, y, noise=0.0):
        self.X, self.targets, self.noise = X, y, noise

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        x = torch.as_tensor(self.X[i])
        return (x + self.noise * torch.randn(x.shape) if self.noise else x), int(self.targets[i])


def _weights(net):
    return torch.cat([p.detach().flatten() for p in net.module_.parameters()])


def test_a_dataset_trains_as_its_arrays_do(data):
    X, y, _ = data
    on_arrays, on_dataset = DynamicPruning(random_state=0), DynamicPruning(random_state=0)
    a = _student(on_arrays, alpha=0.0, module__n_features=5).fit(X, y)
    b = _student(on_dataset, alpha=0.0, module__n_features=5).fit(_Rows(X, y), y)
    np.testing.assert_array_equal(on_arrays.keep_counts_, on_dataset.keep_counts_)
    assert on_dataset.rows_per_epoch_[1] < N
    assert torch.equal(_weights(a), _weights(b))  # same rows, weights and order: same fit


def test_an_augmented_dataset_scores_each_row_by_the_view_it_trained_on(data, tmp_path):
    from prunekd.distillation import TeacherOutputs

    X, y, teacher = data
    TeacherOutputs.compute(teacher, _Rows(X, y), str(tmp_path / "t"), y=y)  # clean views
    prune = DynamicPruning(prune_ratio=0.5, score="kd", random_state=0)
    seen = []

    class Spy(Callback):  # the rows and weights every training batch carried
        def on_batch_end(self, net, batch=None, training=None, **kwargs):
            if training:
                seen.append((net.history[-1, "epoch"], batch[1]["row"], batch[1]["weight"]))

    student = _student(prune, teacher=TeacherOutputs(str(tmp_path / "t")), module__n_features=5)
    student.set_params(callbacks=[("prune", prune), ("spy", Spy())])
    student.fit(_Rows(X, y, noise=0.3), y)
    assert prune.teacher_samples_ == N
    assert prune.rows_per_epoch_[0] == N and N / 2 < prune.rows_per_epoch_[1] < N
    epoch2 = [(rows, w) for epoch, rows, w in seen if epoch == 2]
    rows = torch.cat([r for r, _ in epoch2]).numpy()
    weights = torch.cat([w for _, w in epoch2]).numpy()
    assert len(rows) == prune.rows_per_epoch_[1] == len(set(rows))  # each kept row once
    well = weights > 1  # the kept well-learned rows, weighed up to their full share
    skipped = N - len(rows)
    assert weights[well].sum() == pytest.approx(well.sum() + skipped, rel=1e-5)
    assert np.isfinite(prune.scores_).all() and (prune.scores_ > 0).all()


def test_a_dataset_with_a_teacher_on_the_fly_is_refused_with_the_fix(data):
    X, y, teacher = data
    twice = _student(alpha=0.0).set_params(callbacks=[DynamicPruning(), DynamicPruning()])
    with pytest.raises(ValueError, match="one DynamicPruning callback"):
        twice.fit(X, y)
    with pytest.raises(ValueError, match="TeacherOutputs.compute"):
        _student(DynamicPruning(), teacher=teacher, module__n_features=5).fit(_Rows(X, y), y)
    with pytest.raises(ValueError, match="TeacherOutputs on a Dataset"):
        _student(DynamicPruning(score="kd"), alpha=0.0, module__n_features=5).fit(_Rows(X, y), y)


def test_equal_scores_skip_nothing():
    rows, weights = epoch_rows(np.ones(10), 0.5, np.random.default_rng(0))
    assert len(rows) == 10 and np.all(weights == 1)
    assert len(epoch_rows(np.array([0.0, 1.0, 2.0]), 0.5, np.random.default_rng(0))[0]) == 3


def test_anneal_floors_its_last_pruned_epoch(data):
    X, y, _ = data
    prune = DynamicPruning(anneal=0.75, random_state=0)  # 0.75 x 10 = 7.5: epochs 1..6 pruned
    _student(prune, alpha=0.0, max_epochs=10).fit(X, y)
    assert prune.rows_per_epoch_[6] < N and list(prune.rows_per_epoch_[7:]) == [N] * 3


def test_random_state_none_leaves_numpys_global_generator_where_it_was(data):
    X, y, _ = data
    state = np.random.get_state()
    _student(DynamicPruning(random_state=None), alpha=0.0, max_epochs=3).fit(X, y)
    after = np.random.get_state()
    assert np.array_equal(after[1], state[1]) and after[2] == state[2]  # key and position


def test_score_kd_without_a_cached_teacher_on_arrays_is_refused(data):
    X, y, teacher = data
    student = _student(DynamicPruning(score="kd"), teacher=teacher, cache_teacher=False)
    with pytest.raises(ValueError, match="score='kd'"):
        student.fit(X, y)
