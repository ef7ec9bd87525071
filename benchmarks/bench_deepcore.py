"""prunekd's selection methods against DeepCore's, side by side, on the same work.

DeepCore is not a dependency: give the folder of a DeepCore checkout (the one
holding the ``deepcore`` package) and this script imports it from there; without
it the script says so and exits.

The work: digits (1,797 8x8 images, all of them), DeepCore's MLP (64-128-128-10)
as the proxy, Adam at lr 1e-3, batches of 128, the same number of epochs and
one proxy for both, a fraction of 0.2, class-balanced on both sides.

**Time.** Each method runs once untimed on each side, then ``--repeats``
times in turn (DeepCore, prunekd, DeepCore, ...), from the proxy's training
to the selection, and the best time of each is printed with the ratio prunekd / DeepCore (< 1: prunekd is faster).
The pruners that train proxies train one (GraNd, Forgetting, the
uncertainties, DeepFool); the methods that select with a fitted model get,
on the prunekd side, a proxy trained first (a ``DistillationClassifier``
with ``alpha=0``), as DeepCore trains one. The submodular functions select, in DeepCore, on the last layer's
gradients with the cosine similarity: prunekd's pruners are given the same
features (``last_layer_gradients``), which the timing includes. Cal's
neighbours come, in DeepCore, from a downloaded ImageNet ResNet-18; nothing
downloads here, so both sides find them in the proxy's own embedding.

**Agreement.** Both libraries are given the same proxy weights (DeepCore's
training is skipped with ``epochs=0`` and its model replaced by the shared
one): the overlap of the selected indices (|both| / the larger selection;
a random selection overlaps by about the fraction) and, where both return
per-sample scores, their Spearman correlation (its absolute value: the
libraries' scores may point opposite ways). GraNd and Forgetting read the
proxy's training itself, so they cannot share weights: each side trains its
own, and the overlap of two prunekd runs with different seeds is printed
beside theirs as the floor that training noise sets; k-center and contextual
diversity start their cover at a random row, and get the same floor (two
prunekd seeds, shared weights).

    python benchmarks/bench_deepcore.py --deepcore /path/to/DeepCore --epochs 10
"""

import argparse
import contextlib
import copy
import os
import sys
import time
import warnings
from types import SimpleNamespace

import numpy as np
import torch
from scipy.stats import spearmanr

from prunekd import (
    CalPruner,
    ContextualDiversityPruner,
    CraigPruner,
    DeepFoolPruner,
    DistillationClassifier,
    EntropyPruner,
    FacilityLocationPruner,
    ForgettingPruner,
    GlisterPruner,
    GradMatchPruner,
    GraNdPruner,
    GraphCutPruner,
    HerdingPruner,
    KCenterGreedyPruner,
    LeastConfidencePruner,
    LogDeterminantPruner,
    MarginPruner,
)
from prunekd.datasets import load_digits
from prunekd.pruning._gradients import last_layer_gradients

SUBMODULAR = {"FacilityLocation": FacilityLocationPruner, "GraphCut": GraphCutPruner,
              "LogDeterminant": LogDeterminantPruner}  # fmt: skip
UNCERTAINTY = {"Entropy": EntropyPruner, "Margin": MarginPruner,
               "LeastConfidence": LeastConfidencePruner}  # fmt: skip
# Fitted-model pruners with a DeepCore class of the same work (DeepCore name -> prunekd class).
WITH_MODEL = {"kCenterGreedy": KCenterGreedyPruner, "Herding": HerdingPruner,
              "ContextualDiversity": ContextualDiversityPruner, "Cal": CalPruner,
              "Craig": CraigPruner, "GradMatch": GradMatchPruner, "Glister": GlisterPruner}  # fmt: skip


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
    """Digits as DeepCore expects a dataset: items, ``classes``, ``targets`` and ``transform``."""

    transform = None  # Cal composes a resize onto it; the items are tensors already

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


def _proxy_net(epochs, batch, seed=0):
    # prunekd's classifier with alpha=0 is a plain cross-entropy net on skorch's loop.
    return DistillationClassifier(_DeepCoreMLP, alpha=0, optimizer=torch.optim.Adam, lr=1e-3,
                                  max_epochs=epochs, batch_size=batch, random_state=seed,
                                  verbose=0)  # fmt: skip


def _quiet(run):
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), \
            warnings.catch_warnings():  # fmt: skip
        warnings.simplefilter("ignore")  # DeepCore's deprecation and pin_memory notices
        return run()


def _best_times(runs, repeats):
    """Best time of each of ``runs``, taken in turn (ABAB...) so that drift hits them alike."""
    for run in runs:
        _quiet(run)  # untimed: first calls pay for lazy imports and allocator warm-up
    times = [[] for _ in runs]
    for _ in range(repeats):
        for run, spent in zip(runs, times):
            start = time.perf_counter()
            _quiet(run)
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def _register_model(dc_nets, name, state_dict):
    """A DeepCore network ``name`` built with ``state_dict`` (or DeepCore's initialisation)."""

    def build(channel, num_classes, im_size, record_embedding=False, no_grad=False,
              pretrained=False):  # fmt: skip
        net = dc_nets.MLP(channel, num_classes, (8, 8), record_embedding, no_grad)
        if state_dict is not None:
            net.load_state_dict(copy.deepcopy(state_dict))
        return net

    setattr(dc_nets, name, build)


def _deepcore(dc, name, data, args, f, epochs, model):
    """DeepCore's method ``name``, class-balanced, on the network ``model``."""
    kw = dict(epochs=epochs, specific_model=model, balance=True)
    if name in SUBMODULAR:
        return dc.Submodular(data, args, f, 0, function=name, **kw)
    if name in UNCERTAINTY:
        return dc.Uncertainty(data, args, f, 0, selection_method=name, **kw)
    extra = {"kCenterGreedy": dict(torchvision_pretrain=False),
             "ContextualDiversity": dict(torchvision_pretrain=False),
             "Cal": dict(pretrain_model="Embedding"), "Glister": dict(eta=0.1),
             "GraNd": dict(repeat=1)}.get(name, {})  # fmt: skip
    if name == "DeepFool":
        return _deepfool_on_cpu(dc)(data, args, f, 0, **kw)
    return getattr(dc, name)(data, args, f, 0, **kw, **extra)


def _deepfool_on_cpu(dc):
    """DeepCore's DeepFool, given each batch as a tensor that is not a leaf.

    It adds in place to ``inputs.requires_grad_(True).to(device)``: on a GPU
    ``.to`` copies, but on the CPU it returns the leaf itself, and PyTorch
    refuses in-place changes to a leaf that requires grad. The only change made
    to any DeepCore run here.
    """

    class DeepFool(dc.DeepFool):
        def deep_fool(self, inputs):
            return super().deep_fool(inputs.detach().requires_grad_(True) * 1.0)

    return DeepFool


def _prunekd(name, X, y, f, net=None, epochs=10, batch=128, seed=0):
    """prunekd's pruner for ``name``, fitted: on ``net``, or on its own proxy."""
    proxy = dict(estimator=_DeepCoreMLP(), n_proxies=1, max_epochs=epochs, batch_size=batch,
                 lr=1e-3, fraction=f, random_state=seed)  # fmt: skip
    own_proxy = {"GraNd": GraNdPruner, "Forgetting": ForgettingPruner, "DeepFool": DeepFoolPruner,
                 **UNCERTAINTY}  # fmt: skip
    if net is None and name in own_proxy:  # the pruner trains its proxy itself
        return own_proxy[name](**proxy).fit(X, y)
    net = _proxy_net(epochs, batch, seed).fit(X, y) if net is None else net
    if name in SUBMODULAR:  # DeepCore's features: the last layer's gradients
        G = last_layer_gradients(net, X, y, np.arange(10)).astype(np.float32)  # as DeepCore
        return SUBMODULAR[name](fraction=f, random_state=seed).fit(G, y)
    if name == "DeepFool":
        return DeepFoolPruner(model=net, fraction=f, random_state=seed).fit(X, y)
    if name in UNCERTAINTY:
        return UNCERTAINTY[name](model=net, fraction=f, random_state=seed).fit(X, y)
    keep = {"keep": "easy"} if name == "Cal" else {}  # DeepCore's Cal keeps the lowest KL
    return WITH_MODEL[name](net, fraction=f, random_state=seed, **keep).fit(X, y)


def _overlap(a, b):
    a, b = set(np.asarray(a).tolist()), set(np.asarray(b).tolist())
    return len(a & b) / max(len(a), len(b))


def _deepcore_scores(result, y):
    """DeepCore's per-sample scores in sample order (its balanced runs return them per class)."""
    scores = result.get("scores")
    if scores is None:
        return None
    if isinstance(scores, list):
        ordered = np.empty(len(y))
        for c, class_scores in enumerate(scores):
            ordered[np.flatnonzero(y == c)] = class_scores
        return ordered
    return np.asarray(scores, dtype=float)


def _agreement(dc, name, data, args, X, y, f, epochs, batch):
    """(overlap, Spearman of the scores or None, floor or None) on shared weights where possible."""
    if name in ("GraNd", "Forgetting"):  # each trains its own proxy
        theirs = _quiet(lambda: _deepcore(dc, name, data, args, f, epochs, "MLP").select())
        ours = _prunekd(name, X, y, f, epochs=epochs, batch=batch)
        other = _prunekd(name, X, y, f, epochs=epochs, batch=batch, seed=1)
        return (_overlap(theirs["indices"], ours.sample_indices_), None,
                _overlap(ours.sample_indices_, other.sample_indices_))  # fmt: skip
    # One batch per class: DeepCore's gradients are of a batch's mean loss, so the rows of a
    # class's short last batch would be scaled apart from the others.
    one_batch = SimpleNamespace(**{**vars(args), "selection_batch": len(X)})
    theirs = _quiet(lambda: _deepcore(dc, name, data, one_batch, f, 0, "Shared").select())
    ours = _prunekd(name, X, y, f, net=args.shared_net)
    scores = _deepcore_scores(theirs, y)
    rho = None if scores is None else abs(spearmanr(scores, ours.scores_).statistic)
    floor = None
    if name in ("kCenterGreedy", "ContextualDiversity"):  # a cover from a random first row
        other = _prunekd(name, X, y, f, net=args.shared_net, seed=1)
        floor = _overlap(ours.sample_indices_, other.sample_indices_)
    return _overlap(theirs["indices"], ours.sample_indices_), rho, floor


def _time_pair(dc, name, data, args, X, y, f, epochs, batch, repeats):
    return _best_times([lambda: _deepcore(dc, name, data, args, f, epochs, "MLP").select(),
                        lambda: _prunekd(name, X, y, f, epochs=epochs, batch=batch)], repeats)


METHODS = ("GraNd", "Forgetting", *UNCERTAINTY, "kCenterGreedy", "Herding", "ContextualDiversity",
           "Cal", "DeepFool", "Craig", "GradMatch", "Glister", *SUBMODULAR)  # fmt: skip


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deepcore", help="folder of a DeepCore checkout")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--fraction", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--methods", nargs="+", choices=METHODS, help="only these (default: all)")
    return parser.parse_args(argv)


def main(argv=None):
    args = _parse(argv)
    if not args.deepcore or not os.path.isdir(os.path.join(args.deepcore, "deepcore")):
        print("DeepCore not found: pass --deepcore, the folder holding its deepcore package. "
              "Nothing to compare; exiting.")  # fmt: skip
        return 0
    sys.path.insert(0, args.deepcore)
    if not hasattr(np, "in1d"):  # DeepCore predates numpy 2, which renamed it
        np.in1d = np.isin
    import deepcore.methods as dc
    import deepcore.nets as dc_nets

    torch.set_num_threads(1)  # both sides on one core: the ratio, not the machine, is measured
    X, y = load_digits()
    X, y = X.reshape(len(X), 1, 8, 8), y.astype(np.int64)
    data, f, e, b = _Digits(X, y), args.fraction, args.epochs, args.batch
    dc_args = _args(b)
    dc_args.shared_net = _proxy_net(e, b).fit(X, y)  # the weights both sides get for agreement
    # Cal's neighbours are found in the shared proxy's embedding, also when timing (the
    # same forward cost as any weights); "Shared" replaces DeepCore's trained model.
    for name in ("Shared", "Embedding"):
        _register_model(dc_nets, name, dc_args.shared_net.module_.state_dict())
    print(f"digits, n={len(X)}, fraction {f}, {e} epochs, batch {b}, 1 proxy, 1 thread, "
          f"best of {args.repeats}")  # fmt: skip
    print(f"{'method':<20} {'DeepCore s':>10} {'prunekd s':>10} {'ratio':>6} {'overlap':>8} "
          f"{'Spearman':>8} {'seed floor':>10}")  # fmt: skip
    for name in args.methods or METHODS:
        theirs, ours = _time_pair(dc, name, data, dc_args, X, y, f, e, b, args.repeats)
        overlap, rho, floor = _agreement(dc, name, data, dc_args, X, y, f, e, b)
        cells = [f"{v:.2f}" if v is not None else "-" for v in (overlap, rho, floor)]
        print(f"{name:<20} {theirs:>10.2f} {ours:>10.2f} {ours / theirs:>6.2f} {cells[0]:>8} "
              f"{cells[1]:>8} {cells[2]:>10}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
