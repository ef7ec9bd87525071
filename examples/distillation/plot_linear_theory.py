"""
The theory in one picture: a linear student and its teachers
============================================================

For a linear model the benefit of distillation can be seen exactly. A student
sees ``n_s`` noisy samples; its teacher, of the same (linear) form, was fitted
on a fraction of a larger pool of ``N`` samples. The student minimises
``(1 - alpha) * ||y - X w||^2 + alpha * ||t - X w||^2`` on its own samples,
where ``t`` are the teacher's predictions: least squares on the blended targets
``(1 - alpha) y + alpha t``. The teacher's predictions carry less noise the more
data it saw, so the student's error falls as the teacher's data fraction grows.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression

rng = np.random.RandomState(0)
d, N, n_student, noise = 20, 2000, 60, 1.0
teacher_fractions = np.array([0.03, 0.05, 0.1, 0.2, 0.5, 1.0])
alphas = [0.0, 0.5, 0.9]
trials = 200

error = np.zeros((len(alphas), len(teacher_fractions)))
for _ in range(trials):
    w_true = rng.randn(d)
    X_pool = rng.randn(N, d)
    y_pool = X_pool @ w_true + noise * rng.randn(N)
    student_rows = rng.choice(N, n_student, replace=False)  # the student's pruned subset
    Xs, ys = X_pool[student_rows], y_pool[student_rows]
    for j, frac in enumerate(teacher_fractions):
        rows = np.union1d(student_rows, rng.choice(N, int(frac * N), replace=False))
        teacher = LinearRegression().fit(X_pool[rows], y_pool[rows])
        t = teacher.predict(Xs)
        for i, alpha in enumerate(alphas):
            student = LinearRegression().fit(Xs, (1 - alpha) * ys + alpha * t)
            error[i, j] += np.sum((student.coef_ - w_true) ** 2) / trials

# %%
fig, ax = plt.subplots(figsize=(5, 3.4))
for i, alpha in enumerate(alphas):
    ax.plot(teacher_fractions, error[i], marker="o", label=f"alpha={alpha}")
ax.set_xscale("log")
ax.set_xlabel("fraction of the data the teacher saw")
ax.set_ylabel("student error ||w - w*||²")
ax.set_title(f"Linear student on {n_student} samples")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()

# %%
# With alpha > 0 the error falls monotonically with the teacher's fraction; with
# alpha = 0 the teacher is ignored and the error is flat.
print(np.round(error, 3))
