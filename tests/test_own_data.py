"""Your own data: ``prunekd --data FILE --target COLUMN`` and ``prunekd.tuning.recommend``."""

import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris

from prunekd.cli import main
from prunekd.tuning import load_data, recommend

pd = pytest.importorskip("pandas")


def _mixed_table(n=240, seed=0):
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({
        "size": rng.randn(n),
        "colour": rng.choice(["red", "blue", "green"], n),
        "weight": rng.rand(n) * 10,
    })  # fmt: skip
    frame.loc[rng.rand(n) < 0.05, "weight"] = np.nan  # missing values are imputed
    frame["label"] = np.where((frame["size"] > 0) ^ (frame["colour"] == "red"), "yes", "no")
    return frame


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "table.csv"
    _mixed_table().to_csv(path, index=False)
    return path


def test_a_csv_loads_with_its_target(csv_file):
    X, y = load_data(csv_file, "label")
    assert list(X.columns) == ["size", "colour", "weight"] and set(y) == {"yes", "no"}


@pytest.mark.parametrize(
    "name, content, target, match",
    [
        ("t.csv", "a,b\n1,2\n", "label", r"has no column 'label'; its columns: a, b"),
        ("t.csv", "a,label\n1,x\n2,\n", "label", "1 missing values"),
        ("t.csv", "a,label\n1,x\n2,x\n", "label", "single class"),
        ("t.csv", "a,label\n1,x\n", None, "name its label column with target="),
        ("t.json", "{}", "label", "unknown file type '.json'"),
        ("t.parquet", "not parquet", "label", "could not read|Parquet engine"),
        ("t.npz", "not an npz", None, "could not read"),
    ],
)
def test_bad_files_get_a_clear_error(tmp_path, name, content, target, match):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises((ValueError, ImportError), match=match):
        load_data(path, target)


def test_npz_needs_X_and_y(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, features=np.zeros((4, 2)), y=[0, 1, 0, 1])
    with pytest.raises(ValueError, match="arrays named X and y"):
        load_data(path)
    with pytest.raises(ValueError, match="no such file"):
        load_data(tmp_path / "missing.csv", "y")


def test_without_pandas_the_message_names_the_extra(csv_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"prunekd\[tables\]"):
        load_data(csv_file, "label")


def test_the_recommendation_is_the_smallest_fraction_within_tolerance():
    X, y = load_iris(return_X_y=True, as_frame=True)
    rec = recommend(X, y, fractions=(0.2, 0.5, 1.0), alphas=(0.0, 0.5), max_epochs=20,
                    tolerance=0.05)  # fmt: skip
    best = max(row["cv_accuracy"] for row in rec.table)
    within = [row["fraction"] for row in rec.table if row["cv_accuracy"] >= best - 0.05 - 1e-12]
    assert rec.fraction == min(within)
    row = next(r for r in rec.table if r["fraction"] == rec.fraction)
    assert rec.alpha == row["best_alpha"] and rec.cv_accuracy == pytest.approx(row["cv_accuracy"])
    assert [r["student_cost"] for r in rec.table] == [0.2, 0.5, 1.0]
    assert rec.n_train + rec.n_test == 150 and 0 <= rec.test_accuracy <= 1


def test_images_get_the_cnn(tmp_path):
    X, y = load_digits(return_X_y=True)
    path = tmp_path / "digits.npz"
    np.savez(path, X=X[:300].reshape(-1, 8, 8), y=y[:300])
    rec = recommend(*load_data(path), fractions=(0.5, 1.0), alphas=(0.0,), max_epochs=2)
    student = rec.search.best_estimator_[-1]
    assert type(student.module_).__name__ == "SmallCNN"
    assert student.module_.classifier.in_features == 8 * 16


def test_the_command_on_a_csv(csv_file, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--data", str(csv_file), "--target", "label", "--out", str(out),
                 "--fractions", "0.5,1", "--alphas", "0.5", "--epochs", "5", "--jobs", "1"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "Recommended: fraction=" in printed and "student cost" in printed
    assert (out / "recommendation.md").read_text().startswith("# table.csv")
    table = pd.read_csv(out / "table.csv")
    assert list(table.fraction) == [0.5, 1.0] and set(table.best_alpha) <= {0.0, 0.5}
    best = pd.read_csv(out / "table.csv")  # the teacher read the raw frame (mixed columns)
    assert len(best) == 2


def test_the_command_writes_nothing_on_bad_input(tmp_path, csv_file, capsys):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(csv_file), "--target", "nope", "--out", str(out)])
    assert exit_info.value.code == 2
    assert "has no column 'nope'" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit):
        main(["--data", str(csv_file), "--target", "label", "--dataset", "cifar10"])
    assert "belong to the paper study" in capsys.readouterr().err


@pytest.mark.parametrize(
    "labels, match",
    [
        (pd.array(["a", "b"] * 10 + [pd.NA, pd.NA], dtype="string"), "2 missing values"),
        (np.linspace(0, 1, 22), "regression target"),
        (np.array(["a", "b"] * 10 + ["rare", "b"]), r"classes \['rare'\] have fewer than 4 rows"),
    ],
)
def test_labels_that_cannot_be_searched_are_refused(labels, match):
    X = np.random.RandomState(0).randn(22, 3)
    with pytest.raises(ValueError, match=match):
        recommend(X, labels, fractions=(1.0,), alphas=(0.0,), max_epochs=1)


def test_header_only_folder_and_npz_target_get_clear_errors(tmp_path):
    path = tmp_path / "empty.csv"
    _mixed_table().head(0).to_csv(path, index=False)
    with pytest.raises(ValueError, match="no rows"):
        load_data(path, "label")
    with pytest.raises(ValueError, match="is a folder, not a file"):
        load_data(tmp_path, "label")
    np.savez(tmp_path / "a.npz", X=np.zeros((4, 2)), y=[0, 1, 0, 1])
    with pytest.raises(ValueError, match="leave out target="):
        load_data(tmp_path / "a.npz", "y")


def test_an_object_array_keeps_its_numbers_numeric():
    from prunekd.tuning._build import _as_frame

    frame = _as_frame(_mixed_table().drop(columns="label").to_numpy())
    numeric = [pd.api.types.is_numeric_dtype(t) for t in frame.dtypes]
    assert numeric == [True, False, True]


def test_channels_last_images_are_transposed():
    from prunekd.tuning._build import as_images

    X = np.random.RandomState(0).rand(5, 8, 6, 3) * 255
    out = as_images(X)
    assert out.shape == (5, 3, 8, 6) and out.max() <= 1
    np.testing.assert_allclose(out[:, 2, 4, 5], X[:, 4, 5, 2] / X.max(), rtol=1e-6)


@pytest.fixture
def recorded(monkeypatch):
    """What ``prunekd --data`` passes to ``recommend`` (the search itself stubbed out)."""
    from prunekd.tuning import _command

    seen = {}

    def fake_recommend(X, y, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(_command, "recommend", fake_recommend)
    return seen


def test_the_command_keeps_plain_training_in_a_given_alpha_grid(csv_file, tmp_path, recorded):
    with pytest.raises(SystemExit):
        main(["--data", str(csv_file), "--target", "label", "--out", str(tmp_path),
              "--alphas", "0.5"])  # fmt: skip
    assert recorded["alphas"] == (0.0, 0.5)  # alpha 0 is the baseline every search needs


def test_the_command_without_epochs_takes_the_own_data_default_not_the_sweeps(csv_file, tmp_path,
                                                                               recorded):  # fmt: skip
    with pytest.raises(SystemExit):
        main(["--data", str(csv_file), "--target", "label", "--out", str(tmp_path)])
    assert recorded["max_epochs"] is None  # recommend's own 30, not the paper sweep's 70
    with pytest.raises(SystemExit):
        main(["--data", str(csv_file), "--target", "label", "--out", str(tmp_path), "--epochs", "7"])
    assert recorded["max_epochs"] == 7


def test_the_full_data_baseline_trains_without_kd(monkeypatch):
    from prunekd.distillation import DistillationClassifier

    X, y = load_iris(return_X_y=True)
    fitted = []
    fit = DistillationClassifier.fit

    def recording(self, X, y, *args, **kwargs):
        fitted.append((len(y), self.alpha))
        return fit(self, X, y, *args, **kwargs)

    monkeypatch.setattr(DistillationClassifier, "fit", recording)
    # alpha 0.5 only in the grid: the recommendation distils, the baseline must not
    rec = recommend(X, y, fractions=(1.0,), alphas=(0.5,), max_epochs=2, cv=2)
    assert rec.alpha == 0.5
    n_train = rec.n_train
    assert fitted[-1] == (n_train, 0.0)  # the last fit: the full-data baseline, without KD


def test_the_command_fits_a_teacher_per_fold_unless_told_to_share_one(csv_file, tmp_path, recorded):
    with pytest.raises(SystemExit):
        main(["--data", str(csv_file), "--target", "label", "--out", str(tmp_path)])
    assert recorded["teacher_per_fold"] is True
    with pytest.raises(SystemExit):
        main(["--data", str(csv_file), "--target", "label", "--out", str(tmp_path),
              "--shared-teacher"])  # fmt: skip
    assert recorded["teacher_per_fold"] is False
    with pytest.raises(SystemExit):  # the paper sweep has no such teacher
        main(["--shared-teacher", "--out", str(tmp_path)])


def test_no_teacher_of_the_recommendation_saw_the_fold_it_was_scored_on():
    X, y = load_iris(return_X_y=True, as_frame=True)
    rec = recommend(X, y, fractions=(0.5, 1.0), alphas=(0.0, 0.5), max_epochs=3, cv=3)
    assert rec.teacher_fits == 4 and rec.search.teacher_fits_ == 4  # three folds, one refit
    assert "one per CV fold" in rec.to_markdown()
    shared = recommend(X, y, fractions=(1.0,), alphas=(0.0, 0.5), max_epochs=3, cv=3,
                       teacher_per_fold=False)  # fmt: skip
    assert shared.teacher_fits == 1 and "it saw every CV fold" in shared.to_markdown()
