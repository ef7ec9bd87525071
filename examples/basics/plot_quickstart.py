"""
Quickstart: prune, distill, evaluate
====================================

Keep 10% of the digits training set, then train the same small CNN on it twice:
once on the labels alone, once also learning from a teacher fitted on all of the
training data, and compare them. This is one seed; the ``prunekd`` command
measures the same comparison over 10 seeds, with intervals and what each
student cost (the results page).
"""

# %%
# Data, and a teacher trained on the full training split
import matplotlib.pyplot as plt
import torch
from sklearn.model_selection import train_test_split

from prunekd import DistillationClassifier, RandomPruner, make_pipeline
from prunekd.datasets import load_digits
from prunekd.models import SmallCNN

X, y = load_digits()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def student(**kwargs):
    return DistillationClassifier(SmallCNN, module__n_classes=10, optimizer=torch.optim.Adam,
                                  lr=3e-3, batch_size=32, verbose=0, random_state=0, **kwargs)


teacher = student(alpha=0.0, max_epochs=30).fit(X_train, y_train)

# %%
# Prune to 10% and train with and without the teacher
scores = {"teacher (100% of data)": teacher.score(X_test, y_test)}
for alpha in (0.0, 0.5):
    pipe = make_pipeline(RandomPruner(fraction=0.1, random_state=0),
                         student(teacher=teacher, alpha=alpha, max_epochs=150))
    label = "10% of data, no KD" if alpha == 0 else f"10% of data, KD (alpha={alpha})"
    scores[label] = pipe.fit(X_train, y_train).score(X_test, y_test)
for name, acc in scores.items():
    print(f"{name:32s} {acc:.3f}")

# %%
# The picture
fig, ax = plt.subplots(figsize=(6, 2.5))
ax.barh(list(scores), [100 * s for s in scores.values()], color=["grey", "tab:blue", "tab:orange"])
ax.set_xlim(80, 100)
ax.set_xlabel("test accuracy (%)")
fig.tight_layout()
plt.show()
