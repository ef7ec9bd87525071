"""Data-parallel and mixed-precision training of the student through Hugging Face Accelerate."""

import torch
from skorch.hf import AccelerateMixin

from .._compat import criteria
from ._classifier import DistillationClassifier


class AcceleratedDistillationClassifier(AccelerateMixin, DistillationClassifier):
    """A :class:`~prunekd.DistillationClassifier` trained through Hugging Face Accelerate.

    skorch's :class:`~skorch.hf.AccelerateMixin` hands the module, the
    optimiser and the data loaders to an ``accelerate.Accelerator``: launched
    in several processes (``accelerate launch`` or ``torchrun``), every
    process trains on its shard of each batch and PyTorch's
    ``DistributedDataParallel`` averages the gradients; predictions are
    gathered from every process. The teacher works as in the parent class,
    cached (its outputs computed once per process) or on the fly.

    With ``Accelerator(dataloader_config=DataLoaderConfiguration(split_batches=True))``
    ``batch_size`` is the global batch, split between the processes, and a fit
    on ``k`` processes follows the single-process fit with the same
    ``batch_size`` (up to the order of floating-point sums) when the data
    order is fixed (``iterator_train__shuffle=False``) and the number of
    samples is a multiple of ``batch_size``. Otherwise Accelerate pads the last
    batch with samples from the start of the epoch (``even_batches``), and
    with shuffling it draws one permutation for all processes, not the one a
    single process draws. Without ``split_batches`` every process takes
    ``batch_size`` samples per step.

    Parameters
    ----------
    module : torch module class or instance
        The student network, returning logits.
    *args
        Positional arguments after ``module``, passed on as
        :class:`~prunekd.DistillationClassifier` takes them.
    accelerator : accelerate.Accelerator
        Required (``None`` is refused at ``fit``). Decides the processes, the device and mixed precision
        (``Accelerator(mixed_precision="bf16")``; ``mixed_precision=True`` of
        the parent class is refused here, not silently ignored).
    device : None, default=None
        Left to the accelerator.
    unwrap_after_train : bool, default=True
        Restore the plain module after training, so that the fitted net pickles.
    callbacks__print_log__sink : "auto" or callable, default="auto"
        Where the training log goes: ``"auto"`` prints it in the main process
        only (skorch's :class:`~skorch.hf.AccelerateMixin`).
    **kwargs
        Every other parameter of :class:`~prunekd.DistillationClassifier`.

    See Also
    --------
    prunekd.DistillationClassifier : the same estimator on one device.

    Examples
    --------
    In one process it is a :class:`~prunekd.DistillationClassifier`; the
    same script launched with ``torchrun --nproc_per_node 2`` trains on two:

    >>> import numpy as np
    >>> from accelerate import Accelerator
    >>> from sklearn.datasets import load_digits
    >>> from prunekd import AcceleratedDistillationClassifier, DistillationClassifier
    >>> from prunekd.models import MLP
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype("float32")
    >>> teacher = DistillationClassifier(MLP, alpha=0, max_epochs=5, lr=0.1, random_state=0,
    ...                                  verbose=0).fit(X, y)
    >>> student = AcceleratedDistillationClassifier(
    ...     MLP, accelerator=Accelerator(cpu=True), teacher=teacher, alpha=0.5, max_epochs=5,
    ...     lr=0.1, random_state=0, verbose=0).fit(X[:500], y[:500])
    >>> student.predict(X[:3]).shape
    (3,)
    """

    _shared_params = ("teacher", "accelerator")

    def __init__(
        self,
        module,
        *args,
        accelerator=None,
        device=None,
        unwrap_after_train=True,
        callbacks__print_log__sink="auto",
        **kwargs,
    ):
        kwargs.update(accelerator=accelerator, device=device, unwrap_after_train=unwrap_after_train)
        super().__init__(
            module, *args, callbacks__print_log__sink=callbacks__print_log__sink, **kwargs
        )

    def _tensor_device(self):
        return self.device if self.device is not None else self.accelerator.device

    def _check_params(self, train_fraction=None):
        if not hasattr(self.accelerator, "prepare"):
            raise ValueError(
                "accelerator must be an accelerate.Accelerator, such as Accelerator() or "
                f"Accelerator(cpu=True); got {self.accelerator!r}"
            )
        alpha = super()._check_params(train_fraction)
        if self.mixed_precision:
            raise ValueError(
                "mixed_precision=True is DistillationClassifier's own autocast; with an "
                "accelerator, ask it instead: Accelerator(mixed_precision='bf16')"
            )
        return alpha

    def _initialize_callbacks(self):
        # skorch's mixin replaces the parameter "auto" by the accelerator's
        # print for good (a parameter changed by fit), and that print ignores
        # ``verbose``; here "auto" stays, and verbose=0 prints nothing.
        sink = self.callbacks__print_log__sink
        auto = isinstance(sink, str) and sink == "auto"
        if auto:
            self.callbacks__print_log__sink = (
                getattr(self.accelerator, "print", print) if self.verbose else print
            )
        try:
            return super(AccelerateMixin, self)._initialize_callbacks()
        finally:
            if auto:
                self.callbacks__print_log__sink = "auto"

    def _initialize_accelerator(self):
        # On CPUs Accelerate wraps every module it prepares in
        # DistributedDataParallel, which refuses modules without trainable
        # parameters, such as the loss: those stay as they are.
        plain = {
            name: getattr(self, name + "_")
            for name in criteria(self)
            if isinstance(getattr(self, name + "_", None), torch.nn.Module)
            and not any(p.requires_grad for p in getattr(self, name + "_").parameters())
        }
        for name in plain:
            object.__setattr__(self, name + "_", None)
        try:
            return super()._initialize_accelerator()
        finally:
            for name, criterion in plain.items():
                object.__setattr__(self, name + "_", criterion)
