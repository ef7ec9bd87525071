"""prunekd's skorch classifier: skorch's training loop, faster on arrays, optional bfloat16.

Both the distillation student and the pruners' proxies train through it.
"""

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.dataset import Dataset as _SkorchDataset
from skorch.dataset import unpack_data
from torch.utils.data import DataLoader

from ._compat import set_training


class _BatchedArrays(torch.utils.data.Dataset):
    """Array inputs and targets served a whole batch at a time.

    skorch's Dataset indexes and collates sample by sample; with
    ``__getitems__`` the DataLoader asks for a batch's indices at once, and one
    fancy-indexing call replaces a Python call per sample. The sampler, hence
    the batches and their order, are unchanged.
    """

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return torch.as_tensor(self.X[i]), index_rows(self.y, i)

    def __getitems__(self, indices):
        return torch.as_tensor(self.X[indices]), index_rows(self.y, indices)


def index_rows(y, i):
    """Rows ``i`` of targets: a tensor, or a dict of tensors (targets and sample weights)."""
    if y is None:
        return None
    if isinstance(y, dict):
        return {key: value[i] for key, value in y.items()}
    return y[i]


def _collate_batch(batch):
    return batch  # _BatchedArrays already returns a collated batch


class _Classifier(NeuralNetClassifier):
    """A :class:`skorch.NeuralNetClassifier` with two training options.

    * Array inputs with skorch's default Dataset and DataLoader are fetched a
      whole batch at a time, in training and in inference (same batches, same
      order, same weights and outputs).
    * ``mixed_precision=True`` runs the training forward pass and loss under
      ``torch.autocast`` in bfloat16 on the net's device. Weights, optimiser
      state and inference stay in float32.
    """

    def __init__(self, module, *args, mixed_precision=False, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.mixed_precision = mixed_precision

    def _check_mixed_precision(self):
        if self.mixed_precision not in (True, False):
            raise ValueError(f"mixed_precision must be True or False; got {self.mixed_precision!r}")

    def _default_loading(self, X, iterator):
        """Whether ``X`` is a plain array that skorch's default Dataset and ``iterator`` would load."""
        return (
            isinstance(X, np.ndarray)
            and self.dataset is _SkorchDataset
            and not self.get_params_for("dataset")
            and getattr(self, iterator) is DataLoader
            and "collate_fn" not in self.get_params_for(iterator)
        )

    def _can_batch(self, X, y):
        """Whether training batches can be fetched whole (plain arrays, default loaders)."""
        return y is not None and not self.train_split and self._default_loading(X, "iterator_train")

    def get_dataset(self, X, y=None):
        # Inference (predict, forward) on a plain array: whole batches, same order.
        if y is None and self._default_loading(X, "iterator_valid"):
            return _BatchedArrays(X, None)
        return super().get_dataset(X, y)

    def get_split_datasets(self, X, y=None, **fit_params):
        if self._can_batch(X, y):
            return _BatchedArrays(X, torch.as_tensor(np.asarray(y))), None
        return super().get_split_datasets(X, y, **fit_params)

    def get_iterator(self, dataset, training=False):
        if not isinstance(dataset, _BatchedArrays):
            return super().get_iterator(dataset, training)
        kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        return DataLoader(dataset, collate_fn=_collate_batch, **kwargs)

    def train_step_single(self, batch, **fit_params):
        if not self.mixed_precision:
            return super().train_step_single(batch, **fit_params)
        set_training(self, True)
        Xi, yi = unpack_data(batch)
        device_type = torch.device(self.device).type
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}
