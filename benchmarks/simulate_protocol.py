"""Seeds sized in advance, and the family's error rates checked by simulation (results protocol v3).

For each dataset of ``prunekd/experiments/protocol_v3.json``'s ``sizing``
section: every primary finding's planning SD (of its per-seed paired
difference, in points) raised to its upper 80% confidence limit, its
threshold (0, or ``-margin``) and its minimal effect of interest; the seeds
each needs for ``power`` at Holm's strictest level (two-sided ``alpha / k``;
exact, by the noncentral t), and the design's count (the largest, at least
``min_seeds``). Then simulated runs of that many seeds, read by the library's
own rule (:func:`prunekd.experiments._family.holm_verdicts`), with the
findings' draws independent and equicorrelated (rho = 0.5: they share runs):

* the global null (every finding's true value at its threshold): how often
  each reads "reproduced" and how often any finding reads a wrong word;
* one finding at its null, the others at their minimal effects: how often
  that finding reads "reproduced";
* every finding at its minimal effect: how often each reads "reproduced".

Rates carry their Monte Carlo standard error.

Usage::

    python benchmarks/simulate_protocol.py [--runs 10000] [--protocol PATH]
"""

import argparse
import json
import pathlib

import numpy as np
from scipy import stats

from prunekd.experiments._family import holm_verdicts

ROOT = pathlib.Path(__file__).resolve().parents[1]
RHO = 0.5


def power(n, sd, effect, level):
    """Power of the two-sided t-test at ``level`` for a true distance ``effect`` from the threshold."""
    df, ncp = n - 1, effect * np.sqrt(n) / sd
    critical = stats.t.ppf(1 - level / 2, df)
    # scipy's noncentral t returns NaN for the far tail at a large noncentrality, where the
    # wrong-side rejection is ~0: a NaN there would end seeds_needed's search early
    wrong_side = np.nan_to_num(stats.nct.cdf(-critical, df, ncp), nan=0.0)
    return float(stats.nct.sf(critical, df, ncp) + wrong_side)


def seeds_needed(sd, effect, level, target=0.8):
    """The smallest number of seeds whose power reaches ``target``."""
    n = 3
    while power(n, sd, effect, level) < target:
        n += 1
    return n


def upper_sd(sd, df, confidence=0.8):
    """The upper ``confidence`` limit of a standard deviation estimated with ``df`` degrees of freedom."""
    return sd * np.sqrt(df / stats.chi2.ppf(1 - confidence, df))


def _draws(findings, n, truth, rho, rng):
    """Per-seed values of every finding: true value ``truth[name]``, SD its own, correlation rho."""
    names = list(findings)
    shared = rng.randn(n)
    out = {}
    for name in names:
        noise = np.sqrt(rho) * shared + np.sqrt(1 - rho) * rng.randn(n)
        out[name] = (truth[name] + findings[name]["sd"] * noise, findings[name]["threshold"])
    return out


def _rates(findings, n, truth, rho, runs, rng):
    """How often each finding reads each word, and how often any reads a wrong one."""
    counts = {name: {"reproduced": 0, "contradicted": 0} for name in findings}
    wrong = any_reproduced = 0
    for _ in range(runs):
        verdicts = holm_verdicts(_draws(findings, n, truth, rho, rng))
        bad = False
        for name, v in verdicts.items():
            if v.word in counts[name]:
                counts[name][v.word] += 1
            side = truth[name] - findings[name]["threshold"]
            bad |= (v.word == "reproduced" and side <= 0) or (v.word == "contradicted" and side >= 0)
        wrong += bad
        any_reproduced += any(v.word == "reproduced" for v in verdicts.values())
    rates = {k: {w: c / runs for w, c in v.items()} for k, v in counts.items()}
    return rates, wrong / runs, any_reproduced / runs


def _se(rate, runs):
    return np.sqrt(max(rate * (1 - rate), 1 / runs) / runs)


def _report(dataset, plan, sizing, alpha, runs):
    findings = {
        name: {**f, "sd": upper_sd(f["sd"], plan["df"])} for name, f in plan["findings"].items()
    }
    k = len(findings)
    level = alpha / k
    print(f"== {dataset}: margin {plan['margin']} points, Holm's strictest level {alpha}/{k} = "
          f"{level:.4f} (two-sided), power {sizing['power']}, SDs at their upper 80% limit "
          f"(df {plan['df']})")  # fmt: skip
    needed = {}
    for name, f in findings.items():
        needed[name] = seeds_needed(f["sd"], f["effect"] - f["threshold"], level, sizing["power"])
        print(f"  {name}: sd {plan['findings'][name]['sd']:.2f} -> {f['sd']:.2f}, threshold "
              f"{f['threshold']:+.2f}, effect {f['effect']:+.2f}: {needed[name]} seeds")  # fmt: skip
    n = max(max(needed.values()), sizing["min_seeds"])
    print(f"  design: {n} seeds; {runs} simulated runs per scenario (rate ± Monte Carlo SE)")
    null = {name: f["threshold"] for name, f in findings.items()}
    effects = {name: f["effect"] for name, f in findings.items()}
    for rho in (0.0, RHO):
        rng = np.random.RandomState(0)
        print(f"  draws with correlation {rho}:")
        rates, wrong, family = _rates(findings, n, null, rho, runs, rng)
        worst = max(r["reproduced"] for r in rates.values())
        print(f"    global null: some finding reproduced {family:.4f} ± {_se(family, runs):.4f}, "
              f"each at most {worst:.4f}; any wrong word (either) {wrong:.4f} ± "
              f"{_se(wrong, runs):.4f}")  # fmt: skip
        for name in findings:
            truth = {**effects, name: null[name]}
            rate = _rates(findings, n, truth, rho, runs // 10, rng)[0][name]["reproduced"]
            print(f"    {name} at its null, the others at their effects: reproduced "
                  f"{rate:.4f} ± {_se(rate, runs // 10):.4f}")  # fmt: skip
        rates = _rates(findings, n, effects, rho, runs, rng)[0]
        print("    every finding at its minimal effect: reproduced "
              + ", ".join(f"{k} {v['reproduced']:.3f}" for k, v in rates.items()))  # fmt: skip


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10000)
    p.add_argument("--protocol", default=str(ROOT / "prunekd/experiments/protocol_v3.json"))
    args = p.parse_args()
    protocol = json.loads(pathlib.Path(args.protocol).read_text())
    sizing = protocol["sizing"]
    for dataset, plan in sizing["datasets"].items():
        _report(dataset, plan, sizing, protocol["family"]["alpha"], args.runs)


if __name__ == "__main__":
    main()
