"""``teacher_input="auto"``: the teacher reads the view it was fitted on, or fit refuses to guess.

Also: DataFrames reach scikit-learn teachers and embeddings with their column
names (no "X does not have valid feature names" warnings).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline as sk_make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from prunekd import DistillationClassifier, RandomPruner, make_pipeline
from prunekd.models import MLP
from prunekd.pruning import EmbeddingPruner


def _student(teacher, **kwargs):
    params = {"module__hidden": (16,), "teacher": teacher, "alpha": 0.5, "max_epochs": 3,
              "lr": 0.01, "verbose": 0, "random_state": 0}  # fmt: skip
    return DistillationClassifier(MLP, **{**params, **kwargs})


def _weights(pipe):
    return [p.detach().clone() for p in pipe[-1].module_.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    hgb = HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(X, y)
    return X, y, hgb


def _fit(X, y, teacher, teacher_input, *steps, **kwargs):
    pipe = make_pipeline(RandomPruner(fraction=0.3, random_state=0), *steps,
                         _student(teacher, **kwargs), teacher_input=teacher_input)  # fmt: skip
    return pipe.fit(X, y)


def test_a_raw_fitted_teacher_behind_a_scaler_reads_the_raw_rows(cancer):
    X, y, hgb = cancer
    auto = _fit(X, y, hgb, "auto", StandardScaler())
    raw = _fit(X, y, hgb, "raw", StandardScaler())
    transformed = _fit(X, y, hgb, "transformed", StandardScaler())
    assert auto.teacher_input_ == "raw" and auto[-1].teacher_view_ == "raw"
    agreement = auto[-1].teacher_agreement_
    assert agreement["raw"] > agreement["transformed"] + 0.1
    assert _same(_weights(auto), _weights(raw))
    assert not _same(_weights(auto), _weights(transformed))


def test_a_teacher_fitted_on_the_transformed_rows_reads_them(cancer):
    X, y, _ = cancer
    scaler = StandardScaler().fit(X)
    logreg = LogisticRegression(max_iter=1000).fit(scaler.transform(X), y)
    auto = _fit(X, y, logreg, "auto", StandardScaler())
    transformed = _fit(X, y, logreg, "transformed", StandardScaler())
    assert auto.teacher_input_ == "transformed"
    assert _same(_weights(auto), _weights(transformed))


def test_the_only_view_the_teacher_can_read_is_used(cancer):
    X, y, hgb = cancer  # 30 raw columns; the student gets 5 principal components
    auto = _fit(X, y, hgb, "auto", StandardScaler(), PCA(5, random_state=0))
    assert auto.teacher_input_ == "raw" and set(auto[-1].teacher_agreement_) == {"raw"}


class _Guessing(ClassifierMixin, BaseEstimator):
    """Fitted; predicts a class from a hash of each row: right by chance on every view."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        seeds = np.abs(np.asarray(X, dtype=np.float64)).sum(1).round(3) * 1000
        codes = (seeds.astype(np.int64) * 2654435761) % len(self.classes_)
        return np.eye(len(self.classes_))[codes] * 0.9 + 0.1 / len(self.classes_)


def test_an_ambiguous_teacher_is_refused_naming_the_parameter(cancer):
    X, y, _ = cancer
    teacher = _Guessing().fit(X, y)
    with pytest.raises(ValueError, match=r"teacher_input='raw' or teacher_input='transformed'"):
        _fit(X, y, teacher, "auto", StandardScaler())
    with pytest.raises(ValueError, match=r"\d+\.\d% of the kept rows on the raw input"):
        _fit(X, y, teacher, "auto", StandardScaler())
    _fit(X, y, teacher, "transformed", StandardScaler())  # explicit always wins


def test_nothing_is_offered_without_a_transforming_step(cancer):
    X, y, hgb = cancer
    pipe = _fit(X, y, hgb, "auto")
    assert pipe[-1].teacher_view_ is None and pipe.teacher_input_ == "transformed"


def test_auto_inside_a_nested_pipeline(cancer):
    X, y, hgb = cancer
    inner = make_pipeline(StandardScaler(), _student(hgb))
    outer = make_pipeline(RandomPruner(fraction=0.3, random_state=0), inner).fit(X, y)
    assert outer.teacher_input_ == "raw" and inner.teacher_input_ == "raw"


def test_raw_chosen_without_cacheable_outputs_says_what_to_change(cancer):
    from skorch.dataset import ValidSplit

    X, y, hgb = cancer
    with pytest.raises(ValueError, match="teacher_input='auto' chose them.*train_split=None"):
        _fit(X, y, hgb, "auto", StandardScaler(), train_split=ValidSplit(5))


def _no_feature_name_warnings(record):
    return not [w for w in record if "feature names" in str(w.message)]


def test_dataframes_reach_sklearn_teachers_with_their_names():
    X, y = load_wine(return_X_y=True, as_frame=True)
    hgb = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        pipe = _fit(X, y, hgb, "auto", StandardScaler())
        _student(hgb).fit(X.astype("float32"), y)  # a DataFrame given to the student itself
        EmbeddingPruner(model=StandardScaler().fit(X), fraction=0.5).fit(X, y)
    assert pipe.teacher_input_ == "raw"
    assert _no_feature_name_warnings(record), [str(w.message) for w in record]


def test_a_teacher_on_mixed_column_types_reads_the_raw_frame():
    rng = np.random.RandomState(0)
    n = 300
    frame = pd.DataFrame({"size": rng.randn(n), "colour": rng.choice(["red", "blue", "green"], n),
                          "weight": rng.rand(n) * 10})  # fmt: skip
    y = ((frame["size"] > 0) ^ (frame["colour"] == "red")).astype(int).to_numpy()
    encode = make_column_transformer((OneHotEncoder(), ["colour"]), remainder=StandardScaler())
    teacher = sk_make_pipeline(encode, HistGradientBoostingClassifier(max_iter=30)).fit(frame, y)
    pipe = make_pipeline(make_column_transformer((OneHotEncoder(), ["colour"]),
                                                 remainder=StandardScaler()),
                         RandomPruner(fraction=0.5, random_state=0), _student(teacher))  # fmt: skip
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        pipe.fit(frame, y)
    assert pipe.teacher_input_ == "raw" and pipe[-1].teacher_agreement_["raw"] > 0.9
    assert _no_feature_name_warnings(record)
