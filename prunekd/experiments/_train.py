"""How every network of a sweep trains: its settings, on one torch thread."""

from contextlib import contextmanager

import torch

from ._data import make_module


def net_kwargs(config, n_classes, in_shape, width, epochs):
    """The module and the training settings of a sweep's network of ``width``, for ``epochs``."""
    module, module_kwargs = make_module(config.model, n_classes, in_shape, width)
    return module, dict(
        optimizer=torch.optim.Adam,
        lr=config.lr,
        batch_size=config.batch_size,
        max_epochs=epochs,
        temperature=config.temperature,
        device=config.device,
        mixed_precision=config.mixed_precision,
        verbose=0,
        **module_kwargs,
    )


@contextmanager
def one_thread():
    """One torch thread, so that results do not depend on ``--jobs``.

    Parallel reductions of several threads add in another order; with one
    thread everywhere a rerun with any number of workers gives the same rows.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
