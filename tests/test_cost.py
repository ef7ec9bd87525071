"""What each result cost: the cost columns of a sweep against counts made while it ran."""

import csv
import os

import pytest

from prunekd import cli
from prunekd.distillation import _group
from prunekd.experiments import SweepConfig
from prunekd.experiments._config import epochs_for
from prunekd.models import SmallCNN
from _helpers import tiny_sweep_args

TINY = tiny_sweep_args(epochs=8)


def _rows(out):
    with open(os.path.join(out, "results.csv"), newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    """A tiny sweep (MLP students of width 8), with every student row and proxy sample counted."""
    out = str(tmp_path_factory.mktemp("cost"))
    student_rows, proxy_samples = {}, []
    getitems, forward = _group._MemberRows.__getitems__, SmallCNN.forward

    def count_rows(self, positions):
        # every member of a group takes these positions of its own kept rows
        n_kept = self.rows.shape[1]
        student_rows[n_kept] = student_rows.get(n_kept, 0) + len(positions)
        return getitems(self, positions)

    def count_proxy(self, x):
        proxy_samples.append(len(x))  # the MLP sweep runs SmallCNN only as the EL2N proxy
        return forward(self, x)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_group._MemberRows, "__getitems__", count_rows)
        patch.setattr(SmallCNN, "forward", count_proxy)
        assert cli.main(["--out", out, *TINY]) == 0
    return _rows(out), student_rows, sum(proxy_samples)


def test_student_samples_and_steps_are_the_rows_it_was_fed(counted):
    rows, student_rows, _ = counted
    for row in rows:
        n_kept = int(row["n_kept"])
        assert int(row["epochs"]) == 8  # --epochs 8 whatever the fraction
        assert float(row["student_samples"]) == student_rows[n_kept] == 8 * n_kept
        assert int(row["steps"]) == 8 * -(-n_kept // 32)
    assert {int(r["n_kept"]) for r in rows} == {251, 1257}


def test_teacher_samples_count_one_pass_per_kept_row_at_the_teachers_size(counted):
    rows, _, _ = counted
    # MLP(64 -> 4w -> 10) costs 2 * (64 * 4w + 4w * 10) flops: widths 2, 8, 32 give
    # 1184, 4736 and 18944, so 0.25, 1 and 4 times the student's (width 8).
    ratio = {"none": 0.0, "small": 0.25, "equal": 1.0, "large": 4.0}
    for row in rows:
        assert float(row["teacher_samples"]) == pytest.approx(
            int(row["n_kept"]) * ratio[row["teacher"]]
        )


def test_pruner_samples_are_the_proxy_passes_at_the_proxys_size(counted):
    rows, _, proxy_samples = counted
    # one EL2N proxy: 1 epoch over the 1257 training rows, then one scoring pass (and one
    # zero sample through a fresh proxy, by which the sweep measures the proxy's flops)
    assert proxy_samples == 2 * 1257 + 1
    proxy_samples -= 1
    el2n = {float(r["pruner_samples"]) for r in rows if r["pruner"] == "el2n"}
    assert len(el2n) == 1
    from prunekd.experiments._cost import _flops, forward_flops

    proxy = _flops(SmallCNN, {"module__n_classes": 10}, (1, 8, 8))
    student = forward_flops(SweepConfig(model="mlp"), 10, (1, 8, 8), 8)
    assert el2n.pop() == pytest.approx(proxy_samples * proxy / student)
    assert {float(r["pruner_samples"]) for r in rows if r["pruner"] == "random"} == {0.0}
    assert all(float(r["pruner_seconds"]) > 0 for r in rows if r["pruner"] == "el2n")


def test_a_small_fraction_costs_its_fraction_under_the_epochs_budget(counted):
    rows, _, _ = counted
    full = next(float(r["student_samples"]) for r in rows
                if r["fraction"] == "1.0" and r["alpha"] == "0.0")  # fmt: skip
    small = {float(r["student_samples"]) for r in rows if r["fraction"] == "0.2"}
    assert small == {full * 251 / 1257}


def test_the_steps_budget_gives_every_fraction_the_same_steps():
    config = SweepConfig(budget="steps", steps=800, batch_size=32)
    for n_kept in (126, 629, 1257):
        steps = epochs_for(n_kept, config) * -(-n_kept // 32)
        assert 800 <= steps < 800 + -(-n_kept // 32)
    assert epochs_for(126, SweepConfig(epochs=70)) == epochs_for(1257, SweepConfig(epochs=70)) == 70
    assert SweepConfig(budget="steps").key() != SweepConfig().key()
    assert SweepConfig(epochs=71).key() != SweepConfig().key()
    assert SweepConfig(steps=1).key() == SweepConfig().key()  # unused under the epochs budget


def test_the_terminal_prints_the_verdict_table(tmp_path, capsys):
    cli.main(["--out", str(tmp_path), *TINY])
    text = capsys.readouterr().out
    assert "finding  verdict" in text and "\n1a " in text and "\n5b " in text
    assert "SMOKE TEST: 1 seeds" in text
    words = [line[9:22].strip() for line in text.split("finding  verdict")[1].splitlines()[1:9]]
    assert words == ["not read"] * 8  # the statistics, no verdict word


def test_quick_is_a_smoke_test_that_reads_no_verdict(tmp_path, capsys, monkeypatch):
    # --quick's own grid, on the tiny MLP so that it runs in seconds
    tiny = [a for a in TINY]
    for option in ("--fractions", "--epochs"):
        at = tiny.index(option)
        del tiny[at : at + 2]
    monkeypatch.setattr(cli, "QUICK", {**cli.QUICK, "epochs": 4, "teacher_epochs": 3})
    cli.main(["--quick", "--out", str(tmp_path), *tiny])
    text = capsys.readouterr().out
    assert "SMOKE TEST" in text and "reproduced" not in text and "contradicted" not in text
    with open(os.path.join(tmp_path, "summary.md")) as f:
        assert f.readline().startswith("**SMOKE TEST: 1 seeds")  # the summary says so first
    assert "reproduced" not in open(os.path.join(tmp_path, "summary.md")).read().split(
        "## The paper's findings")[1].split("## Claim 2")[0].replace("*reproduced*", "")  # fmt: skip


@pytest.mark.parametrize("args", [["--budget", "time"], ["--epochs", "0"],
                                  ["--budget-scales", "0,2"]])  # fmt: skip
def test_bad_budgets_exit_with_a_message(args, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert exc.value.code == 2 and "--budget" in capsys.readouterr().err or "--epochs" in args


def test_seeds_past_budget_seeds_train_only_the_baseline_of_finding_5b(tmp_path):
    args = [a for a in tiny_sweep_args(seeds="0,1", epochs=3)]
    at = args.index("--budget-scales")
    args[at + 1] = "0.5"
    cli.main(["--out", str(tmp_path), *args, "--budget-seeds", "1", "--pruners", "random"])
    budget = [(r["seed"], r["fraction"], r["alpha"]) for r in _rows(tmp_path)
              if r["study"] == "budget"]  # fmt: skip
    assert sorted(budget) == [("0", "0.2", "0.0"), ("0", "0.2", "0.5"), ("0", "1.0", "0.0"),
                              ("0", "1.0", "0.5"), ("1", "1.0", "0.0")]  # fmt: skip


def test_the_teachers_training_is_counted_where_the_teacher_is_needed():
    from prunekd.experiments._compute import compute_points, compute_table

    rows = []
    for s in range(3):
        for pruner, f, alpha in (("random", 1.0, 0.0), ("random", 0.5, 0.0), ("random", 0.5, 0.5),
                                 ("el2n_teacher", 0.5, 0.0)):  # fmt: skip
            rows.append(dict(study="main", pruner=pruner, fraction=f, alpha=alpha, seed=s,
                             teacher="equal" if alpha else "none", budget_scale=1.0,
                             val_accuracy=0.9, test_accuracy=0.9 + 0.01 * s + 0.001 * f,
                             student_samples=100.0 * f, teacher_samples=5.0 * (alpha > 0),
                             pruner_samples=3.0 * (pruner != "random"), fit_seconds=1.0))  # fmt: skip
    points = {(q["pruner"], q["kd"], q["fraction"]): q for q in compute_points(rows, None, 40.0)}
    assert points["random", False, 0.5]["with_teacher"] == pytest.approx(0.5)  # no teacher
    assert points["random", True, 0.5]["with_teacher"] == pytest.approx(0.55 + 0.4)  # KD
    assert points["el2n_teacher", False, 0.5]["with_teacher"] == pytest.approx(0.53 + 0.4)
    assert points["random", False, 0.5]["pareto_teacher"]
    assert not points["random", True, 0.5]["pareto_teacher"]
    table = compute_table(rows, None, 40.0)
    assert "with the teacher's training" in table[0] and table[1].count("---") == 8
    assert "with the teacher's training" not in compute_table(rows)[0]
