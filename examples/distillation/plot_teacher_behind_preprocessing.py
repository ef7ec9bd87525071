"""
A teacher behind preprocessing
==============================

The teacher need not be a network, nor see what the student sees. Here a
gradient-boosting teacher is fitted on the raw pixel values of the digits,
while the student, a small MLP, trains on standardised features behind a
``StandardScaler``. In a :class:`~prunekd.Pipeline`, ``teacher_input="raw"``
hands the teacher the kept rows as they were before the scaler;
``"transformed"`` gives it the scaled rows, which it was never fitted on: the
student then learns from a teacher that is mostly wrong, and prunekd warns.
The default, ``"auto"``, offers the teacher both views and keeps the one on
which it agrees clearly more often with the labels of the kept rows (or
refuses to guess, naming both agreement rates).

One pruning seed; each line prints its accuracy.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from prunekd import DistillationClassifier, RandomPruner, make_pipeline
from prunekd.models import MLP

X_raw, y = load_digits(return_X_y=True)  # pixel values 0..16
X_train, X_test, y_train, y_test = train_test_split(
    X_raw, y, test_size=0.3, random_state=0, stratify=y
)
teacher = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X_train, y_train)
print(f"teacher on raw test pixels: {teacher.score(X_test, y_test):.3f}")
print(f"teacher on scaled test pixels: {teacher.score(StandardScaler().fit_transform(X_test), y_test):.3f}")


def pipeline(alpha, teacher_input="auto"):
    student = DistillationClassifier(MLP, module__n_features=64, module__n_classes=10,
                                     teacher=teacher, alpha=alpha, optimizer=torch.optim.Adam,
                                     lr=3e-3, max_epochs=60, batch_size=32, verbose=0,
                                     random_state=0)  # fmt: skip
    return make_pipeline(RandomPruner(fraction=0.1, random_state=0), StandardScaler(), student,
                         teacher_input=teacher_input)  # fmt: skip


# %%
# The same student on the same 10% of the training rows, three ways.
scores = {"no KD": pipeline(0.0, "transformed").fit(X_train, y_train).score(X_test, y_test)}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    wrong = pipeline(0.7, "transformed").fit(X_train, y_train)
scores["KD, teacher gets\nscaled rows"] = wrong.score(X_test, y_test)
print("warned:", str(caught[0].message)[:100], "...")
scores["KD, teacher gets\nraw rows"] = pipeline(0.7, "raw").fit(X_train, y_train).score(X_test, y_test)
auto = pipeline(0.7).fit(X_train, y_train)  # the default: teacher_input="auto"
scores["KD, default\n(auto)"] = auto.score(X_test, y_test)
agreement = auto[-1].teacher_agreement_
print(f"auto chose {auto.teacher_input_!r}: the teacher agrees with {agreement['raw']:.0%} of the "
      f"kept labels on raw rows, {agreement['transformed']:.0%} on scaled rows")
for name, acc in scores.items():
    print(f"{name.replace(chr(10), ' ')}: {acc:.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(list(scores), [100 * a for a in scores.values()], color=["grey", "tab:red", "tab:green", "tab:blue"])
ax.set_ylabel("test accuracy (%)")
ax.set_ylim(0, 100)
ax.set_title("10% of digits, MLP student, boosting teacher")
fig.tight_layout()
