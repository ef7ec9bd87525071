"""Forgetting and AUM from the teacher's own training, as a pruner."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier

from prunekd import DynamicsPruner
from prunekd.callbacks import TrainingDynamics
from prunekd.models import MLP


@pytest.fixture
def noisy_teacher(blobs):
    X, y = blobs
    y = y.copy()
    flipped = np.array([5, 25, 45])
    y[flipped] = (y[flipped] + 1) % 3
    torch.manual_seed(0)
    teacher = NeuralNetClassifier(MLP, module__n_features=2, module__n_classes=3,
                                  module__hidden=(16,), criterion=torch.nn.CrossEntropyLoss,
                                  optimizer=torch.optim.Adam, lr=0.02, max_epochs=30,
                                  batch_size=16, train_split=None, verbose=0,
                                  callbacks=[("dynamics", TrainingDynamics())]).fit(X, y)  # fmt: skip
    return X, y, flipped, teacher


@pytest.mark.parametrize("score", ["aum", "forgetting"])
def test_the_teachers_record_ranks_the_flipped_labels_hardest(noisy_teacher, proxy_fits, score):
    X, y, flipped, teacher = noisy_teacher
    pruner = DynamicsPruner(teacher, score=score, fraction=3 / 60, class_balanced=False,
                            random_state=0)  # fmt: skip
    kept = pruner.fit_transform(X, y)
    if score == "aum":
        assert kept.tolist() == flipped.tolist()
    else:  # every flipped label is forgotten or never learned; a typical clean one is not
        clean = np.setdiff1d(np.arange(60), flipped)
        assert pruner.scores_[flipped].min() >= 1 and np.median(pruner.scores_[clean]) == 0
    recorder = dict(teacher.callbacks_)["dynamics"]
    expected = recorder.aum_scores() if score == "aum" else recorder.forgetting_counts()
    np.testing.assert_array_equal(pruner.scores_, expected)
    assert proxy_fits == []  # read off the record, nothing trained


def test_other_data_than_recorded_is_refused(noisy_teacher):
    X, y, _, teacher = noisy_teacher
    with pytest.raises(ValueError, match="recorded on 60 samples with other labels"):
        DynamicsPruner(teacher).fit(X[:-1], y[:-1])
    bare = NeuralNetClassifier(MLP, module__n_features=2, module__n_classes=3, max_epochs=1,
                               train_split=None, verbose=0).fit(X, y)  # fmt: skip
    with pytest.raises(ValueError, match="without a TrainingDynamics callback"):
        DynamicsPruner(bare).fit(X, y)
    with pytest.raises(ValueError, match="recorded nothing yet"):
        DynamicsPruner(TrainingDynamics()).fit(X, y)
    with pytest.raises(TypeError, match="model must be"):
        DynamicsPruner("teacher").fit(X, y)


@pytest.mark.parametrize("net", ["skorch", "prunekd"])
def test_recording_does_not_change_the_training(net):
    # The epoch-end pass must not draw from torch's generator, which orders the
    # next epoch's batches: a recorded teacher is the teacher it would be unrecorded.
    from prunekd import DistillationClassifier

    X = np.random.RandomState(0).randn(200, 5).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)

    def weights(callbacks):
        if net == "prunekd":
            model = DistillationClassifier(MLP, alpha=0, max_epochs=3, batch_size=32,
                                           random_state=0, callbacks=callbacks, verbose=0)  # fmt: skip
        else:
            torch.manual_seed(0)
            model = NeuralNetClassifier(MLP, module__n_features=5, module__n_classes=2,
                                        criterion=torch.nn.CrossEntropyLoss, max_epochs=3,
                                        batch_size=32, train_split=None, verbose=0,
                                        iterator_train__shuffle=True, callbacks=callbacks)  # fmt: skip
        model.fit(X, y)
        return torch.cat([p.detach().flatten() for p in model.module_.parameters()])

    recorder = TrainingDynamics()
    torch.testing.assert_close(weights([recorder]), weights(None), rtol=0, atol=0)
    assert recorder.correct_.shape == (3, 200)


def _dyn_unc_loop(p, window):
    """Dyn-Unc written out: the sample std over each window, averaged over windows."""
    n_epochs, n = p.shape
    out = np.zeros(n)
    for i in range(n):
        stds = []
        for k in range(n_epochs - window + 1):
            w = p[k : k + window, i]
            stds.append(np.sqrt(((w - w.mean()) ** 2).sum() / (window - 1)))
        out[i] = np.mean(stds)
    return out


def _tdds_loop(p, window, decay):
    """TDDS written out: loss changes, their variance per window, a running average."""
    n_epochs, n = p.shape
    out = np.zeros(n)
    for i in range(n):
        loss = [-np.log(p[t, i]) for t in range(n_epochs)]
        changes = [loss[t] - loss[t - 1] for t in range(1, n_epochs)]
        average = 0.0
        for k in range(len(changes) - window + 1):
            w = np.array(changes[k : k + window])
            average = decay * average + (1 - decay) * ((w - w.mean()) ** 2).mean()
        out[i] = average
    return out


@pytest.mark.parametrize("window", [2, 3, 5])
def test_dyn_unc_and_tdds_equal_their_loops(window):
    from prunekd.callbacks import dynamic_uncertainty, tdds_scores

    p = np.random.RandomState(window).uniform(0.01, 1.0, size=(9, 7))
    np.testing.assert_allclose(dynamic_uncertainty(p, window), _dyn_unc_loop(p, window))
    np.testing.assert_allclose(tdds_scores(p, window, 0.8), _tdds_loop(p, window, 0.8))


def test_steady_predictions_score_zero_and_moving_ones_high():
    from prunekd.callbacks import dynamic_uncertainty, tdds_scores

    steady = np.full(12, 0.9)
    learned = np.linspace(0.1, 0.95, 12)  # moves once, steadily
    swinging = np.tile([0.2, 0.8], 6)  # moves every epoch
    p = np.c_[steady, learned, swinging]
    for scores in (dynamic_uncertainty(p, 4), tdds_scores(p, 4)):
        assert scores[0] == 0 and scores[0] < scores[1] < scores[2]


@pytest.mark.parametrize("score", ["dyn_unc", "tdds"])
def test_the_recorded_probabilities_score_the_pruner(noisy_teacher, proxy_fits, score):
    X, y, flipped, teacher = noisy_teacher
    recorder = dict(teacher.callbacks_)["dynamics"]
    n = len(y)
    assert recorder.true_probs_.shape == (30, n)
    # the recorded probability of the label after the last epoch is the net's own
    proba = teacher.predict_proba(X)[np.arange(n), y]
    np.testing.assert_allclose(recorder.true_probs_[-1], proba, rtol=1e-5, atol=1e-6)
    pruner = DynamicsPruner(teacher, score=score, window=5, fraction=0.25, random_state=0)
    pruner.fit(X, y)
    expected = (recorder.dynamic_uncertainty(5) if score == "dyn_unc"
                else recorder.tdds_scores(5))  # fmt: skip
    np.testing.assert_array_equal(pruner.scores_, expected)
    assert proxy_fits == []


def test_a_window_longer_than_the_record_is_refused(noisy_teacher):
    X, y, _, teacher = noisy_teacher
    with pytest.raises(ValueError, match=r"window must lie in \[2, n_epochs=30\]"):
        DynamicsPruner(teacher, score="dyn_unc", window=31).fit(X, y)


def test_a_shared_teacher_serves_the_dynamics_pruner(blobs, monkeypatch):
    # the one resolver: a teacher shared with dask workers is read as the teacher itself
    from skorch import NeuralNetClassifier

    from prunekd import parallel
    from prunekd.callbacks import TrainingDynamics
    from prunekd.models import MLP

    X, y = blobs
    torch.manual_seed(0)
    teacher = NeuralNetClassifier(MLP, module__n_features=2, module__n_classes=3, max_epochs=3,
                                  train_split=None, verbose=0,
                                  callbacks=[("dynamics", TrainingDynamics())]).fit(X, y)  # fmt: skip
    monkeypatch.setitem(parallel._INSTALLED, "k", teacher)  # as a dask worker holds it
    direct = DynamicsPruner(teacher, score="aum", random_state=0).fit(X, y)
    via = DynamicsPruner(parallel._SharedTeacher("k"), score="aum", random_state=0).fit(X, y)
    np.testing.assert_array_equal(via.scores_, direct.scores_)
