"""The results page under protocol v3: both datasets side by side, then each dataset's section.

Not yet part of ``make_results.pages()``: it is wired in when the
confirmatory runs are complete (``protocol_v3.json``, ``design.no_seeds_added``).
"""

import json
import os

from prunekd.experiments import load_results
from prunekd.experiments._compute import compute_table
from prunekd.experiments._dynamic_report import dynamic_lines
from prunekd.experiments._family import holm_verdicts
from prunekd.experiments._findings_v3 import primary_family
from prunekd.experiments._protocol import protocol_v3, protocol_v3_hash
from prunekd.experiments._report_v3 import v3_section
from prunekd.experiments._results import Results, fmt_interval


def _read(folder):
    with open(os.path.join(folder, "info.json")) as f:
        info = json.load(f)
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    return load_results(folder), config, info


def _verdicts(spec, dataset, run):
    """``{finding: (word, estimate, low, high)}`` of one dataset, or None when it has no run."""
    if run is None:
        return None
    rows, _, info = _read(run["main"])
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
    verdicts = {d: _verdicts(spec, d, runs.get(d)) for d in datasets}
    lines = [
        "| finding | " + " | ".join(datasets) + " | holds on both |",
        "| --- " * (len(datasets) + 2) + "|",
    ]
    for name in spec["family"]["primary"]:
        cells, words = [], []
        for d in datasets:
            if verdicts[d] is None:
                cells.append("not run yet")
                words.append(None)
                continue
            word, estimate, low, high = verdicts[d][name]
            cells.append(f"{word}: {fmt_interval(estimate, low, high, scale=1, digits=2)}")
            words.append(word)
        if any(w is None for w in words):
            both = "not yet"
        else:
            both = "yes" if all(w == "reproduced" for w in words) else "no"
        lines.append(f"| {name}. {spec['findings'][name]['claim']} | " + " | ".join(cells)
                     + f" | {both} |")  # fmt: skip
    return lines


def _runs_lines(dataset, run):
    lines = []
    for part in ("main", "dynamic"):
        rows, config, info = _read(run[part])
        hashes = ", ".join(h[:12] for h in info.get("protocol_v3_sha256", [])) or "not recorded"
        lines.append(
            f"- {dataset}, {part} sweep: {len({r['seed'] for r in rows})} seeds, "
            f"{info.get('wall_seconds', float('nan')):,.0f} s of wall time on 2 cores, "
            f"protocol v3 sha256 {hashes}; revisions {', '.join(info.get('revisions', []))}"
        )
    return lines


def v3_results_page(runs):
    """Markdown of the v3 results page; ``runs``: ``{dataset: {"main": dir, "dynamic": dir}}``."""
    spec = protocol_v3()
    lines = [
        "# Results under protocol v3",
        "",
        f"Protocol v3 (`prunekd/experiments/protocol_v3.json`, sha256 "
        f"{protocol_v3_hash()[:12]}): {spec['status']}. Verdicts: one Holm family per dataset.",
        "",
        *_side_by_side(spec, runs),
        "",
        "Runs:",
        "",
    ]
    for dataset, run in runs.items():
        lines += _runs_lines(dataset, run)
    for dataset, run in runs.items():
        rows, _, info = _read(run["main"])
        dynamic = load_results(run["dynamic"])
        frozen = spec["frozen"][dataset]
        lines += ["", *v3_section(rows, dynamic, info, spec, dataset, frozen, frozen["margin"])]
        teacher = (info.get("teacher_samples") or {}).get("equal")
        lines += [f"### {dataset}: accuracy against compute", "",
                  *compute_table(rows + dynamic, frozen, teacher), "", *dynamic_lines(rows + dynamic)]  # fmt: skip
    return "\n".join(lines) + "\n"
