"""The scikit-learn and skorch contracts a user meets on day one."""

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from prunekd import DistillationClassifier, EL2NPruner, RandomPruner, best_alpha_per_fraction, make_pipeline
from prunekd.models import MLP, SmallCNN1d
from prunekd.pruning._proxy import default_proxy_module


def _student(module=MLP, **kwargs):
    params = dict(module__n_features=2, module__n_classes=2, module__hidden=(16,),
                  optimizer=torch.optim.Adam, lr=0.05, max_epochs=20, batch_size=16, verbose=0,
                  random_state=0, alpha=0.0)  # fmt: skip
    return DistillationClassifier(module, **{**params, **kwargs})


@pytest.fixture
def two_labels():
    rng = np.random.RandomState(0)
    X = np.concatenate([rng.randn(30, 2) - 2, rng.randn(30, 2) + 2]).astype(np.float32)
    return X, np.repeat([1, 2], 30)


def test_partial_fit_continues_a_fit_with_its_labels(two_labels):
    X, y = two_labels
    student = _student(max_epochs=1).fit(X, y)
    before = [p.detach().clone() for p in student.module_.parameters()]
    student.partial_fit(X, y)  # labels {1, 2}: the codes, not the labels, reach the loss
    assert student.classes_.tolist() == [1, 2]
    assert any(not torch.equal(a, b) for a, b in zip(before, student.module_.parameters()))
    assert len(student.history_) == 2  # one more epoch, same module
    with pytest.raises(ValueError, match=r"labels \[3\] that are not among the classes \[1, 2\]"):
        student.partial_fit(X, np.where(y == 2, 3, 1))


def test_partial_fit_without_fit_fits_and_takes_classes(two_labels):
    X, y = two_labels
    student = _student(module__n_classes=3).partial_fit(X[:10], y[:10], classes=[1, 2, 3])
    assert student.classes_.tolist() == [1, 2, 3]
    student.partial_fit(X, y)  # a label the first call did not see
    assert student.score(X, y) > 0.9


def test_predict_before_fit_is_not_fitted_error(two_labels):
    X, _ = two_labels
    for method in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(_student(), method)(X)


def test_module_sizes_come_from_the_data_unless_given(two_labels):
    X, y = two_labels
    student = DistillationClassifier(MLP, alpha=0.0, max_epochs=1, verbose=0, random_state=0)
    student.fit(np.c_[X, X, X], y)  # 6 features, 2 classes
    linear = [m for m in student.module_.modules() if isinstance(m, torch.nn.Linear)]
    assert linear[0].in_features == 6 and linear[-1].out_features == 2
    assert "module__n_features" not in student.get_params()  # parameters untouched
    student.set_params(module__n_classes=5)  # given: used as given, then refused
    with pytest.raises(ValueError, match="5"):
        student.fit(np.c_[X, X, X], y)


def test_n_features_in_and_a_wrong_feature_count(two_labels):
    X, y = two_labels
    student = _student(max_epochs=1).fit(X, y)
    assert student.n_features_in_ == 2
    with pytest.raises(ValueError, match="X has 3 features, but DistillationClassifier is expecting 2"):
        student.predict(np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 2 features"):
        student.partial_fit(np.zeros((4, 3), dtype=np.float32), [1, 2, 1, 2])


def test_a_softmax_student_is_refused(two_labels):
    X, y = two_labels

    class SoftmaxMLP(MLP):
        def forward(self, x):
            return torch.softmax(super().forward(x), dim=1)

    teacher = LogisticRegression().fit(X, y)
    student = _student(module=SoftmaxMLP, teacher=teacher, alpha=0.5, criterion=torch.nn.NLLLoss)
    with pytest.raises(ValueError, match="returns probabilities.*remove the module's final softmax"):
        student.fit(X, y)
    assert not student.initialized_ and not hasattr(student, "classes_inferred_")


def test_best_alpha_per_fraction_never_picks_a_failed_candidate():
    results = {"params": [{}] * 4,
               "param_p__fraction": [0.1, 0.1, 0.5, 0.5],
               "param_s__alpha": [0.0, 0.9, 0.0, 0.9],
               "mean_test_score": [np.nan, 0.90, np.nan, np.nan],
               "std_test_score": [np.nan, 0.01, np.nan, np.nan]}  # fmt: skip
    table = best_alpha_per_fraction(results)
    assert table.best_alpha.tolist() == [0.9, None]
    assert table.mean_test_score[0] == 0.90 and np.isnan(table.mean_test_score[1])


def test_pipeline_offers_only_the_final_steps_methods(two_labels):
    X, y = two_labels
    classifier = make_pipeline(RandomPruner(fraction=0.5, random_state=0), LogisticRegression())
    assert not hasattr(classifier, "fit_predict") and not hasattr(classifier, "fit_transform")
    clusterer = make_pipeline(RandomPruner(fraction=0.5, random_state=0), KMeans(2, n_init=1))
    assert len(clusterer.fit_predict(X, y)) == 30
    scaler = make_pipeline(RandomPruner(fraction=0.5, random_state=0), StandardScaler())
    assert scaler.fit_transform(X, y).shape == (30, 2)


def test_pipeline_refuses_transform_input(two_labels):
    X, y = two_labels
    pipe = make_pipeline(StandardScaler(), RandomPruner(fraction=0.5, random_state=0),
                         LogisticRegression(), transform_input=["groups"])  # fmt: skip
    with pytest.raises(ValueError, match="transform_input is not supported.*Leave it None"):
        pipe.fit(X, y)
    assert not hasattr(pipe.steps[0][1], "mean_")  # nothing was fitted


def test_one_d_signals_get_a_one_d_proxy():
    # Two classes of 40-step signals (a sine and a square wave); 4 labels are flipped.
    rng = np.random.RandomState(0)
    t = np.linspace(0, 4 * np.pi, 40)
    X = np.concatenate([np.sin(t) + 0.1 * rng.randn(30, 40),
                        np.sign(np.sin(t)) + 0.1 * rng.randn(30, 40)])[:, None].astype(np.float32)
    y = np.repeat([0, 1], 30)
    flipped = [0, 1, 30, 31]
    y[flipped] = 1 - y[flipped]
    assert default_proxy_module(X, 2)[0] is SmallCNN1d
    assert default_proxy_module(X[:, 0], 2)[0] is MLP  # (n, length): flat features
    pruner = EL2NPruner(fraction=0.1, n_proxies=2, max_epochs=15, lr=0.01, random_state=0)
    kept = pruner.fit_transform(X, y)  # the 6 hardest: the 4 mislabeled among them
    assert set(flipped) <= set(kept.tolist())


SCRIPT = '''
import numpy as np
from sklearn.model_selection import GridSearchCV
from skorch import NeuralNetClassifier
from torch import nn

from prunekd import DistillationClassifier, RandomPruner, make_pipeline


class Net(nn.Module):  # defined in the script: __main__.Net exists only in this process
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x):
        return self.lin(x)


rng = np.random.RandomState(0)
X = rng.randn(90, 4).astype(np.float32)
y = np.repeat([0, 1, 2], 30)
X[np.arange(90), y] += 3
teacher = NeuralNetClassifier(Net, criterion=nn.CrossEntropyLoss, max_epochs=20, lr=0.1,
                              train_split=None, verbose=0).fit(X, y)
student = DistillationClassifier(Net, teacher=teacher, max_epochs=10, lr=0.1, verbose=0,
                                 random_state=0)
search = GridSearchCV(make_pipeline(RandomPruner(fraction=0.5, random_state=0), student),
                      {"distillationclassifier__alpha": [0.0, 0.5]}, cv=3, n_jobs=2)
print("best score", search.fit(X, y).best_score_)
'''


def test_parallel_search_with_a_teacher_defined_in_the_users_script(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.split("best score")[1]) > 0.8  # chance: 1/3


def test_a_teacher_of_a_local_class_round_trips_through_cloudpickle(two_labels):
    cloudpickle = pytest.importorskip("cloudpickle")  # what joblib sends tasks with
    from skorch import NeuralNetClassifier

    class Local(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x)

    X, y = two_labels
    teacher = NeuralNetClassifier(Local, criterion=torch.nn.CrossEntropyLoss, max_epochs=5, lr=0.1,
                                  train_split=None, verbose=0).fit(X, y - 1)  # fmt: skip
    student = _student(teacher=teacher, alpha=0.5, max_epochs=2).fit(X, y)
    copy = cloudpickle.loads(cloudpickle.dumps(student))
    assert isinstance(copy.teacher, NeuralNetClassifier) and copy.teacher is not teacher
    np.testing.assert_array_equal(copy.teacher.predict(X), teacher.predict(X))
    np.testing.assert_array_equal(copy.predict(X), student.predict(X))


# ------------------------------------------------- teachers behind preprocessing


class _RecordingTeacher(LogisticRegression):
    """Remembers every input it predicts on."""

    def predict_proba(self, X):
        self.seen_.append(np.array(X))
        return super().predict_proba(X)


@pytest.fixture
def raw_features():
    """Two classes told apart by a feature far from zero, which scaling moves."""
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 40)
    X = np.c_[rng.randn(80) * 2 + 30 + 10 * y, rng.randn(80)].astype(np.float32)
    return X, y


def test_pipeline_hands_the_teacher_the_kept_raw_rows(raw_features):
    X, y = raw_features
    teacher = _RecordingTeacher().fit(X, y)
    teacher.seen_ = []
    pruner = RandomPruner(fraction=0.5, random_state=0)
    pipe = make_pipeline(pruner, StandardScaler(), _student(teacher=teacher, alpha=0.5),
                         teacher_input="raw")  # fmt: skip
    pipe.fit(X, y)
    kept = pruner.sample_indices_
    # the probe (two rows), then every kept row, as they were before scaling
    np.testing.assert_array_equal(np.concatenate(teacher.seen_[1:]), X[kept])
    teacher.seen_ = []
    with pytest.warns(UserWarning, match="representation"):
        pipe.set_params(teacher_input="transformed").fit(X, y)
    scaled = pipe[1].transform(X[kept])
    np.testing.assert_allclose(np.concatenate(teacher.seen_[1:]), scaled, rtol=1e-6)


def test_a_teacher_fed_the_wrong_representation_warns(raw_features):
    X, y = raw_features
    teacher = LogisticRegression().fit(X, y)
    assert teacher.score(X, y) > 0.9
    common = dict(teacher=teacher, alpha=0.5, max_epochs=2)
    with pytest.warns(UserWarning, match="teacher_input='raw'"):
        make_pipeline(StandardScaler(), _student(**common), teacher_input="transformed").fit(X, y)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_pipeline(StandardScaler(), _student(**common), teacher_input="raw").fit(X, y)
        # the default, "auto", finds the view the teacher was fitted on
        assert make_pipeline(StandardScaler(), _student(**common)).fit(X, y).teacher_input_ == "raw"


def test_teacher_X_equals_a_teacher_that_undoes_the_scaling(raw_features):
    from sklearn.pipeline import make_pipeline as sk_make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = raw_features
    scaler = StandardScaler().fit(X)
    Xs = scaler.transform(X).astype(np.float32)
    teacher = LogisticRegression().fit(X, y)
    undoing = sk_make_pipeline(FunctionTransformer(scaler.inverse_transform), teacher)
    given = _student(teacher=teacher, alpha=0.7).fit(Xs, y, teacher_X=X)
    wrapped = _student(teacher=undoing, alpha=0.7).fit(Xs, y)
    np.testing.assert_allclose(given.predict_proba(Xs), wrapped.predict_proba(Xs), atol=1e-4)
    plain = _student(teacher=teacher, alpha=0.7)
    with pytest.warns(UserWarning):
        plain.fit(Xs, y)
    assert np.abs(plain.predict_proba(Xs) - given.predict_proba(Xs)).max() > 1e-2


def test_bad_teacher_inputs_are_refused_before_training(raw_features):
    X, y = raw_features
    teacher = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="teacher_X has 79 rows but X has 80"):
        _student(teacher=teacher).fit(X, y, teacher_X=X[:-1])
    with pytest.raises(ValueError, match="train_split=None"):
        _student(teacher=teacher, train_split=0.2).fit(X, y, teacher_X=X)
    with pytest.raises(ValueError, match="cache_teacher"):
        _student(teacher=teacher, cache_teacher=False).fit(X, y, teacher_X=X)
    with pytest.raises(ValueError, match="teacher=None"):
        _student().fit(X, y, teacher_X=X)
    pruner = EL2NPruner(n_proxies=1, max_epochs=1, random_state=0)
    pipe = make_pipeline(pruner, LogisticRegression(), teacher_input="raw")
    with pytest.raises(ValueError, match="LogisticRegression.fit takes no teacher_X"):
        pipe.fit(X, y)
    pipe.set_params(teacher_input="untransformed")
    with pytest.raises(ValueError, match="teacher_input"):
        pipe.fit(X, y)
    assert not hasattr(pruner, "scores_")  # refused before any step trained


def _library_private_names(classes):
    return {n for cls in classes for n in dir(cls) if n.startswith("_") and not n.startswith("__")}


def _private_library_uses(path, library, own, overrides, conventions):
    """Private library names a prunekd module imports, calls, reads or overrides."""
    import ast

    found = []
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def enclosing_function(node):
        while node in parents:
            node = parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node.name
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in ("sklearn", "skorch"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private or any(part.startswith("_") for part in node.module.split(".")):
                    found.append(f"from {node.module} import {private or '...'}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name in library and node.name not in own and node.name not in overrides:
                found.append(f"def {node.name} (an override not listed in _compat.OVERRIDES)")
        elif isinstance(node, ast.Attribute) and node.attr in library - own - set(conventions):
            in_override = node.attr in overrides and enclosing_function(node) == node.attr
            if not in_override:
                found.append(f".{node.attr} (line {node.lineno})")
    return found


def test_private_library_names_are_used_from_one_module_only():
    from pathlib import Path

    from skorch import NeuralNet, NeuralNetClassifier
    from skorch.callbacks import Callback
    from skorch.hf import AccelerateMixin
    from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
    from sklearn.pipeline import Pipeline

    import prunekd
    from prunekd._compat import CONVENTIONS, OVERRIDES

    library = _library_private_names([NeuralNet, NeuralNetClassifier, AccelerateMixin, Callback,
                                      BaseEstimator, ClassifierMixin, TransformerMixin, Pipeline])  # fmt: skip
    overrides = {name for names in OVERRIDES.values() for name in names}
    root = Path(prunekd.__file__).parent
    # prunekd's own private methods whose names a library also uses elsewhere
    # (a pruner's _fit is not Pipeline._fit): not overrides, its own.
    own = {"_fit"}
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "_compat.py":
            continue
        uses = _private_library_uses(path, library, own, overrides, CONVENTIONS)
        offenders += [f"{path.relative_to(root)}: {use}" for use in uses]
    assert offenders == []


def test_the_private_name_check_catches_a_call_and_an_unlisted_override(tmp_path):
    from skorch import NeuralNet

    planted = tmp_path / "planted.py"
    planted.write_text(
        "class Net:\n"
        "    def _initialize_module(self):\n"
        "        return self.module_\n"
        "def f(net):\n"
        "    net._set_training(True)\n"
    )
    library = _library_private_names([NeuralNet])
    uses = _private_library_uses(planted, library, set(), set(), ())
    assert any("def _initialize_module" in u for u in uses)
    assert any("._set_training" in u for u in uses)


def test_a_wrong_module_size_names_the_parameter_and_the_shape(two_labels):
    X, y = two_labels
    student = _student(module__n_features=5)
    with pytest.raises(ValueError, match=r"inputs of shape \(2, 2\).*module__n_features=5") as info:
        student.fit(X, y)
    assert isinstance(info.value.__cause__, RuntimeError)  # torch's own message is kept
    assert not student.initialized_


def test_early_stopping_without_a_validation_split_names_the_fix(two_labels):
    from skorch.callbacks import EarlyStopping
    from skorch.dataset import ValidSplit

    X, y = two_labels
    teacher = LogisticRegression().fit(X, y)
    student = _student(teacher=teacher, alpha=0.5, callbacks=[EarlyStopping(patience=2)])
    with pytest.raises(ValueError, match=r"monitors 'valid_loss'.*train_split=None.*ValidSplit"):
        student.fit(X, y)
    assert not student.initialized_
    # The recipe the error gives works: validation rows, an on-the-fly teacher.
    student.set_params(train_split=ValidSplit(0.25, stratified=True)).fit(X, y)
    assert np.isfinite(student.history[-1, "valid_loss"]) and len(student.history) <= 20
