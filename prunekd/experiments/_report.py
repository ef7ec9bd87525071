"""Tables, verdicts on the paper's findings, and figures from a sweep's results."""

import os

from ..distillation import AUTO_ALPHA_KNOTS
from ._auto_alpha import alpha_regret, knots_rule
from ._compute import budget_table, compute_table
from ._dynamic_report import dynamic_lines
from ._findings import findings, format_verdict, random_against_each
from ._methods import label as method_label
from ._protocol import frozen_choices, protocol, protocol_hash
from ._report_v3 import v3_summary_lines
from ._results import (
    Results,
    best_alpha_table,
    fmt_interval,
    fmt_mean_sd,
    md_header,
    md_row,
    nanmean,
    paired_interval,
    smoothed_best_alpha,
)
from ._store import read_json, read_results


def load_results(out):
    """Rows of ``out/results.csv`` with numbers parsed.

    Parameters
    ----------
    out : str
        A sweep's output folder.

    Returns
    -------
    rows : list of dict

    Examples
    --------
    See :func:`prunekd.experiments.run_sweep`:

    >>> from prunekd.experiments import load_results
    >>> load_results("docs/results")[0]["study"]  # doctest: +SKIP
    'main'
    """
    return read_results(os.path.join(out, "results.csv"))


def _provenance_line(config_file, info):
    version = info.get("prunekd_version") or config_file.get("prunekd_version", "?")
    revisions = info.get("revisions") or [config_file.get("revision")]
    line = f"Produced by prunekd {version}, code revision {', '.join(str(r) for r in revisions)}"
    stored = config_file.get("protocol_sha256")
    if stored and stored != protocol_hash():
        # The verdicts below apply today's rules; say the run's own.
        return (
            f"{line}, under another results protocol (sha256 `{stored[:16]}`): the "
            "verdicts below apply the current one to it."
        )
    return f"{line}" + (f", under results protocol sha256 `{stored[:16]}`." if stored else ".")


def _budget_words(config):
    """How the students were trained, in words."""
    common = f"Adam (lr {config['lr']:g}, batch {config['batch_size']})"
    if config.get("budget", "steps") == "epochs":
        return (
            f"{config['epochs']} epochs of {common} over its kept rows, so its cost is "
            "proportional to its fraction"
        )
    return f"about {config['steps']} steps of {common} whatever its fraction"


def _intro(r, config, info, command, provenance):
    lines = [f"# prunekd sweep on {config['dataset']}", ""]
    if command:
        lines += ["Regenerate with:", "", "```bash", command, "```", ""]
    if provenance:
        lines += [provenance, ""]
    acc = info.get("teacher_test_accuracy", {})
    noise = config.get("label_noise", 0.0)
    lines += [
        f"Train / validation / test: {info.get('n_train', '?')} / {info.get('n_val', '?')} / "
        f"{info.get('n_test', '?')} samples"
        + (f", {100 * noise:g}% of the training labels flipped" if noise else "")
        + f". Each student: {config['model']} (width {config['width']}), "
        f"{_budget_words(config)}; temperature {config['temperature']:g}; seeds "
        f"{', '.join(map(str, r.seeds))}. Accuracies are test accuracy in %, mean ± standard "
        "deviation over seeds. "
        + (
            "With KD, each pruner and fraction uses the alpha the results protocol froze, read "
            "off the exploratory seeds' validation split"
            if r.frozen
            else "Alpha is chosen on the validation split"
        )
        + ", never on the test split. Every comparison below is paired (same seed: same split, "
        "teachers, initial weights and data order) and comes with a 95% interval over seeds, "
        "written [low, high].",
        "",
        "Teachers, fitted on the full training split: "
        + ", ".join(
            f"{name} (width {w}): {100 * acc[name]:.1f}%"
            for name, w in config["teacher_widths"].items()
            if name in acc
        )
        + ".",
        "",
    ]
    if info.get("wall_seconds"):
        lines += [f"Wall time of the sweep: {info['wall_seconds'] / 60:.1f} minutes.", ""]
    return lines


def _accuracy_tables(r):
    lines = [
        "## Accuracy by pruner and kept fraction",
        "",
        *md_header(["pruner", "training"], r.fractions),
    ]
    for p in r.pruners:
        lines.append(
            md_row([method_label(p), "no KD", *(fmt_mean_sd(r.kd(p, f, 0.0)) for f in r.fractions)])
        )
        lines.append(
            md_row(
                [
                    "",
                    "KD, the protocol's alpha" if r.frozen else "KD, alpha chosen on validation",
                    *(fmt_mean_sd(r.kd_accuracy(p, f)) for f in r.fractions),
                ]
            )
        )
    lines += [
        "",
        "## KD gain per cell (paired, points, 95% interval)",
        "",
        *md_header(["pruner"], r.fractions),
    ]
    for p in r.pruners:
        lines.append(
            md_row(
                [
                    method_label(p),
                    *(fmt_interval(*paired_interval(r.kd_gain(p, f))) for f in r.fractions),
                ]
            )
        )
    return lines + [""]


def _alpha_tables(r):
    lines = [
        "## Best alpha per fraction",
        "",
        "A description, not a verdict (finding 3 is an accuracy contrast): the alpha "
        "maximising a quadratic fitted to the validation accuracy over alpha (mean over "
        "seeds); the pooled row averages the pruners' curves and gives a bootstrap interval "
        "over seeds. The alpha of the tables above (the protocol's, or the best mean cell on "
        "validation) is in brackets.",
        "",
        *md_header(["pruner"], r.fractions),
    ]
    for p in r.pruners:
        curves = r.alpha_curves([p])[:, 0]  # (seeds, fractions, alphas)
        cells = []
        for j, f in enumerate(r.fractions):  # NaN where the sweep did not train p at f
            best = smoothed_best_alpha(r.kd_alphas, nanmean(curves[:, j], axis=0))
            cells.append(f"{best:.2f} ({r.chosen_alpha(p, f):g})" if best == best else "–")
        lines.append(md_row([method_label(p), *cells]))
    pooled = [f"{e:.2f} [{lo:.2f}, {hi:.2f}]" for _, e, lo, hi in best_alpha_table(r)]
    lines += [md_row(["pooled", *pooled]), "", "## Accuracy over alpha", ""]
    for p in r.pruners:
        lines += [f"{method_label(p)} pruning:", "", *md_header(["alpha"], r.fractions)]
        for a in r.alphas:
            lines.append(md_row([f"{a:g}", *(fmt_mean_sd(r.kd(p, f, a)) for f in r.fractions)]))
        lines.append("")
    return lines


def _capacity_lines(r, config):
    widths, alpha = config["teacher_widths"], config["capacity_alpha"]
    teachers = [te for te in widths if te in r.teachers]
    if not teachers:
        return []
    lines = [
        f"## Teacher capacity (random pruning, alpha={alpha:g})",
        "",
        *md_header(["teacher"], r.fractions),
        md_row(["none (no KD)", *(fmt_mean_sd(r.kd("random", f, 0.0)) for f in r.fractions)]),
    ]
    for te in teachers:
        values = (fmt_mean_sd(r.values("random", f, alpha, te)) for f in r.fractions)
        lines.append(md_row([f"{te} (width {widths[te]})", *values]))
    for te in teachers:
        if te != "equal":
            diffs = [
                fmt_interval(
                    *paired_interval(
                        r.values("random", f, alpha, te) - r.values("random", f, alpha, "equal")
                    )
                )
                for f in r.fractions
            ]
            lines.append(md_row([f"{te} − equal (paired)", *diffs]))
    return lines + [""]


def protocol_line():
    """The protocol's version and hash, as printed on every summary and results page."""
    p = protocol()
    return (
        f"Verdicts by results protocol v{p['version']} "
        f"(`prunekd/experiments/protocol.json`, sha256 `{protocol_hash()[:16]}`)."
    )


def _verdict_lines(rows, r, config):
    verdicts = findings(rows, config["capacity_alpha"], config)
    lines = ["## The paper's findings on this run", ""]
    if not verdicts:
        return lines + ["No fraction below 1.0 in this sweep: nothing to compare.", ""]
    p = protocol()
    lines += [
        protocol_line(),
        "",
        "Each finding is one statistic, a paired difference per seed, with its 95% t interval "
        "over seeds: *reproduced* when the interval lies on the paper's side of the threshold, "
        "*contradicted* when it lies on the other side, *inconclusive* when it straddles. The "
        f"threshold is 0, or −{100 * p['margin']:g} point for claims of non-inferiority. Small "
        f"fractions are {p['small_fractions']}, large ones {p['large_fractions']}. Fewer than "
        f"{p['min_seeds']} seeds give no verdict. "
        + (
            "KD means the alpha the protocol froze for each pruner and fraction, and finding "
            "2's comparator is the protocol's, both chosen on the exploratory seeds."
            if r.frozen
            else "This sweep trains otherwise than the protocol's design, so KD "
            "means the alpha with the best mean validation accuracy on this run, and finding "
            "2's comparator the best score-based pruner on validation."
        ),
        "",
    ]
    for v in verdicts:
        lines += [format_verdict(v), ""]
    return lines + claim2_section(r)


def _compute_lines(rows, config, info):
    teacher = (info.get("teacher_samples") or {}).get("equal")
    table = compute_table(rows, frozen_choices(config), teacher)
    if not table:
        return []
    lines = [
        "## Accuracy against compute",
        "",
        "Cost in samples processed by a network of the student's size, relative to one "
        "full-data student without KD: *student* counts its training and the teacher passes KD "
        "adds; *student + pruner* adds the pruner's own scoring (★: on the Pareto front of "
        "accuracy against that cost); *with the teacher's training* adds the equal teacher's "
        "own training wherever the student or the pruner needs the teacher, amortised over one "
        "student (☆: on that front; a search that trains many students from one teacher "
        "pays it once).",
        "",
        *table,
        "",
    ]
    budget = budget_table(rows, config["capacity_alpha"], config.get("epochs", 1))
    if budget:
        lines += ["### Budget axis: random pruning at other numbers of epochs", "", *budget, ""]
    return lines


def _teacher_cost_lines(config, info):
    samples = info.get("teacher_samples")
    if not samples:
        return []
    n_train, epochs = info.get("n_train", 0), config.get("epochs", 0)
    reference = n_train * epochs if config.get("budget") == "epochs" else None
    parts = [
        f"{name}: {s:,.0f} samples" + (f" ({s / reference:.2f}×)" if reference else "")
        for name, s in samples.items()
    ]
    return ["Each teacher's own training, once per seed: " + "; ".join(parts) + ".", ""]


def render_summary(rows, config, info=None, command=None, provenance=None):
    """The markdown summary of a sweep: tables, verdicts with intervals, cost, ``alpha="auto"``.

    A pure function of its arguments (see :func:`write_summary`, which reads
    them from a sweep's folder).

    Parameters
    ----------
    rows : list of dict
        A sweep's results, as :func:`load_results` returns them.
    config : dict
        The sweep's settings (``dataclasses.asdict`` of a :class:`SweepConfig`).
    info : dict, default=None
        Teacher accuracies and split sizes (``info.json``).
    command : str, default=None
        The command that regenerates the sweep, quoted in the summary.
    provenance : str, default=None
        A line saying which code produced the rows.

    Returns
    -------
    text : str

    Examples
    --------
    >>> import dataclasses
    >>> from prunekd.experiments import SweepConfig, render_summary
    >>> rows = [dict(study="main", pruner="random", fraction=f, alpha=a, seed=s,
    ...              teacher="equal" if a else "none", val_accuracy=0.9, test_accuracy=0.9)
    ...         for s in range(3) for f in (0.1, 1.0) for a in (0.0, 1.0)]
    >>> text = render_summary(rows, dataclasses.asdict(SweepConfig()))
    >>> "**1a. KD improves pruned students: inconclusive.**" in text
    True
    """
    info = info or {}
    r = Results(rows, frozen_choices(config))
    lines = _intro(r, config, info, command, provenance)
    lines += _accuracy_tables(r) + _alpha_tables(r) + _capacity_lines(r, config)
    lines += v3_summary_lines(rows, config, info) or _verdict_lines(rows, r, config)
    lines += _compute_lines(rows, config, info) + _teacher_cost_lines(config, info)
    lines += dynamic_lines(rows)
    if r.kd_alphas:
        auto = alpha_regret(rows, knots_rule(AUTO_ALPHA_KNOTS))
        fixed = alpha_regret(rows, lambda f: 0.5)
        lines += [
            '## `alpha="auto"` on this run',
            "",
            "Test accuracy lost against the best alpha of each (pruner, fraction) cell, in "
            'points (mean over cells, 95% interval over seeds): prunekd\'s `alpha="auto"` '
            f"{fmt_interval(*auto)}, a fixed alpha of 0.5 {fmt_interval(*fixed)}.",
            "",
        ]
    lines += ["## Figures", ""]
    lines += [f"![{name}]({name})" for name in _figure_names(r, config, rows)]
    return "\n".join(lines) + "\n"


def _figure_names(r, config, rows):
    names = ["accuracy_vs_fraction.png", "alpha_heatmap.png"]
    if len([te for te in config["teacher_widths"] if te in r.teachers]) > 1:
        names.append("teacher_capacity.png")
    if compute_table(rows, frozen_choices(config)):
        names.append("accuracy_vs_compute.png")
    if budget_table(rows, config["capacity_alpha"], config.get("epochs", 1)):
        names.append("budget_axis.png")
    return names


def verdict_table(rows, config, read=True):
    """The findings as a plain-text table for the terminal; ``read=False``: "not read" as word.

    Examples
    --------
    >>> from prunekd.experiments import verdict_table
    >>> rows = [dict(study="main", pruner="random", fraction=f, alpha=a, seed=s,
    ...              teacher="equal" if a else "none", val_accuracy=0.9, test_accuracy=0.9)
    ...         for s in range(2) for f in (0.1, 1.0) for a in (0.0, 1.0)]
    >>> print(verdict_table(rows, {"capacity_alpha": 0.5}).splitlines()[0])
    finding  verdict       estimate [95% interval], points  claim
    """
    results = Results(rows, frozen_choices(config))
    verdicts = findings(rows, config["capacity_alpha"], config)
    verdicts.append(random_against_each(results)[1])
    lines = [f"{'finding':8} {'verdict':13} {'estimate [95% interval], points':32} claim"]
    for v in verdicts:
        word = v.word if read else "not read"  # a smoke test: the statistics, no verdict
        lines.append(
            f"{v.finding:8} {word:13} {fmt_interval(v.estimate, v.low, v.high):32} {v.claim}"
        )
    return "\n".join(lines)


def claim2_section(results):
    """Markdown lines: claim 2 against every score-based method of ``results``, cell by cell."""
    cells, verdict = random_against_each(results)
    if not cells:
        return []
    margin = 100 * protocol()["margin"]
    lines = [
        "## Claim 2 against every method",
        "",
        "Random minus each score-based method at the small kept fractions, paired over seeds, "
        "in test accuracy points with 95% intervals; with KD each method has its own alpha "
        "(the protocol's, or chosen on validation). The cells describe; the verdict below them "
        f"is claim 2's family rule. A cell's word reads its interval against −{margin:g} point: *reproduced* "
        "(non-inferior) above it, *contradicted* below it, *inconclusive* when it straddles; a "
        "non-inferior cell whose interval lies below 0 says by how much it is lower.",
        "",
        "| method | f | random − method, KD | word | random − method, no KD | word |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in cells:
        lines.append(
            md_row(
                [
                    method_label(c["pruner"]),
                    f"{c['fraction']:g}",
                    fmt_interval(*c["kd"]),
                    c["kd_word"],
                    fmt_interval(*c["no_kd"]),
                    c["no_kd_word"],
                ]
            )
        )
    return lines + ["", format_verdict(verdict), ""]


def write_summary(out, config=None, command=None):
    """Write ``out/summary.md`` from ``out/results.csv``; return its text.

    Tables of accuracy by pruner, fraction and alpha, the paired KD gain per
    cell, the best alpha per fraction (fitted, with intervals), the
    teacher-capacity study, a verdict with its interval on each of the paper's
    findings, and the accuracy ``alpha="auto"`` loses on this run.

    Parameters
    ----------
    out : str
        A sweep's output folder.
    config : dict, default=None
        The sweep's settings; read from ``out/config.json`` if None.
    command : str, default=None
        The command that regenerates the sweep, quoted in the summary.

    Returns
    -------
    text : str

    Examples
    --------
    See :func:`prunekd.experiments.run_sweep`:

    >>> from prunekd.experiments import write_summary
    >>> text = write_summary("prunekd-results", command="prunekd")  # doctest: +SKIP
    """
    info = read_json(os.path.join(out, "info.json"))
    config_file = read_json(os.path.join(out, "config.json"))
    config = config or config_file["config"]
    text = render_summary(
        load_results(out), config, info, command, _provenance_line(config_file, info)
    )
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    return text
