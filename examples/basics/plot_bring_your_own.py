"""
Bring your own teacher, and your own pruner
===========================================

The teacher can be any fitted scikit-learn classifier with ``predict_proba``
(its log-probabilities serve as logits) or any torch module returning logits,
trained however you like. A new pruner is a subclass with a single scoring
method; it gets class balancing, exact budgets, the ``keep`` direction, score
caching and Pipeline support for free.

Not every accurate classifier is a good teacher: what the student learns from
is the *shape* of the teacher's probabilities over the wrong classes. Gradient
boosting is accurate but nearly certain about everything, so it passes on
little more than the labels; a logistic regression, about as accurate, has
smoother probabilities and teaches much better.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from prunekd import DistillationClassifier, make_pipeline
from prunekd.datasets import load_digits
from prunekd.models import MLP
from prunekd.pruning import ScorePruner

X, y = load_digits(images=False)  # flat (n, 64) features
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

# %%
# A custom pruner: difficulty = distance to the sample's class centroid
class CentroidDistancePruner(ScorePruner):
    """Far from its class centre = hard."""

    def compute_scores(self, X, y, random_state):
        scores = np.empty(len(y))
        for label in np.unique(y):
            members = y == label
            scores[members] = np.linalg.norm(X[members] - X[members].mean(0), axis=1)
        return scores


# %%
# Teachers 1 and 2: scikit-learn classifiers, frozen so that cloning (as
# GridSearchCV does) keeps them fitted
boosting = FrozenEstimator(HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(X_train, y_train))
logistic = FrozenEstimator(LogisticRegression(max_iter=2000).fit(X_train, y_train))
for name, t in [("gradient boosting", boosting), ("logistic regression", logistic)]:
    print(f"teacher {name}: test accuracy {t.score(X_test, y_test):.3f}")

# Teacher 3: a torch module trained with a bare PyTorch loop
torch.manual_seed(0)
module = MLP(64, 10, hidden=(128,))
optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
Xt, yt = torch.as_tensor(X_train), torch.as_tensor(y_train)
for epoch in range(60):
    for batch in torch.randperm(len(Xt)).split(64):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(Xt[batch]), yt[batch]).backward()
        optimizer.step()


def student(**kwargs):
    return DistillationClassifier(MLP, module__n_features=64, module__n_classes=10,
                                  module__hidden=(32,), optimizer=torch.optim.Adam, lr=3e-3,
                                  batch_size=32, max_epochs=200, verbose=0, random_state=0,
                                  **kwargs)


# %%
# Students on 10% of the data, kept by the custom pruner (easy samples)
results = {}
for name, teacher, alpha in [("no KD", None, 0.0), ("gradient boosting", boosting, 0.9),
                             ("logistic regression", logistic, 0.9), ("torch MLP", module, 0.9)]:
    pipe = make_pipeline(CentroidDistancePruner(fraction=0.1, keep="easy", random_state=0),
                         student(teacher=teacher, alpha=alpha))
    results[name] = pipe.fit(X_train, y_train).score(X_test, y_test)
    print(f"{name:20s} {results[name]:.3f}")

# %%
fig, ax = plt.subplots(figsize=(5, 2.4))
ax.barh(list(results), [100 * r for r in results.values()])
ax.set_xlabel("test accuracy (%)")
ax.set_xlim(70, 100)
ax.set_title("MLP student on 10% of digits")
fig.tight_layout()
plt.show()
