"""Render the results pages of this site from the sweeps stored in ``docs/results/``.

``docs/results.md`` (the confirmatory run, its verdicts, the exploratory run
beside it, and claim 2 against every method) and ``docs/auto_alpha.md`` (how
``alpha="auto"`` was fitted and what it costs) are a pure function of the
files in ``docs/results/``; a test fails when they differ from what this
script renders.

Usage, from the repository root::

    python docs/make_results.py            # render the pages from docs/results/

    # store new runs first (each argument is a prunekd output folder), then render:
    python docs/make_results.py --main prunekd-results --exploratory prunekd-exploratory \\
        --setting mlp=prunekd-mlp --setting noise=prunekd-noise --methods prunekd-methods
"""

import argparse
import csv
import glob
import os
import shutil
import sys

from prunekd.distillation import AUTO_ALPHA_KNOTS
from prunekd.experiments import (
    PRUNERS,
    alpha_regret,
    findings,
    fit_auto_alpha,
    knots_rule,
    load_results,
    protocol_hash,
    render_summary,
    t_interval,
    validate_auto_alpha,
)
from prunekd.experiments._auto_alpha import _regret_per_seed
from prunekd.experiments._protocol import frozen_choices
from prunekd.experiments._report import claim2_section, protocol_line
from prunekd.experiments._methods import label as method_label
from prunekd.experiments._results import Results, fmt_interval
from prunekd.experiments._store import read_json as _read_json

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _choose_pruner import choose_pruner_page  # noqa: E402  (a page of its own, beside this script)
from _results_v3 import v3_results_page  # noqa: E402

RESULTS = os.path.join(HERE, "results")
EXPLORATORY = os.path.join(RESULTS, "exploratory")
SETTINGS = os.path.join(RESULTS, "settings")
METHODS = os.path.join(RESULTS, "methods")
EARLIER = os.path.join(RESULTS, "v1")
TABLES = os.path.join(RESULTS, "tables")  # benchmarks/auto_alpha_tables.py
DATA_FILES = ("results.csv", "config.json", "info.json")

# v2's design, explicit: the command's defaults have since moved to protocol v3's.
V2 = "--teacher-epochs 30 --budget-seeds 5 --baseline-scales none"
F = "--fractions 0.1,0.2,0.3,0.5,0.7,1.0 --pruners random,el2n,grand,forgetting"
COMMANDS = """\
prunekd --restart {v2} {f} \\
    --budget-scales 0.5,2.0 --seeds 10-19 --out prunekd-results
prunekd --restart {v2} {f} \\
    --budget-scales 0.5,2.0 --seeds 0-9 --out prunekd-exploratory
prunekd --restart {v2} {f} \\
    --model mlp --teachers equal=16 --seeds 0-4 --budget-scales none --out prunekd-mlp
prunekd --restart {v2} {f} \\
    --label-noise 0.2 --teachers equal=16 --seeds 0-4 --budget-scales none --out prunekd-noise
prunekd --restart {v2} --pruners {methods} \\
    --fractions 0.1,0.2,0.3,1.0 --teachers equal=16 --seeds 10-19 --budget-scales none --out prunekd-methods
python docs/make_results.py --main prunekd-results --exploratory prunekd-exploratory \\
    --setting mlp=prunekd-mlp --setting noise=prunekd-noise --methods prunekd-methods""".format(
    v2=V2, f=F, methods=",".join(PRUNERS))


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
    """Every setting's rows for ``alpha="auto"``: exploratory seeds only, the confirmatory kept out."""
    settings = {"smallcnn": load_results(EXPLORATORY)}
    if os.path.isdir(SETTINGS):
        for name in sorted(os.listdir(SETTINGS)):
            settings[name] = load_results(os.path.join(SETTINGS, name))
    return settings


def _knots(knots):
    return ", ".join(f"({f:g}, {a:g})" for f, a in knots)


def _seeds(rows):
    return ", ".join(map(str, sorted({r["seed"] for r in rows})))


def _protocol_status(config):
    """Whether a stored run was made under the protocol this page applies."""
    if config.get("protocol_sha256") == protocol_hash():
        return "made under this protocol"
    return "made under **another** protocol (its hash differs)"


def _side_by_side(rows, config):
    """Markdown lines: each finding on the exploratory and the confirmatory run."""
    explore_rows, explore_config, explore_info = _run(EXPLORATORY)
    alpha = config["config"]["capacity_alpha"]
    confirm = findings(rows, alpha, config["config"])
    explore = {v.finding: v for v in findings(explore_rows, alpha, explore_config["config"])}
    differ = [v.finding for v in confirm if v.word != explore[v.finding].word]
    lines = [
        "## Exploratory and confirmatory runs side by side",
        "",
        f"The exploratory run is the same command with seeds {_seeds(explore_rows)} "
        f"({_provenance(explore_config, explore_info)}; {_protocol_status(explore_config)}). "
        "Its verdicts shaped nothing after the protocol was frozen (claim 2's family, 2*, "
        "is tested on the confirmatory seeds only, below). "
        + (f"The two runs' words differ on {', '.join(differ)}; the published verdict is the "
           "confirmatory one." if differ else "Every verdict has the same word in both runs."),
        "",
        f"| finding | exploratory, seeds {_seeds(explore_rows)} | confirmatory, seeds "
        f"{_seeds(rows)} | |",
        "| --- | --- | --- | --- |",
    ]
    for v in confirm:
        e = explore[v.finding]
        mark = "differ" if v.finding in differ else "agree"
        lines.append(f"| {v.finding}. {v.claim} | {e.word}: {fmt_interval(e.estimate, e.low, e.high)}"
                     f" | {v.word}: {fmt_interval(v.estimate, v.low, v.high)} | {mark} |")  # fmt: skip
    return lines + [""]


def _methods_section(rows):
    method_rows, method_config, method_info = _run(METHODS)
    results = Results(method_rows, frozen_choices(method_config["config"]))
    key = lambda r: (r["pruner"], r["fraction"], r["alpha"], r["seed"], r["teacher"])  # noqa: E731
    main_accuracy = {key(r): r["test_accuracy"] for r in rows if r["study"] == "main"}
    shared = [r for r in method_rows if key(r) in main_accuracy]
    same = sum(r["test_accuracy"] == main_accuracy[key(r)] for r in shared)
    return [
        f"## Claim 2 against all {len(results.pruners) - 1} score-based methods",
        "",
        "Claim 2's family under the protocol: every score-based method the `prunekd` command "
        f"offers ({', '.join(method_label(p) for p in results.pruners if p != 'random')}), "
        f"at the kept fractions {', '.join(f'{f:g}' for f in results.fractions)}, seeds "
        f"{_seeds(method_rows)} (the confirmatory seeds), with the equal-size teacher "
        f"({_provenance(method_config, method_info)}; {_protocol_status(method_config)}; the "
        f"command is above). Of the {len(shared)} student runs it shares with the run above, "
        f"{same} have the same test accuracy to the last digit.",
        *claim2_section(results)[1:],
    ]


def _results_intro(rows, config, info):
    epochs = config["config"]["epochs"]
    return [
        "# Results on digits under protocol v2 (superseded)",
        "",
        protocol_line(),
        "",
        "Protocol v3 supersedes these verdicts ([results under protocol v3](results_v3.md)): "
        "here the teachers trained 30 epochs, fewer than the students' 70, so the equal "
        "teacher was weaker than the full-data student it taught, and each finding was read "
        "at 95% on its own. The page stays as the record of that run.",
        "",
        "The published verdicts are those of the confirmatory run: the `prunekd` command with "
        f"v2's design (below), seeds {_seeds(rows)}, each seed with its own train/validation/test split "
        "and its own teachers (seeded apart from its students), every student trained "
        f"{epochs} epochs over its kept rows, on a 2-core CPU ({_provenance(config, info)}; "
        f"{_protocol_status(config)}). The protocol file was committed before that run, and "
        "the run before this page. The exploratory run on seeds 0 to 9 is shown beside it. "
        "The tables, the verdicts and the figures are generated (`python docs/make_results.py` "
        "renders this page from the files in `docs/results/`); the discussion at the end is "
        "ours. The raw results: [`results/results.csv`](results/results.csv), "
        "[`results/exploratory/results.csv`](results/exploratory/results.csv) and "
        "[`results/methods/results.csv`](results/methods/results.csv). To regenerate the runs "
        "and this page:",
        "",
        "```bash",
        COMMANDS,
        "```",
        "",
    ]


EARLIER_SECTION = [
    "## Earlier protocol",
    "",
    "The runs published before protocol v2 (a fixed 800 optimiser steps per student "
    "whatever its fraction, one split and one set of teachers shared by every seed) stay "
    "in `docs/results/v1/` (the default run: [`results/v1/main/results.csv`]"
    "(results/v1/main/results.csv)) and still load with "
    "`prunekd.experiments.load_results`, their cost columns empty. Their verdicts are not "
    "published: the rules they were read by favoured the paper.",
    "",
]


def results_page():
    rows, config, info = _run(RESULTS)
    summary = render_summary(rows, config["config"], info, provenance=None)
    _, _, body = summary.partition("\n")
    body = body.replace("](", "](results/")
    # Claim 2's family is the sweep of every method (below), not this run's three pruners.
    head, _, rest = body.partition("## Claim 2 against every method\n")
    body = head + rest[rest.index("\n## ") + 1 :] if rest else body
    lines = _results_intro(rows, config, info) + [body.strip("\n"), ""]
    if os.path.isdir(EXPLORATORY):
        lines += _side_by_side(rows, config)
    if os.path.isdir(METHODS):
        lines += _methods_section(rows)
    lines += EARLIER_SECTION
    with open(os.path.join(HERE, "results_discussion.md")) as f:
        lines.append(f.read().rstrip("\n"))
    return "\n".join(lines) + "\n"


DESCRIBE = {
    "smallcnn": "the exploratory run of the default command, SmallCNN students, seeds 0 to 9",
    "mlp": "an MLP student (`--model mlp`), seeds 0 to 4",
    "noise": "the SmallCNN with 20% of the training labels flipped (`--label-noise 0.2`), "
    "seeds 0 to 4",
}


def _trend(knots):
    first, last = knots[0], knots[-1]
    if first[1] - last[1] >= 0.05:
        return (f"The pooled best alpha falls from {first[1]:g} at f={first[0]:g} to "
                f"{last[1]:g} at f={last[0]:g}, so the rule does too.")  # fmt: skip
    return (f"The pooled best alpha does not fall with the fraction here ({first[1]:g} at "
            f"f={first[0]:g}, {last[1]:g} at f={last[0]:g}): the rule is flat, and so "
            "is the evidence for a falling alpha on this data.")  # fmt: skip


def _auto_alpha_intro(settings, knots):
    return [
        "# How `alpha=\"auto\"` was chosen",
        "",
        "`DistillationClassifier(alpha=\"auto\")` picks alpha from the fraction of the data the "
        "student trains on, by linear interpolation between knots (fraction, alpha). The knots "
        "are fitted to sweeps of three settings, all under the default protocol (every student "
        "trained the sweep's epochs over its kept rows) and on exploratory seeds only:",
        "",
        *(f"- **{name}**: {DESCRIBE.get(name, name)}." for name in settings),
        "",
        "Per fraction, the validation accuracy over the KD alphas is averaged over seeds and "
        "pruners within a setting, then over settings; a quadratic fitted to that curve gives "
        "the best alpha; an isotonic regression makes the result non-increasing in the "
        "fraction (`prunekd.experiments.fit_auto_alpha`). Fitted on every setting: "
        f"{_knots(knots)}. {_trend(knots)}",
        "",
        f"prunekd's knots (`prunekd.distillation.AUTO_ALPHA_KNOTS`): {_knots(AUTO_ALPHA_KNOTS)}.",
        "",
    ]


def auto_alpha_page():
    settings = _settings()
    knots = fit_auto_alpha(settings)
    lines = _auto_alpha_intro(settings, knots) + [
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
    for row in validate_auto_alpha(settings):
        lines.append(
            f"| {row['setting']} | {_knots(row['knots_out'])} | {fmt_interval(*row['regret_out'])} "
            f"| {fmt_interval(*row['regret_all'])} | {fmt_interval(*row['regret_fixed'])} "
            f"| {fmt_interval(*row['fixed_minus_out'])} |"
        )
    lines += _held_out_lines() + _tables_lines()
    lines += [
        "",
        "Regenerate with the commands of the [results page](results.md); this page is rendered "
        "by `python docs/make_results.py`.",
    ]
    return "\n".join(lines) + "\n"


def _held_out_lines():
    """The rule's regret on the confirmatory run: seeds, splits and teachers it never saw."""
    if not os.path.isdir(EXPLORATORY):
        return []
    rows = load_results(RESULTS)
    auto = alpha_regret(rows, knots_rule(AUTO_ALPHA_KNOTS))
    fixed = {a: alpha_regret(rows, lambda f, a=a: a) for a in (0.25, 0.5, 1.0)}
    return [
        "",
        "## On the confirmatory run",
        "",
        f"The confirmatory run (seeds {_seeds(rows)}, each with its own split and teachers) was "
        "not used to fit the knots. Its regret, in points as above: "
        f'`alpha="auto"` {fmt_interval(*auto)}; fixed alphas '
        + ", ".join(f"{a:g}: {fmt_interval(*r)}" for a, r in fixed.items())
        + ".",
        "",
        _which_to_use(auto, fixed),
    ]


def _read_rows(path):
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for key in ("fraction", "alpha", "val_accuracy", "test_accuracy"):
            row[key] = float(row[key])
        row["seed"] = int(row["seed"])
    return rows


def _tables_lines():
    """The rule on data it was never fitted on: tables through the models of prunekd --data."""
    paths = sorted(glob.glob(os.path.join(TABLES, "*.csv")))
    if not paths:
        return []
    lines = [
        "",
        "## On tables it was not fitted on",
        "",
        "Two generated tables (6,000 rows: one of 20 numeric columns and 4 classes, one of "
        "numbers with gaps and text categories and 3 classes), written to CSV and read by "
        "`prunekd.tuning.load_data`, with the models of `prunekd --data`: a gradient-boosting "
        "teacher on the raw columns, an MLP student behind the table preprocessing, random "
        "pruning, 30 epochs over the kept rows, seeds 0 to 4 (each its own split and teacher). "
        "Regret in points as above; the last column is the rule's regret minus that of the best "
        "fixed alpha on the table, paired by seed (above 0: the fixed alpha loses less). Made "
        "by `python benchmarks/auto_alpha_tables.py --out docs/results/tables`.",
        "",
        '| table | `alpha="auto"` | fixed 0.25 | fixed 0.5 | fixed 1 | rule − best fixed |',
        "| --- | --- | --- | --- | --- | --- |",
    ]
    verdicts = []
    for path in paths:
        rows = _read_rows(path)
        auto = _regret_per_seed(rows, knots_rule(AUTO_ALPHA_KNOTS))
        fixed = {a: _regret_per_seed(rows, lambda f, a=a: a) for a in (0.25, 0.5, 1.0)}
        best = min(fixed, key=lambda a: fixed[a].mean())
        diff = t_interval(auto - fixed[best])
        name = os.path.splitext(os.path.basename(path))[0]
        lines.append(f"| {name} | {fmt_interval(*t_interval(auto))} | "
                     + " | ".join(fmt_interval(*t_interval(r)) for r in fixed.values())
                     + f" | {fmt_interval(*diff)} (vs {best:g}) |")  # fmt: skip
        verdicts.append((name, best, diff))
    lines += ["", _tables_verdict(verdicts)]
    return lines


def _tables_verdict(verdicts):
    worse = [f"{n} (vs {b:g})" for n, b, d in verdicts if d[1] > 0]
    better = [n for n, b, d in verdicts if d[2] < 0]
    text = []
    if worse:
        text.append("On " + ", ".join(worse) + " the rule loses more than a fixed alpha, "
                    "its interval above 0.")  # fmt: skip
    if better:
        text.append("On " + ", ".join(better) + " the rule loses less than the best fixed alpha.")
    if not worse and not better:
        text.append("On these tables the rule and the best fixed alpha cannot be told apart.")
    text.append("When to use which: `alpha=\"auto\"` encodes what digits sweeps taught, "
                "including noisy labels; on data of another kind, search alpha per fraction "
                "(`prunekd --data`, or `GridSearchCV` with `best_alpha_per_fraction`) when the "
                "budget allows, and treat `\"auto\"` as a starting point.")  # fmt: skip
    return " ".join(text)


def _which_to_use(auto, fixed):
    best = min(fixed, key=lambda a: fixed[a][0])
    if auto[0] <= fixed[best][0]:
        return "On that run the rule loses no more than the best fixed alpha."
    return (f"On that run the rule does not beat a fixed alpha: {best:g} loses less. With clean "
            "labels on digits, a fixed alpha does as well as the rule; the rule's knots carry "
            "what the noisy-label setting taught, where the table above shows fixed alphas "
            "losing more.")  # fmt: skip


def _methods_command():
    lines = COMMANDS.split("\n")
    start = next(i for i, line in enumerate(lines) if "--pruners random,el2n,grand,forgetting," in line)
    return "\n".join(lines[start : start + 2])


def pages():
    """Every page this script writes: {path: text}."""
    return {
        os.path.join(HERE, "results_v3.md"): v3_results_page(),
        os.path.join(HERE, "results.md"): results_page(),
        os.path.join(HERE, "auto_alpha.md"): auto_alpha_page(),
        os.path.join(HERE, "choose_pruner.md"): choose_pruner_page(
            load_results(METHODS), _methods_command()
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--main", help="a prunekd output folder: the default run")
    parser.add_argument("--exploratory", help="a prunekd output folder: the exploratory run")
    parser.add_argument("--methods", help="a prunekd output folder: every pruner, small fractions")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=FOLDER",
                        help="another setting for alpha='auto'")  # fmt: skip
    args = parser.parse_args(argv)
    if args.main:
        _store(args.main, RESULTS, figures=True)
    if args.exploratory:
        _store(args.exploratory, EXPLORATORY)
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
