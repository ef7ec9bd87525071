"""A training budget in optimiser steps instead of epochs.

An epoch budget gives a student on 10% of the data a tenth of the optimiser
steps of one on all of it; a search over the kept fraction then compares
budgets as much as subsets. ``max_steps`` gives every fit the same number of
steps of ``batch_size`` rows, whatever the size of its data: the unit of the
sweep's ``--budget steps``.
"""

import math
from itertools import islice
from numbers import Integral


def check_max_steps(max_steps):
    """``max_steps`` validated: None or a positive int."""
    if max_steps is not None and (
        not isinstance(max_steps, Integral) or isinstance(max_steps, bool) or max_steps < 1
    ):
        raise ValueError(f"max_steps must be None or a positive int; got {max_steps!r}")


class StepBudgetMixin:
    """skorch's training loop, stopped after exactly ``max_steps`` optimiser steps.

    The number of epochs is the least that holds ``max_steps`` batches; the
    last one is cut short. Epoch callbacks and the history see whole epochs,
    and the last epoch's ``train_batch_count`` says where it stopped. Each
    ``fit`` and each ``partial_fit`` call takes ``max_steps`` steps.
    """

    max_steps = None  # the class default, for subclasses that do not take the parameter

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        if self.max_steps is None:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        per_epoch = self._batches_per_epoch(X, y)
        self._steps_left = self.max_steps
        try:
            epochs = math.ceil(self.max_steps / per_epoch)
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            del self._steps_left

    def _batches_per_epoch(self, X, y):
        train, _ = self.get_split_datasets(X, y)
        try:
            n = len(self.get_iterator(train, training=True))
        except TypeError:
            raise ValueError(
                "max_steps needs training data of known length (a map-style Dataset or "
                "arrays); use max_epochs for an iterable Dataset"
            ) from None
        if n == 0:
            raise ValueError("max_steps: the training data yields no batch")
        return n

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        left = getattr(self, "_steps_left", None)
        if not training or left is None or iterator is None:
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        batches = min(left, len(iterator))
        self._steps_left = left - batches
        return super().run_single_epoch(
            islice(iterator, batches), training, prefix, step_fn, **fit_params
        )
