"""Score caching with ``memory=``: what the key holds, and sharing across processes."""

import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from prunekd import EL2NPruner, make_pipeline
from prunekd._cache import token
from prunekd.models import MLP
from prunekd.pruning import ScorePruner

FAST = dict(n_proxies=1, max_epochs=1, batch_size=32)

# Subprocesses import the tree under test, not whatever copy is installed.
TREE = str(Path(__file__).resolve().parents[1])


def _tree_env(**extra):
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([TREE, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_only_score_parameters_and_data_train_again(blobs, proxy_fits, tmp_path):
    X, y = blobs
    pruner = EL2NPruner(fraction=0.5, n_proxies=2, max_epochs=2, random_state=0, memory=tmp_path)
    first = pruner.fit(X, y).scores_
    assert len(proxy_fits) == 2
    for fraction in (0.1, 0.3, 0.9):
        clone(pruner).set_params(fraction=fraction, keep="easy", class_balanced=False).fit(X, y)
    assert len(proxy_fits) == 2  # scores reused for every fraction and keep direction
    np.testing.assert_array_equal(clone(pruner).fit(X, y).scores_, first)
    clone(pruner).set_params(max_epochs=3).fit(X, y)  # scoring changed: trains again
    assert len(proxy_fits) == 4
    clone(pruner).set_params(random_state=1).fit(X, y)  # another seed
    assert len(proxy_fits) == 6
    clone(pruner).fit(X[:-1], y[:-1])  # other data
    assert len(proxy_fits) == 8
    clone(pruner).fit(X, np.roll(y, 1))  # other labels
    assert len(proxy_fits) == 10
    with pytest.warns(UserWarning, match="only with an integer random_state"):
        clone(pruner).set_params(random_state=None).fit(X, y)
        clone(pruner).set_params(random_state=None).fit(X, y)
    assert len(proxy_fits) == 14  # no integer random_state: nothing cached
    clone(pruner).set_params(memory=None).fit(X, y)
    assert len(proxy_fits) == 16  # no memory: nothing cached


def test_a_joblib_memory_and_a_path_are_the_same_cache(blobs, proxy_fits, tmp_path):
    X, y = blobs
    EL2NPruner(random_state=0, memory=str(tmp_path), **FAST).fit(X, y)
    EL2NPruner(random_state=0, memory=joblib.Memory(str(tmp_path), verbose=0), **FAST).fit(X, y)
    assert len(proxy_fits) == 1


def _first_feature_pruner(sign):
    # Both classes have the same qualified name, as a class redefined in a
    # notebook cell has; only their code differs.
    class FeaturePruner(ScorePruner):
        def compute_scores(self, X, y, random_state):
            return X[:, 0] if sign > 0 else -X[:, 0]

    return FeaturePruner


def _plus(self, X, y, random_state):
    return X[:, 0]


def _minus(self, X, y, random_state):
    return -X[:, 0]


def _named_feature_pruner(compute_scores):
    # as a class redefined in a notebook: same module, same name, other code
    namespace = {"compute_scores": compute_scores, "__module__": __name__,
                 "__qualname__": "FeaturePruner"}  # fmt: skip
    return type("FeaturePruner", (ScorePruner,), namespace)


def test_a_redefined_class_with_other_code_does_not_reuse_scores(tmp_path):
    X = np.arange(8.0).reshape(4, 2)
    y = [0, 0, 1, 1]
    common = dict(fraction=0.5, class_balanced=False, random_state=0, memory=tmp_path)
    assert _named_feature_pruner(_plus)(**common).fit_transform(X, y).tolist() == [2, 3]
    assert _named_feature_pruner(_minus)(**common).fit_transform(X, y).tolist() == [0, 1]
    # same code, other values captured by the closure
    assert _first_feature_pruner(1)(**common).fit_transform(X, y).tolist() == [2, 3]
    assert _first_feature_pruner(-1)(**common).fit_transform(X, y).tolist() == [0, 1]


def test_module_instances_are_keyed_by_architecture_not_initial_weights(blobs, proxy_fits, tmp_path):
    X, y = blobs
    common = dict(random_state=0, memory=tmp_path, **FAST)
    a = EL2NPruner(estimator=MLP(2, 3, hidden=(8,)), **common).fit(X, y).scores_
    b = EL2NPruner(estimator=MLP(2, 3, hidden=(8,)), **common).fit(X, y).scores_
    assert len(proxy_fits) == 1  # new instance, new random weights, same proxy
    np.testing.assert_array_equal(a, b)
    EL2NPruner(estimator=MLP(2, 3, hidden=(16,)), **common).fit(X, y)
    assert len(proxy_fits) == 2  # another architecture


class _Scaled(torch.nn.Module):
    """A linear model times a fixed factor that re-initialisation never re-draws."""

    def __init__(self, factor):
        super().__init__()
        self.lin = torch.nn.Linear(2, 3)
        self.factor = torch.nn.Parameter(torch.tensor(float(factor)), requires_grad=False)

    def forward(self, x):
        return self.lin(x) * self.factor


def test_weights_that_are_never_redrawn_are_part_of_the_key():
    assert token(_Scaled(1.0)) == token(_Scaled(1.0))
    assert token(_Scaled(1.0)) != token(_Scaled(3.0))


def test_keys_are_equal_in_another_process():
    code = (
        "import joblib, prunekd; from prunekd import EL2NPruner; from prunekd.models import MLP; "
        "from prunekd._cache import token; print(prunekd.__file__); "
        "print(joblib.hash(token(EL2NPruner(estimator=MLP(2, 3)).get_params())))"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONHASHSEED": str(seed), "PATH": "", "PYTHONPATH": TREE}).stdout
        for seed in (1, 2)
    }  # fmt: skip
    assert len(outputs) == 1
    where, digest = outputs.pop().splitlines()
    assert Path(where).resolve().is_relative_to(Path(TREE)), where
    here = joblib.hash(token(EL2NPruner(estimator=MLP(2, 3)).get_params()))
    assert digest == here


def test_pipeline_memory_caches_its_pruners_scores(blobs, proxy_fits, tmp_path):
    X, y = blobs
    for fraction in (0.2, 0.5):
        pipe = make_pipeline(EL2NPruner(fraction=fraction, random_state=0, **FAST),
                             LogisticRegression(), memory=str(tmp_path))  # fmt: skip
        pipe.fit(X, y)
    assert len(proxy_fits) == 1
    # a pruner's own memory wins over the pipeline's
    own = tmp_path / "own"
    make_pipeline(EL2NPruner(random_state=0, memory=str(own), **FAST), LogisticRegression(),
                  memory=str(tmp_path)).fit(X, y)  # fmt: skip
    assert len(proxy_fits) == 2 and own.exists()


def test_clear_score_cache_is_deprecated():
    import prunekd.pruning

    with pytest.warns(FutureWarning, match="removed in 0.3"):
        clear_score_cache = prunekd.pruning.clear_score_cache
    with pytest.warns(FutureWarning, match="memory="):
        clear_score_cache()
    assert "clear_score_cache" not in prunekd.pruning.__all__


def test_the_loop_oracle_is_deprecated_and_unlisted():
    import prunekd.pruning
    from prunekd.pruning._grand import per_sample_grad_norms_loop

    with pytest.warns(FutureWarning, match="test oracle"):
        assert prunekd.pruning.per_sample_grad_norms_loop is per_sample_grad_norms_loop
    assert "per_sample_grad_norms_loop" not in prunekd.pruning.__all__
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        prunekd.pruning.missing  # noqa: B018


SEARCH = """
import sys
import numpy as np, torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from prunekd import EL2NPruner, make_pipeline
from prunekd.models import MLP


class CountFits(Callback):
    def __init__(self, path):
        self.path = path

    def on_train_begin(self, net, **kwargs):
        with open(self.path, "a") as f:
            f.write("fit\\n")


rng = np.random.RandomState(0)
X = rng.randn(90, 2).astype(np.float32)
y = np.repeat([0, 1, 2], 30)
X[np.arange(90), y % 2] += 2 * (y > 0)
proxy = NeuralNetClassifier(MLP, module__n_features=2, module__n_classes=3,
                            criterion=torch.nn.CrossEntropyLoss, max_epochs=1, train_split=None,
                            verbose=0, callbacks=[("count", CountFits(sys.argv[1]))])
memory = None if sys.argv[2] == "none" else sys.argv[2]
pipe = make_pipeline(EL2NPruner(estimator=proxy, n_proxies=1, random_state=0), LogisticRegression(),
                     memory=memory)
grid = {"el2npruner__fraction": [0.2, 0.4, 0.6, 0.8]}
search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
print("best", search.best_params_)
"""


def test_a_parallel_search_over_fractions_scores_each_fold_once(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(SEARCH)
    counts = {}
    for name, memory in (("none", "none"), ("memory", str(tmp_path / "cache"))):
        log = tmp_path / f"{name}.log"
        done = subprocess.run([sys.executable, str(script), str(log), memory],
                              capture_output=True, text=True, timeout=300,
                              env=_tree_env())  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        counts[name] = len(log.read_text().splitlines())
    # 4 fractions x 3 folds + the refit on all rows, against 3 folds + the refit
    assert counts == {"none": 13, "memory": 4}


def test_memory_that_cannot_cache_says_so(blobs, tmp_path):
    X, y = blobs
    with pytest.warns(UserWarning, match=r"random_state=None they are computed again.*random_state=0"):
        EL2NPruner(memory=tmp_path, **FAST).fit(X, y)
    with pytest.warns(UserWarning, match="only with an integer random_state"):
        make_pipeline(EL2NPruner(**FAST), LogisticRegression(), memory=str(tmp_path)).fit(X, y)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EL2NPruner(memory=tmp_path, random_state=0, **FAST).fit(X, y)  # caches: no warning
        EL2NPruner(**FAST).fit(X, y)  # no memory: nothing to say
