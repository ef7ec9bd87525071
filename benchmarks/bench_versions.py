"""KD fit / plain skorch fit for this tree and another revision, side by side in one process.

The other revision's ``prunekd`` package (a checkout, e.g. ``git worktree add
/tmp/before REV``) is imported under another name, so that both students,
and the plain skorch net they are measured against, train in one process,
interleaved (before, after, plain, then the reverse order), on the same data
and one torch thread. Each time is the best of ``--repeats``; the ratios share
the plain timing, so their quotient is the after / before time of the KD fit
itself. On a shared machine single timings drift, so the script also prints
the median over rounds of the paired ratio after / before (the two fits of a
round run back to back) with its interquartile range.

    python benchmarks/bench_versions.py --before /tmp/before [--epochs 10] [--repeats 15]
"""

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNetClassifier

import prunekd
from prunekd.datasets import load_digits
from prunekd.models import SmallCNN


def import_as(tree, name):
    """The ``prunekd`` package of ``tree`` (a checkout's root), imported as ``name``."""
    copy = Path(tempfile.mkdtemp()) / name
    shutil.copytree(Path(tree) / "prunekd", copy, ignore=shutil.ignore_patterns("__pycache__"))
    spec = importlib.util.spec_from_file_location(
        name, copy / "__init__.py", submodule_search_locations=[str(copy)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="root of a checkout of the other revision")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    return parser.parse_args(argv)


def main(argv=None):
    args = _parse(argv)
    torch.set_num_threads(1)
    before = import_as(args.before, "prunekd_before")

    X, y = load_digits()
    X, y = X[:1257], y[:1257]
    common = dict(module__n_classes=10, criterion=torch.nn.CrossEntropyLoss,
                  optimizer=torch.optim.Adam, lr=3e-3, batch_size=args.batch_size,
                  max_epochs=args.epochs, train_split=None, iterator_train__shuffle=True,
                  verbose=0)  # fmt: skip
    teacher = NeuralNetClassifier(SmallCNN, **{**common, "max_epochs": 3}).fit(X, y)

    def plain():
        torch.manual_seed(0)
        NeuralNetClassifier(SmallCNN, **common).fit(X, y)

    def kd(package):
        return lambda: package.DistillationClassifier(
            SmallCNN, teacher=teacher, alpha=0.5, random_state=0, **common
        ).fit(X, y)

    contenders = {"before": kd(before), "after": kd(prunekd), "plain": plain}
    times = {name: [] for name in contenders}
    for repeat in range(args.repeats):
        order = list(contenders) if repeat % 2 == 0 else list(contenders)[::-1]
        for name in order:
            times[name].append(_timed(contenders[name]))
    best = {name: min(values) for name, values in times.items()}
    print(f"SmallCNN on digits, n_train={len(X)}, epochs={args.epochs}, "
          f"batch_size={args.batch_size}, best of {args.repeats}, 1 torch thread")  # fmt: skip
    print(f"before: {args.before} (prunekd {before.__version__})")
    print(f"after : {Path(prunekd.__file__).parent.parent} (prunekd {prunekd.__version__})")
    for name in ("before", "after", "plain"):
        print(f"{name:<6} fit: {best[name]:.3f} s")
    ratio_before, ratio_after = best["before"] / best["plain"], best["after"] / best["plain"]
    print(f"KD fit / plain skorch fit: before {ratio_before:.3f}, after {ratio_after:.3f}; "
          f"after / before {ratio_after / ratio_before:.3f}")
    paired = np.array(times["after"]) / np.array(times["before"])
    low, median, high = np.percentile(paired, [25, 50, 75])
    print(f"paired after / before over {args.repeats} rounds: median {median:.3f} "
          f"(interquartile {low:.3f} to {high:.3f})")


if __name__ == "__main__":
    main()
