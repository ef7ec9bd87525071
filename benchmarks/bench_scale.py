"""Memory of scoring large datasets, and the cost of an on-the-fly teacher.

1. Peak resident memory of EL2N and GraNd scoring over 100k and 400k synthetic
   samples that a Dataset generates on the fly (nothing is stored), each size
   in a fresh process. Only the per-sample state (scores, the proxy's logits)
   should grow with n: the growth per sample is printed next to the O(n)
   arrays' own size.
2. ``DistillationClassifier`` fit with the teacher run on every batch
   (``cache_teacher=False``, as for augmented Datasets) over a plain fit
   (``alpha=0``), and over a fit with cached teacher outputs; same module, data
   and epochs. Expected: about 1 + (teacher forward) / (student step).

Usage::

    python benchmarks/bench_scale.py [--sizes 100000,400000] [--repeats 3]
"""

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import torch


class Synthetic(torch.utils.data.Dataset):
    """``n`` samples of 64 features, generated from their index (nothing stored)."""

    def __init__(self, n, n_classes=10):
        self.n, self.n_classes = n, n_classes
        self.targets = np.arange(n) % n_classes  # O(n) labels, as any dataset has

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(int(i))
        x = torch.randn(64, generator=g)
        x[int(self.targets[i])] += 3.0
        return x, int(self.targets[i])


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _score_child(name, n):
    """Run in a fresh process: score n samples, print peak memory as JSON."""
    from prunekd import EL2NPruner, GraNdPruner

    torch.set_num_threads(1)
    ds = Synthetic(n)
    baseline = _peak_mib()
    cls = {"el2n": EL2NPruner, "grand": GraNdPruner}[name]
    start = time.perf_counter()
    pruner = cls(fraction=0.1, n_proxies=1, max_epochs=1, batch_size=512, random_state=0).fit(ds)
    seconds = time.perf_counter() - start
    print(json.dumps({"peak_mib": _peak_mib(), "baseline_mib": baseline, "seconds": seconds,
                      "kept": len(pruner.sample_indices_)}))  # fmt: skip


def _kd_overhead(repeats):
    from prunekd import DistillationClassifier
    from prunekd.datasets import load_digits
    from prunekd.models import SmallCNN

    X, y = load_digits()
    X, y = X[:1257], y[:1257]
    common = dict(module__n_classes=10, optimizer=torch.optim.Adam, lr=3e-3, batch_size=64,
                  max_epochs=30, verbose=0, random_state=0)  # fmt: skip
    teacher = DistillationClassifier(SmallCNN, alpha=0.0, **{**common, "max_epochs": 5}).fit(X, y)
    runs = {
        "plain": dict(alpha=0.0),
        "cached": dict(alpha=0.5, teacher=teacher, cache_teacher=True),
        "on the fly": dict(alpha=0.5, teacher=teacher, cache_teacher=False),
    }
    times = {k: [] for k in runs}
    for r in range(repeats):
        for name in runs if r % 2 == 0 else list(runs)[::-1]:
            start = time.perf_counter()
            DistillationClassifier(SmallCNN, **common, **runs[name]).fit(X, y)
            times[name].append(time.perf_counter() - start)
    return {k: min(v) for k, v in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,400000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _score_child(args.child[0], int(args.child[1]))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    print("Peak resident memory of scoring (fresh process each; proxies: 1, 1 epoch, MLP)")
    for name in ("el2n", "grand"):
        rows = []
        for n in sizes:
            out = subprocess.run([sys.executable, __file__, "--child", name, str(n)],
                                 capture_output=True, text=True, check=True)  # fmt: skip
            rows.append((n, json.loads(out.stdout.strip().splitlines()[-1])))
        for n, r in rows:
            grown = r["peak_mib"] - r["baseline_mib"]
            print(f"  {name:5s} n={n:>7,}: peak {r['peak_mib']:7.1f} MiB, {grown:6.1f} MiB above the "
                  f"imports, {r['seconds']:6.1f} s")
        (n0, r0), (n1, r1) = rows[0], rows[-1]
        per_sample = ((r1["peak_mib"] - r0["peak_mib"]) * 2**20) / (n1 - n0)
        print(f"  {name:5s} growth: {per_sample:.0f} bytes per extra sample (the per-sample arrays: "
              "labels, their codes, scores, tie-break order, kept flags: ~8 bytes each)")

    times = _kd_overhead(args.repeats)
    print(f"KD fit, digits, SmallCNN, 30 epochs (best of {args.repeats}, 1257 samples):")
    for k, v in times.items():
        print(f"  {k:10s} {v:6.3f} s")
    print(f"  on-the-fly teacher / plain fit : {times['on the fly'] / times['plain']:.3f}")
    print(f"  cached teacher / plain fit     : {times['cached'] / times['plain']:.3f}")


if __name__ == "__main__":
    main()
