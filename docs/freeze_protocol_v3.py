"""Freeze results protocol v3 for one dataset from its exploratory runs (validation only for choices).

The rules are in ``prunekd/experiments/protocol_v3.json``; this script applies
them and writes the values under ``frozen.<dataset>``, and the sizing's
planning values under ``sizing.datasets.<dataset>``:

* per (pruner, fraction) the KD alpha with the best mean validation accuracy
  (ties: the smaller), and per small fraction F2's comparator, the
  score-based pruner with the best mean validation accuracy with KD;
* the margin: half the full-data student's validation error, rounded to 0.05;
* the seeds: the sizing rule (``benchmarks/simulate_protocol.py``) at the
  frozen margin, with the planning SDs the protocol names (MNIST-1D: the
  exploratory run's, SDs only; digits: v2's, F5c and F6 taking the larger of
  F5b's and the exploratory run's);
* the cost per seed of each exploratory sweep (its wall time over its seeds).

The confirmatory commands apply the steps of ``design.trimming`` named by the
optional last argument (default ``1,2,3``, all of them): the steps needed for
the sizing's seeds to fit about 3 hours, judged at freeze from the exploratory
costs and stated in ``frozen.<dataset>.trimming``. Step 3 absent, the dynamic
command keeps every prune ratio (0.3, 0.5, 0.7).

Usage, from the repository root::

    python docs/freeze_protocol_v3.py digits docs/results/v3/digits/exploratory \\
        docs/results/v3/digits/dynamic-exploratory [1,2,3]
"""

import json
import pathlib
import sys

import numpy as np

from prunekd.experiments import load_results
from prunekd.experiments._findings_v3 import PAPER_PRUNERS, f5c_scale, primary_family
from prunekd.experiments._results import Results, nanmean

ROOT = pathlib.Path(__file__).resolve().parents[1]
PATH = ROOT / "prunekd/experiments/protocol_v3.json"
sys.path.insert(0, str(ROOT / "benchmarks"))
from simulate_protocol import seeds_needed, upper_sd  # noqa: E402


def choices(rows, small):
    """The frozen alphas and comparators, read off validation accuracy only."""
    r = Results([row for row in rows if row["pruner"] in PAPER_PRUNERS])
    alphas = {p: {f"{f:g}": r.chosen_alpha(p, f) for f in r.fractions} for p in r.pruners}
    scored = [p for p in r.pruners if p != "random"]
    comparators = {}
    for f in small:
        val = [nanmean(r.kd(q, f, alphas[q][f"{f:g}"], "val_accuracy")) for q in scored]
        comparators[f"{f:g}"] = scored[int(np.nanargmax(val))]
    return {"alphas": alphas, "pooled_alphas": pooled_alphas(r), "comparators": comparators}


def pooled_alphas(r):
    """Per fraction, the alpha of the best validation accuracy averaged over the design's pruners.

    v2's rule; the alpha of every method the design did not run (claim 2's
    family, in the methods sweep). Ties: the smaller.
    """
    pooled = {}
    for f in r.fractions:
        means = [nanmean([nanmean(r.kd(p, f, a, "val_accuracy")) for p in r.pruners])
                 for a in r.kd_alphas]  # fmt: skip
        pooled[f"{f:g}"] = r.kd_alphas[int(np.nanargmax(means))]
    return pooled


def margin_of(rows):
    """Half the full-data student's validation error, in points, rounded to 0.05."""
    full = Results(rows).kd("random", 1.0, 0.0, "val_accuracy")
    return round(round(0.5 * (100 - 100 * nanmean(full)) / 0.05) * 0.05, 2)


def _seconds_per_seed(folder, rows):
    info = json.loads((pathlib.Path(folder) / "info.json").read_text())
    return round(info["wall_seconds"] / len({r["seed"] for r in rows}), 1)


def _record_teacher_epochs(spec, dataset, main_folder):
    """The draft left a dataset's teacher epochs to its curves: record the ones its run trained."""
    settings = spec["design"]["settings"][dataset]
    if not isinstance(settings["teacher_epochs"], dict):
        config = json.loads((pathlib.Path(main_folder) / "config.json").read_text())["config"]
        settings["teacher_epochs"] = config["teacher_epochs"]


def _confirmatory(spec, dataset, n, steps=(1, 2, 3)):
    """The confirmatory seeds and the two commands on the grid trimmed by ``steps`` of
    design.trimming, every flag explicit: the main sweep (F1-F5) and the dynamic one (F6),
    sharing seeds and teachers."""
    import re

    s = {**spec["design"]["settings"]["common"], **spec["design"]["settings"][dataset]}
    first = int(re.match(r"\d+", spec["design"]["seeds"][dataset]["confirmatory"]).group())
    seeds = f"{first}-{first + n - 1}"
    baselines = f"0.5,{round(f5c_scale(s['epochs'], s['teacher_epochs']['equal']), 4):g}"
    pool = re.search(r"--test-pool-seed (\d+)", spec["datasets"][dataset].get("test_pools", ""))
    pool = f" --test-pool-seed {pool.group(1)}" if pool else ""
    teachers = ",".join(f"{k}={v}" for k, v in s["teacher_epochs"].items())
    fractions = "0.1,0.2,0.3,0.5,1.0" if 1 in steps else "0.1,0.2,0.3,0.5,0.7,1.0"
    # step 2 keeps F5b's and F5c's baselines only; without it, the exploratory budget study too
    budget = f"{baselines} --budget-seeds 0" if 2 in steps else f"{baselines},2.0 --budget-seeds 5"
    ratios = "0.5" if 3 in steps else "0.3,0.5,0.7"
    out = f"docs/results/v3/{dataset}"
    main = (f"prunekd --dataset {dataset} --pruners {','.join(PAPER_PRUNERS)} --seeds {seeds} "
            f"--fractions {fractions} --epochs {s['epochs']} --teacher-epochs {teachers} "
            f"--budget-scales {budget} --baseline-scales {baselines}{pool} --secondary "
            f"--out {out}/confirmatory")  # fmt: skip
    dynamic = (f"prunekd --dataset {dataset} --pruners random,infobatch,infobatch_kd "
               f"--fractions 1.0 --prune-ratios {ratios} --teachers equal={s['teacher_widths']['equal']} "
               f"--teacher-epochs {s['teacher_epochs']['equal']} --epochs {s['epochs']} "
               f"--seeds {seeds} --budget-scales none{pool} --out {out}/dynamic-confirmatory")  # fmt: skip
    return seeds, {"main": main, "dynamic": dynamic}


def main(dataset, main_folder, dynamic_folder, steps="1,2,3"):
    spec = json.loads(PATH.read_text())
    _record_teacher_epochs(spec, dataset, main_folder)
    rows, dynamic = load_results(main_folder), load_results(dynamic_folder)
    frozen = choices(rows, spec["small_fractions"])
    margin = margin_of(rows)
    r = Results(rows, frozen)
    family, _ = primary_family(r, dynamic, spec, dataset, frozen, margin)
    explored = {name: float(np.nanstd(v, ddof=1)) for name, (v, _) in family.items()}
    plan = spec["sizing"]["datasets"].get(dataset, {"findings": {}})
    findings = {}
    for name, (_, threshold) in family.items():
        sd = explored[name] if dataset != "digits" else plan["findings"][name]["sd"]
        if dataset == "digits" and name in ("F5c", "F6"):
            sd = max(sd, explored[name])
        effect = margin if threshold == 0 else 0.0
        findings[name] = {"sd": round(sd, 3), "threshold": threshold, "effect": effect}
    df = plan.get("df", len(r.seeds) - 1)
    k, alpha = len(findings), spec["family"]["alpha"]
    needed = {
        name: seeds_needed(upper_sd(f["sd"], df), f["effect"] - f["threshold"], alpha / k)
        for name, f in findings.items()
    }
    n = max(max(needed.values()), spec["sizing"]["min_seeds"])
    previous = spec.get("frozen", {}).get(dataset, {})
    spec["sizing"]["datasets"][dataset] = {"margin": margin, "df": df, "findings": findings}
    spec.setdefault("frozen", {})[dataset] = {
        "rule": f"read off the exploratory runs (seeds {', '.join(map(str, r.seeds))}) by "
        "docs/freeze_protocol_v3.py: alphas and comparators from validation accuracy only",
        **frozen,
        "margin": margin,
        "exploratory_sd": {k: round(v, 3) for k, v in explored.items()},
        "seeds_needed": needed,
        "n_seeds": n,
        "seconds_per_seed": {
            "main": _seconds_per_seed(main_folder, rows),
            "dynamic": _seconds_per_seed(dynamic_folder, dynamic),
        },
    }
    if "commands" not in previous:  # digits froze its commands by hand
        seeds, commands = _confirmatory(spec, dataset, n, [int(x) for x in steps.split(",")])
        spec["frozen"][dataset].update(confirmatory_seeds=seeds, commands=commands)
    else:
        spec["frozen"][dataset] = {**previous, **spec["frozen"][dataset]}
    PATH.write_text(json.dumps(spec, indent=2) + "\n")
    print(json.dumps(spec["frozen"][dataset], indent=2))


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
