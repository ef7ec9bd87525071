"""
Teacher capacity: smaller, equal and larger teachers
====================================================

Is a bigger teacher a better teacher? On a small pruned subset a much larger
teacher can *hurt*: the student cannot follow it (the capacity gap), while a
teacher of the student's own size, or smaller, still helps. With more data the
gap matters less.
"""

# %%
import math

import matplotlib.pyplot as plt
import torch
from sklearn.model_selection import train_test_split

from prunekd import DistillationClassifier, RandomPruner
from prunekd.datasets import load_digits
from prunekd.models import SmallCNN

X, y = load_digits()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
STEPS, BATCH = 400, 32


def net(width, n_samples, **kwargs):
    epochs = math.ceil(STEPS / math.ceil(n_samples / BATCH))
    return DistillationClassifier(SmallCNN, module__n_classes=10, module__width=width,
                                  optimizer=torch.optim.Adam, lr=3e-3, batch_size=BATCH,
                                  max_epochs=epochs, verbose=0, random_state=0, **kwargs)


teachers = {f"width {w}": net(w, 400, alpha=0.0).fit(X_train, y_train) for w in (4, 16, 64)}
for name, t in teachers.items():
    print(f"teacher {name}: {t.score(X_test, y_test):.3f}")

# %%
# Students of width 16 on random subsets
fractions = [0.1, 0.3, 1.0]
curves = {"no KD": [], **{f"teacher {k}": [] for k in teachers}}
for f in fractions:
    idx = RandomPruner(fraction=f, random_state=0).fit_transform(X_train, y_train)
    Xs, ys = X_train[idx], y_train[idx]
    curves["no KD"].append(net(16, len(idx), alpha=0.0).fit(Xs, ys).score(X_test, y_test))
    for name, t in teachers.items():
        acc = net(16, len(idx), teacher=t, alpha=0.5).fit(Xs, ys).score(X_test, y_test)
        curves[f"teacher {name}"].append(acc)

# %%
fig, ax = plt.subplots(figsize=(5, 3.4))
for name, accs in curves.items():
    ax.plot(fractions, [100 * a for a in accs], marker="o", label=name)
ax.set_xlabel("kept fraction")
ax.set_ylabel("test accuracy (%)")
ax.set_title("Student of width 16, alpha=0.5")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()
