"""What a result costs, in one unit: samples processed by a network of the student's size.

A sample forwarded through a network that needs ``r`` times the student's
floating-point operations counts ``r``. Training passes and inference passes
both count one sample each (the backward pass is not weighted), so a student
trained for ``E`` epochs over ``n`` rows processes ``E * n`` samples.
"""

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from .._internal import default_proxy_module
from ._data import make_module


def _flops(module, kwargs, in_shape):
    net = module(**{k[len("module__") :]: v for k, v in kwargs.items()})
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net(torch.zeros(1, *in_shape))
    return max(counter.get_total_flops(), 1)


def forward_flops(config, n_classes, in_shape, width):
    """Floating-point operations of one sample's forward pass through the sweep's network."""
    return _flops(*make_module(config.model, n_classes, in_shape, width), in_shape)


def relative_costs(config, n_classes, in_shape):
    """Forward cost of every teacher and of the pruners' proxies, relative to the student.

    Returns ``{teacher name: ratio, ..., "proxy": ratio}``; the proxies are
    the pruners' default networks for inputs of this shape.

    Examples
    --------
    >>> from prunekd.experiments import SweepConfig
    >>> from prunekd.experiments._cost import relative_costs
    >>> costs = relative_costs(SweepConfig(), 10, (1, 8, 8))
    >>> costs["equal"], costs["proxy"], costs["small"] < 1 < costs["large"]
    (1.0, 1.0, True)
    """
    student = forward_flops(config, n_classes, in_shape, config.width)
    costs = {
        name: forward_flops(config, n_classes, in_shape, w) / student
        for name, w in config.teacher_widths.items()
    }
    proxy = default_proxy_module(np.zeros((1, *in_shape), dtype=np.float32), n_classes)
    costs["proxy"] = _flops(*proxy, in_shape) / student
    return costs


def student_cost(epochs, n_kept, batch_size, alpha, teacher_cost):
    """``(steps, student samples, teacher samples)`` of one student's training.

    KD adds one teacher forward pass per kept row: its outputs are computed
    once and reused every epoch.

    Examples
    --------
    >>> from prunekd.experiments._cost import student_cost
    >>> student_cost(epochs=3, n_kept=70, batch_size=32, alpha=0.5, teacher_cost=4.0)
    (9, 210, 280.0)
    """
    steps = epochs * -(-n_kept // batch_size)
    teacher = float(n_kept * teacher_cost) if alpha > 0 else 0.0
    return steps, epochs * n_kept, teacher


def result_row(config, run, n_kept, epochs, teacher_cost, accuracy, seconds, pruner=(0.0, 0.0)):
    """A student's row of ``results.csv``: its settings, what it cost, its accuracies.

    ``teacher_cost``: the forward cost of its teacher relative to the student;
    ``accuracy``: ``(validation, test)``; ``pruner``: the samples and seconds
    of its pruner's scoring and selection.
    """
    steps, samples, teacher = student_cost(
        epochs, n_kept, config.batch_size, run["alpha"], teacher_cost
    )
    return {
        **run,
        "n_kept": n_kept,
        "epochs": epochs,
        "steps": steps,
        "student_samples": samples,
        "teacher_samples": teacher,
        "pruner_samples": pruner[0],
        "val_accuracy": accuracy[0],
        "test_accuracy": accuracy[1],
        "fit_seconds": round(seconds, 3),
        "pruner_seconds": round(pruner[1], 3),
    }
