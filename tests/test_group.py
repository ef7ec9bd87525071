"""Students trained side by side as one vmapped model learn what each would learn alone."""

import numpy as np
import pytest
import torch
from torch import nn

from prunekd import DistillationClassifier
from prunekd.distillation._loss import kd_objective, teacher_log_probs
from prunekd.distillation._losses import check_kd_loss
from prunekd.distillation._teacher import make_teacher
from prunekd.distillation._group import _StudentGroup, vectorisable
from prunekd.models import MLP, SmallCNN

KW = dict(module__n_classes=10, optimizer=torch.optim.Adam, lr=3e-3, batch_size=32, verbose=0)


@pytest.fixture(scope="module")
def setting(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    teacher = DistillationClassifier(SmallCNN, alpha=0.0, max_epochs=3, random_state=0, **KW)
    teacher.fit(X_train, y_train)
    rng = np.random.RandomState(0)
    rows = np.stack([rng.permutation(len(X_train))[:100] for _ in range(3)])
    log_p = teacher_log_probs(make_teacher(teacher).logits_array(X_train, 1024), 4.0)[None].numpy()
    return X_train, y_train, X_test, y_test, teacher, rows, log_p


@pytest.mark.parametrize("kd_loss", ["kd", "dkd", "dist", "mse"])
def test_a_group_equals_one_fit_per_member(setting, kd_loss):
    X, y, X_test, y_test, teacher, rows, log_p = setting
    alphas = [0.0, 0.5, 1.0]
    group = _StudentGroup(SmallCNN, alphas=alphas, teachers=[-1, 0, 0], max_epochs=3,
                          kd_loss=kd_loss, random_state=7, **KW).fit(X, y, rows, log_p)  # fmt: skip
    correct = group.member_correct(X_test, y_test)
    for k, alpha in enumerate(alphas):
        alone = DistillationClassifier(SmallCNN, alpha=alpha, teacher=teacher if alpha else None,
                                       kd_loss=kd_loss, max_epochs=3, random_state=7, **KW)  # fmt: skip
        alone.fit(X[rows[k]], y[rows[k]])
        # same initial weights, same batches, same gradients: the same weights
        for name, weights in zip(group.module_._names, group.module_.weights):
            torch.testing.assert_close(weights[k], alone.module_.state_dict()[name], atol=5e-5, rtol=0)
        assert correct[k] == int((alone.predict(X_test) == y_test).sum())
        np.testing.assert_allclose(group.member_proba(X_test)[k], alone.predict_proba(X_test),
                                   atol=1e-4, rtol=0)  # fmt: skip


def test_a_group_without_any_teacher_trains_as_plain_students(setting):
    # e.g. the budget study's only run on a late seed: full data, no KD
    X, y, X_test, y_test, _, rows, _ = setting
    group = _StudentGroup(SmallCNN, alphas=[0.0], teachers=[-1], max_epochs=2, random_state=7,
                          **KW).fit(X, y, rows[:1], None)  # fmt: skip
    alone = DistillationClassifier(SmallCNN, alpha=0.0, max_epochs=2, random_state=7, **KW)
    alone.fit(X[rows[0]], y[rows[0]])
    assert group.member_correct(X_test, y_test) == [int((alone.predict(X_test) == y_test).sum())]


def test_the_vectorised_loss_is_the_sum_of_the_members_objectives():
    rng = torch.Generator().manual_seed(0)
    y_pred = torch.randn(4, 6, 5, generator=rng)
    labels = torch.randint(0, 5, (4, 6), generator=rng)
    teacher = torch.log_softmax(torch.randn(4, 6, 2, 5, generator=rng), dim=-1)  # 2 teachers
    targets = torch.cat([labels[..., None].float(), teacher.reshape(4, 6, 10)], dim=-1)
    alphas, teachers = [0.0, 0.3, 1.0, 0.7], [-1, 0, 1, 1]
    group = _StudentGroup(MLP, alphas=alphas, teachers=teachers, temperature=3.0,
                          module__n_features=3, module__n_classes=5).initialize()  # fmt: skip
    expected = sum(
        kd_objective(y_pred[k], labels[k], teacher[k, :, t] if t >= 0 else None, a, 3.0,
                     nn.CrossEntropyLoss())  # fmt: skip
        for k, (a, t) in enumerate(zip(alphas, teachers))
    )
    torch.testing.assert_close(group.get_loss(y_pred, targets), expected)


class _WithBatchNorm(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.BatchNorm1d(16), nn.ReLU(),
                                 nn.Linear(16, n_classes))  # fmt: skip

    def forward(self, x):
        return self.net(x)


def test_networks_with_buffers_train_alone_and_match_a_single_fit(setting):
    X, y, X_test, y_test, teacher, rows, log_p = setting
    assert vectorisable(SmallCNN, n_classes=10) and not vectorisable(_WithBatchNorm)
    with pytest.raises(ValueError, match="buffers"):
        _StudentGroup(_WithBatchNorm, alphas=[0.0, 0.5], teachers=[-1, 0], max_epochs=1,
                      **KW).fit(X, y, rows[:2], log_p)  # fmt: skip
    one = _StudentGroup(_WithBatchNorm, alphas=[0.5], teachers=[0], max_epochs=2, random_state=3,
                        **KW).fit(X, y, rows[:1], log_p)  # fmt: skip
    alone = DistillationClassifier(_WithBatchNorm, alpha=0.5, teacher=teacher, max_epochs=2,
                                   random_state=3, **KW).fit(X[rows[0]], y[rows[0]])  # fmt: skip
    assert one.member_correct(X_test, y_test)[0] == int((alone.predict(X_test) == y_test).sum())


@pytest.mark.parametrize("kd_loss", ["kd", "dkd", "dist", "mse"])
def test_the_group_loss_is_the_sum_of_the_students_losses(kd_loss):
    # The same rows, packed once: the group's batched loss against each
    # member's own objective as a DistillationClassifier computes it.
    from prunekd.distillation._targets import pack_targets

    rng = np.random.RandomState(0)
    n_members, batch, n_classes, n_teachers = 3, 8, 4, 2
    y_pred = torch.as_tensor(rng.randn(n_members, batch, n_classes))
    labels = rng.randint(n_classes, size=(n_members, batch))
    log_p = torch.log_softmax(torch.as_tensor(rng.randn(n_members, batch, n_teachers, n_classes)), -1)
    rows = pack_targets(labels, log_p, dtype=torch.float64)
    alphas, teachers = (0.0, 0.4, 1.0), (-1, 1, 0)
    group = _StudentGroup(MLP, alphas=alphas, teachers=teachers, temperature=2.0, kd_loss=kd_loss,
                          module__n_features=1, module__n_classes=n_classes).initialize()  # fmt: skip
    got = group.get_loss(y_pred, rows)
    expected = 0.0
    for k, (alpha, t) in enumerate(zip(alphas, teachers)):
        student = DistillationClassifier(MLP, module__n_features=1, module__n_classes=n_classes,
                                         alpha=alpha, temperature=2.0, kd_loss=kd_loss,
                                         teacher=None if t < 0 else "stored").initialize()  # fmt: skip
        student.kd_loss_ = check_kd_loss(kd_loss)
        own = pack_targets(labels[k], log_p[k, :, max(t, 0)], dtype=torch.float64)
        expected = expected + student.get_loss(y_pred[k], own)
    assert float(got) == pytest.approx(float(expected), rel=1e-6)


def test_a_weighted_member_equals_a_weighted_fit(setting):
    # A weighted coreset (CRAIG, GradMatch) in the group: member 1 trains as a
    # DistillationClassifier fitted with sample_weight would.
    X, y, X_test, y_test, teacher, rows, log_p = setting
    weights = np.random.RandomState(1).uniform(0.2, 3.0, size=rows.shape[1])
    group = _StudentGroup(SmallCNN, alphas=[0.5, 0.5], teachers=[0, 0], max_epochs=2,
                          random_state=7, **KW).fit(X, y, rows[:2], log_p, [None, weights])  # fmt: skip
    alone = DistillationClassifier(SmallCNN, alpha=0.5, teacher=teacher, max_epochs=2,
                                   random_state=7, **KW)  # fmt: skip
    alone.fit(X[rows[1]], y[rows[1]], weights)
    for name, stacked in zip(group.module_._names, group.module_.weights):
        torch.testing.assert_close(stacked[1], alone.module_.state_dict()[name], atol=5e-5, rtol=0)
    # The unweighted member is the one a group without weights trains, bit for bit.
    plain = _StudentGroup(SmallCNN, alphas=[0.5, 0.5], teachers=[0, 0], max_epochs=2,
                          random_state=7, **KW).fit(X, y, rows[:2], log_p)  # fmt: skip
    for stacked, unweighted in zip(group.module_.weights, plain.module_.weights):
        assert torch.equal(stacked[0], unweighted[0])
        assert not torch.equal(stacked[1], unweighted[1])


@pytest.mark.parametrize("kd_loss", ["kd", "dkd", "mse"])
def test_the_weighted_group_loss_is_the_weighted_objective(kd_loss):
    from prunekd.distillation._losses import weighted_objective
    from prunekd.distillation._targets import pack_targets

    rng = np.random.RandomState(0)
    n_members, batch, n_classes = 2, 6, 3
    y_pred = torch.as_tensor(rng.randn(n_members, batch, n_classes))
    labels = rng.randint(n_classes, size=(n_members, batch))
    log_p = torch.log_softmax(torch.as_tensor(rng.randn(n_members, batch, 1, n_classes)), -1)
    w = torch.as_tensor(rng.uniform(0.5, 2.0, size=(n_members, batch)))
    targets = torch.cat([pack_targets(labels, log_p, dtype=torch.float64), w[..., None]], dim=-1)
    group = _StudentGroup(MLP, alphas=(0.3, 0.6), teachers=(0, 0), temperature=2.0, kd_loss=kd_loss,
                          module__n_features=1, module__n_classes=n_classes).initialize()  # fmt: skip
    group._weighted_ = torch.tensor([True, False])
    soft = check_kd_loss(kd_loss)
    expected = weighted_objective(y_pred[0], torch.as_tensor(labels[0]), log_p[0, :, 0], 0.3, 2.0,
                                  nn.CrossEntropyLoss(), None if kd_loss == "kd" else soft, w[0])
    expected = expected + kd_objective(y_pred[1], torch.as_tensor(labels[1]), log_p[1, :, 0], 0.6,
                                       2.0, nn.CrossEntropyLoss(), soft)  # fmt: skip
    torch.testing.assert_close(group.get_loss(y_pred, targets), expected)


def test_a_loss_without_a_per_sample_form_refuses_weights(setting):
    X, y, _, _, _, rows, log_p = setting
    with pytest.raises(ValueError, match="sample_weight"):
        _StudentGroup(SmallCNN, alphas=[0.5], teachers=[0], kd_loss="dist", max_epochs=1,
                      **KW).fit(X, y, rows[:1], log_p, [np.ones(rows.shape[1])])  # fmt: skip


@pytest.mark.parametrize("module", [SmallCNN, MLP])
def test_a_member_learns_the_same_weights_in_groups_of_any_size(setting, module):
    # A resumed sweep trains only its missing members, so a member's group may be smaller
    # than in an uninterrupted run: what it learns must not depend on its neighbours.
    X, y, *_ = setting
    rng = np.random.RandomState(1)
    rows = np.stack([rng.permutation(len(X))[:90] for _ in range(5)])
    log_p = torch.log_softmax(torch.as_tensor(rng.randn(2, len(X), 10)), -1).numpy()
    alphas, teachers = [0.5, 0.0, 1.0, 0.25, 0.7], [1, -1, 0, 1, 0]
    kwargs = dict(module__in_channels=1) if module is SmallCNN else dict(module__n_features=64)

    def first_member(size):
        group = _StudentGroup(module, alphas=alphas[:size], teachers=teachers[:size], max_epochs=2,
                              random_state=3, **kwargs, **KW)  # fmt: skip
        group.fit(X.reshape(len(X), -1) if module is MLP else X, y, rows[:size], log_p)
        return [weights[0] for weights in group.module_.weights]

    alone = first_member(1)
    for size in (2, 5):
        for a, b in zip(alone, first_member(size)):
            assert torch.equal(a, b), f"a member alone and in a group of {size} differ"
