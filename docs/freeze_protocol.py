"""Freeze the protocol's choices from the exploratory run: the alphas and finding 2's comparators.

The rule, stated in ``prunekd/experiments/protocol.json``: on the exploratory
seeds, per (pruner, fraction) the KD alpha with the best mean validation
accuracy (ties: the smaller); per small fraction, the score-based pruner with
the best mean validation accuracy with KD at its frozen alpha; and for the
methods not in the exploratory run (claim 2's family), per fraction the alpha
with the best validation accuracy averaged over the exploratory pruners. The
test split is never read. Writes the choices under ``"frozen"``.

Usage, from the repository root::

    python docs/freeze_protocol.py docs/results/exploratory
"""

import json
import sys

import numpy as np

from prunekd.experiments import load_results, protocol
from prunekd.experiments._protocol import PATH
from prunekd.experiments._results import Results, nanmean


def choices(rows):
    r = Results(rows)
    alphas = {p: {f"{f:g}": r.chosen_alpha(p, f) for f in r.fractions} for p in r.pruners}
    pooled = {}
    for f in r.fractions:
        means = [nanmean([nanmean(r.kd(p, f, a, "val_accuracy")) for p in r.pruners])
                 for a in r.kd_alphas]  # fmt: skip
        pooled[f"{f:g}"] = r.kd_alphas[int(np.nanargmax(means))]
    scored = [p for p in r.pruners if p != "random"]
    comparators = {}
    for f in protocol()["small_fractions"]:
        val = [nanmean(r.kd(q, f, alphas[q][f"{f:g}"], "val_accuracy")) for q in scored]
        comparators[f"{f:g}"] = scored[int(np.nanargmax(val))]
    return {
        "rule": "read off the exploratory run (seeds "
        + ", ".join(map(str, r.seeds))
        + ") by docs/freeze_protocol.py: validation accuracy only",
        "alphas": alphas,
        "pooled_alphas": pooled,
        "comparators": comparators,
    }


def main(folder):
    with open(PATH) as f:
        spec = json.load(f)
    spec["frozen"] = choices(load_results(folder))
    with open(PATH, "w") as f:
        json.dump(spec, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(json.dumps(spec["frozen"], indent=2))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
