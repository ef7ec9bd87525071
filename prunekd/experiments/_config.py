"""The settings that define a sweep, and the training budget they give each student."""

import dataclasses
import math
from dataclasses import dataclass, field

from .._internal import KD_LOSSES
from ._methods import PAPER_PRUNERS

BUDGETS = ("epochs", "steps")
KD_LOSS_NAMES = tuple(KD_LOSSES)
# Rows of another protocol (shared split and teachers, no cost columns) are
# not mixed with these.
_SCHEMA = 3
# Settings added after runs were stored, with the value those runs had.
_ADDED_LATER = {"kd_loss": "kd", "test_pool_seed": None}
# Grid fields added later, with what sweeps stored before them trained: all their runs.
STORED_BEFORE = {"secondary": True}
# Each dataset's epochs, fixed by the rule of benchmarks/epoch_curve.py on each network's own
# curve (protocol_v3.json, design.settings, records the same; a test checks): students, and
# teachers by name. A dataset without curves keeps v2's 70 and 30.
DATASET_EPOCHS = {
    "digits": (70, {"small": 120, "equal": 70, "large": 60}),
    "mnist1d": (170, {"small": 190, "equal": 170, "large": 40}),
}
_OTHER_EPOCHS = (70, 30)


@dataclass
class SweepConfig:
    """Everything that defines a sweep; saved next to its results for resuming.

    The defaults are those of the ``prunekd`` command: results protocol v3's
    digits design (pruners, fractions, the budget study's same-cost
    baselines, InfoBatch at prune ratio 0.5) on the first ten of its 109
    confirmatory seeds, 30 to 39, training the runs its primary findings read
    (``secondary=False``), so that the run fits in a quarter of an hour on 2
    cores; each row is the published run's for the same seed and settings, on
    the machine that made it. ``secondary=True`` also trains the runs only
    secondary statistics read, as the confirmatory runs did: at the large
    fractions every pruner and the capacity study's teachers (not only random
    pruning with the equal teacher), and the dynamic study's same-cost
    comparators and its dynamic methods without KD. A sweep that does not
    train as a frozen v3 design trains them always (protocol v2's rules read
    them). See ``prunekd --help`` for each field. With ``budget="epochs"``
    every student trains ``epochs`` epochs over its kept rows, so its cost is proportional to its fraction;
    with ``"steps"`` about ``steps`` optimiser steps whatever its fraction.
    ``epochs`` and ``teacher_epochs`` left at None take the dataset's, fixed
    by the rule of ``benchmarks/epoch_curve.py`` on each network's own curve
    (digits: 70, teachers small 120, equal 70, large 60; MNIST-1D: 170, and
    190, 170, 40); other datasets take 70 and 30.

    Examples
    --------
    >>> from prunekd.experiments import SweepConfig
    >>> config = SweepConfig(fractions=(0.1, 1.0), seeds=(0,))
    >>> config.dataset, config.budget, config.teacher_widths["equal"] == config.width
    ('digits', 'epochs', True)
    >>> "steps" in config.key(), SweepConfig(budget="steps").key()["steps"]
    (False, 800)
    >>> SweepConfig().epochs, SweepConfig(dataset="mnist1d").teacher_epochs_of("equal")
    (70, 170)
    """

    dataset: str = "digits"
    data_dir: str = "data"
    download: bool = False
    model: str = "smallcnn"
    width: int = 16
    teacher_widths: dict = field(default_factory=lambda: {"small": 4, "equal": 16, "large": 64})
    pruners: tuple = (*PAPER_PRUNERS, "infobatch")
    fractions: tuple = (0.1, 0.2, 0.3, 0.5, 1.0)
    alphas: tuple = (0.25, 0.5, 1.0)
    capacity_alpha: float = 0.5
    seeds: tuple = tuple(range(30, 40))
    budget: str = "epochs"
    epochs: int = None
    steps: int = 800
    # F5b's baseline (half the epochs) and F5c's (the teacher's training counted), every seed
    budget_scales: tuple = (0.5, 1.5143)
    budget_seeds: int = 0
    baseline_scales: tuple = (0.5, 1.5143)
    prune_ratios: tuple = (0.5,)
    teacher_epochs: int | dict = None
    batch_size: int = 32
    lr: float = 3e-3
    temperature: float = 4.0
    kd_loss: str = "kd"
    n_proxies: int = 2
    proxy_epochs: int = 10
    label_noise: float = 0.0
    test_pool_seed: int = None
    device: str = "cpu"
    mixed_precision: bool = False
    secondary: bool = False

    def __post_init__(self):
        # A dataclass of settings, not an estimator: the dataset's epochs are filled in here so
        # that every reader (and config.json) sees the numbers a run trained with.
        epochs, teacher_epochs = DATASET_EPOCHS.get(self.dataset, _OTHER_EPOCHS)
        if self.epochs is None:
            self.epochs = epochs
        if self.teacher_epochs is None:
            self.teacher_epochs = (
                dict(teacher_epochs) if isinstance(teacher_epochs, dict) else teacher_epochs
            )

    @classmethod
    def from_stored(cls, stored):
        """The settings of a sweep's ``config.json``, fields added since taking what it trained."""
        return cls(**{**STORED_BEFORE, **stored})

    def teacher_epochs_of(self, name):
        """Epochs of the teacher ``name``: ``teacher_epochs``, or its entry when a dict.

        Each teacher's epochs are fixed by the students' convergence rule on its
        own curve (``benchmarks/epoch_curve.py --width``), so they may differ.

        Examples
        --------
        >>> from prunekd.experiments import SweepConfig
        >>> SweepConfig(teacher_epochs=30).teacher_epochs_of("large")
        30
        >>> SweepConfig(teacher_epochs={"small": 120, "equal": 70, "large": 90}).teacher_epochs_of("small")
        120
        """
        epochs = self.teacher_epochs
        if not isinstance(epochs, dict):
            return epochs
        if name not in epochs:
            raise ValueError(f"teacher_epochs gives no epochs for the teacher {name!r}: {epochs}")
        return epochs[name]

    def key(self):
        """The settings a stored result depends on (not the grid, which may grow)."""
        grid = {
            "pruners",
            "fractions",
            "alphas",
            "seeds",
            "teacher_widths",
            "data_dir",
            "download",
            "budget_scales",
            "budget_seeds",
            "baseline_scales",
            "prune_ratios",
            "secondary",
        }
        grid.add("steps" if self.budget == "epochs" else "epochs")  # the budget not used
        key = {k: v for k, v in dataclasses.asdict(self).items() if k not in grid}
        for name, default in _ADDED_LATER.items():
            if key[name] == default:  # stored sweeps of before the field keep their key
                del key[name]
        return {**key, "schema": _SCHEMA}


def epochs_for(n_kept, config, scale=1.0):
    """Epochs of a student on ``n_kept`` rows, ``scale`` times the sweep's budget.

    With ``budget="epochs"``, ``scale * config.epochs`` whatever ``n_kept``;
    with ``"steps"``, enough epochs for about ``scale * config.steps``
    optimiser steps, so small subsets see their rows more often.

    Examples
    --------
    >>> from prunekd.experiments import SweepConfig
    >>> from prunekd.experiments._config import epochs_for
    >>> epochs_for(126, SweepConfig(epochs=70)), epochs_for(126, SweepConfig(epochs=70), 0.5)
    (70, 35)
    >>> epochs_for(126, SweepConfig(budget="steps", steps=800, batch_size=32))
    200
    """
    if config.budget == "epochs":
        return max(1, round(scale * config.epochs))
    return max(1, math.ceil(scale * config.steps / math.ceil(n_kept / config.batch_size)))
