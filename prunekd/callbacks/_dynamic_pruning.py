"""Dynamic pruning: skip some well-learned rows every epoch, chosen afresh from the training losses."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import Callback, LRScheduler

from skorch.utils import is_dataset

from .._skorch import _BatchedArrays
from ..distillation._losses import _hard_per_sample, weighs_samples
from ..distillation._targets import TeacherTargets, is_packed, serves_teacher, unpack_targets

SCORES = ("loss", "kd")


def epoch_rows(scores, prune_ratio, rng):
    """The rows of one pruned epoch and their loss weights, from every row's last-seen score.

    Rows scoring below the mean are the well-learned ones; ``floor(prune_ratio
    * k)`` of those ``k`` are skipped, drawn uniformly, and the others get the
    weight ``k / (k - skipped)``. So the kept well-learned rows weigh ``k`` in
    all, every epoch: each such row's expected weight is 1, as in a full epoch.

    Returns ``(rows, weights)``: sorted row indices, and the weight of each.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.callbacks._dynamic_pruning import epoch_rows
    >>> rows, weights = epoch_rows(np.arange(10.0), 0.5, np.random.default_rng(0))
    >>> len(rows), float(weights[rows < 5].sum())  # 2 of the 5 rows below the mean skipped
    (8, 5.0)
    """
    well = np.flatnonzero(scores < scores.mean())
    n_skip = math.floor(prune_ratio * len(well))
    keep = np.ones(len(scores), dtype=bool)
    keep[rng.choice(well, n_skip, replace=False)] = False
    weights = np.ones(len(scores))
    weights[well] = len(well) / (len(well) - n_skip) if len(well) else 1.0
    rows = np.flatnonzero(keep)
    return rows, weights[rows]


def _generator(random_state):
    """A generator of the callback's own: never numpy's global one, even for None."""
    if isinstance(random_state, np.random.RandomState):  # the caller's generator, drawn from
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, Integral):
        return np.random.default_rng(random_state)
    raise ValueError(f"random_state must be None, an int or a RandomState; got {random_state!r}")


def _processes(net):
    """The accelerator of a student trained on several processes, else None."""
    accelerator = getattr(net, "accelerator", None)
    return accelerator if accelerator is not None and accelerator.num_processes > 1 else None


def _shared_seed(net, random_state):
    """``random_state``, or on several processes one drawn by the first: all skip the same rows."""
    accelerator = _processes(net)
    if accelerator is None or random_state is not None:
        return random_state
    draw = torch.as_tensor([int(np.random.SeedSequence().generate_state(1)[0])], dtype=torch.int64)
    return int(accelerator.gather(draw.to(accelerator.device))[0])


def _gathered(net, rows, logits, targets):
    """An epoch's (row, logits, target) of every process (its own shard on each): all score all."""
    accelerator = _processes(net)
    if accelerator is None:
        return rows, logits, targets
    # Shards may differ in length by a batch's remainder: pad, gather, drop the padding.
    rows = accelerator.pad_across_processes(rows.to(accelerator.device), pad_index=-1)
    logits = accelerator.pad_across_processes(logits.to(accelerator.device))
    targets = accelerator.pad_across_processes(targets.to(accelerator.device))
    rows, logits, targets = (accelerator.gather(t).cpu() for t in (rows, logits, targets))
    keep = rows >= 0
    return rows[keep], logits[keep], targets[keep]


class _Rows:
    """Rows ``rows`` of an array, indexed on demand (no copy of the inputs per epoch)."""

    def __init__(self, X, rows):
        self.X, self.rows = X, rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.X[self.rows[i]]


class _DynamicRows(torch.utils.data.Dataset):
    """The rows of a torch Dataset one epoch trains on, with their weights and row numbers.

    Item ``i`` is row ``rows[i]`` of the Dataset, as it yields it (augmented
    afresh), its target wrapped as ``{"target", "weight", "row"}``: the
    student's loss reads the weight, the callback the row.
    """

    def __init__(self, dataset, weights):
        self.dataset, self.base = dataset, weights
        self.rows, self.weights = np.arange(len(dataset)), weights

    def set(self, rows, weights):
        self.rows, self.weights = rows, self.base[torch.as_tensor(rows)] * weights

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        row = int(self.rows[i])
        x, target = self.dataset[row]
        return x, {"target": target, "weight": self.weights[i], "row": row}


class DynamicPruning(Callback):
    """Skip well-learned rows each epoch, chosen afresh (InfoBatch's recipe), for a student.

    A callback of :class:`~prunekd.DistillationClassifier`. Every epoch, the
    rows whose last training loss is below the mean are the well-learned
    ones; a fraction ``prune_ratio`` of them is skipped, drawn at random, and
    the kept ones weigh ``1 / (1 - prune_ratio)`` (exactly: ``k / (k -
    skipped)`` of ``k``), so each well-learned row's expected weight per
    epoch is 1. The first epoch, which scores every row, and the last
    ``1 - anneal`` of the epochs train on every row. The scores come from the
    training forward pass itself: no extra pass.

    The weights enter the student's loss as ``sample_weight`` does: a batch's
    loss is ``sum_i w_i l_i / sum_i w_i``, with ``w_i`` the row's own sample
    weight times its weight of the epoch. (InfoBatch divides by the batch size
    instead; here a batch is a weighted mean, as every weighted fit of the
    student, and the rescaling restores each skipped row's expected share.)

    Departures from InfoBatch's code: it starts every score at 3.0 and skips
    each well-learned row with probability ``prune_ratio`` (a random count);
    here the first epoch trains on every row and exactly ``floor(prune_ratio
    * k)`` are skipped, so counts are exact for a seed; random draws use the
    callback's own generator, never numpy's global one.

    With :class:`~prunekd.AcceleratedDistillationClassifier` on several
    processes, each scores its own shard of every batch; the scores are
    gathered, so every process skips the same rows (a ``random_state`` of
    None is drawn once, by the first process).

    Supported: array inputs with the student's default loader, and torch
    Datasets (augmented or not: a row is scored, per row and not per view, by
    the view it last trained on); no validation split; a teacher whose outputs
    the rows carry (cached for arrays; :class:`~prunekd.distillation.TeacherOutputs`
    for a Dataset, whose on-the-fly teacher would need a second pass to
    score), or none; any ``kd_loss`` that is a mean of per-row terms (not
    DIST); and epochs as the
    budget (``max_steps`` would take as many steps over fewer rows, saving
    nothing; it is refused). A per-batch learning-rate scheduler
    (``LRScheduler(step_every="batch")``) steps once per batch actually run,
    fewer than ``max_epochs`` times the full data's batches: a schedule sized
    by those (``OneCycleLR``'s ``total_steps``) does not finish, so the fit
    warns; schedule by epoch instead. Skips follow the scores, not the
    classes: an easy class loses more rows in a pruned epoch, and its kept
    rows weigh more, so every class keeps its expected weight per epoch. A
    plain skorch net is not supported: the rescaling uses the student's
    per-row weights.

    Parameters
    ----------
    prune_ratio : float, default=0.5
        Fraction of the well-learned rows skipped each pruned epoch, in [0, 1).
    anneal : float, default=0.875
        Fraction of the epochs during which rows may be skipped, in (0, 1];
        the later epochs use every row.
    score : {"loss", "kd"}, default="loss"
        A row's score: its training loss (the student's objective), or its
        distillation term alone (how far the student is from the teacher on
        it; needs ``alpha > 0`` and the teacher's outputs cached).
    random_state : int, RandomState instance or None, default=None
        Seeds which rows are skipped.

    Attributes
    ----------
    rows_per_epoch_ : ndarray of shape (n_epochs,)
        Rows trained in each epoch of the last fit (also in the history, as
        ``dynamic_rows``, with the running total ``samples_processed``).
    samples_processed_ : int
        Rows processed over the last fit (forward and backward passes).
    fraction_processed_ : float
        ``samples_processed_`` over what the fit would process on every row.
    keep_counts_ : ndarray of shape (n_samples,)
        Epochs each row was trained in: a static selection of the rows kept
        most often is ``PrecomputedPruner(scores=keep_counts_)``.
    scores_ : ndarray of shape (n_samples,)
        Every row's last-seen score.
    teacher_samples_ : int
        Rows the teacher processed for this fit: its outputs on every row,
        computed once (0 without a teacher).

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd import DistillationClassifier
    >>> from prunekd.callbacks import DynamicPruning
    >>> from prunekd.models import MLP
    >>> X = np.random.RandomState(0).randn(200, 4).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> prune = DynamicPruning(prune_ratio=0.5, random_state=0)
    >>> student = DistillationClassifier(MLP, alpha=0.0, max_epochs=8, callbacks=[prune],
    ...                                  verbose=0, random_state=0).fit(X, y)
    >>> int(prune.rows_per_epoch_[0]), int(prune.rows_per_epoch_[-1])  # first and last: all
    (200, 200)
    >>> bool(prune.fraction_processed_ < 1)
    True
    """

    def __init__(self, prune_ratio=0.5, anneal=0.875, score="loss", random_state=None):
        self.prune_ratio = prune_ratio
        self.anneal = anneal
        self.score = score
        self.random_state = random_state

    # ---------------------------------------------------------------- checks

    def _check_params(self):
        ratio, anneal = self.prune_ratio, self.anneal
        if not (isinstance(ratio, Real) and not isinstance(ratio, bool) and 0 <= ratio < 1):
            raise ValueError(f"prune_ratio must be a float in [0, 1); got {ratio!r}")
        if not (isinstance(anneal, Real) and not isinstance(anneal, bool) and 0 < anneal <= 1):
            raise ValueError(f"anneal must be a float in (0, 1]; got {anneal!r}")
        if self.score not in SCORES:
            raise ValueError(f"score must be one of {list(SCORES)}; got {self.score!r}")

    def _check_net(self, net, X, y):
        name = type(self).__name__
        if not isinstance(y, TeacherTargets):
            raise TypeError(
                f"{name} is a callback of prunekd.DistillationClassifier (it weights rows "
                f"through the student's sample weights); got a {type(net).__name__}"
            )
        if net.max_steps is not None:
            raise ValueError(
                f"{name} saves compute by training fewer rows per epoch, but max_steps="
                f"{net.max_steps} fixes the optimiser steps, so it would save nothing; train "
                "by max_epochs"
            )
        if not (is_dataset(X) or net._can_batch(X, y.labels)):
            raise ValueError(
                f"{name} needs arrays with the student's default DataLoader, or a torch "
                "Dataset, and train_split=None: a custom loader over arrays and a validation "
                "split are not supported yet"
            )
        if sum(isinstance(c, DynamicPruning) for _, c in net.callbacks_) > 1:
            raise ValueError(f"a student takes one {name} callback; got several")
        alpha = net.alpha_
        if is_dataset(X) and alpha != 0 and not serves_teacher(y):
            raise ValueError(
                f"{name} scores every row by its objective, KD term included: over a torch "
                "Dataset the teacher's outputs must come with the rows (teacher="
                "TeacherOutputs(...), computed once with TeacherOutputs.compute) rather than "
                "from a second teacher pass per batch"
            )
        if alpha != 0 and not weighs_samples(net.kd_loss_):
            raise ValueError(
                f"kd_loss={type(net.kd_loss_).__name__} is not a mean of per-row terms, so "
                f"{name} cannot weight its rows; use kd_loss='kd', 'dkd' or 'mse'"
            )
        if self.score == "kd" and (alpha == 0 or not serves_teacher(y)):
            raise ValueError(
                "score='kd' ranks rows by the distillation term: it needs alpha > 0 and the "
                "teacher's outputs with the rows (cache_teacher=True or 'auto' on arrays, "
                "TeacherOutputs on a Dataset)"
            )

    # ---------------------------------------------------------------- the fit

    def _warn_per_batch_schedules(self, net):
        for name, callback in getattr(net, "callbacks_", []):
            if isinstance(callback, LRScheduler) and callback.step_every == "batch":
                warnings.warn(
                    f"the callback {name!r} steps its learning rate every batch, and "
                    f"{type(self).__name__} runs fewer batches than max_epochs x the full "
                    "data's: a schedule sized by those (OneCycleLR's total_steps) will not "
                    "finish; use LRScheduler(step_every='epoch')",
                    UserWarning,
                    stacklevel=2,
                )

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self._check_params()
        self._check_net(net, X, y)
        self._warn_per_batch_schedules(net)
        n = len(y)
        if y.weights is None:  # the rescaling rides on the student's per-row weights
            y.weights = torch.ones(n)
        self._rows_of_y, self._view = None, None
        self._rng = _generator(_shared_seed(net, self.random_state))
        self._n_epochs = net.max_epochs
        self._epoch, self._seen = 0, []
        self.scores_ = np.zeros(n)
        self.keep_counts_ = np.zeros(n, dtype=np.int64)
        self.rows_per_epoch_ = []
        self.samples_processed_ = 0
        self.teacher_samples_ = n if net.alpha_ != 0 and serves_teacher(y) else 0
        self._weights = y.weights

    def training_set(self, net, dataset):
        """The Dataset the student's loader iterates: a view of a Dataset's rows, per epoch."""
        if isinstance(dataset, _BatchedArrays):  # arrays: their rows are swapped in place
            return dataset
        self._view = _DynamicRows(dataset, self._weights)
        return self._view

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        n = len(self.scores_)
        pruned = 1 <= self._epoch < math.floor(self.anneal * self._n_epochs)
        rows, weights = np.arange(n), np.ones(n)
        if pruned and self.prune_ratio > 0:
            rows, weights = epoch_rows(self.scores_, self.prune_ratio, self._rng)
        if self._view is not None:
            self._view.set(rows, torch.as_tensor(weights, dtype=torch.float32))
        else:
            self._serve_arrays(dataset_train, rows, weights, pruned and self.prune_ratio > 0)
        self.keep_counts_[rows] += 1
        self.rows_per_epoch_.append(len(rows))
        self.samples_processed_ += len(rows)
        net.history.record("dynamic_rows", len(rows))
        net.history.record("samples_processed", self.samples_processed_)

    def _serve_arrays(self, dataset_train, rows, weights, pruned):
        """Swap the epoch's rows into the student's batched arrays (no copy of the inputs)."""
        if self._rows_of_y is None:  # the full rows, as the student serves them
            self._rows_of_y = (dataset_train.X, dataset_train.y)
        X, served = self._rows_of_y
        if pruned:
            index = torch.as_tensor(rows)
            dataset_train.X = _Rows(X, rows)
            dataset_train.y = {
                "target": served["target"][index],
                "weight": served["weight"][index] * torch.as_tensor(weights, dtype=torch.float32),
                "row": index,
            }
        else:  # every row, as the student serves them
            dataset_train.X = X
            dataset_train.y = {**served, "row": torch.arange(len(rows))}

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if training:  # scored at the epoch's end, in one call: fewer small operations
            served = batch[1]
            self._seen.append((served["row"], y_pred.detach().float(), served["target"]))

    def _row_scores(self, net, logits, target):
        """Every row's score: the student's objective on it, or its distillation term."""
        target = target.to(logits.device)
        labels, teacher_log_p = unpack_targets(target) if is_packed(target) else (target, None)
        alpha = float(net.alpha_)
        soft = None
        if teacher_log_p is not None and alpha != 0:
            soft = net.kd_loss_.per_sample(logits, teacher_log_p, labels, net.temperature)
        if self.score == "kd":
            return soft.cpu().numpy()
        loss = (1 - alpha) * _hard_per_sample(net.criterion_, logits, labels.long())
        return (loss if soft is None else loss + alpha * soft).cpu().numpy()

    def on_epoch_end(self, net, **kwargs):
        rows, logits, targets = _gathered(net, *(torch.cat(part) for part in zip(*self._seen)))
        self.scores_[rows.cpu().numpy()] = self._row_scores(net, logits, targets)
        self._seen = []
        self._epoch += 1

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.rows_per_epoch_ = np.asarray(self.rows_per_epoch_, dtype=np.int64)
        full = len(self.scores_) * max(len(self.rows_per_epoch_), 1)
        self.fraction_processed_ = self.samples_processed_ / full
        # The fit's data are not kept with the callback.
        self._rows_of_y, self._view, self._weights = None, None, None
