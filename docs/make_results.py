"""Render the results pages of this site from the sweeps stored in ``docs/results/``.

``docs/results.md`` (the default run, its verdicts, and the same verdicts on a
rerun with other seeds) and ``docs/auto_alpha.md`` (how ``alpha="auto"`` was
fitted and what it costs) are a pure function of the files in
``docs/results/``; a test fails when they differ from what this script renders.

Usage, from the repository root::

    python docs/make_results.py            # render the pages from docs/results/

    # store new runs first (each argument is a prunekd output folder), then render:
    python docs/make_results.py --main prunekd-results --rerun prunekd-rerun \\
        --setting mlp=prunekd-mlp --setting noise=prunekd-noise --methods prunekd-methods
"""

import argparse
import os
import shutil
import sys

from prunekd.distillation import AUTO_ALPHA_KNOTS
from prunekd.experiments import (
    PRUNERS,
    findings,
    fit_auto_alpha,
    load_results,
    render_summary,
    validate_auto_alpha,
)
from prunekd.experiments._results import PRUNER_LABELS, Results, fmt_interval
from prunekd.experiments._report import claim2_section
from prunekd.experiments._store import read_json as _read_json

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
RERUN = os.path.join(RESULTS, "rerun")
SETTINGS = os.path.join(RESULTS, "settings")
METHODS = os.path.join(RESULTS, "methods")
DATA_FILES = ("results.csv", "config.json", "info.json")

COMMANDS = """\
prunekd --restart --out prunekd-results
prunekd --restart --seeds 5,6,7,8,9 --out prunekd-rerun
prunekd --restart --model mlp --teachers equal=16 --out prunekd-mlp
prunekd --restart --label-noise 0.2 --teachers equal=16 --out prunekd-noise
prunekd --restart --pruners {methods} \\
    --fractions 0.1,0.2,0.3,1.0 --teachers equal=16 --out prunekd-methods
python docs/make_results.py --main prunekd-results --rerun prunekd-rerun \\
    --setting mlp=prunekd-mlp --setting noise=prunekd-noise --methods prunekd-methods""".format(
    methods=",".join(PRUNERS))


def _store(source, target, figures=False):
    os.makedirs(target, exist_ok=True)
    for name in sorted(os.listdir(source)):
        if name in DATA_FILES or (figures and name.endswith(".png")):
            shutil.copy(os.path.join(source, name), os.path.join(target, name))


def _run(folder):
    config = _read_json(os.path.join(folder, "config.json"))
    return load_results(folder), config, _read_json(os.path.join(folder, "info.json"))


def _provenance(config, info):
    return (f"prunekd {info.get('prunekd_version', config.get('prunekd_version'))}, revision "
            f"{', '.join(info.get('revisions', [str(config.get('revision'))]))}")  # fmt: skip


def _settings():
    """Every setting's rows for ``alpha="auto"``: the default model (both seed sets) and the others."""
    main_rows = load_results(RESULTS) + (load_results(RERUN) if os.path.isdir(RERUN) else [])
    settings = {"smallcnn": main_rows}
    if os.path.isdir(SETTINGS):
        for name in sorted(os.listdir(SETTINGS)):
            settings[name] = load_results(os.path.join(SETTINGS, name))
    return settings


def _knots(knots):
    return ", ".join(f"({f:g}, {a:g})" for f, a in knots)


def results_page():
    rows, config, info = _run(RESULTS)
    summary = render_summary(rows, config["config"], info, provenance=None)
    _, _, body = summary.partition("\n")
    body = body.replace("](", "](results/")
    lines = [
        "# Results on digits",
        "",
        "Everything below comes from the default run of the `prunekd` command (5 seeds) on "
        "scikit-learn's 8x8 digits, on a 2-core CPU, and from a rerun of it with 5 other "
        "seeds; the raw results are in [`results/results.csv`](results/results.csv) and "
        "[`results/rerun/results.csv`](results/rerun/results.csv). The tables, the verdicts "
        "and the figures are generated (`python docs/make_results.py` renders this page from "
        "those files); the discussion at the end is ours. Produced by "
        f"{_provenance(config, info)}. To regenerate the runs and this page:",
        "",
        "```bash",
        COMMANDS,
        "```",
        "",
        body.strip("\n"),
        "",
    ]
    if os.path.isdir(RERUN):
        rerun_rows, rerun_config, rerun_info = _run(RERUN)
        first = findings(rows, config["config"]["capacity_alpha"])
        second = {v.finding: v for v in findings(rerun_rows, rerun_config["config"]["capacity_alpha"])}
        seeds = lambda rs: ", ".join(map(str, sorted({r["seed"] for r in rs})))  # noqa: E731
        agree = sum(v.word == second[v.finding].word for v in first if v.finding in second)
        both = {v.finding: v for v in findings(rows + rerun_rows, config["config"]["capacity_alpha"])}
        lines += [
            "## A rerun with other seeds",
            "",
            f"The same sweep with seeds {seeds(rerun_rows)} instead of {seeds(rows)} "
            f"({_provenance(rerun_config, rerun_info)}). A verdict must not flip between "
            f"disjoint seed sets: {agree} of {len(first)} verdicts agree. The last column "
            "pools both runs: the same statistics over all 10 seeds.",
            "",
            f"| finding | seeds {seeds(rows)} | seeds {seeds(rerun_rows)} | all 10 seeds |",
            "| --- | --- | --- | --- |",
        ]
        for v in first:
            cells = [f"{x.word}: {fmt_interval(x.estimate, x.low, x.high)}"
                     for x in (v, second[v.finding], both[v.finding])]  # fmt: skip
            lines.append(f"| {v.finding}. {v.claim} | {' | '.join(cells)} |")
        lines.append("")
    if os.path.isdir(METHODS):
        method_rows, method_config, method_info = _run(METHODS)
        results = Results(method_rows)
        key = lambda r: (r["pruner"], r["fraction"], r["alpha"], r["seed"], r["teacher"])  # noqa: E731
        main_accuracy = {key(r): r["test_accuracy"] for r in rows}
        shared = [r for r in method_rows if key(r) in main_accuracy]
        same = sum(r["test_accuracy"] == main_accuracy[key(r)] for r in shared)
        table = claim2_section(results)[1:]  # under this page's own heading
        lines += [
            f"## Claim 2 against all {len(results.pruners) - 1} score-based methods",
            "",
            f"A sweep with every pruner prunekd has ({', '.join(PRUNER_LABELS[p] for p in results.pruners)}), at the "
            f"kept fractions {', '.join(f'{f:g}' for f in results.fractions)}, seeds "
            f"{', '.join(map(str, results.seeds))}, and only the equal-size teacher "
            f"({_provenance(method_config, method_info)}; the command is above). Of the "
            f"{len(shared)} student runs it shares with the main run, {same} have the same "
            "test accuracy to the last digit.",
            *table,
        ]
    with open(os.path.join(HERE, "results_discussion.md")) as f:
        lines.append(f.read().rstrip("\n"))
    return "\n".join(lines) + "\n"


def auto_alpha_page():
    settings = _settings()
    knots = fit_auto_alpha(settings)
    table = validate_auto_alpha(settings)
    first, last = knots[0], knots[-1]
    if first[1] - last[1] >= 0.05:
        trend = (f"The pooled best alpha falls from {first[1]:g} at f={first[0]:g} to "
                 f"{last[1]:g} at f={last[0]:g}, so the rule does too.")  # fmt: skip
    else:
        trend = (f"The pooled best alpha does not fall with the fraction here ({first[1]:g} at "
                 f"f={first[0]:g}, {last[1]:g} at f={last[0]:g}): the rule is flat, and so "
                 "is the evidence for a falling alpha on this data.")  # fmt: skip
    describe = {
        "smallcnn": "the default run's SmallCNN student, both seed sets (10 seeds)",
        "mlp": "an MLP student (`--model mlp`), 5 seeds",
        "noise": "the SmallCNN with 20% of the training labels flipped (`--label-noise 0.2`), 5 seeds",
    }
    lines = [
        "# How `alpha=\"auto\"` was chosen",
        "",
        "`DistillationClassifier(alpha=\"auto\")` picks alpha from the fraction of the data the "
        "student trains on, by linear interpolation between knots (fraction, alpha). The knots "
        "are fitted to sweeps of three settings:",
        "",
        *(f"- **{name}**: {describe.get(name, name)}." for name in settings),
        "",
        "Per fraction, the validation accuracy over the KD alphas is averaged over seeds and "
        "pruners within a setting, then over settings; a quadratic fitted to that curve gives "
        "the best alpha; an isotonic regression makes the result non-increasing in the "
        "fraction (`prunekd.experiments.fit_auto_alpha`). Fitted on every setting: "
        f"{_knots(knots)}. {trend}",
        "",
        f"prunekd's knots (`prunekd.distillation.AUTO_ALPHA_KNOTS`): {_knots(AUTO_ALPHA_KNOTS)}.",
        "",
        "## Validated out of sample",
        "",
        "For each setting, the rule is fitted on the *other* settings and applied to the one "
        "left out. Its regret is the test accuracy lost against the best alpha of each "
        "(pruner, fraction) cell (an oracle chosen on the test split, which no rule can beat on "
        "average), in points, mean over cells, with a 95% interval over seeds "
        "(`prunekd.experiments.alpha_regret`). A fixed alpha of 0.5 is the baseline; the "
        "last column is its regret minus the rule's, paired by seed (above 0: the rule "
        "loses less).",
        "",
        "| left out | knots fitted without it | regret of that rule | regret, rule fitted on all "
        "| regret, fixed alpha 0.5 | fixed 0.5 − rule |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in table:
        lines.append(
            f"| {row['setting']} | {_knots(row['knots_out'])} | {fmt_interval(*row['regret_out'])} "
            f"| {fmt_interval(*row['regret_all'])} | {fmt_interval(*row['regret_fixed'])} "
            f"| {fmt_interval(*row['fixed_minus_out'])} |"
        )
    lines += [
        "",
        "Regenerate with the commands of the [results page](results.md); this page is rendered "
        "by `python docs/make_results.py`.",
    ]
    return "\n".join(lines) + "\n"


def pages():
    """Every page this script writes: {path: text}."""
    return {
        os.path.join(HERE, "results.md"): results_page(),
        os.path.join(HERE, "auto_alpha.md"): auto_alpha_page(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--main", help="a prunekd output folder: the default run")
    parser.add_argument("--rerun", help="a prunekd output folder: the default run, other seeds")
    parser.add_argument("--methods", help="a prunekd output folder: every pruner, small fractions")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=FOLDER",
                        help="another setting for alpha='auto'")  # fmt: skip
    args = parser.parse_args(argv)
    if args.main:
        _store(args.main, RESULTS, figures=True)
    if args.rerun:
        _store(args.rerun, RERUN)
    if args.methods:
        _store(args.methods, METHODS)
    for item in args.setting:
        name, _, folder = item.partition("=")
        _store(folder, os.path.join(SETTINGS, name))
    for path, text in pages().items():
        with open(path, "w") as f:
            f.write(text)
        print(f"wrote {os.path.relpath(path)}")


if __name__ == "__main__":
    sys.exit(main())
