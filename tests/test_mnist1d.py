"""MNIST-1D: generated, never downloaded, the caller's generators untouched, its digest pinned."""

import random
import sys

import numpy as np
import pytest

from prunekd.datasets import load_mnist1d
from prunekd.datasets._mnist1d import array_digest
from prunekd.experiments import SweepConfig
from prunekd.experiments._data import held_out_pool, load_dataset, make_module, seed_data
from prunekd.models import SmallCNN, SmallCNN1d

# The default pool (5,000 signals, seed 42) of mnist1d 0.0.2.post1: another version of the
# generator, or another setting, changes it, and the stored runs would no longer be its.
POOL_SHA256 = "0ecb4214cd075489923b777acbc15e6203fabf273e62d8c7eececbeacf1c4f0f"


@pytest.fixture(scope="module")
def pool():
    return load_dataset("mnist1d")


def test_the_pool_is_the_published_benchmarks_size_balanced_and_standardised(pool):
    X, y = pool
    assert X.shape == (5000, 1, 40) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [500] * 10
    assert abs(float(X.mean())) < 1e-6 and float(X.std()) == pytest.approx(1.0, abs=1e-5)
    assert array_digest(X, y) == POOL_SHA256


def test_the_callers_global_generators_are_restored():
    np.random.seed(5)
    random.seed(5)
    expected = (np.random.rand(), random.random())
    np.random.seed(5)
    random.seed(5)
    load_mnist1d(n_samples=50, seed=3)  # reseeds both globals inside
    assert (np.random.rand(), random.random()) == expected


def test_another_seed_gives_another_pool_and_the_same_seed_the_same():
    a, b, c = (load_mnist1d(100, seed) for seed in (1, 1, 2))
    assert array_digest(*a) == array_digest(*b) != array_digest(*c)


@pytest.mark.parametrize("n", [0, 15, 10.0, "100"])
def test_bad_sizes_are_refused(n):
    with pytest.raises(ValueError, match="n_samples must be a positive multiple of 10"):
        load_mnist1d(n)


def test_without_the_package_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(ImportError, match=r'pip install "prunekd\[mnist1d\]"'):
        load_mnist1d(100)


def test_signals_get_the_one_dimensional_network_of_the_same_widths():
    module, kwargs = make_module("smallcnn", 10, (1, 40), 16)
    assert module is SmallCNN1d and kwargs["module__width"] == 16
    assert make_module("smallcnn", 10, (1, 8, 8), 16)[0] is SmallCNN


def test_every_seed_is_tested_on_a_pool_of_its_own(pool):
    config = SweepConfig(dataset="mnist1d", test_pool_seed=1234)
    fresh = held_out_pool(config, 3)
    assert array_digest(*fresh) == array_digest(*load_mnist1d(5000, 1237))
    assert array_digest(*fresh) not in (POOL_SHA256, array_digest(*held_out_pool(config, 4)))
    data = seed_data(config, *pool, seed=3, pool=fresh)
    assert data["X_test"] is fresh[0] and len(data["y_train"]) == 3500
    assert len(data["y_val"]) == 750
    assert held_out_pool(SweepConfig(dataset="mnist1d"), 3) is None
    with pytest.raises(ValueError, match="only mnist1d"):
        held_out_pool(SweepConfig(test_pool_seed=1), 0)
    with pytest.raises(ValueError, match="must differ from the main pool's 42"):
        held_out_pool(SweepConfig(dataset="mnist1d", test_pool_seed=40), 2)


def test_each_teacher_trains_its_own_epochs(tmp_path, monkeypatch, capsys):
    from prunekd.cli import main
    from prunekd.experiments import _sweep, load_results
    from prunekd.experiments._store import read_json

    seen = {}
    fit = _sweep.DistillationClassifier.fit

    def spy(self, X, y=None, **kwargs):
        if self.alpha == 0.0 and len(X) == 1257:  # teachers (and full-data students)
            seen.setdefault(self.module__width, set()).add(self.max_epochs)
        return fit(self, X, y, **kwargs)

    monkeypatch.setattr(_sweep.DistillationClassifier, "fit", spy)
    out = str(tmp_path / "out")
    main(["--pruners", "random", "--fractions", "1.0", "--alphas", "0.5", "--seeds", "0",
          "--width", "4", "--teachers", "small=2,equal=4", "--teacher-epochs", "small=3,equal=2",
          "--epochs", "1", "--budget-scales", "none", "--out", out, "--no-progress",
          "--jobs", "1"])  # fmt: skip
    assert seen[2] == {3} and 2 in seen[4]
    info = read_json(f"{out}/info.json")
    assert info["teacher_samples"]["small"] == 3 * 1257 * info["relative_forward_cost"]["small"]
    assert load_results(out)
    with pytest.raises(SystemExit):
        main(["--teacher-epochs", "small=3", "--out", str(tmp_path / "x")])
    assert "gives no epochs for the teacher 'equal'" in capsys.readouterr().err


def test_each_seed_trains_against_its_own_pool(monkeypatch, tmp_path):
    from prunekd.experiments import _sweep

    seen, real = {}, _sweep.seed_data

    def spy(config, X, y, seed, pool=None):
        seen[seed] = array_digest(*pool)
        return real(config, X, y, seed, pool)

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(_sweep, "seed_data", spy)
    monkeypatch.setattr(_sweep, "read_results", stop)
    config = SweepConfig(dataset="mnist1d", test_pool_seed=1000, seeds=(0, 1), pruners=("random",))
    with pytest.raises(Stop):
        _sweep.run_sweep(config, str(tmp_path), progress=False)
    assert seen == {s: array_digest(*held_out_pool(config, s)) for s in (0, 1)}
