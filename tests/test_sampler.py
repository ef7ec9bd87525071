"""``as_sampler``: a pruner as a step of imbalanced-learn's Pipeline."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from prunekd import RandomPruner, as_sampler, make_pipeline, take
from prunekd.pruning import EL2NPruner

imblearn_pipeline = pytest.importorskip("imblearn.pipeline")


def _data():
    X, y = make_classification(120, 5, n_classes=3, n_informative=3, random_state=0)
    return X, y


def test_fit_resample_keeps_the_pruners_rows():
    X, y = _data()
    pruner = RandomPruner(fraction=0.25, random_state=0)
    sampler = as_sampler(pruner)
    X_kept, y_kept = sampler.fit_resample(X, y)
    expected = clone(pruner).fit_transform(X, y)
    np.testing.assert_array_equal(sampler.sample_indices_, expected)
    np.testing.assert_array_equal(X_kept, X[expected])
    np.testing.assert_array_equal(y_kept, y[expected])
    assert not hasattr(pruner, "sample_indices_")  # the given pruner is not fitted


def test_in_imblearn_pipeline_as_in_prunekd_pipeline():
    X, y = _data()
    pruner = EL2NPruner(fraction=0.3, n_proxies=1, max_epochs=2, random_state=0)
    imb = imblearn_pipeline.make_pipeline(as_sampler(pruner), LogisticRegression()).fit(X, y)
    ours = make_pipeline(pruner, LogisticRegression()).fit(X, y)
    np.testing.assert_allclose(imb[-1].coef_, ours[-1].coef_)
    assert imb.predict(X).shape == (120,)  # prediction sees every row


def test_grid_search_reaches_the_pruner_through_the_adapter():
    X, y = _data()
    pipe = imblearn_pipeline.make_pipeline(as_sampler(RandomPruner(random_state=0)),
                                           LogisticRegression())  # fmt: skip
    search = GridSearchCV(pipe, {"prunersampler__pruner__fraction": [0.2, 0.5]}, cv=3).fit(X, y)
    assert search.best_params_["prunersampler__pruner__fraction"] in (0.2, 0.5)


def test_a_dataframe_keeps_its_rows_and_names():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=list("abcde"), index=np.arange(100, 220))
    X_kept, _ = as_sampler(RandomPruner(fraction=0.5, random_state=0)).fit_resample(frame, y)
    idx = RandomPruner(fraction=0.5, random_state=0).fit_transform(X, y)
    assert list(X_kept.columns) == list("abcde")
    pd.testing.assert_frame_equal(X_kept, take(frame, idx))


def test_not_a_pruner_is_refused():
    with pytest.raises(TypeError, match="needs a prunekd pruner"):
        as_sampler(LogisticRegression()).fit_resample(*_data())


def test_random_pruning_takes_text_columns_first_in_a_pipeline():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"city": ["paris", "rome", "oslo"] * 10, "x": np.arange(30.0)})
    y = np.array([0, 1] * 15)
    kept = RandomPruner(fraction=0.5, random_state=0).fit_transform(frame, y)
    assert len(kept) == 15
    X_kept, _ = as_sampler(RandomPruner(fraction=0.5, random_state=0)).fit_resample(frame, y)
    assert list(X_kept["city"]) == list(frame["city"].iloc[kept])
