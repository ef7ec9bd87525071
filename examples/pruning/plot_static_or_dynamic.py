"""
Static or dynamic pruning
=========================

A static pruner chooses the kept rows once, before training; dynamic pruning
(:class:`~prunekd.callbacks.DynamicPruning`, InfoBatch's recipe) trains on all
the data but skips, each epoch, some of the rows the student has already
learned. Here both distill from the same teacher on digits, and each student's
accuracy is drawn against the samples it processed, the cost the user prunes
to save: dynamic pruning at three prune ratios, static random pruning with KD
at the same cost as each, and the full data trained for fewer epochs.

One seed: differences of a point here are noise. ``prunekd --pruners
random,infobatch,infobatch_kd --prune-ratios 0.3,0.5,0.7`` runs the same
comparison over seeds, with intervals.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split

from prunekd import DistillationClassifier, RandomPruner
from prunekd.callbacks import DynamicPruning
from prunekd.datasets import load_digits
from prunekd.models import MLP
from prunekd.pruning import PrecomputedPruner

X, y = load_digits(images=False)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
EPOCHS = 30


def student(**kwargs):
    params = dict(module__hidden=(64,), optimizer=torch.optim.Adam, lr=3e-3, batch_size=32,
                  max_epochs=EPOCHS, verbose=0, random_state=0)  # fmt: skip
    return DistillationClassifier(MLP, **{**params, **kwargs})


teacher = student(alpha=0.0, module__hidden=(256,)).fit(X_train, y_train)
full = student(teacher=teacher, alpha=0.5).fit(X_train, y_train)
print(f"teacher {teacher.score(X_test, y_test):.3f}, full data + KD {full.score(X_test, y_test):.3f}")

# %%
# Dynamic pruning is a callback of the student. The first epoch and the last
# eighth train on every row; the history records each epoch's rows.
results = {"dynamic + KD": [], "static random + KD": [], "full data, fewer epochs": []}
for ratio in (0.3, 0.5, 0.7):
    prune = DynamicPruning(prune_ratio=ratio, random_state=0)
    dynamic = student(teacher=teacher, alpha=0.5, callbacks=[("prune", prune)])
    dynamic.fit(X_train, y_train)
    cost = prune.fraction_processed_
    results["dynamic + KD"].append((cost, dynamic.score(X_test, y_test)))
    # The same cost, spent statically: random pruning to that fraction, every epoch...
    kept = RandomPruner(fraction=cost, random_state=0).fit_transform(X_train, y_train)
    static = student(teacher=teacher, alpha=0.5).fit(X_train[kept], y_train[kept])
    results["static random + KD"].append((cost, static.score(X_test, y_test)))
    # ... or on all the rows, for that share of the epochs.
    shorter = student(alpha=0.0, max_epochs=round(cost * EPOCHS)).fit(X_train, y_train)
    results["full data, fewer epochs"].append((round(cost * EPOCHS) / EPOCHS,
                                               shorter.score(X_test, y_test)))  # fmt: skip
    print(f"prune_ratio {ratio}: processed {cost:.2f} of the rows; rows per epoch "
          f"{dynamic.history[:, 'dynamic_rows']}")  # fmt: skip

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for name, points in results.items():
    cost, accuracy = np.array(points).T
    ax.plot(cost, 100 * accuracy, "o-", label=name)
ax.axhline(100 * full.score(X_test, y_test), color="k", ls=":", label="full data + KD (cost 1)")
ax.set_xlabel("samples processed (x the full data's)")
ax.set_ylabel("test accuracy (%)")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# A dynamic run also gives a static selection: the rows it kept most often.
# (Here the last run's: the rows it trained on in the most epochs.)
static_from_dynamic = PrecomputedPruner(scores=prune.keep_counts_, fraction=0.5)
kept = static_from_dynamic.fit_transform(X_train, y_train)
print(f"{len(kept)} rows, kept in {prune.keep_counts_[kept].mean():.1f} of {EPOCHS} epochs "
      f"on average (all rows: {prune.keep_counts_.mean():.1f})")  # fmt: skip
