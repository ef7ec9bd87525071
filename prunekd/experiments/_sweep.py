"""The pruning x distillation sweep behind the ``prunekd`` command."""

import csv
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from ..distillation import DistillationClassifier
from ..pruning import EL2NPruner, ForgettingPruner, GraNdPruner, PrecomputedPruner, RandomPruner
from ._data import load_dataset, make_module

SCORE_PRUNERS = {"el2n": EL2NPruner, "grand": GraNdPruner, "forgetting": ForgettingPruner}
PRUNERS = ("random", *SCORE_PRUNERS)
RESULT_FIELDS = (
    "study", "pruner", "fraction", "alpha", "seed", "teacher", "teacher_width",
    "n_kept", "epochs", "val_accuracy", "test_accuracy", "fit_seconds",
)  # fmt: skip


@dataclass
class SweepConfig:
    """Everything that defines a sweep; saved next to its results for resuming.

    The defaults are those of the ``prunekd`` command; see ``prunekd --help``
    for the meaning of each field.

    Examples
    --------
    >>> from prunekd.experiments import SweepConfig
    >>> config = SweepConfig(fractions=(0.1, 1.0), seeds=(0,))
    >>> config.dataset, config.teacher_widths["equal"] == config.width
    ('digits', True)
    """

    dataset: str = "digits"
    data_dir: str = "data"
    download: bool = False
    model: str = "smallcnn"
    width: int = 16
    teacher_widths: dict = field(default_factory=lambda: {"small": 4, "equal": 16, "large": 64})
    pruners: tuple = PRUNERS
    fractions: tuple = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
    alphas: tuple = (0.25, 0.5, 0.75, 1.0)
    capacity_alpha: float = 0.5
    seeds: tuple = (0, 1, 2)
    steps: int = 800
    teacher_epochs: int = 30
    batch_size: int = 32
    lr: float = 3e-3
    temperature: float = 4.0
    n_proxies: int = 2
    proxy_epochs: int = 10
    device: str = "cpu"
    mixed_precision: bool = False

    def key(self):
        """The settings a stored result depends on (not the grid, which may grow)."""
        grid = {"pruners", "fractions", "alphas", "seeds", "teacher_widths", "data_dir", "download"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in grid}


def _epochs_for(n_kept, config):
    """Epochs giving about ``config.steps`` optimiser steps on ``n_kept`` samples.

    Every student gets the same number of steps whatever its fraction, so small
    subsets are not also under-trained.
    """
    return max(1, math.ceil(config.steps / math.ceil(n_kept / config.batch_size)))


def _student(config, n_classes, in_shape, width, epochs, **kwargs):
    module, module_kwargs = make_module(config.model, n_classes, in_shape, width)
    return DistillationClassifier(
        module,
        optimizer=torch.optim.Adam,
        lr=config.lr,
        batch_size=config.batch_size,
        max_epochs=epochs,
        temperature=config.temperature,
        device=config.device,
        mixed_precision=config.mixed_precision,
        verbose=0,
        **module_kwargs,
        **kwargs,
    )


def _limit_threads(n_jobs):
    if n_jobs != 1:
        torch.set_num_threads(1)


def _fit_teacher(config, data, name, width, n_jobs):
    _limit_threads(n_jobs)
    X, y = data["X_train"], data["y_train"]
    teacher = _student(
        config, data["n_classes"], X.shape[1:], width, config.teacher_epochs, alpha=0.0, random_state=0
    ).fit(X, y)
    return name, teacher, float(teacher.score(data["X_test"], data["y_test"]))


def _score(config, data, name, seed, n_jobs):
    _limit_threads(n_jobs)
    pruner = SCORE_PRUNERS[name](
        n_proxies=config.n_proxies,
        max_epochs=config.proxy_epochs * (2 if name == "forgetting" else 1),
        device=config.device,
        mixed_precision=config.mixed_precision,
        random_state=seed,
    )
    return name, seed, pruner.fit(data["X_train"], data["y_train"]).scores_


def _run(config, data, spec, indices, teacher, n_jobs):
    _limit_threads(n_jobs)
    X, y = data["X_train"][indices], data["y_train"][indices]
    epochs = _epochs_for(len(indices), config)
    student = _student(
        config, data["n_classes"], X.shape[1:], config.width, epochs,
        teacher=teacher if spec["alpha"] > 0 else None, alpha=spec["alpha"],
        random_state=spec["seed"],
    )  # fmt: skip
    start = time.perf_counter()
    student.fit(X, y)
    seconds = time.perf_counter() - start
    return {
        **spec,
        "n_kept": len(indices),
        "epochs": epochs,
        "val_accuracy": float(student.score(data["X_val"], data["y_val"])),
        "test_accuracy": float(student.score(data["X_test"], data["y_test"])),
        "fit_seconds": round(seconds, 3),
    }


def _run_key(row):
    return (
        row["study"], row["pruner"], float(row["fraction"]), float(row["alpha"]),
        int(row["seed"]), row["teacher"],
    )  # fmt: skip


def plan_runs(config):
    """Every student run of a sweep, as dicts of settings (no results yet).

    At fraction 1.0 all pruners keep everything, so it is run once (as
    "random"); the teacher-capacity study reuses the main study's runs where
    they coincide.

    Parameters
    ----------
    config : SweepConfig

    Returns
    -------
    runs : list of dict

    Examples
    --------
    >>> from prunekd.experiments import SweepConfig, plan_runs
    >>> runs = plan_runs(SweepConfig(pruners=("random",), fractions=(0.5,), alphas=(1.0,),
    ...                              seeds=(0,), teacher_widths={"equal": 16}))
    >>> [(r["study"], r["alpha"], r["teacher"]) for r in runs]
    [('main', 0.0, 'none'), ('main', 1.0, 'equal'), ('capacity', 0.5, 'equal')]
    """
    runs = []
    fractions = sorted(set(config.fractions))
    for seed in config.seeds:
        for fraction in fractions:
            # At fraction 1.0 every pruner keeps everything: run it once, as "random".
            pruners = ["random"] if fraction == 1.0 else config.pruners
            for pruner in pruners:
                for alpha in (0.0, *config.alphas):
                    teacher = "equal" if alpha > 0 else "none"
                    runs.append(dict(study="main", pruner=pruner, fraction=fraction,
                                     alpha=alpha, seed=seed, teacher=teacher))  # fmt: skip
            for teacher in config.teacher_widths:
                if teacher == "equal" and config.capacity_alpha in config.alphas:
                    continue  # the main study already has this run
                runs.append(dict(study="capacity", pruner="random", fraction=fraction,
                                 alpha=config.capacity_alpha, seed=seed, teacher=teacher))  # fmt: skip
    for run in runs:
        run["teacher_width"] = config.teacher_widths.get(run["teacher"], 0)
    return runs


def _read_results(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _prepare_out(out, config, restart):
    os.makedirs(out, exist_ok=True)
    config_path = os.path.join(out, "config.json")
    results_path = os.path.join(out, "results.csv")
    if restart and os.path.exists(results_path):
        os.remove(results_path)
    if os.path.exists(results_path) and os.path.exists(config_path):
        with open(config_path) as f:
            previous = json.load(f)
        if previous.get("key") != json.loads(json.dumps(config.key())):
            raise ValueError(
                f"{out} holds results of a sweep with other settings; pass --restart to "
                "discard them, or choose another --out"
            )
    with open(config_path, "w") as f:
        json.dump({"config": dataclasses.asdict(config), "key": config.key()}, f, indent=2)
    return results_path


def split_data(X, y, seed=0):
    """70% train, 15% validation (for choosing alpha), 15% test, stratified.

    Examples
    --------
    >>> from prunekd.datasets import load_digits
    >>> from prunekd.experiments import split_data
    >>> [len(part) for part in split_data(*load_digits())[3:]]
    [1257, 270, 270]
    """
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y
    )
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, random_state=seed, stratify=y_rest
    )
    return X_train, X_val, X_test, y_train, y_val, y_test


def run_sweep(config, out="prunekd-results", n_jobs=1, restart=False, progress=True):
    """Run (or resume) a sweep and write ``results.csv`` and ``config.json`` to ``out``.

    Teachers are fitted once on the full training split, each score-based
    pruner scores the training split once per seed, and every student run is
    appended to ``results.csv`` as soon as it finishes: an interrupted sweep
    resumes where it stopped.

    Parameters
    ----------
    config : SweepConfig
    out : str, default="prunekd-results"
        Output folder.
    n_jobs : int, default=1
        Parallel worker processes (joblib); each uses one torch thread.
    restart : bool, default=False
        Discard results already in ``out``.
    progress : bool, default=True
        Show progress bars.

    Returns
    -------
    info : dict
        Teacher accuracies and data sizes, also saved to ``out/info.json``.

    Examples
    --------
    A tiny sweep (a few seconds), its summary and figures:

    >>> import tempfile
    >>> from prunekd.experiments import (SweepConfig, load_results, run_sweep,
    ...                                  write_figures, write_summary)
    >>> config = SweepConfig(pruners=("random",), fractions=(0.5,), alphas=(1.0,), seeds=(0,),
    ...                      teacher_widths={"equal": 4}, width=4, steps=5, teacher_epochs=1)
    >>> out = tempfile.mkdtemp()
    >>> info = run_sweep(config, out, progress=False)
    >>> len(load_results(out)), sorted(info["teacher_test_accuracy"])
    (3, ['equal'])
    >>> "## Accuracy by pruner and kept fraction" in write_summary(out)
    True
    >>> [p.rsplit("/", 1)[-1] for p in write_figures(out)]
    ['accuracy_vs_fraction.png', 'alpha_heatmap.png', 'teacher_capacity.png']
    """
    results_path = _prepare_out(out, config, restart)
    X, y = load_dataset(config.dataset, config.data_dir, config.download)
    X_train, X_val, X_test, y_train, y_val, y_test = split_data(X, y)
    data = dict(X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val,
                X_test=X_test, y_test=y_test, n_classes=len(np.unique(y)))  # fmt: skip
    done = {_run_key(r) for r in _read_results(results_path)}
    todo = [r for r in plan_runs(config) if _run_key(r) not in done]
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    bar = dict(disable=not progress, leave=False)

    teachers, teacher_acc = {}, {}
    needed = {r["teacher"] for r in todo} - {"none"}
    jobs = [(name, w) for name, w in config.teacher_widths.items() if name in needed]
    tasks = (delayed(_fit_teacher)(config, data, n, w, n_jobs) for n, w in jobs)
    for name, teacher, acc in tqdm(parallel(tasks), total=len(jobs), desc="teachers", **bar):
        teachers[name], teacher_acc[name] = teacher, acc

    needed_scores = sorted({(r["pruner"], r["seed"]) for r in todo if r["pruner"] in SCORE_PRUNERS})
    tasks = (delayed(_score)(config, data, p, s, n_jobs) for p, s in needed_scores)
    scores = {}
    for p, s, sc in tqdm(parallel(tasks), total=len(needed_scores), desc="scoring", **bar):
        scores[p, s] = sc

    def indices(run):
        if run["pruner"] == "random":
            pruner = RandomPruner(fraction=run["fraction"], random_state=run["seed"])
        else:
            pruner = PrecomputedPruner(
                scores[run["pruner"], run["seed"]], fraction=run["fraction"], random_state=run["seed"]
            )
        return pruner.fit_transform(X_train, y_train)

    tasks = (
        delayed(_run)(config, data, r, indices(r), teachers.get(r["teacher"]), n_jobs) for r in todo
    )
    new_file = not os.path.exists(results_path)
    with open(results_path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS)
        if new_file:
            writer.writeheader()
        for row in tqdm(parallel(tasks), total=len(todo), desc="students", **bar):
            writer.writerow(row)
            f.flush()  # so that an interrupted sweep keeps every finished run

    info_path = os.path.join(out, "info.json")
    info = {}
    if os.path.exists(info_path):
        with open(info_path) as f:
            info = json.load(f)
    info.setdefault("teacher_test_accuracy", {}).update(teacher_acc)
    info.update(n_train=len(y_train), n_val=len(y_val), n_test=len(y_test))
    with open(info_path, "w") as f:
        json.dump(info, f, indent=2)
    return info
