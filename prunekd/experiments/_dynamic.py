"""The dynamic study: dynamically pruned students, and what they are compared with at their cost.

Per (seed, prune ratio) every dynamic method trains its students one at a
time (their rows differ per epoch), each a :class:`~prunekd.DistillationClassifier`
with the method's callback. The first of them with KD sets the cost of two
comparators trained in the same task: static random pruning with KD at the
fraction of the rows it processed, and the full data without KD trained for
that share of the epochs. All are trained the same way, so a paired
difference compares the selections, not two trainers.
"""

import math
import time

import numpy as np

from ..distillation import DistillationClassifier
from ._cost import result_row
from ._methods import get_method, make_pruner
from ._train import net_kwargs, one_thread


def run_dynamic_group(config, data, runs, teacher, relative):
    """Train the runs of one ``("dynamic", seed, prune_ratio)`` group; one result row each.

    ``teacher`` is the seed's fitted "equal" teacher; ``relative`` the
    forward cost of each network relative to the student.
    """
    with one_thread():
        dynamic = [r for r in runs if get_method(r["pruner"]).kind == "dynamic"]
        rows = [_fit_dynamic(config, data, run, teacher, relative) for run in dynamic]
        lead = next(row for row in rows if row["alpha"] > 0)
        processed = lead["student_samples"] / (lead["epochs"] * lead["n_kept"])
        for run in runs:
            if run["fraction"] is None:  # static random pruning with KD, at that fraction
                rows.append(_fit_static(config, data, run, teacher, relative, processed))
            elif run["budget_scale"] is None:  # the full data, for that share of the epochs
                epochs = max(1, round(processed * config.epochs))
                rows.append(_fit(config, data, run, teacher, relative, epochs=epochs))
        return rows


def _fit_dynamic(config, data, run, teacher, relative):
    """A student trained with the dynamic method ``run["pruner"]`` at ``run["prune_ratio"]``."""
    callback = get_method(run["pruner"]).build(config, run["seed"])
    callback.set_params(prune_ratio=run["prune_ratio"])
    row = _fit(config, data, run, teacher, relative, callback=callback)
    steps = sum(math.ceil(n / config.batch_size) for n in callback.rows_per_epoch_)
    row.update(steps=steps, student_samples=int(callback.samples_processed_))
    cost = relative.get(run["teacher"], 0.0)
    row["teacher_samples"] = float(callback.teacher_samples_ * cost) if run["alpha"] > 0 else 0.0
    return row


def _fit_static(config, data, run, teacher, relative, fraction):
    """Static random pruning (the sweep's random pruner of the seed) at ``fraction``."""
    fraction = round(fraction, 4)
    pruner = make_pruner(config, "random", run["seed"]).set_params(fraction=fraction)
    kept = pruner.fit_transform(data["X_train"], data["y_train"])
    return _fit(config, data, {**run, "fraction": fraction}, teacher, relative, kept=kept)


def _fit(config, data, run, teacher, relative, epochs=None, kept=None, callback=None):
    """Fit one student on rows ``kept`` (all by default) for ``epochs``; its result row."""
    epochs = config.epochs if epochs is None else epochs
    kept = np.arange(len(data["y_train"])) if kept is None else kept
    X, y = data["X_train"][kept], data["y_train"][kept]
    module, kwargs = net_kwargs(config, data["n_classes"], X.shape[1:], config.width, epochs)
    student = DistillationClassifier(
        module,
        teacher=teacher if run["alpha"] > 0 else None,
        alpha=run["alpha"],
        kd_loss=config.kd_loss,
        callbacks=None if callback is None else [("dynamic", callback)],
        random_state=run["seed"],
        **kwargs,
    )
    start = time.perf_counter()
    student.fit(X, y)
    seconds = time.perf_counter() - start
    accuracy = tuple(float(student.score(data[f"X_{p}"], data[f"y_{p}"])) for p in ("val", "test"))
    run = {**run, "budget_scale": epochs / config.epochs}
    teacher_cost = relative.get(run["teacher"], 0.0)
    return result_row(config, run, len(kept), epochs, teacher_cost, accuracy, seconds)
