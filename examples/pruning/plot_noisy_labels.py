"""
Noisy labels: what hard-sample pruners keep, and how alpha helps
================================================================

Flip 15% of the training labels. Score-based pruners that keep the hardest
samples keep mostly the mislabeled ones at small fractions, so a student trained
on them learns the noise. A teacher fitted on all of the data has averaged the
noise out: the more the student trusts it (larger alpha), the better.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split

from prunekd import DistillationClassifier, EL2NPruner, ForgettingPruner, RandomPruner
from prunekd.datasets import load_digits
from prunekd.models import SmallCNN

X, y = load_digits()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
rng = np.random.RandomState(0)
noisy = rng.rand(len(y_train)) < 0.15
y_noisy = y_train.copy()
y_noisy[noisy] = (y_train[noisy] + rng.randint(1, 10, noisy.sum())) % 10
print(f"{noisy.mean():.1%} of the training labels are wrong")

# %%
# Share of mislabeled samples among the 20% each pruner keeps
pruners = {
    "Random": RandomPruner(fraction=0.2, random_state=0),
    "EL2N, keep hard": EL2NPruner(fraction=0.2, n_proxies=1, max_epochs=8, random_state=0),
    "EL2N, keep easy": EL2NPruner(fraction=0.2, keep="easy", n_proxies=1, max_epochs=8,
                                  random_state=0),
    "Forgetting, keep hard": ForgettingPruner(fraction=0.2, n_proxies=1, max_epochs=12,
                                              random_state=0),
}
kept = {name: p.fit_transform(X_train, y_noisy) for name, p in pruners.items()}
for name, idx in kept.items():
    print(f"{name:22s} keeps {noisy[idx].mean():.0%} mislabeled samples")

# %%
# Students on the EL2N (keep hard) subset, for growing alpha
def student(**kwargs):
    return DistillationClassifier(SmallCNN, module__n_classes=10, optimizer=torch.optim.Adam,
                                  lr=3e-3, batch_size=32, verbose=0, random_state=0, **kwargs)


teacher = student(alpha=0.0, max_epochs=20).fit(X_train, y_noisy)
idx = kept["EL2N, keep hard"]
alphas = [0.0, 0.5, 0.9, 1.0]
accuracy = [
    student(teacher=teacher, alpha=a, max_epochs=60).fit(X_train[idx], y_noisy[idx]).score(X_test, y_test)
    for a in alphas
]

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
axes[0].barh(list(kept), [100 * noisy[i].mean() for i in kept.values()])
axes[0].axvline(100 * noisy.mean(), color="k", ls="--", label="overall")
axes[0].set_xlabel("mislabeled among kept (%)")
axes[0].legend()
axes[1].plot(alphas, [100 * a for a in accuracy], marker="o")
axes[1].set_xlabel("alpha (weight of the teacher)")
axes[1].set_ylabel("test accuracy (%)")
axes[1].set_title("EL2N-hard 20% subset")
axes[1].grid(alpha=0.3)
fig.tight_layout()
plt.show()
