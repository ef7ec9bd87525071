"""prunekd's selection methods against DeepCore's, side by side, on the same work.

DeepCore is not a dependency: give the folder of a DeepCore checkout (the one
holding the ``deepcore`` package) and this script imports it from there; without
it the script says so and exits.

The work: digits (1,797 8x8 images, all of them), DeepCore's MLP (64-128-128-10)
as the proxy, Adam at lr 1e-3, batches of 128, the same number of epochs and
one proxy for both, a fraction of 0.2, class-balanced where both allow it.
k-center greedy and herding select in the embedding of a proxy trained first
(prunekd: a ``DistillationClassifier`` with ``alpha=0``), as DeepCore does.
Each method runs ``--repeats`` times in turn (DeepCore, then prunekd) and the
best time of each is printed with the ratio prunekd / DeepCore (< 1: prunekd is
faster). DeepCore prints every epoch; its output goes to /dev/null and is not
timed apart.

    python benchmarks/bench_deepcore.py --deepcore /path/to/DeepCore --epochs 10
"""

import argparse
import contextlib
import os
import sys
import time
import warnings
from types import SimpleNamespace

import numpy as np
import torch

from prunekd import (
    DistillationClassifier,
    EntropyPruner,
    ForgettingPruner,
    GraNdPruner,
    HerdingPruner,
    KCenterGreedyPruner,
    LeastConfidencePruner,
    MarginPruner,
)
from prunekd.datasets import load_digits


class _DeepCoreMLP(torch.nn.Module):
    """DeepCore's MLP, layer for layer: 64-128-128-10 with ReLUs."""

    def __init__(self):
        super().__init__()
        self.fc_1, self.fc_2, self.fc_3 = (torch.nn.Linear(64, 128), torch.nn.Linear(128, 128),
                                           torch.nn.Linear(128, 10))  # fmt: skip

    def forward(self, x):
        x = torch.relu(self.fc_1(x.flatten(1)))
        return self.fc_3(torch.relu(self.fc_2(x)))


class _Digits(torch.utils.data.Dataset):
    """Digits as DeepCore expects a dataset: items, ``classes`` and ``targets``."""

    def __init__(self, X, y):
        self.X, self.targets = torch.as_tensor(X), torch.as_tensor(y)
        self.classes = list(range(10))

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.targets[i]


def _args(batch):
    return SimpleNamespace(
        selection_batch=batch, device="cpu", workers=0, model="MLP", channel=1, num_classes=10,
        im_size=(8, 8), selection_optimizer="Adam", selection_lr=1e-3, selection_momentum=0.9,
        selection_weight_decay=0.0, selection_nesterov=False, print_freq=10**9, gpu=None,
        selection_test_interval=0, selection_test_fraction=1.0,
    )  # fmt: skip


def _proxy_net(epochs, batch):
    # prunekd's classifier with alpha=0 is a plain cross-entropy net on skorch's loop.
    return DistillationClassifier(_DeepCoreMLP, alpha=0, optimizer=torch.optim.Adam, lr=1e-3,
                                  max_epochs=epochs, batch_size=batch, random_state=0,
                                  verbose=0)  # fmt: skip


def _best_time(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), \
                warnings.catch_warnings():  # fmt: skip
            warnings.simplefilter("ignore")  # DeepCore's deprecation and pin_memory notices
            run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deepcore", help="folder of a DeepCore checkout")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--fraction", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--methods", nargs="+", help="only these methods (default: all)")
    args = parser.parse_args(argv)
    if not args.deepcore or not os.path.isdir(os.path.join(args.deepcore, "deepcore")):
        print("DeepCore not found: pass --deepcore, the folder holding its deepcore package. "
              "Nothing to compare; exiting.")  # fmt: skip
        return 0
    sys.path.insert(0, args.deepcore)
    if not hasattr(np, "in1d"):  # DeepCore predates numpy 2, which renamed it
        np.in1d = np.isin
    import deepcore.methods as dc

    torch.set_num_threads(1)  # both sides on one core: the ratio, not the machine, is measured
    X, y = load_digits()
    X, y = X.reshape(len(X), 1, 8, 8), y.astype(np.int64)
    data, dc_args = _Digits(X, y), _args(args.batch)
    f, e, b = args.fraction, args.epochs, args.batch
    proxy = dict(estimator=_DeepCoreMLP(), n_proxies=1, max_epochs=e, batch_size=b, lr=1e-3,
                 fraction=f, random_state=0)  # fmt: skip

    def embedded(pruner_class):
        def run():
            net = _proxy_net(e, b).fit(X, y)  # the same training DeepCore does first
            pruner_class(net, fraction=f, random_state=0).fit(X, y)

        return run

    cases = {
        "GraNd": (lambda: dc.GraNd(data, dc_args, f, 0, epochs=e, repeat=1, specific_model="MLP",
                                   balance=True).select(),  # fmt: skip
                  lambda: GraNdPruner(**proxy).fit(X, y)),
        "Forgetting": (lambda: dc.Forgetting(data, dc_args, f, 0, epochs=e, specific_model="MLP",
                                             balance=True).select(),  # fmt: skip
                       lambda: ForgettingPruner(**proxy).fit(X, y)),
    }
    for name, pruner in (("Entropy", EntropyPruner), ("Margin", MarginPruner),
                         ("LeastConfidence", LeastConfidencePruner)):  # fmt: skip
        cases[name] = (
            lambda name=name: dc.Uncertainty(data, dc_args, f, 0, epochs=e, selection_method=name,
                                             specific_model="MLP", balance=True).select(),
            lambda pruner=pruner: pruner(**proxy).fit(X, y),
        )  # fmt: skip
    cases["kCenterGreedy"] = (
        lambda: dc.kCenterGreedy(data, dc_args, f, 0, epochs=e, specific_model="MLP", balance=True,
                                 torchvision_pretrain=False).select(),
        embedded(KCenterGreedyPruner),
    )  # fmt: skip
    cases["Herding"] = (
        lambda: dc.Herding(data, dc_args, f, 0, epochs=e, specific_model="MLP", balance=True).select(),
        embedded(HerdingPruner),
    )  # fmt: skip

    print(f"digits, n={len(X)}, fraction {f}, {e} epochs, batch {b}, 1 proxy, 1 thread, "
          f"best of {args.repeats}")  # fmt: skip
    print(f"{'method':<16} {'DeepCore s':>11} {'prunekd s':>10} {'ratio':>6}")
    unknown = set(args.methods or ()) - set(cases)
    if unknown:
        parser.error(f"unknown --methods {sorted(unknown)}; choose from {sorted(cases)}")
    for name, (deepcore_run, prunekd_run) in cases.items():
        if args.methods and name not in args.methods:
            continue
        theirs = _best_time(deepcore_run, args.repeats)
        ours = _best_time(prunekd_run, args.repeats)
        print(f"{name:<16} {theirs:>11.2f} {ours:>10.2f} {ours / theirs:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
