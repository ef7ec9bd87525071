"""
Tuning alpha per fraction with a grid search
============================================

Search the kept fraction and the distillation weight together over a prunekd
``Pipeline``. The raw ``best_params_`` of such a search always picks the
largest fraction (more data is better); what you want is the best alpha *for
each* fraction, and perhaps the smallest fraction that is nearly as good as the
best. Cross-validation scores are computed on untouched validation folds: the
pruner only removes rows during ``fit``.

:class:`~prunekd.DistillationSearchCV` has ``GridSearchCV``'s interface and
results; the candidates that differ only in alpha train together, on every
fold, as one vectorised model per fraction. ``GridSearchCV`` stays the general
route (any estimator, and ``RandomizedSearchCV``, halving); both are below.

.. note::
   The teacher here was fitted on all of ``X_train``, so it has seen every
   validation fold: cross-validated scores of KD students are slightly
   optimistic. For unbiased model selection, fit the teacher on a separate
   split, or refit it inside each fold (see the user guide).
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from prunekd import (DistillationClassifier, DistillationSearchCV, RandomPruner,
                     best_alpha_per_fraction, make_pipeline, smallest_fraction_within)
from prunekd.datasets import load_digits
from prunekd.models import SmallCNN

X, y = load_digits()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def student(**kwargs):
    return DistillationClassifier(SmallCNN, module__n_classes=10, optimizer=torch.optim.Adam,
                                  lr=3e-3, batch_size=32, verbose=0, random_state=0, **kwargs)


teacher = student(alpha=0.0, max_epochs=30).fit(X_train, y_train)

# %%
pipe = make_pipeline(RandomPruner(random_state=0), student(teacher=teacher, max_epochs=60))
fractions, alphas = [0.1, 0.2, 0.4], [0.0, 0.5, 0.9]
param_grid = {"randompruner__fraction": fractions, "distillationclassifier__alpha": alphas}
start = time.perf_counter()
search = DistillationSearchCV(
    pipe, param_grid, cv=StratifiedKFold(3, shuffle=True, random_state=0),
    refit=smallest_fraction_within(0.01), n_jobs=2,
).fit(X_train, y_train)
grouped_seconds = time.perf_counter() - start

table = best_alpha_per_fraction(search)
for f, a, m, s in zip(table.fraction, table.best_alpha, table.mean_test_score, table.std_test_score):
    print(f"fraction {f:.1f}: best alpha {a}, CV accuracy {m:.3f} ± {s:.3f}")
print("refit on:", search.best_params_, "test accuracy", round(search.score(X_test, y_test), 3))

# %%
# The heatmap of mean CV accuracy over fraction x alpha
results = search.cv_results_
grid = np.empty((len(alphas), len(fractions)))
for i, params in enumerate(results["params"]):
    grid[alphas.index(params["distillationclassifier__alpha"]),
         fractions.index(params["randompruner__fraction"])] = results["mean_test_score"][i]
fig, ax = plt.subplots(figsize=(4.5, 3.2))
im = ax.imshow(100 * grid, origin="lower", cmap="viridis")
ax.set_xticks(range(len(fractions)), fractions)
ax.set_yticks(range(len(alphas)), alphas)
for j, a in enumerate(table.best_alpha):
    ax.plot(j, alphas.index(a), marker="*", color="white", markersize=12)
ax.set_xlabel("kept fraction")
ax.set_ylabel("alpha (★ best per fraction)")
fig.colorbar(im, label="CV accuracy (%)")
fig.tight_layout()
plt.show()

# %%
# The same search with GridSearchCV
# ---------------------------------
# ``GridSearchCV`` fits every candidate on every fold separately, two at a
# time here. Its scores are the grouped search's up to a rare flipped
# prediction (a grouped student differs from a separate fit in the last bits of
# its weights), and it refits the same candidate.
start = time.perf_counter()
separate = GridSearchCV(
    pipe, param_grid, cv=StratifiedKFold(3, shuffle=True, random_state=0),
    refit=smallest_fraction_within(0.01), n_jobs=2,
).fit(X_train, y_train)
separate_seconds = time.perf_counter() - start
gap = np.abs(separate.cv_results_["mean_test_score"] - search.cv_results_["mean_test_score"])
print(f"DistillationSearchCV {grouped_seconds:.0f} s, GridSearchCV {separate_seconds:.0f} s; "
      f"largest difference in mean CV accuracy {gap.max():.4f}; "
      f"same refit: {separate.best_params_ == search.best_params_}")

# %%
# Two budgets, two questions
# --------------------------
# ``max_epochs=60`` gives every fit 60 passes over the rows it keeps, so a fit
# at fraction 0.1 takes a quarter of the optimiser steps of one at 0.4: its
# cost is proportional to the fraction, which is what pruning saves (the
# student's cost: the teacher's own training comes on top whenever it distills),
# and the search compares budgets as well as subsets. ``max_steps`` gives every fit the
# same number of optimiser steps whatever its fraction (the sweep's
# ``--budget steps``): the search then compares subsets at equal compute, and
# small fractions are no longer starved. Ask the question you mean to answer:
# "how small a subset at the same cost per epoch" (epochs) or "which subset for
# a fixed number of updates" (steps).
steps = 300
by_steps = clone(search).set_params(estimator__distillationclassifier__max_steps=steps)
by_steps.fit(X_train, y_train)
table_steps = best_alpha_per_fraction(by_steps)
n_fold = len(X_train) * 2 // 3  # rows a training fold holds
print("fraction  steps/fit (60 epochs)  CV acc   |  steps/fit  CV acc")
for i, f in enumerate(fractions):
    epoch_steps = 60 * -(-int(f * n_fold) // 32)
    print(f"{f:8.1f}  {epoch_steps:21d}  {table.mean_test_score[i]:.3f}   |  {steps:9d}  "
          f"{table_steps.mean_test_score[i]:.3f}")

# %%
# A teacher per fold
# ------------------
# The teacher above was fitted on all of ``X_train``, so it has seen every
# validation fold. With ``teacher_per_fold=True``,
# :class:`~prunekd.model_selection.DistillationSearchCV` clones the (unfitted) teacher and fits it on
# each training fold, once for every candidate, and once more for the refit.
# Here, at fraction 0.1, the CV scores of both ways beside each other (one
# seed: a description; the user guide measures the bias over ten seeds).
small = {"randompruner__fraction": [0.1], "distillationclassifier__alpha": [0.0, 0.9]}
cv = StratifiedKFold(3, shuffle=True, random_state=0)
shared = DistillationSearchCV(pipe, small, cv=cv, n_jobs=2).fit(X_train, y_train)
unfitted = student(alpha=0.0, max_epochs=30)
per_fold = DistillationSearchCV(
    clone(pipe).set_params(distillationclassifier__teacher=unfitted), small, cv=cv, n_jobs=2,
    teacher_per_fold=True,
).fit(X_train, y_train)
for name, s in (("teacher fitted on all of X_train", shared), ("a teacher per fold", per_fold)):
    scores = ", ".join(f"alpha {p['distillationclassifier__alpha']}: {m:.3f}"
                       for p, m in zip(s.cv_results_["params"], s.cv_results_["mean_test_score"]))
    print(f"{name}: CV accuracy {scores}; test {s.score(X_test, y_test):.3f}")
print("teacher fits of the per-fold search:", per_fold.teacher_fits_)
