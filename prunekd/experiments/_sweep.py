"""The pruning x distillation sweep behind the ``prunekd`` command."""

import csv
import io
import json
import os
import time

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .._internal import (
    _INFERENCE_BATCH,
    _StudentGroup,
    array_digest,
    make_teacher,
    teacher_log_probs,
    vectorisable,
)
from ..callbacks import TrainingDynamics
from ..distillation import DistillationClassifier
from ._config import SweepConfig, epochs_for
from ._cost import relative_costs, result_row
from ._data import held_out_pool, load_dataset, seed_data, split_data
from ._dynamic import run_dynamic_group
from ._methods import (
    PAPER_PRUNERS,
    PRUNERS,
    get_method,
    make_pruner,
    trains_proxies,
)
from ._plan import plan_groups, plan_runs, resumed_config
from ._protocol import protocol_hash, protocol_v3_hash
from ._store import (
    RESULT_FIELDS,
    machine,
    prepare_out,
    provenance,
    read_json,
    read_results,
    run_key,
    write_json,
)
from ._sweep_cache import (
    WallClock,
    load_teacher,
    note_machine,
    note_revision,
    save_teacher,
    scores_memory,
    stored_teachers,
)
from ._sweep_cache import clear as clear_cache
from ._train import net_kwargs, one_thread

__all__ = [
    "PAPER_PRUNERS",
    "PRUNERS",
    "RESULT_FIELDS",
    "SweepConfig",
    "make_pruner",
    "plan_groups",
    "plan_runs",
    "provenance",
    "run_sweep",
    "split_data",
]

# Teachers are seeded apart from the students of the same seed.
TEACHER_SEED_OFFSET = 1000


def _fit_teacher(config, data, name, width, keep=False):
    """Fit one teacher of one seed; with ``keep``, also return it, its training recorded.

    Returns ``(seed, name, log-probabilities on X_train, {"val": , "test": } accuracy,
    seconds, the teacher or None)``.
    """
    with one_thread():
        X, y, seed = data["X_train"], data["y_train"], data.get("seed", 0)
        module, kwargs = net_kwargs(
            config, data["n_classes"], X.shape[1:], width, config.teacher_epochs_of(name)
        )
        # The recorder does not change the training: the teacher is the same without it.
        callbacks = [("dynamics", TrainingDynamics())] if keep else None
        start = time.perf_counter()
        teacher = DistillationClassifier(
            module,
            alpha=0.0,
            callbacks=callbacks,
            random_state=TEACHER_SEED_OFFSET + seed,
            **kwargs,
        ).fit(X, y)
        seconds = time.perf_counter() - start
        # What every student of this seed needs of this teacher, computed once.
        logits = make_teacher(teacher).logits_array(X, _INFERENCE_BATCH)
        log_p = teacher_log_probs(logits, config.temperature).numpy()
        accuracy = {
            part: float(teacher.score(data[f"X_{part}"], data[f"y_{part}"]))
            for part in ("val", "test")
        }
        return seed, name, log_p, accuracy, seconds, teacher if keep else None


def _score(config, data, name, memory):
    """Score once into ``memory``, where every fraction's selection finds the scores."""
    with one_thread():
        start = time.perf_counter()
        make_pruner(config, name, data["seed"], memory).fit(data["X_train"], data["y_train"])
        return name, data["seed"], time.perf_counter() - start


def _members(module, kwargs, n_runs):
    """Members that train as one vmapped model (a network with buffers cannot)."""
    module_kwargs = {k[len("module__") :]: v for k, v in kwargs.items() if k.startswith("module__")}
    if vectorisable(module, **module_kwargs):
        return [list(range(n_runs))]
    return [[k] for k in range(n_runs)]


def _run_group(config, data, runs, rows, teacher_log_p, teacher_names, costs, weights=None):
    """Train the students of one (fraction, seed, budget); one result row each.

    ``costs`` holds, per run, the pruner's ``(samples, seconds)``, and the
    forward cost of every teacher relative to the student; ``weights``, per
    run, the kept rows' weights of a weighted coreset or ``None``.
    """
    weights = [None] * len(runs) if weights is None else weights
    with one_thread():
        X, y = data["X_train"], data["y_train"]
        epochs = epochs_for(rows.shape[1], config, runs[0]["budget_scale"])
        module, kwargs = net_kwargs(config, data["n_classes"], X.shape[1:], config.width, epochs)
        alphas = [float(r["alpha"]) for r in runs]
        teachers = [teacher_names.index(r["teacher"]) if r["alpha"] > 0 else -1 for r in runs]
        results = []
        for part in _members(module, kwargs, len(runs)):
            group = _StudentGroup(
                module,
                alphas=[alphas[k] for k in part],
                teachers=[teachers[k] for k in part],
                kd_loss=config.kd_loss,
                random_state=runs[part[0]]["seed"],
                **kwargs,
            )
            start = time.perf_counter()
            group.fit(X, y, rows[part], teacher_log_p, [weights[k] for k in part])
            seconds = (time.perf_counter() - start) / len(part)
            val = group.member_correct(data["X_val"], data["y_val"])
            test = group.member_correct(data["X_test"], data["y_test"])
            for j, k in enumerate(part):
                accuracy = (val[j] / len(data["y_val"]), test[j] / len(data["y_test"]))
                teacher_cost = costs["teachers"].get(runs[k]["teacher"], 0.0)
                results.append(
                    result_row(
                        config,
                        runs[k],
                        rows.shape[1],
                        epochs,
                        teacher_cost,
                        accuracy,
                        seconds,
                        costs["pruners"][k],
                    )
                )
        return results


def _fit_teachers(config, datas, todo, parallel, bar, out, clock):
    """Fit every teacher the runs still to do need, each seed its own (or load it from ``out``'s
    cache, where an earlier invocation stored it).

    Returns ``{(seed, name): (log-probabilities, accuracies, seconds,
    fitted teacher or None)}``; the "equal" teacher is kept, its training
    recorded, where a teacher-scored pruner reads it.
    """
    needed, scoring = {}, set()
    for _, runs in todo:
        for r in runs:
            if r["teacher"] != "none":
                needed.setdefault(r["seed"], set()).add(r["teacher"])
            if get_method(r["pruner"]).reads_teacher or r["study"] == "dynamic":
                needed.setdefault(r["seed"], set()).add("equal")
                scoring.add(r["seed"])
    fitted, jobs = {}, []
    for seed in sorted(needed):
        for name, width in config.teacher_widths.items():
            keep = seed in scoring and name == "equal"
            stored = load_teacher(out, config, seed, name, keep) if name in needed[seed] else None
            if stored is not None:
                fitted[seed, name] = stored
            elif name in needed[seed]:
                jobs.append((seed, name, width, keep))
    tasks = (delayed(_fit_teacher)(config, datas[s], n, w, keep) for s, n, w, keep in jobs)
    for seed, name, *rest in tqdm(parallel(tasks), total=len(jobs), desc="teachers", **bar):
        fitted[seed, name] = tuple(rest)
        save_teacher(out, config, seed, name, fitted[seed, name])
        clock.tick()
    return fitted


def _score_and_train(
    config, datas, todo, done, memory, parallel, bar, results_path, teachers, relative, clock
):
    """Score with every pruner that trains proxies, then train the students group by group."""
    needed = sorted(
        {(r["pruner"], r["seed"]) for _, runs in todo for r in runs if trains_proxies(r["pruner"])}
    )
    tasks = (delayed(_score)(config, datas[s], p, memory) for p, s in needed)
    scoring_seconds = {}
    for name, seed, seconds in tqdm(parallel(tasks), total=len(needed), desc="scoring", **bar):
        scoring_seconds[name, seed] = seconds
        clock.tick()

    def task(runs):
        seed = runs[0]["seed"]
        if runs[0]["study"] == "dynamic":  # one student at a time, beside its comparators
            teacher = teachers[seed, "equal"][3]
            return delayed(run_dynamic_group)(config, datas[seed], runs, teacher, relative)
        names = sorted({r["teacher"] for r in runs} - {"none"})
        log_p = np.stack([teachers[seed, n][0] for n in names]) if names else None
        teacher = teachers.get((seed, "equal"), (None,) * 4)[3]
        kept = [
            _kept_rows(config, datas[seed], r, memory, teacher, scoring_seconds, relative)
            for r in runs
        ]
        costs = {"teachers": relative, "pruners": [k[2] for k in kept]}
        rows = np.stack([k[0] for k in kept])
        weights = [k[1] for k in kept]
        return delayed(_run_group)(config, datas[seed], runs, rows, log_p, names, costs, weights)

    n_students = sum(len(runs) for _, runs in todo)
    with one_thread(), open(results_path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS, lineterminator="\n")
        if f.tell() == 0:
            writer.writeheader()
        with tqdm(total=n_students, desc="students", **bar) as progress_bar:
            for rows in parallel(task(runs) for _, runs in todo):
                _append_group(f, rows, done)
                clock.tick()
                progress_bar.update(len(rows))


def _kept_rows(config, data, run, memory, teacher, scoring_seconds, relative):
    """A run's kept rows, their weights (a weighted coreset's, else None), its pruner's cost.

    The cost is ``(samples, seconds)``: the samples its scoring processed, in
    student-size units, and the seconds of its scoring (done once per seed,
    before the students) and selection.
    """
    method = get_method(run["pruner"])
    start = time.perf_counter()
    pruner = make_pruner(config, run["pruner"], run["seed"], memory, teacher)
    rows = pruner.set_params(fraction=run["fraction"]).fit_transform(
        data["X_train"], data["y_train"]
    )
    seconds = scoring_seconds.get((run["pruner"], run["seed"]), 0.0) + time.perf_counter() - start
    teacher_cost = relative.get("equal", 1.0)
    samples = method.samples(config, len(data["y_train"]), relative["proxy"], teacher_cost)
    # Work that depends on the data (DeepFool's steps), counted by the pruner itself,
    # in passes through its proxies or the teacher.
    unit = relative["proxy"] if method.trains_proxies else teacher_cost
    samples += getattr(pruner, "scoring_passes_", 0.0) * unit
    return rows, pruner.sample_weight_ if method.weighted else None, (samples, seconds)


def _append_group(f, rows, done):
    """Append a finished group's rows not written yet, durably, in one write.

    A group trains only its members not written yet, and never writes a row
    twice; after ``fsync`` the group survives a kill or a power cut.
    """
    new = [r for r in rows if run_key(r) not in done]
    buffer = io.StringIO()
    csv.DictWriter(buffer, fieldnames=RESULT_FIELDS, lineterminator="\n").writerows(new)
    f.write(buffer.getvalue())
    f.flush()
    os.fsync(f.fileno())
    done.update(run_key(r) for r in new)


def _update_info(out, config, datas, teachers, relative, seconds, digests, seen):
    """``info.json``: split sizes, each teacher's accuracy, seconds and samples, code revisions.

    ``seen``: ``{"revisions": , "machines": }``, the code each invocation since
    the last completion started with (its ``config.json``) and the machine it
    ran on, killed ones included.

    ``digests``: SHA-256 of the data's arrays (and of a test pool's), so that a
    generated dataset is known to be the one the rows were made on.
    """
    info_path = os.path.join(out, "info.json")
    info = {**read_json(info_path), **digests}
    # Every invocation's wall time, killed ones included (WallClock carries them to completion).
    info["wall_seconds"] = round(info.get("wall_seconds", 0.0) + seconds, 1)
    runs = info.setdefault("teacher_runs", {})
    for (seed, name), (_, accuracy, fit_seconds, _) in teachers.items():
        runs.setdefault(name, {})[str(seed)] = {
            "test_accuracy": accuracy["test"],
            "val_accuracy": accuracy["val"],
            "seconds": round(fit_seconds, 3),
        }
    for part in ("test", "val"):  # runs of before the validation accuracy have none
        info[f"teacher_{part}_accuracy"] = {
            name: float(np.mean([r[f"{part}_accuracy"] for r in by_seed.values()]))
            for name, by_seed in runs.items()
            if all(f"{part}_accuracy" in r for r in by_seed.values())
        }
    first = datas[config.seeds[0]]
    n_train = len(first["y_train"])
    # The teacher's own training, reported once: it is paid whatever the students do.
    info["teacher_samples"] = {
        name: config.teacher_epochs_of(name) * n_train * relative[name]
        for name in config.teacher_widths
    }
    info["relative_forward_cost"] = relative
    info.update(n_train=n_train, n_val=len(first["y_val"]), n_test=len(first["y_test"]))
    # the code the invocations started with (config.json), not the code at their end
    info["prunekd_version"] = read_json(os.path.join(out, "config.json"))["prunekd_version"]
    for key, values in seen.items():  # "revisions", "machines"
        info[key] = sorted(set(info.get(key, [])) | set(values))
    # Every version of protocol v3 the run's invocations saw (one, unless it changed).
    info["protocol_v3_sha256"] = sorted(
        set(info.get("protocol_v3_sha256", [])) | {protocol_v3_hash()}
    )
    write_json(info_path, info)
    return info


def _stored_complete(out, config):
    """``info.json`` of the sweep in ``out`` if it holds every run of ``config``, else None.

    A rerun of a complete run (its documented command, run to check it) then
    leaves it as it was: its wall time and revisions stay those of the
    invocations that made its rows.
    """
    previous = read_json(os.path.join(out, "config.json"))
    info = read_json(os.path.join(out, "info.json"))
    results_path = os.path.join(out, "results.csv")
    same = previous.get("key") == json.loads(json.dumps(config.key()))
    if not (same and info and os.path.exists(results_path)):
        return None
    if previous.get("protocol_sha256") != protocol_hash():
        return None  # prepare_out refuses it, naming why
    # this invocation's plan, not the stored one (pending_runs): the key leaves out the grid
    # (pruners, fractions, seeds), which may grow between invocations
    done = {run_key(r) for r in read_results(results_path)}
    return info if all(run_key(r) in done for r in plan_runs(config)) else None


def run_sweep(config, out="prunekd-results", n_jobs=1, restart=False, progress=True):
    """Run (or resume) a sweep and write ``results.csv`` and ``config.json`` to ``out``.

    Every seed has its own train/validation/test split and its own teachers
    (seeded apart from its students), fitted on its full training split, their
    outputs computed once for every student; each score-based pruner scores
    each seed's training split once. The students of one (fraction, seed,
    budget) train together as one vectorised model (see :func:`plan_groups`),
    and their rows, with what each cost (see ``docs/user_guide.rst``), are
    appended to ``results.csv`` as soon as they finish. A sweep killed at any
    moment (``kill -9`` included) resumes where it stopped when run again, and
    ends with the rows an uninterrupted run on the same machine writes (it
    warns when resumed on another; ``info.json`` names every machine): every
    process uses one torch thread, so the results do not depend on
    ``n_jobs``. Run again once complete, it trains nothing and leaves ``out``
    as it was.

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
        Teacher accuracies and costs and data sizes, also saved to ``out/info.json``.

    Examples
    --------
    A tiny sweep (a few seconds), its summary and figures:

    >>> import tempfile
    >>> from prunekd.experiments import (SweepConfig, load_results, run_sweep,
    ...                                  write_figures, write_summary)
    >>> config = SweepConfig(pruners=("random",), fractions=(0.5, 1.0), alphas=(1.0,), seeds=(0,),
    ...                      teacher_widths={"equal": 4}, width=4, epochs=2, teacher_epochs=1,
    ...                      budget_scales=())
    >>> out = tempfile.mkdtemp()
    >>> info = run_sweep(config, out, progress=False)
    >>> len(load_results(out)), sorted(info["teacher_test_accuracy"])
    (6, ['equal'])
    >>> "## Accuracy by pruner and kept fraction" in write_summary(out)
    True
    >>> [p.rsplit("/", 1)[-1] for p in write_figures(out)]
    ['accuracy_vs_fraction.png', 'alpha_heatmap.png', 'accuracy_vs_compute.png']
    """
    start = time.perf_counter()
    config = config if restart else resumed_config(out, config)  # a stored sweep's own grid
    stored = None if restart else _stored_complete(out, config)
    if stored:
        return stored
    results_path = prepare_out(
        out, config, restart, protocol_hash(), {"protocol_v3_sha256": protocol_v3_hash()}
    )
    if restart:
        clear_cache(out)
    clock = WallClock(out, start)  # counts the killed invocations since the last completion
    seen = {
        "revisions": note_revision(out, read_json(os.path.join(out, "config.json"))["revision"]),
        "machines": note_machine(out, machine()),
    }
    X, y = load_dataset(config.dataset, config.data_dir, config.download)
    pools = {seed: held_out_pool(config, seed) for seed in config.seeds}
    datas = {seed: seed_data(config, X, y, seed, pools[seed]) for seed in config.seeds}
    digests = {"data_sha256": array_digest(X, y)}
    if config.test_pool_seed is not None:
        digests["test_pool_sha256"] = {str(s): array_digest(*p) for s, p in pools.items()}
    done = {run_key(r) for r in read_results(results_path, repair=True)}
    # Only the students not written yet: a member learns the same weights in a group
    # of any size (same initial weights, same batches), so the missing ones give their rows.
    # A dynamic group trains whole: its comparators' cost is measured on its dynamic students.
    todo = [
        (key, runs if key[0] == "dynamic" else missing)
        for key, runs in plan_groups(config)
        if (missing := [r for r in runs if run_key(r) not in done])
    ]
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    bar = {"disable": not progress, "leave": False}
    first = datas[config.seeds[0]]
    relative = relative_costs(config, first["n_classes"], first["X_train"].shape[1:])
    teachers = _fit_teachers(config, datas, todo, parallel, bar, out, clock)
    # Scores live in a cache shared by the workers, kept until the sweep completes.
    memory = scores_memory(out)
    _score_and_train(
        config, datas, todo, done, memory, parallel, bar, results_path, teachers, relative, clock
    )
    seconds = clock.seconds()
    # info.json records every seed's teachers, those of killed invocations too (cached only)
    teachers = {**stored_teachers(out, config), **teachers}
    clear_cache(out)  # complete: a later invocation with a larger grid fits what it needs
    return _update_info(out, config, datas, teachers, relative, seconds, digests, seen)
