"""The distillation losses against closed forms and their limiting cases."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from prunekd import DistillationClassifier
from prunekd.distillation import DISTLoss, DKDLoss, KDLoss, MSELoss
from prunekd.models import MLP

S = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]], dtype=torch.float64)
T = torch.tensor([[1.0, 1.5, 0.0], [-1.0, 0.0, 2.0]], dtype=torch.float64)
Y = torch.tensor([0, 2])


def _log_p(logits, tau):
    return torch.log_softmax(logits / tau, dim=1)


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _kl(p, q):
    return float(np.sum(p * np.log(p / q)))


def test_kd_closed_form():
    tau = 2.0
    expected = np.mean([
        tau**2 * _kl(_softmax(T[i].numpy() / tau), _softmax(S[i].numpy() / tau)) for i in range(2)
    ])  # fmt: skip
    assert float(KDLoss()(S, _log_p(T, tau), Y, tau)) == pytest.approx(expected, rel=1e-6)


def test_dkd_closed_form_by_its_definition():
    tau, a, b = 2.0, 1.5, 3.0
    total = 0.0
    for i, t in enumerate(Y.tolist()):
        ps, pt = _softmax(S[i].numpy() / tau), _softmax(T[i].numpy() / tau)
        tckd = _kl(np.array([pt[t], 1 - pt[t]]), np.array([ps[t], 1 - ps[t]]))
        rest = [c for c in range(3) if c != t]
        nckd = _kl(pt[rest] / pt[rest].sum(), ps[rest] / ps[rest].sum())
        total += tau**2 * (a * tckd + b * nckd)
    got = float(DKDLoss(alpha=a, beta=b)(S, _log_p(T, tau), Y, tau))
    assert got == pytest.approx(total / 2, rel=1e-5)


def test_dkd_with_vanilla_weights_is_vanilla_kd():
    # KD = TCKD + (1 - p_target of the teacher) * NCKD, sample by sample
    tau = 3.0
    for i in range(2):
        s, t, y = S[i : i + 1], T[i : i + 1], Y[i : i + 1]
        pt = float(torch.softmax(t / tau, 1)[0, y])
        dkd = DKDLoss(alpha=1.0, beta=1 - pt)(s, _log_p(t, tau), y, tau)
        assert float(dkd) == pytest.approx(float(KDLoss()(s, _log_p(t, tau), y, tau)), rel=1e-5)


@pytest.mark.parametrize("tau", [1.0, 3.0])
def test_dist_closed_form_and_its_invariance(tau):
    # Probabilities at temperature tau, and the tau**2 factor, written out in NumPy.
    ps = np.array([_softmax(row) for row in S.numpy() / tau])
    pt = np.array([_softmax(row) for row in T.numpy() / tau])
    inter = np.mean([1 - np.corrcoef(ps[i], pt[i])[0, 1] for i in range(2)])
    intra = np.mean([1 - np.corrcoef(ps[:, c], pt[:, c])[0, 1] for c in range(3)])
    got = float(DISTLoss(beta=2.0, gamma=0.5)(S, _log_p(T, tau), Y, tau))
    assert got == pytest.approx(tau**2 * (2.0 * inter + 0.5 * intra), rel=1e-5)
    # a student equal to the teacher costs nothing
    assert float(DISTLoss()(T, _log_p(T, tau), Y, tau)) == pytest.approx(0.0, abs=5e-6 * tau**2)


def test_mse_closed_form_and_shift_invariance():
    tau = 4.0
    centred = lambda z: z - z.mean(1, keepdim=True)  # noqa: E731
    expected = float(((centred(S) - centred(T)) ** 2).sum(1).mean())
    assert float(MSELoss()(S, _log_p(T, tau), Y, tau)) == pytest.approx(expected, rel=1e-6)
    shifted = S + torch.tensor([[5.0], [-2.0]], dtype=torch.float64)
    assert float(MSELoss()(shifted, _log_p(T, tau), Y, tau)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("loss", [KDLoss(), DKDLoss(), DISTLoss(), MSELoss()])
def test_every_loss_is_zero_when_the_student_is_the_teacher(loss):
    assert float(loss(T, _log_p(T, 2.0), Y, 2.0)) == pytest.approx(0.0, abs=1e-5)  # float32
    assert float(loss(S, _log_p(T, 2.0), Y, 2.0)) > 1e-3


@pytest.fixture
def blobs3():
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 30)
    X = (rng.randn(90, 2) + np.array([[0, 0], [4, 4], [0, 4]])[y]).astype(np.float32)
    return X, y


def _student(**kwargs):
    params = dict(optimizer=torch.optim.Adam, lr=0.02, max_epochs=30, batch_size=16, verbose=0,
                  random_state=0)  # fmt: skip
    return DistillationClassifier(MLP, **{**params, **kwargs})


def test_the_student_trains_with_the_loss_it_is_given(blobs3):
    X, y = blobs3
    teacher = LogisticRegression().fit(X, y)
    probas = {}
    for name in ("kd", "dkd", "dist", "mse"):
        student = _student(teacher=teacher, alpha=1.0, kd_loss=name).fit(X, y)
        assert student.score(X, y) > 0.9  # from the teacher alone; chance is 1/3
        probas[name] = student.predict_proba(X)
    for a in probas:  # each name is a different objective, not the default in disguise
        for b in probas:
            if a < b:
                assert np.abs(probas[a] - probas[b]).max() > 1e-3, (a, b)
    same = _student(teacher=teacher, alpha=1.0, kd_loss=KDLoss()).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(same, probas["kd"], atol=1e-6)


def test_loss_parameters_are_tuned_like_nested_estimators(blobs3):
    X, y = blobs3
    teacher = LogisticRegression().fit(X, y)
    student = _student(teacher=teacher, kd_loss="dkd", max_epochs=3)
    student.set_params(kd_loss__beta=2.0)
    assert repr(student.kd_loss) == "DKDLoss(beta=2.0)"
    assert clone(student).kd_loss.beta == 2.0
    search = GridSearchCV(student, {"kd_loss__beta": [1.0, 8.0]}, cv=2).fit(X, y)
    assert search.best_estimator_.kd_loss.beta in (1.0, 8.0)
    assert search.cv_results_["param_kd_loss__beta"].tolist() == [1.0, 8.0]


@pytest.mark.parametrize("kd_loss, match", [("dktd", "kd_loss must be one of"),
                                            (DKDLoss(beta=-1.0), "beta must be a non-negative")])
def test_bad_losses_are_refused_early(blobs3, kd_loss, match):
    X, y = blobs3
    student = _student(teacher=LogisticRegression().fit(X, y), kd_loss=kd_loss)
    with pytest.raises(ValueError, match=match):
        student.fit(X, y)
    assert not hasattr(student, "classes_inferred_")


def test_dist_members_equal_the_students_loss_for_a_lone_member_and_a_one_row_batch():
    # the batch axis is the second from last: a lone member (K=1) and one-row batches
    from prunekd.distillation import DISTLoss

    g = torch.Generator().manual_seed(0)
    s = torch.randn(2, 6, 5, generator=g)
    t = torch.log_softmax(torch.randn(2, 6, 5, generator=g) / 2, -1)
    y = torch.randint(0, 5, (2, 6), generator=g)
    loss = DISTLoss()
    torch.testing.assert_close(loss.members(s[:1], t[:1], y[:1], 2.0), loss(s[0], t[0], y[0], 2.0)[None])
    one_row = torch.stack([loss(s[k, :1], t[k, :1], y[k, :1], 2.0) for k in range(2)])
    torch.testing.assert_close(loss.members(s[:, :1], t[:, :1], y[:, :1], 2.0), one_row)
