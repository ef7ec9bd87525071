"""The pruning x distillation sweep behind the ``prunekd`` command."""

import csv
import dataclasses
import io
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import joblib
import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from .._internal import make_teacher, teacher_log_probs
from ..callbacks import TrainingDynamics
from ..distillation import DistillationClassifier
from ..pruning import (
    CoverageCentricPruner,
    DynamicsPruner,
    EL2NPruner,
    EntropyPruner,
    FacilityLocationPruner,
    ForgettingPruner,
    GraNdPruner,
    GraphCutPruner,
    HerdingPruner,
    KCenterGreedyPruner,
    LeastConfidencePruner,
    LogDeterminantPruner,
    MarginPruner,
    ModerateDSPruner,
    RandomPruner,
)
from ._data import flip_labels, load_dataset, make_module
from ._group import _INFERENCE_BATCH, _StudentGroup, vectorisable

# Pruners that train proxies: scored once per seed, in parallel, before the students.
_PROXY_PRUNERS = {
    "el2n": EL2NPruner,
    "grand": GraNdPruner,
    "forgetting": ForgettingPruner,
    "entropy": EntropyPruner,
    "margin": MarginPruner,
    "least_confidence": LeastConfidencePruner,
}
# Every pruner the sweep can run; those of the paper are the default.
_EMBEDDING_PRUNERS = {
    "kcenter": KCenterGreedyPruner,
    "herding": HerdingPruner,
    "moderate": ModerateDSPruner,
    "facility_location": FacilityLocationPruner,
    "graph_cut": GraphCutPruner,
    "log_determinant": LogDeterminantPruner,
}
# Scored by the main study's teacher (the "equal" one), at no extra training.
_TEACHER_PRUNERS = ("el2n_teacher", "forgetting_teacher", "aum_teacher")
PRUNERS = ("random", *_PROXY_PRUNERS, "ccs", *_EMBEDDING_PRUNERS, *_TEACHER_PRUNERS)
PAPER_PRUNERS = ("random", "el2n", "grand", "forgetting")
RESULT_FIELDS = (
    "study", "pruner", "fraction", "alpha", "seed", "teacher", "teacher_width",
    "n_kept", "epochs", "val_accuracy", "test_accuracy", "fit_seconds",
)  # fmt: skip


_SCHEMA = 2


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
    pruners: tuple = PAPER_PRUNERS
    fractions: tuple = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
    alphas: tuple = (0.25, 0.5, 0.75, 1.0)
    capacity_alpha: float = 0.5
    seeds: tuple = (0, 1, 2, 3, 4)
    steps: int = 800
    teacher_epochs: int = 30
    batch_size: int = 32
    lr: float = 3e-3
    temperature: float = 4.0
    n_proxies: int = 2
    proxy_epochs: int = 10
    label_noise: float = 0.0
    device: str = "cpu"
    mixed_precision: bool = False

    def key(self):
        """The settings a stored result depends on (not the grid, which may grow)."""
        grid = {"pruners", "fractions", "alphas", "seeds", "teacher_widths", "data_dir", "download"}
        key = {k: v for k, v in dataclasses.asdict(self).items() if k not in grid}
        # Rows of another way of training (before students were trained in
        # groups) are not mixed with these.
        return {**key, "schema": _SCHEMA}


def _epochs_for(n_kept, config):
    """Epochs giving about ``config.steps`` optimiser steps on ``n_kept`` samples.

    Every student gets the same number of steps whatever its fraction, so small
    subsets are not also under-trained.
    """
    return max(1, math.ceil(config.steps / math.ceil(n_kept / config.batch_size)))


def _net_kwargs(config, n_classes, in_shape, width, epochs):
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
def _one_thread():
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


def _fit_teacher(config, data, name, width, keep=False):
    """Fit one teacher; with ``keep``, also return it, its training recorded, for pruning."""
    with _one_thread():
        X, y = data["X_train"], data["y_train"]
        module, kwargs = _net_kwargs(
            config, data["n_classes"], X.shape[1:], width, config.teacher_epochs
        )
        # The recorder does not change the training: the teacher is the same without it.
        callbacks = [("dynamics", TrainingDynamics())] if keep else None
        teacher = DistillationClassifier(module, alpha=0.0, random_state=0, callbacks=callbacks,
                                         **kwargs).fit(X, y)  # fmt: skip
        # What every student of every seed needs of this teacher, computed once.
        logits = make_teacher(teacher).logits_array(X, _INFERENCE_BATCH)
        log_p = teacher_log_probs(logits, config.temperature).numpy()
        accuracy = float(teacher.score(data["X_test"], data["y_test"]))
        return name, log_p, accuracy, teacher if keep else None


def make_pruner(config, name, seed, memory=None, teacher=None):
    """The pruner ``name`` of a sweep, seeded, with the sweep's proxy settings.

    ``ccs`` is coverage-centric selection over EL2N scores; ``kcenter``,
    ``herding``, ``moderate``, ``facility_location``, ``graph_cut`` and ``log_determinant`` measure
    distances in the input space. ``el2n_teacher``, ``forgetting_teacher``
    and ``aum_teacher`` are scored by ``teacher``, the fitted teacher of the
    main study, whose callbacks recorded its training.
    """
    if name in _TEACHER_PRUNERS:
        if teacher is None:
            raise ValueError(f"the pruner {name!r} needs the sweep's fitted teacher")
        if name == "el2n_teacher":
            return EL2NPruner(model=teacher, random_state=seed)
        return DynamicsPruner(teacher, score=name.split("_")[0], random_state=seed)
    if name in _PROXY_PRUNERS or name == "ccs":
        proxy = dict(
            n_proxies=config.n_proxies,
            max_epochs=config.proxy_epochs * (2 if name == "forgetting" else 1),
            device=config.device,
            mixed_precision=config.mixed_precision,
        )
        if name == "ccs":
            return CoverageCentricPruner(EL2NPruner(**proxy), random_state=seed, memory=memory)
        return _PROXY_PRUNERS[name](**proxy, random_state=seed, memory=memory)
    if name == "random":
        return RandomPruner(random_state=seed)
    if name in _EMBEDDING_PRUNERS:
        return _EMBEDDING_PRUNERS[name](random_state=seed)
    raise ValueError(f"unknown pruner {name!r}; choose from {', '.join(PRUNERS)}")


def _score(config, data, name, seed, memory):
    """Score once into ``memory``, where every fraction's selection finds the scores."""
    with _one_thread():
        make_pruner(config, name, seed, memory).fit(data["X_train"], data["y_train"])
        return name, seed


def _run_group(config, data, runs, rows, teacher_log_p, teacher_names):
    """Train the students of one (fraction, seed) together; one result row each."""
    with _one_thread():
        X, y = data["X_train"], data["y_train"]
        epochs = _epochs_for(rows.shape[1], config)
        module, kwargs = _net_kwargs(config, data["n_classes"], X.shape[1:], config.width, epochs)
        alphas = [float(r["alpha"]) for r in runs]
        teachers = [teacher_names.index(r["teacher"]) if r["alpha"] > 0 else -1 for r in runs]
        # Members of a network with buffers (batch norm) cannot share one vmapped model.
        members = (
            [list(range(len(runs)))]
            if vectorisable(module, **{k[len("module__"):]: v for k, v in kwargs.items()
                                       if k.startswith("module__")})
            else [[k] for k in range(len(runs))]
        )  # fmt: skip
        results = []
        for part in members:
            group = _StudentGroup(
                module, alphas=[alphas[k] for k in part], teachers=[teachers[k] for k in part],
                random_state=runs[part[0]]["seed"], **kwargs,
            )  # fmt: skip
            start = time.perf_counter()
            group.fit(X, y, rows[part], teacher_log_p)
            seconds = (time.perf_counter() - start) / len(part)
            val = group.member_correct(data["X_val"], data["y_val"])
            test = group.member_correct(data["X_test"], data["y_test"])
            for j, k in enumerate(part):
                results.append({
                    **runs[k],
                    "n_kept": rows.shape[1],
                    "epochs": epochs,
                    "val_accuracy": val[j] / len(data["y_val"]),
                    "test_accuracy": test[j] / len(data["y_test"]),
                    "fit_seconds": round(seconds, 3),
                })  # fmt: skip
        return results


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


def plan_groups(config):
    """The runs of :func:`plan_runs` grouped by (fraction, seed), as trained together.

    The students of one group keep the same number of rows and share their
    seed, so they train side by side as one vectorised model.

    Examples
    --------
    >>> from prunekd.experiments import SweepConfig, plan_groups
    >>> groups = plan_groups(SweepConfig(pruners=("random", "el2n"), fractions=(0.5, 1.0),
    ...                                  alphas=(1.0,), seeds=(0,)))
    >>> [(fraction, seed, len(runs)) for (fraction, seed), runs in groups]
    [(0.5, 0, 7), (1.0, 0, 5)]
    """
    groups = {}
    for run in plan_runs(config):
        groups.setdefault((run["fraction"], run["seed"]), []).append(run)
    return list(groups.items())


def _parse_row(row):
    if None in row or any(v is None for v in row.values()):
        raise ValueError("wrong number of fields")
    parsed = dict(row)
    for k in ("fraction", "alpha", "val_accuracy", "test_accuracy", "fit_seconds"):
        parsed[k] = float(row[k])
    for k in ("seed", "n_kept", "epochs", "teacher_width"):
        parsed[k] = int(row[k])
    return parsed


def _read_results(path, repair=False):
    """The complete rows of ``results.csv``, parsed, the first of any duplicate kept.

    A process killed while appending leaves a torn last line (no newline).
    It is ignored, and with ``repair=True`` cut off the file, so that the next
    rows start on a line of their own.
    """
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    complete = data.rfind(b"\n") + 1
    if repair and complete < len(data):
        with open(path, "r+b") as f:
            f.truncate(complete)
    lines = data[:complete].decode("utf-8").splitlines()
    if not lines:
        return []
    if tuple(next(csv.reader(lines[:1]))) != RESULT_FIELDS:
        raise ValueError(
            f"{path} was written by another version of prunekd (its columns differ); pass "
            "--restart to discard it, or choose another --out"
        )
    rows, seen = [], set()
    for row in csv.DictReader(lines):
        try:
            row = _parse_row(row)
        except ValueError:
            continue  # a damaged line: its run counts as not done, and runs again
        if _run_key(row) not in seen:
            seen.add(_run_key(row))
            rows.append(row)
    return rows


def _write_json(path, obj):
    """Write JSON atomically: a kill leaves the old file or the new one, never half of one."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_json(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def provenance():
    """The installed prunekd version and the git revision of its source, if it has one.

    Examples
    --------
    >>> from prunekd.experiments import provenance
    >>> sorted(provenance())
    ['prunekd_version', 'revision']
    """
    from .. import __version__

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    revision = None
    try:
        out = subprocess.run(
            ["git", "-C", package, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if out.returncode == 0:
            revision = out.stdout.strip()
            dirty = subprocess.run(
                ["git", "-C", package, "status", "--porcelain", "--untracked-files=no", "--", "."],
                capture_output=True, text=True, timeout=10,
            )  # fmt: skip
            if dirty.returncode == 0 and dirty.stdout.strip():
                revision += "+modified"
    except (OSError, subprocess.SubprocessError):
        pass
    return {"prunekd_version": __version__, "revision": revision}


def _prepare_out(out, config, restart):
    os.makedirs(out, exist_ok=True)
    config_path = os.path.join(out, "config.json")
    results_path = os.path.join(out, "results.csv")
    if restart:
        for name in ("results.csv", "info.json"):
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
    previous = _read_json(config_path)
    if os.path.exists(results_path) and previous:
        if previous.get("key") != json.loads(json.dumps(config.key())):
            raise ValueError(
                f"{out} holds results of a sweep with other settings; pass --restart to "
                "discard them, or choose another --out"
            )
    _write_json(config_path, {"config": dataclasses.asdict(config), "key": config.key(),
                              **provenance()})  # fmt: skip
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


def _score_and_train(config, data, todo, done, memory, parallel, bar, results_path, teacher_log_p,
                     teacher=None):  # fmt: skip
    """Score with every pruner that trains proxies, then train the students group by group."""
    X_train, y_train = data["X_train"], data["y_train"]
    needed_scores = sorted({(r["pruner"], r["seed"]) for _, runs in todo for r in runs
                            if r["pruner"] in _PROXY_PRUNERS or r["pruner"] == "ccs"})  # fmt: skip
    tasks = (delayed(_score)(config, data, p, s, memory) for p, s in needed_scores)
    for _ in tqdm(parallel(tasks), total=len(needed_scores), desc="scoring", **bar):
        pass

    def kept_rows(run):
        pruner = make_pruner(config, run["pruner"], run["seed"], memory, teacher)
        return pruner.set_params(fraction=run["fraction"]).fit_transform(X_train, y_train)

    def task(runs):
        names = sorted({r["teacher"] for r in runs} - {"none"})
        log_p = np.stack([teacher_log_p[n] for n in names]) if names else None
        rows = np.stack([kept_rows(r) for r in runs])
        return delayed(_run_group)(config, data, runs, rows, log_p, names)

    with _one_thread(), open(results_path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS, lineterminator="\n")
        if f.tell() == 0:
            writer.writeheader()
        n_students = sum(len(runs) for _, runs in todo)
        with tqdm(total=n_students, desc="students", **bar) as progress_bar:
            for rows in parallel(task(runs) for _, runs in todo):
                # Only the runs not done yet: a group retrains whole (its members
                # train together) but never writes a row twice.
                new = [r for r in rows if _run_key(r) not in done]
                buffer = io.StringIO()
                csv.DictWriter(buffer, fieldnames=RESULT_FIELDS, lineterminator="\n").writerows(new)
                f.write(buffer.getvalue())  # one write per group
                f.flush()
                os.fsync(f.fileno())  # a finished group survives a kill or a power cut
                done.update(_run_key(r) for r in new)
                progress_bar.update(len(rows))


def run_sweep(config, out="prunekd-results", n_jobs=1, restart=False, progress=True):
    """Run (or resume) a sweep and write ``results.csv`` and ``config.json`` to ``out``.

    Teachers are fitted once on the full training split, and their outputs
    computed once for every student; each score-based pruner scores the
    training split once per seed. The students of one (fraction, seed) train
    together as one vectorised model (see :func:`plan_groups`), and their rows
    are appended to ``results.csv`` as soon as they finish. A sweep killed at
    any moment (``kill -9`` included) resumes where it stopped when run again,
    and ends with the rows an uninterrupted run writes: every process uses one
    torch thread, so the results do not depend on ``n_jobs``.

    Parameters
    ----------
    config : SweepConfig
    out : str, default="prunekd-results"
        Output folder.
    n_jobs : int, default=1
        Parallel worker processes (joblib).
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
    ['accuracy_vs_fraction.png', 'alpha_heatmap.png']
    """
    results_path = _prepare_out(out, config, restart)
    X, y = load_dataset(config.dataset, config.data_dir, config.download)
    X_train, X_val, X_test, y_train, y_val, y_test = split_data(X, y)
    classes = np.unique(y)
    y_train, y_val, y_test = (np.searchsorted(classes, part) for part in (y_train, y_val, y_test))
    y_train = flip_labels(y_train, config.label_noise, len(classes))
    data = dict(X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val,
                X_test=X_test, y_test=y_test, n_classes=len(classes))  # fmt: skip
    done = {_run_key(r) for r in _read_results(results_path, repair=True)}
    todo = [(key, runs) for key, runs in plan_groups(config)
            if any(_run_key(r) not in done for r in runs)]  # fmt: skip
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    bar = dict(disable=not progress, leave=False)

    teacher_log_p, teacher_acc, kept = {}, {}, {}
    needed = {r["teacher"] for _, runs in todo for r in runs} - {"none"}
    scoring = any(r["pruner"] in _TEACHER_PRUNERS for _, runs in todo for r in runs)
    needed |= {"equal"} if scoring else set()
    jobs = [(name, w) for name, w in config.teacher_widths.items() if name in needed]
    tasks = (delayed(_fit_teacher)(config, data, n, w, scoring and n == "equal") for n, w in jobs)
    for name, log_p, acc, fitted in tqdm(parallel(tasks), total=len(jobs), desc="teachers", **bar):
        teacher_log_p[name], teacher_acc[name], kept[name] = log_p, acc, fitted

    # Scores live in a cache shared by the workers for the length of the run.
    memory = joblib.Memory(tempfile.mkdtemp(prefix="prunekd-scores-"), verbose=0)
    try:
        _score_and_train(config, data, todo, done, memory, parallel, bar, results_path,
                         teacher_log_p, kept.get("equal"))  # fmt: skip
    finally:
        shutil.rmtree(memory.location, ignore_errors=True)

    info_path = os.path.join(out, "info.json")
    info = _read_json(info_path)
    info.setdefault("teacher_test_accuracy", {}).update(teacher_acc)
    info.update(n_train=len(y_train), n_val=len(y_val), n_test=len(y_test))
    source = provenance()
    info["prunekd_version"] = source["prunekd_version"]
    info["revisions"] = sorted(set(info.get("revisions", [])) | {str(source["revision"])})
    _write_json(info_path, info)
    return info
