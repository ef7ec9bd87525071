"""The results page under protocol v3 (``docs/results_v3.md``): both datasets side by side.

A pure function of the runs stored in ``docs/results/v3/<dataset>/`` and of
``prunekd/experiments/protocol_v3.json``; ``docs/make_results.py`` writes it and
a test fails when the page differs from what this module renders. A dataset
whose confirmatory runs are not stored yet reads "not run yet" in every cell.
"""

import json
import os

from prunekd.experiments import load_results, pending_runs
from prunekd.experiments._claim2_v3 import claim_2_lines, claim_2_v3
from prunekd.experiments._compute import compute_table
from prunekd.experiments._dynamic_report import dynamic_lines
from prunekd.experiments._family import holm_verdicts
from prunekd.experiments._findings_v3 import NOT_WORSE, primary_family
from prunekd.experiments._methods import label
from prunekd.experiments._protocol import claim_2_family_v3, protocol_v3, protocol_v3_hash
from prunekd.experiments._report_v3 import borrow_teachers, teacher_agreement_lines, v3_section
from prunekd.experiments._results import Results, fmt_interval
from prunekd.experiments._store import run_key

HERE = os.path.dirname(os.path.abspath(__file__))
V3 = os.path.join(HERE, "results", "v3")

# The commits that gave protocol_v3.json each content a stored run saw (sha256 of the file,
# first 12 hex digits). tests/test_docs_results.py checks every entry against git's history.
PROTOCOL_COMMITS = {
    "1d0120873d6e": ("75a5830", "draft"),
    "e46d0f8b66aa": ("4c7c728", "frozen for digits"),
    "ed10ed3de12b": ("2cbfe26", "addendum: claim-2 methods' alphas on digits"),
    "8d857db48c7a": ("35eac06", "frozen for MNIST-1D"),
}


# Flags that make a frozen command rerun its stored grid under today's defaults, and why.
_PAPER = "--pruners random,el2n,grand,forgetting"
SINCE_FROZEN = {("digits", "main"): f"{_PAPER} --secondary", ("mnist1d", "main"): "--secondary"}
WHY = {_PAPER: "the defaults were v2's design when digits froze (v3's add the dynamic study)",
       "--secondary": "by default the command trains only the runs primary findings read"}  # fmt: skip


def rerun_command(dataset, part):
    """The frozen command of a dataset's ``part`` ("main", "dynamic"), as it reruns today."""
    command = protocol_v3()["frozen"][dataset]["commands"][part]
    extra = SINCE_FROZEN.get((dataset, part))
    return command if extra is None else command.replace("prunekd ", f"prunekd {extra} ", 1)


def _flag_value(value):
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) or "none"
    return str(value)


def _seed_range(seeds):
    consecutive = seeds == list(range(seeds[0], seeds[-1] + 1))
    return f"{seeds[0]}-{seeds[-1]}" if consecutive and len(seeds) > 2 else _flag_value(seeds)


def command_of(folder):
    """A ``prunekd`` command that trains the stored run's settings and grid, every flag explicit."""
    config = _read(folder)[1]["config"]
    flags = ["dataset", "model", "width", "pruners", "fractions", "alphas", "teachers",
             "teacher_epochs", "epochs", "budget_scales", "budget_seeds", "baseline_scales",
             "prune_ratios"]  # fmt: skip
    # a run stored before --baseline-scales existed trained none
    config = {"baseline_scales": [], **config, "teachers": config["teacher_widths"]}
    words = ["prunekd", "--seeds", _seed_range(config["seeds"])]
    for flag in flags:
        if config.get(flag) is not None:
            words += [f"--{flag.replace('_', '-')}", _flag_value(config[flag])]
    if config.get("test_pool_seed") is not None:
        words += ["--test-pool-seed", str(config["test_pool_seed"])]
    words += ["--secondary"] if config.get("secondary", True) else []  # stored before: trained
    return " ".join(words + ["--out", os.path.relpath(folder, os.path.dirname(HERE))])


def _n_seeds(rows):
    n = len({r["seed"] for r in rows})
    return f"{n} seed" + ("s" if n != 1 else "")


def _other_run_lines(dataset, run):
    """Every other stored run of the dataset (exploratory, resume checks): its command and time."""
    folder = os.path.dirname(run["main"])
    lines = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name in ("confirmatory", "dynamic-confirmatory") or not os.path.exists(
            os.path.join(path, "info.json")
        ):
            continue
        rows, _, info = _read(path)
        lines += [f"- {name}: {_n_seeds(rows)}, {len(rows):,} rows, {_record(info)}", "",
                  f"  `{command_of(path)}`", ""]  # fmt: skip
    return lines


def stored_runs(root=V3):
    """``{dataset: {"main": dir, "dynamic": dir[, "recheck": dir]}}`` of the stored confirmatory runs."""
    runs = {}
    for dataset in protocol_v3()["datasets"]:
        folder = os.path.join(root, dataset)
        main, dynamic = (
            os.path.join(folder, name) for name in ("confirmatory", "dynamic-confirmatory")
        )
        # A run committed part-way (resumed across sessions) is not read until it is complete.
        if all(_complete(d) for d in (main, dynamic)):
            runs[dataset] = {"main": main, "dynamic": dynamic}
            for part, name in (("recheck", "recheck"), ("recheck_dynamic", "recheck-dynamic")):
                if os.path.exists(os.path.join(folder, name, "results.csv")):
                    runs[dataset][part] = os.path.join(folder, name)
    return runs


def _complete(folder):
    stored = os.path.exists(os.path.join(folder, "results.csv"))
    return stored and os.path.exists(os.path.join(folder, "info.json")) and not pending_runs(folder)


def _read(folder):
    with open(os.path.join(folder, "info.json")) as f:
        info = json.load(f)
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    return load_results(folder), config, info


def _main_run(run):
    """The main run's rows, config and info, with the teachers its info.json lacks taken from
    the dataset's other runs that fit the same teachers (:func:`borrow_teachers` checks)."""
    rows, config, info = _read(run["main"])
    others = {"dynamic sweep": _read(run["dynamic"])[2]}
    methods = os.path.join(os.path.dirname(run["main"]), "methods")
    if _complete(methods):
        others["methods sweep"] = _read(methods)[2]
    return rows, config, borrow_teachers(info, others, {r["seed"] for r in rows})


def verdicts(spec, dataset, run):
    """``{finding: (word, estimate, low, high)}`` of one dataset, or None when it has no run."""
    if run is None:
        return None
    rows, _, info = _main_run(run)
    dynamic = load_results(run["dynamic"])
    frozen = spec["frozen"][dataset]
    r = Results(rows, frozen)
    family, notes = primary_family(r, dynamic, spec, dataset, frozen, frozen["margin"], info)
    out = {}
    for name, v in holm_verdicts(family, alpha=spec["family"]["alpha"]).items():
        out[name] = (notes.get(name, v.word), v.estimate, v.low, v.high)
    return out


def _side_by_side(spec, runs):
    datasets = list(spec["datasets"])
    found = {d: verdicts(spec, d, runs.get(d)) for d in datasets}
    lines = [
        "| finding | " + " | ".join(datasets) + " | holds on both |",
        "| --- " * (len(datasets) + 2) + "|",
    ]
    for name in spec["family"]["primary"]:
        cells, words = [], []
        for d in datasets:
            if found[d] is None:
                cells.append("not run yet")
                words.append(None)
                continue
            word, estimate, low, high = found[d][name]
            flag = " (significantly below 0)" if name in NOT_WORSE and high < 0 else ""
            cells.append(f"{word}{flag}: {fmt_interval(estimate, low, high, scale=1, digits=2)}")
            words.append(word)
        if any(w is None for w in words):
            both = "not yet"
        else:
            both = "yes" if all(w == "reproduced" for w in words) else "no"
        lines.append(f"| {name}. {spec['findings'][name]['claim']} | " + " | ".join(cells)
                     + f" | {both} |")  # fmt: skip
    return lines + ["", *_comparator_lines(spec)]


def _comparator_lines(spec):
    """F2's "best score-based pruner", named: the comparator frozen per dataset and fraction."""
    named = []
    for dataset, frozen in spec["frozen"].items():
        pairs = ", ".join(f"{label(p)} at f = {f}" for f, p in frozen["comparators"].items())
        named.append(f"{dataset}: {pairs}")
    return [
        "F2's comparator, 'the best score-based pruner', is the one of EL2N, GraNd and Forgetting "
        "with the best validation accuracy with KD on the exploratory seeds, frozen per fraction "
        "before the confirmatory run (" + "; ".join(named) + ")."
    ]


def _record(info):
    """A run's wall time, and the protocol and revisions its invocations saw, from info.json."""
    revisions = ", ".join(_short(r) for r in sorted(info.get("revisions", [])))
    machines = "; ".join(info.get("machines", []))
    return (f"{info.get('wall_seconds', float('nan')):,.0f} s of wall time on 2 cores (summed "
            f"over its invocations). Protocol v3 as each invocation saw it: {_hashes(info)}. "
            f"Revisions: {revisions or 'not recorded'}. Machines: {machines or 'not recorded'}.")  # fmt: skip


def _hashes(info):
    named = []
    for h in info.get("protocol_v3_sha256", []):
        commit, what = PROTOCOL_COMMITS.get(h[:12], ("an uncommitted draft", "?"))
        named.append(f"{h[:12]} ({commit}, {what})")
    return "; ".join(named) or "not recorded"


def _short(revision):
    return revision[:7] + ("+modified" if revision.endswith("+modified") else "")


def _recheck_line(stored_folder, folder):
    """Rows recomputed from scratch at one revision against the stored ones: the resume check."""
    stored = load_results(stored_folder)
    again, config, _ = _read(folder)
    key = ("study", "pruner", "fraction", "alpha", "seed", "teacher", "budget_scale", "prune_ratio")
    index = {tuple(r[k] for k in key): r for r in stored}
    metrics = ("val_accuracy", "test_accuracy")
    same = sum(all(index[tuple(r[k] for k in key)][m] == r[m] for m in metrics) for r in again)
    seeds = ", ".join(str(s) for s in sorted({r["seed"] for r in again}))
    where = os.path.relpath(folder, os.path.dirname(HERE))
    return (f"- Resume check: seed{'s' if ',' in seeds else ''} {seeds} rerun from scratch at revision {_short(config['revision'])} "
            f"(`{where}`): {same} of {len(again)} rows have the stored validation and test accuracy exactly.")  # fmt: skip


def _runs_lines(spec, dataset, run):
    lines = [f"### {dataset}", ""]
    for part in ("main", "dynamic"):
        rows, _, info = _read(run[part])
        lines += [
            f"- {part} sweep: {len({r['seed'] for r in rows})} seeds, {len(rows):,} rows, "
            f"{_record(info)}",
            "",
            f"  `{rerun_command(dataset, part)}`",
            "",
        ]
    for (d, part), extra in SINCE_FROZEN.items():
        if d == dataset:
            why = "; ".join(text for flag, text in WHY.items() if flag in extra)
            lines += [f"The {part} command adds `{extra}` to the one frozen in the protocol, so "
                      f"that it trains the stored run's grid: {why}.", ""]  # fmt: skip
    checks = [_recheck_line(run[stored], run[part])
              for part, stored in (("recheck", "main"), ("recheck_dynamic", "dynamic"))
              if part in run]  # fmt: skip
    lines += [
        "A revision marked +modified is one whose package source had uncommitted changes when "
        "that invocation started. Every row depends only on its seed and settings, whatever "
        "the revision or the invocation that made it"
        + (", which the resume check tests:" if checks else "."),
        "",
        *checks,
    ]
    return lines + ["", f"The other stored runs of {dataset}:", "", *_other_run_lines(dataset, run)]


def _scope_lines(spec):
    lines = []
    for dataset, d in spec["datasets"].items():
        scope = d.get("scope", d.get("test_pools", ""))
        lines.append(f"- **{dataset}**: {d['pool']}. {scope[:1].upper()}{scope[1:]}.")
    return lines


def _pending_lines(spec, runs):
    lines = []
    for dataset in spec["datasets"]:
        if dataset not in runs:
            lines += [f"## {dataset}: not run yet", "",
                      f"Protocol v3 for {dataset}: {spec['status']}. Its confirmatory runs are "
                      "not stored complete yet, so this page publishes no verdict for it.", "",
                      *_frozen_lines(spec, dataset)]  # fmt: skip
    return lines + _claim_2_sections(spec)


def methods_command(spec, dataset):
    """Claim 2's methods sweep: random and the protocol's list, on the confirmatory seeds and
    the confirmatory teachers (same seeds: same splits and teachers), the small fractions."""
    frozen = spec["frozen"][dataset]
    settings = {**spec["design"]["settings"]["common"], **spec["design"]["settings"][dataset]}
    pool = frozen["commands"]["main"].partition(" --test-pool-seed ")[2].split(" ")[0]
    return (f"prunekd --dataset {dataset} --pruners random,{','.join(claim_2_family_v3())} "
            f"--seeds {frozen['confirmatory_seeds']} --fractions 0.1,0.2,0.3 "
            f"--epochs {settings['epochs']} --teachers equal={settings['teacher_widths']['equal']} "
            f"--teacher-epochs {settings['teacher_epochs']['equal']} --budget-scales none"
            + (f" --test-pool-seed {pool}" if pool else "")
            + f" --out docs/results/v3/{dataset}/methods")  # fmt: skip


def _claim_2_sections(spec):
    """Claim 2 per dataset whose methods sweep is stored complete; the command of the others."""
    lines, pending = [], []
    for dataset in spec.get("frozen", {}):
        folder = os.path.join(V3, dataset, "methods")
        if not _complete(folder):
            pending.append(dataset)
            continue
        frozen = spec["frozen"][dataset]
        result = claim_2_v3(load_results(folder), frozen, frozen["margin"])
        lines += [f"## {dataset}: claim 2 against every method", "",
                  *_same_teacher_lines(dataset, folder), *claim_2_lines(result, frozen["margin"])]  # fmt: skip
    if pending:
        lines += ["## Claim 2 against every method: not run yet under v3", "",
                  "Claim 2's family (the protocol's list of "
                  f"{len(spec['claim_2_family']['methods'])} methods, secondary to F2) needs the "
                  "methods sweep on the confirmatory seeds with v3's teachers. The "
                  "[v2 page](results.md) shows it under v2's teachers (30 epochs). Not stored "
                  "complete yet on " + ", ".join(pending) + " (each command resumes its run):",
                  "", *(f"- {d}, {_progress(os.path.join(V3, d, 'methods'))}: "
                        f"`{methods_command(spec, d)}`" for d in pending), ""]  # fmt: skip
    return lines


def _same_teacher_lines(dataset, folder):
    """Whether the methods sweep's equal teachers are the main run's, seed by seed."""
    main = os.path.join(V3, dataset, "confirmatory", "info.json")
    if not os.path.exists(main):
        return []
    with open(main) as f:
        main_info = json.load(f)
    _, config, info = _read(folder)
    return teacher_agreement_lines(main_info, info, len(config["config"]["seeds"]))


def _progress(folder):
    """How much of a run resumed across sessions is stored: "N runs stored, M pending"."""
    if not os.path.exists(os.path.join(folder, "results.csv")):
        return "not started"
    return f"{len(load_results(folder))} runs stored, {len(pending_runs(folder))} pending"


def _frozen_lines(spec, dataset):
    """A frozen dataset's confirmatory commands, with how many of their runs are stored."""
    frozen = spec.get("frozen", {}).get(dataset, {})
    lines = []
    for part, name in (("main", "confirmatory"), ("dynamic", "dynamic-confirmatory")):
        if part in frozen.get("commands", {}):
            state = _progress(os.path.join(V3, dataset, name))
            lines += [f"- {part}, seeds {frozen['confirmatory_seeds']}, {state}: "
                      f"`{rerun_command(dataset, part)}`"]  # fmt: skip
    return lines + [""] if lines else []


def _dataset_lines(spec, dataset, run):
    rows, _, info = _main_run(run)
    dynamic = load_results(run["dynamic"])
    frozen = spec["frozen"][dataset]
    teacher = (info.get("teacher_samples") or {}).get("equal")
    return [
        *v3_section(rows, dynamic, info, spec, dataset, frozen, frozen["margin"]),
        f"### {dataset}: accuracy against compute",
        "",
        "Cost in samples processed by a network of the student's size, relative to one "
        "full-data student without KD at the design's epochs; the teacher's own training is "
        "added in its own column, amortised over one student (★: the Pareto front of the "
        "student's cost, ☆: with the teacher counted).",
        "",
        *compute_table(_union(rows, dynamic), frozen, teacher),
        "",
        f"### {dataset}: dynamic pruning",
        *dynamic_lines(_union(rows, dynamic))[1:],  # under the dataset's heading, not a page-level one
        *_exploratory_dynamic_lines(dataset, run),
    ]


def _union(*runs):
    """The rows of several runs, each run key once, the first run's kept: two runs may store
    the same run (the dynamic sweep retrains the full-data students alone, to pair F6 by
    seed; the exploratory main sweep trained InfoBatch as the dynamic one did), and a row
    counted twice would narrow its interval and mix wall times of two studies."""
    rows = {}
    for run in runs:
        for r in run:
            rows.setdefault(run_key(r), r)
    return list(rows.values())


def _exploratory_dynamic_lines(dataset, run):
    """F6's secondary descriptions: every prune ratio of the exploratory run, where the
    confirmatory grid trimmed some (digits: to 0.5)."""
    folder = os.path.dirname(run["main"])
    main, dynamic = (os.path.join(folder, name) for name in ("exploratory", "dynamic-exploratory"))
    if not os.path.exists(os.path.join(dynamic, "results.csv")):
        return []
    explored = load_results(dynamic)
    ratios = {r["prune_ratio"] for r in explored} - {0.0}
    if ratios <= {r["prune_ratio"] for r in load_results(run["dynamic"])}:
        return []  # the confirmatory run kept every prune ratio (MNIST-1D): nothing to add
    rows = _union(load_results(main), explored)
    seeds = sorted({r["seed"] for r in explored})
    lines = dynamic_lines(rows)
    return [f"### {dataset}: every prune ratio, exploratory run (seeds {seeds[0]}-{seeds[-1]}; "
            "descriptions, secondary to F6)", "", *lines[2:]]  # fmt: skip


def v3_results_page(runs=None):
    """Markdown of the v3 results page; ``runs``: ``{dataset: {"main": dir, "dynamic": dir}}``."""
    spec = protocol_v3()
    runs = stored_runs() if runs is None else runs
    lines = [
        "# Results under protocol v3",
        "",
        "The paper's findings as it states them, tested on each dataset under "
        "`prunekd/experiments/protocol_v3.json` (sha256 "
        f"{protocol_v3_hash()[:12]}; {spec['status']}). Each finding's primary statistic is a "
        "paired difference in test-accuracy points, one value per seed (each seed its own split, "
        "teachers, initial weights and data order); the primary findings of one dataset form "
        "one Holm family (family-wise error 0.05), and each interval is shown at the level its "
        "test was read at. A 'not worse' finding reads 'reproduced' when its interval lies "
        "above minus the margin (half the full-data error); an interval wholly below 0 is "
        "flagged 'significantly below 0' whatever the word. The rules, the seeds and the "
        "margins were committed before the confirmatory runs.",
        "",
        *_side_by_side(spec, runs),
        "",
        "What the intervals cover:",
        "",
        *_scope_lines(spec),
        "",
        "## Runs: commands and wall time",
        "",
        "Each command is rerun as written to resume or reproduce its run (on one machine the "
        "sweep resumes exactly: an interrupted run continues where it stopped, with the same "
        "rows; run again once complete, it changes nothing). Another processor may compute "
        "other floating-point results from the same seed, so a run resumed or repeated on "
        "another machine gives other rows; each run names the machines its invocations ran "
        "on, from commit c495803 on. Wall time, revisions and machines are what "
        "`info.json` records. Before commit 25b41a2 the wall time counted only the "
        "invocations that completed, and before commit 4a21251 so did the revisions: a run "
        "resumed across sessions before then lacks the time of the invocations killed "
        "part-way. (MNIST-1D's dynamic run names its killed invocation's revision, 7cde41d, "
        "from the `config.json` committed with its partial rows in 063e4bd.) "
        "`python docs/estimate_confirmatory_cost.py --check` rebuilds digits' runs' time "
        "from their rows (training, scoring and teacher seconds over 2 workers) beside what "
        "they record.",
        "",
    ]
    for dataset, run in runs.items():
        lines += _runs_lines(spec, dataset, run)
    for dataset, run in runs.items():
        lines += ["", *_dataset_lines(spec, dataset, run)]
    lines += ["", *_pending_lines(spec, runs)]
    return "\n".join(lines).rstrip("\n") + "\n"
