"""
Your own table
==============

A table as users have them: numbers with gaps, text categories, string labels,
in a pandas DataFrame. A gradient-boosting teacher reads the DataFrame as it
is (through its own scikit-learn preprocessing); the student, a small MLP,
trains on imputed, standardised and one-hot encoded columns behind a
``ColumnTransformer``. The teacher keeps reading the raw DataFrame, with its
column names: :class:`~prunekd.Pipeline`'s default ``teacher_input="auto"``
finds that it cannot read the encoded rows.

Then the same question for any file: ``prunekd --data FILE --target COLUMN``
searches kept fraction x alpha by cross-validation and recommends the smallest
fraction within one point of the best, with its alpha. Here it runs on a CSV
this example writes, with a grid small enough for the documentation build.
One seed; the numbers printed are what this run measured.
"""

# %%
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline as sk_make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from prunekd import DistillationClassifier, RandomPruner, make_pipeline
from prunekd.cli import main as prunekd_command
from prunekd.models import MLP

rng = np.random.RandomState(0)
n = 3000
table = pd.DataFrame({
    "age": rng.randint(18, 80, n).astype(float),
    "monthly_spend": rng.gamma(2.0, 30.0, n),
    "plan": rng.choice(["basic", "plus", "family"], n, p=[0.5, 0.3, 0.2]),
    "region": rng.choice(["north", "south", "east", "west"], n),
})  # fmt: skip
table.loc[rng.rand(n) < 0.08, "monthly_spend"] = np.nan  # gaps, as in real tables
risk = (0.03 * (50 - table["age"]) + 0.02 * table["monthly_spend"].fillna(60)
        + (table["plan"] == "basic") * 1.2 - (table["region"] == "north") * 0.8)  # fmt: skip
churn = np.where(risk + rng.logistic(scale=0.25, size=n) > 1.5, "leaves", "stays")
X_train, X_test, y_train, y_test = train_test_split(table, churn, test_size=0.25,
                                                    stratify=churn, random_state=0)  # fmt: skip


def encoder():
    """Numbers: imputed and standardised; text: imputed and one-hot encoded."""
    return make_column_transformer(
        (sk_make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         make_column_selector(dtype_include="number")),
        (sk_make_pipeline(SimpleImputer(strategy="most_frequent"),
                          OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
         make_column_selector(dtype_exclude="number")),
    )  # fmt: skip


teacher = sk_make_pipeline(encoder(), HistGradientBoostingClassifier(random_state=0))
teacher.fit(X_train, y_train)
print(f"teacher test accuracy: {teacher.score(X_test, y_test):.3f}")


# %%
# The student sees 20% of the training rows.
def student_pipeline(alpha):
    student = DistillationClassifier(MLP, module__hidden=(64,), teacher=teacher, alpha=alpha,
                                     optimizer=torch.optim.Adam, lr=1e-3, batch_size=32,
                                     max_epochs=60, verbose=0, random_state=0)  # fmt: skip
    return make_pipeline(encoder(), RandomPruner(fraction=0.2, random_state=0), student)


plain = student_pipeline(0.0).fit(X_train, y_train)
kd = student_pipeline(0.5).fit(X_train, y_train)
print(f"20% of the rows, no KD: {plain.score(X_test, y_test):.3f}")
print(f"20% of the rows, KD:    {kd.score(X_test, y_test):.3f}")
agreement = {view: f"{rate:.0%}" for view, rate in kd[-1].teacher_agreement_.items()}
print(f"the teacher read the {kd.teacher_input_!r} rows (the encoded ones it cannot read); "
      f"its agreement with the kept labels: {agreement}")

# %%
# The same question from the command line, on a CSV file. In a shell::
#
#     prunekd --data churn.csv --target churn
#
# Here, a smaller grid and fewer epochs keep the documentation build short.
folder = Path(tempfile.mkdtemp())
table.assign(churn=churn).to_csv(folder / "churn.csv", index=False)
prunekd_command(["--data", str(folder / "churn.csv"), "--target", "churn",
                 "--fractions", "0.2,0.5,1", "--alphas", "0.5", "--epochs", "15",
                 "--jobs", "1", "--out", str(folder / "out")])  # fmt: skip
