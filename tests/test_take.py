"""Rows by position from arrays, DataFrames and Datasets: the README's pruning idiom."""

import numpy as np
import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from prunekd import RandomPruner, take


def test_take_selects_rows_of_an_array_and_a_dataset():
    X = np.arange(20.0).reshape(10, 2)
    y = np.repeat([0, 1], 5)
    kept = RandomPruner(fraction=0.4, random_state=0).fit_transform(X, y)
    np.testing.assert_array_equal(take(X, kept), X[kept])
    ds = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    rows = take(ds, kept)
    assert isinstance(rows, Subset) and len(rows) == len(kept)
    assert torch.equal(rows[1][0], ds[kept[1]][0])


def test_the_pruning_idiom_selects_rows_of_a_dataframe():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0) * 2}, index=list("abcdefghij"))
    y = pd.Series(np.repeat([0, 1], 5), index=X.index)
    kept = RandomPruner(fraction=0.4, random_state=0).fit_transform(X, y)
    rows = take(X, kept)
    assert list(rows.columns) == ["a", "b"] and list(rows.index) == list(X.index[kept])
    np.testing.assert_array_equal(rows.to_numpy(), X.to_numpy()[kept])
    assert take(y, kept).tolist() == y.to_numpy()[kept].tolist()
    with pytest.raises(KeyError):  # what plain indexing does: columns, not rows
        X[kept]
