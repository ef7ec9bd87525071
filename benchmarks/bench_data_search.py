"""``prunekd --data``'s wall time and answers, this tree against another revision, side by side.

Runs ``prunekd --data TABLE --target label --jobs 2`` in this tree and, with
``--before TREE`` (the root of a checkout of another revision, e.g.
``git worktree add /tmp/before REV``), in that one, alternating, and prints
each run's search time, total time, recommendation, and held-out accuracy
beside the no-KD baseline it prints. Extra arguments go to both commands; a
``.npz`` file (arrays X and y) needs no ``--target``.

Stated before any run: the recommendation's held-out accuracy may be below
the no-KD baseline by at most TOLERANCE, 2 points: the search's own tolerance
of 1 point (it recommends the smallest fraction within 1 point of the best CV
accuracy), plus 1 point for the noise of a held-out split of some hundreds of
rows.

    python benchmarks/make_data_table.py --out /tmp/table.csv
    python benchmarks/bench_data_search.py /tmp/table.csv --before /tmp/before [--repeats 1]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
TOLERANCE = 2.0  # points


def _run(tree, table, extra):
    env = {**os.environ, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-c", "import sys; from prunekd.cli import main; sys.exit(main())",
                   "--data", table, "--jobs", "2", "--no-progress", "--out", out, *extra]  # fmt: skip
        if not table.endswith(".npz"):
            command += ["--target", "label"]
        start = time.perf_counter()
        # run from the tree itself: its prunekd comes first on sys.path, before an editable install
        text = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True,
                              check=True).stdout  # fmt: skip
        seconds = time.perf_counter() - start
    search = re.search(r"search (\d+) s", text)
    rec = re.search(r"Recommended: fraction=([\d.]+), alpha=([\d.]+)", text)
    held = re.search(r"rows: ([\d.]+)% \(all \d+ training rows without KD: ([\d.]+)%\)", text)
    return {
        "search s": float(search.group(1)) if search else float("nan"),
        "total s": seconds,
        "recommended": f"fraction {rec.group(1)}, alpha {rec.group(2)}" if rec else "?",
        "held-out": f"{held.group(1)}% vs no KD {held.group(2)}%" if held else "?",
        "within tolerance": "?" if not held else
        ("yes" if float(held.group(1)) >= float(held.group(2)) - TOLERANCE else "NO"),
    }  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table", type=lambda p: str(Path(p).resolve()))
    parser.add_argument("--before", help="root of a checkout of the revision to compare with")
    parser.add_argument("--repeats", type=int, default=1)
    args, extra = parser.parse_known_args()
    trees = {"this tree": HERE}
    if args.before:
        trees = {"before": Path(args.before), **trees}
    for repeat in range(args.repeats):
        order = list(trees) if repeat % 2 == 0 else list(trees)[::-1]
        for name in order:
            result = _run(trees[name], args.table, extra)
            print(f"{name:10s} " + "; ".join(f"{k}: {v if isinstance(v, str) else f'{v:.0f}'}"
                                             for k, v in result.items()), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
