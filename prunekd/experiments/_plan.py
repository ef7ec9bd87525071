"""Which students a sweep trains, and which of them train together."""

import dataclasses
import os
import warnings

from ._config import SweepConfig
from ._methods import get_method
from ._protocol import protocol, protocol_v3, v3_design
from ._store import read_json, read_results, run_key


def primary_only(config):
    """Whether a sweep trains only the runs its primary findings read (see ``secondary``)."""
    return not config.secondary and v3_design(dataclasses.asdict(config)) is not None


def resumed_config(out, config):
    """``config``, keeping the secondary runs of the sweep stored in ``out`` where it trained them.

    A resumed sweep trains the runs it started with: one stored before
    ``secondary`` existed, or with ``secondary=True``, keeps it (with a
    warning naming the fix, ``restart``, to train the primary runs alone).
    """
    stored = read_json(os.path.join(out, "config.json")).get("config")
    if stored is None or not SweepConfig.from_stored(stored).secondary or not primary_only(config):
        return config
    warnings.warn(
        f"{out} holds a sweep that trains the runs only secondary statistics read; resuming "
        "it keeps them (secondary=True, prunekd --secondary). Restart it (--restart) to train "
        "what the primary findings read alone.",
        UserWarning,
        stacklevel=2,
    )
    return dataclasses.replace(config, secondary=True)


def _main_and_capacity(config, seed, fraction, primary):
    runs = []
    static = [p for p in config.pruners if get_method(p).kind == "static"]
    # At a large fraction v3's primary findings read random pruning and the equal teacher only.
    large = primary and fraction in protocol_v3()["large_fractions"]
    # At fraction 1.0 every pruner keeps everything: run it once, as "random".
    for pruner in ["random"] if fraction == 1.0 or large else static:
        for alpha in (0.0, *config.alphas):
            runs.append(
                dict(
                    study="main",
                    pruner=pruner,
                    fraction=fraction,
                    alpha=alpha,
                    seed=seed,
                    teacher="equal" if alpha > 0 else "none",
                )
            )
    for teacher in config.teacher_widths:
        if teacher == "equal" and config.capacity_alpha in config.alphas or large:
            continue  # the main study already has this run, or no primary finding reads it
        runs.append(
            dict(
                study="capacity",
                pruner="random",
                fraction=fraction,
                alpha=config.capacity_alpha,
                seed=seed,
                teacher=teacher,
            )
        )
    return runs


def _budget(config, seed, fraction):
    """Random pruning with and without KD at other budgets (``config.budget_scales``).

    The first ``config.budget_seeds`` seeds run the whole budget axis; the
    others only the runs a finding needs: the full data without KD at finding
    5b's budget and at every scale of ``config.baseline_scales``.
    """
    needed = {protocol()["findings"]["5b"]["budget_scale"], *config.baseline_scales}
    whole = seed in config.seeds[: config.budget_seeds]
    runs = []
    for scale in config.budget_scales:
        for alpha in (0.0, config.capacity_alpha):
            if whole or (fraction == 1.0 and alpha == 0.0 and scale in needed):
                runs.append(
                    dict(
                        study="budget",
                        pruner="random",
                        fraction=fraction,
                        alpha=alpha,
                        seed=seed,
                        teacher="equal" if alpha > 0 else "none",
                        budget_scale=float(scale),
                    )
                )
    return runs


def _dynamic(config, seed, primary):
    """Dynamic pruning per prune ratio, and what it is compared with at the same cost.

    Per ratio: every dynamic method of ``config.pruners`` with KD (the
    capacity alpha, the equal teacher), and those scored by the training loss
    also without KD. Then two comparators at the samples the first dynamic
    student with KD processed, measured in the same task: static random
    pruning with KD at that fraction (``fraction`` None until then), and the
    full data without KD trained for that share of the epochs
    (``budget_scale`` None until then). With ``primary`` (see
    :func:`primary_only`), the dynamic methods with KD alone: F6 reads nothing
    else here.
    """
    dynamic = [p for p in config.pruners if get_method(p).kind == "dynamic"]
    if not dynamic:
        return []
    if config.budget != "epochs":
        raise ValueError(
            f"the dynamic pruners {dynamic} save compute by training fewer rows per epoch; "
            "budget='steps' fixes the steps, so they would save nothing: use budget='epochs'"
        )
    alpha = config.capacity_alpha
    runs = []
    for ratio in config.prune_ratios:
        study = dict(study="dynamic", seed=seed, prune_ratio=float(ratio))
        for name in dynamic:
            for a in (alpha,) if get_method(name).needs_kd or primary else (0.0, alpha):
                teacher = "equal" if a > 0 else "none"
                runs.append(dict(study, pruner=name, fraction=1.0, alpha=a, teacher=teacher))
        if primary:  # F6 compares with the main study's full data: the comparators are secondary
            continue
        runs.append(dict(study, pruner="random", fraction=None, alpha=alpha, teacher="equal"))
        runs.append(
            dict(study, pruner="random", fraction=1.0, alpha=0.0, teacher="none", budget_scale=None)
        )
    return runs


def plan_runs(config):
    """Every student run of a sweep, as dicts of settings (no results yet).

    At fraction 1.0 all pruners keep everything, so it is run once (as
    "random"); the teacher-capacity study reuses the main study's runs where
    they coincide; the budget study trains random pruning at other budgets.

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
    ...                              seeds=(0,), teacher_widths={"equal": 16}, budget_scales=(2,),
    ...                              budget_seeds=1, baseline_scales=()))
    >>> [(r["study"], r["alpha"], r["teacher"], r["budget_scale"]) for r in runs]  # doctest: +NORMALIZE_WHITESPACE
    [('main', 0.0, 'none', 1.0), ('main', 1.0, 'equal', 1.0), ('capacity', 0.5, 'equal', 1.0),
     ('budget', 0.0, 'none', 2.0), ('budget', 0.5, 'equal', 2.0)]
    """
    runs, primary = [], primary_only(config)
    for seed in config.seeds:
        for fraction in sorted(set(config.fractions)):
            runs += _main_and_capacity(config, seed, fraction, primary)
            runs += _budget(config, seed, fraction)
        runs += _dynamic(config, seed, primary)
    for run in runs:
        run.setdefault("budget_scale", 1.0)
        run.setdefault("prune_ratio", 0.0)
        run["teacher_width"] = config.teacher_widths.get(run["teacher"], 0)
    return runs


def plan_groups(config):
    """The runs of :func:`plan_runs` grouped by (fraction, seed, budget scale), as trained together.

    The students of one group keep the same number of rows, train as many
    epochs and share their seed, so they train side by side as one vectorised
    model. The dynamic study's runs of one (seed, prune ratio) form one group,
    keyed ``("dynamic", seed, prune_ratio)``, trained one student at a time
    (their rows differ per epoch).

    Examples
    --------
    >>> from prunekd.experiments import SweepConfig, plan_groups
    >>> grid = dict(pruners=("random", "el2n"), fractions=(0.5, 1.0), alphas=(1.0,), seeds=(0,),
    ...             budget_scales=())
    >>> groups = plan_groups(SweepConfig(**grid, secondary=True))
    >>> [(fraction, seed, scale, len(runs)) for (fraction, seed, scale), runs in groups]
    [(0.5, 0, 1.0, 7), (1.0, 0, 1.0, 5)]

    Without ``secondary`` (v3's digits design), the large fractions train
    random pruning with the equal teacher only, what the primary findings read:

    >>> [len(runs) for _, runs in plan_groups(SweepConfig(**grid))]
    [2, 2]
    """
    groups = {}
    for run in plan_runs(config):
        if run["study"] == "dynamic":
            key = ("dynamic", run["seed"], run["prune_ratio"])
        else:
            key = (run["fraction"], run["seed"], run["budget_scale"])
        groups.setdefault(key, []).append(run)
    return list(groups.items())


def pending_runs(out):
    """The run keys a stored sweep planned (its ``config.json``) that its ``results.csv`` lacks.

    Empty when the sweep is complete; a run committed part-way is read by no
    verdict until this is empty.

    Parameters
    ----------
    out : str
        The sweep's folder.

    Returns
    -------
    pending : set of tuple
        :func:`~prunekd.experiments._store.run_key` of every planned run not stored yet.

    Examples
    --------
    >>> import tempfile
    >>> from prunekd.experiments import pending_runs
    >>> len(pending_runs(tempfile.mkdtemp()))  # no config.json: nothing planned
    0
    """
    stored = read_json(os.path.join(out, "config.json")).get("config")
    if stored is None:
        return set()
    planned = {run_key(r) for r in plan_runs(SweepConfig.from_stored(stored))}
    return planned - {run_key(r) for r in read_results(os.path.join(out, "results.csv"))}
