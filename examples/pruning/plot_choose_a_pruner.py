"""
Choose a pruner
===============

Every selection method in prunekd on the same task: keep 20% of the digits
training set, train the same small MLP on it with and without distillation,
and time the pruning. Pruners scored by the fitted teacher, or read off its
recorded training, cost almost nothing; proxy-based ones pay for their proxies.

One seed: differences of a point or two here are noise. The ``prunekd``
command (``prunekd --pruners random,el2n,entropy,ccs,kcenter,...``) runs them
over seeds and reports intervals.
"""

# %%
import time

import matplotlib.pyplot as plt
import torch
from sklearn.model_selection import train_test_split

from prunekd import (
    CoverageCentricPruner,
    DistillationClassifier,
    DynamicsPruner,
    EL2NPruner,
    EntropyPruner,
    FacilityLocationPruner,
    ForgettingPruner,
    GraNdPruner,
    GraphCutPruner,
    HerdingPruner,
    KCenterGreedyPruner,
    LeastConfidencePruner,
    LogDeterminantPruner,
    MarginPruner,
    ModerateDSPruner,
    RandomPruner,
)
from prunekd.callbacks import TrainingDynamics
from prunekd.datasets import load_digits
from prunekd.models import MLP

X, y = load_digits(images=False)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def student(**kwargs):
    return DistillationClassifier(MLP, module__hidden=(64,), optimizer=torch.optim.Adam, lr=3e-3,
                                  batch_size=32, verbose=0, random_state=0, **kwargs)  # fmt: skip


# The teacher trains on all the training data, recording its own dynamics.
teacher = student(alpha=0.0, max_epochs=40, callbacks=[("dynamics", TrainingDynamics())])
teacher.fit(X_train, y_train)
print(f"teacher: {teacher.score(X_test, y_test):.3f}")

# %%
proxy = dict(n_proxies=1, max_epochs=5, random_state=0)
pruners = {
    "Random": RandomPruner(random_state=0),
    "EL2N": EL2NPruner(**proxy),
    "GraNd": GraNdPruner(**proxy),
    "Forgetting": ForgettingPruner(n_proxies=1, max_epochs=10, random_state=0),
    "Entropy": EntropyPruner(**proxy),
    "Margin": MarginPruner(**proxy),
    "Least confidence": LeastConfidencePruner(**proxy),
    "CCS (EL2N)": CoverageCentricPruner(EL2NPruner(n_proxies=1, max_epochs=5), random_state=0),
    "k-center": KCenterGreedyPruner(random_state=0),
    "Herding": HerdingPruner(),
    "Moderate-DS": ModerateDSPruner(),
    "Facility location": FacilityLocationPruner(),
    "Graph cut": GraphCutPruner(),
    "Log-determinant": LogDeterminantPruner(),
    "EL2N of the teacher": EL2NPruner(model=teacher, random_state=0),
    "AUM of the teacher": DynamicsPruner(teacher, score="aum", random_state=0),
}
results = {}
for name, pruner in pruners.items():
    start = time.perf_counter()
    kept = pruner.set_params(fraction=0.2).fit_transform(X_train, y_train)
    seconds = time.perf_counter() - start
    accuracy = [
        student(teacher=teacher, alpha=alpha, max_epochs=60)
        .fit(X_train[kept], y_train[kept])
        .score(X_test, y_test)
        for alpha in (0.0, 0.7)
    ]
    results[name] = (seconds, *accuracy)
    print(f"{name:>20}: {seconds:5.2f} s   no KD {accuracy[0]:.3f}   KD {accuracy[1]:.3f}")

# %%
names = list(results)
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4.5), sharey=True)
rows = range(len(names))
left.barh(rows, [results[n][0] for n in names], color="grey")
left.set_xlabel("pruning time (s)")
left.set_yticks(list(rows), names)
left.invert_yaxis()
right.scatter([100 * results[n][1] for n in names], rows, label="no KD", marker="o")
right.scatter([100 * results[n][2] for n in names], rows, label="KD, alpha=0.7", marker="s")
right.set_xlabel("test accuracy (%), 20% of the data")
right.grid(alpha=0.3)
right.legend(loc="lower left")
fig.tight_layout()
