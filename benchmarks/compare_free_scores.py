"""Scores for free (from the teacher's training dynamics) against proxy-trained scores.

On the digits training split, the teacher (the SmallCNN the students distill
from) is trained once with a ``TrainingDynamics`` callback; its record gives
Forgetting, AUM and early EL2N scores at no extra training. The proxy-trained
pruners (EL2N, Forgetting) train their own proxies. For each score the script
prints how much of its kept subset (fraction 0.3, hardest samples kept) it
shares with the proxy-trained subsets (Jaccard index), and the test accuracy of
students trained on the subset without and with KD (alpha=0.5 and 1.0),
averaged over seeds.

Usage::

    python benchmarks/compare_free_scores.py [--fraction 0.3] [--seeds 0,1,2]
"""

import argparse
import math

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from prunekd import DistillationClassifier, EL2NPruner, ForgettingPruner, RandomPruner
from prunekd.callbacks import TrainingDynamics
from prunekd.datasets import load_digits
from prunekd.models import SmallCNN
from prunekd.pruning import PrecomputedPruner

STEPS, BATCH = 800, 32


def net(n, **kwargs):
    epochs = math.ceil(STEPS / math.ceil(n / BATCH))
    return DistillationClassifier(SmallCNN, module__n_classes=10, optimizer=torch.optim.Adam,
                                  lr=3e-3, batch_size=BATCH, max_epochs=epochs, verbose=0,
                                  **kwargs)  # fmt: skip


def jaccard(a, b):
    a, b = set(a.tolist()), set(b.tolist())
    return len(a & b) / len(a | b)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fraction", type=float, default=0.3)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    torch.set_num_threads(2)

    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)  # fmt: skip
    record = TrainingDynamics(keep_logits_at=(3,))
    teacher = DistillationClassifier(SmallCNN, module__n_classes=10, optimizer=torch.optim.Adam,
                                     lr=3e-3, batch_size=BATCH, max_epochs=30, alpha=0.0,
                                     verbose=0, random_state=0,
                                     callbacks=[("dynamics", record)]).fit(X_train, y_train)  # fmt: skip
    print(f"teacher test accuracy {teacher.score(X_test, y_test):.3f} (30 epochs, recorded)")

    f = args.fraction
    subsets = {
        "random": RandomPruner(fraction=f, random_state=0).fit_transform(X_train, y_train),
        "EL2N (proxies)": EL2NPruner(fraction=f, n_proxies=2, random_state=0).fit_transform(X_train, y_train),
        "Forgetting (proxies)": ForgettingPruner(fraction=f, n_proxies=2, random_state=0).fit_transform(X_train, y_train),
    }  # fmt: skip
    free = {
        "EL2N (teacher, epoch 3)": record.el2n_scores(3),
        "Forgetting (teacher)": record.forgetting_counts(),
        "AUM (teacher)": record.aum_scores(),
    }
    for name, scores in free.items():
        subsets[name] = PrecomputedPruner(scores, fraction=f, random_state=0).fit_transform(X_train, y_train)

    ref_el2n, ref_forg = subsets["EL2N (proxies)"], subsets["Forgetting (proxies)"]
    print(f"\nkept fraction {f}, hardest kept; test accuracy mean ± std over seeds {seeds}")
    print(f"{'subset':26s} {'J(EL2N px)':>10s} {'J(Forg px)':>10s} {'no KD':>13s} {'KD a=0.5':>13s} {'KD a=1':>13s}")
    for name, idx in subsets.items():
        accs = {a: [] for a in (0.0, 0.5, 1.0)}
        for seed in seeds:
            for a in accs:
                student = net(len(idx), alpha=a, teacher=teacher if a else None, random_state=seed)
                accs[a].append(student.fit(X_train[idx], y_train[idx]).score(X_test, y_test))
        cells = [f"{100 * np.mean(v):5.1f} ± {100 * np.std(v):3.1f}" for v in accs.values()]
        print(f"{name:26s} {jaccard(idx, ref_el2n):10.2f} {jaccard(idx, ref_forg):10.2f} "
              + " ".join(f"{c:>13s}" for c in cells))


if __name__ == "__main__":
    main()
