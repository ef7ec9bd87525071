"""Wall time of MNIST-1D's confirmatory runs at each step of protocol v3's trimming, estimated.

The exploratory runs' ``info.json`` wall times count only their last
invocations (both were resumed), so the cost per seed is rebuilt from what
every row records instead: its training seconds, each pruner's scoring once
per seed, and each teacher's fit (``info.json``), over the sweep's 2 workers.
The same sum gives the wall time of digits' four stored v3 runs within 7%
(``--check``).

Usage, from the repository root::

    python docs/estimate_confirmatory_cost.py           # the freeze's estimate
    python docs/estimate_confirmatory_cost.py --check   # the estimator on digits' runs
"""

import json
import statistics
import sys

from prunekd.experiments import load_results

V3 = "docs/results/v3"
SCORED = ("el2n", "grand", "forgetting")
WORKERS = 2


def _worker_seconds(rows, info, seed):
    rows = [r for r in rows if r["seed"] == seed]
    fits = sum(r["fit_seconds"] for r in rows)
    scoring = sum(max((r["pruner_seconds"] for r in rows if r["pruner"] == p), default=0) for p in SCORED)
    teachers = sum(runs.get(str(seed), {}).get("seconds", 0) for runs in info["teacher_runs"].values())
    return fits + scoring + teachers


def check():
    for name in ("exploratory", "dynamic-exploratory", "confirmatory", "dynamic-confirmatory"):
        folder = f"{V3}/digits/{name}"
        rows, info = load_results(folder), json.load(open(f"{folder}/info.json"))
        estimate = sum(_worker_seconds(rows, info, s) for s in {r["seed"] for r in rows}) / WORKERS
        print(f"digits {name}: estimate {estimate:,.0f} s, wall {info['wall_seconds']:,.0f} s, "
              f"ratio {info['wall_seconds'] / estimate:.2f}")  # fmt: skip


def main(n_seeds=13, main_seeds=(7, 8, 9)):
    """Per seed: medians over ``main_seeds``, the exploratory seeds that ran with nothing beside
    them (seeds 0-6 shared the machine with other work part of the time), and over every seed
    of the dynamic run."""
    folder = f"{V3}/mnist1d"
    rows, info = load_results(f"{folder}/exploratory"), json.load(open(f"{folder}/exploratory/info.json"))
    dynamic = load_results(f"{folder}/dynamic-exploratory")
    static = [r for r in rows if r["study"] != "dynamic"]  # the exploratory main ran InfoBatch too
    main = statistics.median(_worker_seconds(static, info, s) for s in main_seeds) / WORKERS
    # fraction 0.7 (trained on seed 0 only, beside other work): 0.7 / 0.5 of the rows at 0.5
    at_half = [r for r in static if r["fraction"] == 0.5 and r["study"] in ("main", "capacity")]
    seven = statistics.median(sum(r["fit_seconds"] for r in at_half if r["seed"] == s) for s in main_seeds)
    seven *= 0.7 / 0.5 / WORKERS
    # the budget study beyond F5b's and F5c's baselines: seed 0's, on five of the seeds
    extra = [r for r in static if r["seed"] == 0 and r["study"] == "budget" and r["fraction"] < 1]
    budget = sum(r["fit_seconds"] for r in extra) * 5 / n_seeds / WORKERS
    seeds = sorted({r["seed"] for r in dynamic})
    per_ratio = {ratio: statistics.median(sum(r["fit_seconds"] for r in dynamic if r["seed"] == s
                                              and r["study"] == "dynamic" and r["prune_ratio"] == ratio)
                                          for s in seeds) / WORKERS for ratio in (0.3, 0.5, 0.7)}  # fmt: skip
    shared = statistics.median(sum(r["fit_seconds"] for r in dynamic if r["seed"] == s and r["study"] == "main")
                               + info["teacher_runs"]["equal"][str(s)]["seconds"] for s in main_seeds) / WORKERS  # fmt: skip
    one, three = shared + per_ratio[0.5], shared + sum(per_ratio.values())
    print(f"per seed: main {main:.0f} s (fraction 0.7 +{seven:.0f}, the budget study +{budget:.0f}); "
          f"dynamic {three:.0f} s with prune ratios 0.3, 0.5, 0.7, {one:.0f} s with 0.5 only")  # fmt: skip
    for steps, per in (("none", main + seven + budget + three), ("1", main + budget + three),
                       ("1,2", main + three), ("1,2,3", main + one)):  # fmt: skip
        print(f"trimming steps {steps}: {per:.0f} s per seed x {n_seeds} seeds = {per * n_seeds / 3600:.2f} h")


if __name__ == "__main__":
    check() if "--check" in sys.argv else main()
