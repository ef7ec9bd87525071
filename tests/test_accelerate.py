"""Data-parallel training of the student through Accelerate: 2 CPU processes against 1."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone

pytest.importorskip("accelerate")
from accelerate import Accelerator  # noqa: E402

import _ddp_script as script  # noqa: E402
from prunekd import AcceleratedDistillationClassifier, DistillationClassifier  # noqa: E402
from prunekd.distillation import TeacherOutputs  # noqa: E402
from prunekd.models import MLP  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# Two processes sum their gradients in another order than one: float32 rounding only.
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory):
    """Every case of tests/_ddp_script.py, fitted on 2 CPU processes (gloo) by torchrun."""
    out = tmp_path_factory.mktemp("ddp")
    X, y = script.data()
    TeacherOutputs.compute(script.teacher(X, y), X, out / "outputs", y=y)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": HERE + os.pathsep
           + os.environ.get("PYTHONPATH", "")}  # fmt: skip
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", os.path.join(HERE, "_ddp_script.py"), str(out),
               str(out / "outputs")]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    cases = [*script.CASES, "dynamic-True", "dynamic-False"]
    return {case: [dict(np.load(out / f"{case}-rank{r}.npz")) for r in range(2)] for case in cases}


def _single_process(case):
    # "stored" is compared with the live teacher: the outputs on disk change nothing.
    shuffle, cache = script.CASES[case]
    X, y = script.data()
    with torch.random.fork_rng():
        torch.set_num_threads(1)
        net = DistillationClassifier(MLP, **script.student_params(script.teacher(X, y), shuffle, cache))
        net.fit(X, y)
    weights = torch.cat([p.detach().flatten() for p in net.module_.parameters()]).numpy()
    return weights, net.predict_proba(X)


@pytest.mark.parametrize("case", ["cached", "on_the_fly", "stored"])
def test_accelerate_ddp_on_two_processes_matches_one_process(ddp_runs, case):
    weights, proba = _single_process(case)
    for rank in ddp_runs[case]:
        assert int(rank["world"]) == 2 and rank["distributed"] == "MULTI_CPU"
        assert rank["backend"] == "gloo"
        np.testing.assert_allclose(rank["weights"], weights, rtol=0, atol=TOLERANCE)
        # predictions are gathered from both processes, in order
        np.testing.assert_allclose(rank["proba"], proba, rtol=0, atol=TOLERANCE)
    # the student learned: the cached and on-the-fly teachers give the same fit
    assert (proba.argmax(1) == script.data()[1]).mean() > 0.8


def test_accelerate_ddp_processes_stay_in_sync_with_shuffling(ddp_runs):
    first, second = ddp_runs["shuffled"]
    np.testing.assert_array_equal(first["weights"], second["weights"])
    y = script.data()[1]
    assert (first["proba"].argmax(1) == y).mean() > 0.8


def _student(**params):
    X, y = script.data()
    teacher = script.teacher(X, y)
    return AcceleratedDistillationClassifier(
        MLP, accelerator=Accelerator(cpu=True), **{**script.student_params(teacher, True, True),
                                                   **params}), X, y  # fmt: skip


def test_accelerate_single_process_is_the_plain_classifier(capsys):
    net, X, y = _student(max_epochs=2)
    net.fit(X, y)
    assert capsys.readouterr().out == ""  # verbose=0 prints nothing, as in skorch
    plain = DistillationClassifier(MLP, **{k: v for k, v in net.get_params().items()
                                           if k in DistillationClassifier(MLP).get_params()
                                           and k != "module" and "__" not in k},
                                   iterator_train__shuffle=True).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(net.predict_proba(X), plain.predict_proba(X), atol=TOLERANCE)
    copy = clone(net)
    assert copy.accelerator is net.accelerator and copy.teacher is net.teacher
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))


def test_accelerate_refuses_its_own_mixed_precision_flag():
    net, X, y = _student(mixed_precision=True)
    with pytest.raises(ValueError, match=r"Accelerator\(mixed_precision='bf16'\)"):
        net.fit(X, y)
    assert not net.initialized_


@pytest.mark.parametrize("seeded", [True, False])
def test_dynamic_pruning_on_two_processes_skips_the_same_rows_on_both(ddp_runs, seeded):
    from prunekd.callbacks import DynamicPruning

    first, second = ddp_runs[f"dynamic-{seeded}"]
    for name in ("keep_counts", "rows", "scores", "weights"):  # gathered scores: one selection
        np.testing.assert_array_equal(first[name], second[name])
    assert first["rows"][0] == len(script.data()[1]) and first["rows"][1] < first["rows"][0]
    y = script.data()[1]
    assert (first["proba"].argmax(1) == y).mean() > 0.8
    if not seeded:
        return
    # the first epoch is the single process's (whole batches): so are its scores and the next
    # epoch's selection; later epochs pad their last batch, and drift by float rounding
    X = script.data()[0]
    prune = DynamicPruning(prune_ratio=0.5, random_state=0)
    with torch.random.fork_rng():
        torch.set_num_threads(1)
        DistillationClassifier(MLP, callbacks=[("prune", prune)],
                               **script.student_params(script.teacher(X, y), False, True)).fit(X, y)  # fmt: skip
    assert list(first["rows"][:2]) == list(prune.rows_per_epoch_[:2])

