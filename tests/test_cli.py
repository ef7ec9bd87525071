import csv
import dataclasses
import json
import os

import numpy as np
import pytest

import prunekd
from prunekd import cli
from prunekd.datasets import load_digits
from prunekd.experiments._store import machine
from _helpers import tiny_sweep_args
from prunekd.experiments import SweepConfig, plan_runs, split_data, write_summary
from prunekd.experiments import _sweep

TINY = tiny_sweep_args()


def _majority_rate():
    """Accuracy of always predicting the test split's most frequent class."""
    y_test = split_data(*load_digits())[-1]
    return np.bincount(y_test).max() / len(y_test)


def _rows(out):
    with open(os.path.join(out, "results.csv"), newline="") as f:
        return list(csv.DictReader(f))


def test_plan_runs_counts():
    config = SweepConfig(
        pruners=("random", "el2n"), fractions=(0.2, 1.0), alphas=(1.0,), seeds=(0, 1),
        capacity_alpha=0.5, budget_scales=(0.5, 2.0), budget_seeds=5, baseline_scales=(),
        secondary=True,
    )  # fmt: skip
    runs = plan_runs(config)
    # per seed: f=0.2: 2 pruners x (alpha 0, 1) = 4; f=1: one run per alpha = 2;
    # capacity at alpha 0.5 (not in the grid): 2 fractions x 3 teachers = 6;
    # budget study: 2 scales x (no KD, alpha 0.5) x 2 fractions = 8
    assert len(runs) == 2 * 20
    assert len({tuple(sorted(r.items())) for r in runs}) == len(runs)
    # past budget_seeds, only finding 5b's baseline: f=1 without KD at half the epochs
    few = plan_runs(dataclasses.replace(config, budget_seeds=1))
    assert [(r["fraction"], r["alpha"], r["budget_scale"]) for r in few
            if r["study"] == "budget" and r["seed"] == 1] == [(1.0, 0.0, 0.5)]  # fmt: skip
    assert {r["pruner"] for r in runs if r["fraction"] == 1.0} == {"random"}


def test_tiny_sweep_end_to_end(tmp_path, capsys):
    out = str(tmp_path / "out")
    assert cli.main(["--out", out, *TINY]) == 0
    rows = _rows(out)
    assert len(rows) == 12
    for row in rows:
        # every student learns: far above always predicting the majority class
        assert float(row["test_accuracy"]) > _majority_rate() + 0.5
        assert int(row["n_kept"]) == round(float(row["fraction"]) * 1257)
    for name in ("accuracy_vs_fraction.png", "alpha_heatmap.png", "teacher_capacity.png"):
        with open(os.path.join(out, name), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    summary = open(os.path.join(out, "summary.md")).read()
    assert "| EL2N | no KD |" in summary and "## The paper's findings on this run" in summary
    assert "prunekd --out" in summary  # the command that regenerates it
    assert "Done in" in capsys.readouterr().out
    config = json.load(open(os.path.join(out, "config.json")))
    info = json.load(open(os.path.join(out, "info.json")))
    assert config["prunekd_version"] == info["prunekd_version"] == prunekd.__version__
    assert info["revisions"] == [str(config["revision"])]
    assert info["machines"] == [machine()]  # one invocation, on this machine
    assert f"Produced by prunekd {prunekd.__version__}" in summary


def test_the_default_jobs_run_in_parallel_and_give_the_same_rows(tmp_path, monkeypatch):
    serial, parallel = str(tmp_path / "serial"), str(tmp_path / "parallel")
    cli.main(["--out", serial, *TINY])
    at = TINY.index("--jobs")
    default = TINY[:at] + TINY[at + 2 :]
    seen = []
    original = _sweep.run_sweep
    monkeypatch.setattr(
        cli, "run_sweep", lambda *a, **k: seen.append(k["n_jobs"]) or original(*a, **k)
    )
    cli.main(["--out", parallel, *default])
    assert seen == [os.cpu_count()]
    # One torch thread in every process: the rows do not depend on --jobs.
    assert _comparable(_rows(parallel)) == _comparable(_rows(serial))


def _comparable(rows):
    return sorted(
        tuple(v for k, v in r.items() if k not in ("fit_seconds", "pruner_seconds")) for r in rows
    )


def test_quick_sets_its_values_unless_given(tmp_path, monkeypatch):
    class Captured(Exception):
        pass

    def capture(config, **kwargs):
        raise Captured(config)

    monkeypatch.setattr(cli, "run_sweep", capture)
    with pytest.raises(Captured) as got:
        cli.main(["--quick", "--out", str(tmp_path), "--seeds", "7", "--steps", "99"])
    config = got.value.args[0]
    assert (config.seeds, config.steps) == ((7,), 99)  # given: kept
    for key, value in cli.QUICK.items():
        if key not in ("seeds", "steps"):
            assert getattr(config, key) == value, key
    with pytest.raises(Captured) as got:
        cli.main(["--out", str(tmp_path)])
    assert got.value.args[0] == SweepConfig(teacher_widths={"small": 4, "equal": 16, "large": 64})


def test_mixed_precision_reaches_teachers_students_and_proxies(tmp_path, monkeypatch):
    from prunekd._skorch import _Classifier

    seen = []
    original = _Classifier.train_step_single

    def recording(self, batch, **fit_params):
        seen.append((type(self).__name__, self.mixed_precision))
        return original(self, batch, **fit_params)

    monkeypatch.setattr(_Classifier, "train_step_single", recording)
    out = str(tmp_path / "out")
    cli.main(["--out", out, *TINY, "--pruners", "el2n", "--mixed-precision"])
    # EL2N proxies are plain _Classifier nets, teachers distil, students train in groups.
    assert {name for name, _ in seen} == {"_Classifier", "DistillationClassifier", "_StudentGroup"}
    assert all(mixed for _, mixed in seen)
    assert len(_rows(out)) == 10


def test_interrupted_sweep_resumes_where_it_stopped(tmp_path, monkeypatch):
    out = str(tmp_path / "out")
    cli.main(["--out", out, *TINY])
    rows = _rows(out)
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:  # keep 5 of 12 runs
        writer = csv.DictWriter(f, fieldnames=rows[0].keys())
        writer.writeheader()
        writer.writerows(rows[:5])
    calls = []
    original = _sweep._run_group
    monkeypatch.setattr(_sweep, "_run_group", lambda *a, **k: calls.append(1) or original(*a, **k))
    cli.main(["--out", out, *TINY])
    # The 5 rows kept are f=0.2's group of 7; only its 2 missing rows are written.
    assert len(calls) == 2
    assert len(_rows(out)) == 12
    cli.main(["--out", out, *TINY])  # complete: nothing to do
    assert len(calls) == 2
    cli.main(["--out", out, *TINY, "--restart"])
    assert len(calls) == 4


def test_other_settings_in_the_same_folder_are_refused(tmp_path):
    out = str(tmp_path / "out")
    cli.main(["--out", out, *TINY])
    with pytest.raises(SystemExit) as exc:
        cli.main(["--out", out, *TINY, "--lr", "0.01"])
    assert exc.value.code == 2


@pytest.mark.parametrize(
    "args",
    [["--fractions", "0,0.5"], ["--alphas", "1.5"], ["--pruners", "magic"], ["--steps", "0"],
     ["--teachers", "small=4"], ["--dataset", "mnist"]],
)  # fmt: skip
def test_bad_options_exit_with_a_message(args, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for option in ("--quick", "--dataset", "--model", "--teachers", "--fractions", "--alphas",
                   "--seeds", "--device", "--mixed-precision", "--jobs", "--out", "--restart"):  # fmt: skip
        assert option in text


def _synthetic(tmp_path, gain_small, gain_large):
    """results.csv of 5 seeds where the KD gain at f=0.1 and f=0.5 is set by hand."""
    out = tmp_path / "syn"
    out.mkdir(parents=True)
    rows = []
    for seed in range(5):
        noise = np.random.RandomState(seed).randn(6) * 0.002
        for i, (f, gain) in enumerate(((0.1, gain_small), (0.5, gain_large))):
            for j, alpha in enumerate((0.0, 0.5, 1.0)):
                acc = (
                    0.8
                    + seed / 100
                    + (gain - 0.01 * (alpha == 0.5) if alpha else 0)
                    + noise[3 * i + j]
                )
                rows.append(
                    {
                        "study": "main",
                        "pruner": "random",
                        "fraction": f,
                        "alpha": alpha,
                        "seed": seed,
                        "teacher": "equal" if alpha else "none",
                        "teacher_width": 16 if alpha else 0,
                        "n_kept": 1,
                        "epochs": 1,
                        "val_accuracy": acc,
                        "test_accuracy": acc,
                        "fit_seconds": 0,
                        "budget_scale": 1.0,
                        "steps": 1,
                        "student_samples": 1,
                        "teacher_samples": 0,
                        "pruner_samples": 0,
                        "pruner_seconds": 0,
                        "prune_ratio": 0.0,
                    }
                )
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=_sweep.RESULT_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    import dataclasses

    return write_summary(str(out), dataclasses.asdict(SweepConfig(teacher_epochs=30)))  # v2 rules


def test_summary_prints_each_verdict_with_its_interval(tmp_path):
    text = _synthetic(tmp_path, gain_small=0.10, gain_large=0.02)
    assert "**1b. KD helps more at small fractions: reproduced.**" in text
    assert "mean over pruners (points): +8.0 [+" in text
    text = _synthetic(tmp_path / "b", gain_small=0.02, gain_large=0.10)
    assert "**1b. KD helps more at small fractions: contradicted.**" in text
    assert "mean over pruners (points): -8.0 [-" in text
    assert "Verdicts by results protocol v2" in text


def test_every_pruner_runs_in_the_sweep(tmp_path):
    from prunekd.experiments import PRUNERS
    from prunekd.experiments._sweep import make_pruner

    config = SweepConfig(pruners=PRUNERS, fractions=(0.2,), alphas=(1.0,), seeds=(0,),
                         capacity_alpha=1.0, model="mlp", width=8, steps=60, teacher_epochs=3,
                         n_proxies=1, proxy_epochs=1, teacher_widths={"equal": 8})  # fmt: skip
    out = str(tmp_path / "out")
    _sweep.run_sweep(config, out, progress=False)
    rows = _rows(out)
    assert {r["pruner"] for r in rows} == set(PRUNERS)
    for row in rows:
        assert int(row["n_kept"]) == round(0.2 * 1257)
        assert float(row["test_accuracy"]) > _majority_rate() + 0.3
    # the sweep keeps what the named pruner keeps: k-center's cover differs from random's
    X, y = split_data(*load_digits())[0], split_data(*load_digits())[3]
    kcenter = make_pruner(config, "kcenter", 0).set_params(fraction=0.2).fit_transform(X, y)
    random = make_pruner(config, "random", 0).set_params(fraction=0.2).fit_transform(X, y)
    assert len(set(kcenter) & set(random)) < 0.5 * len(kcenter)
    summary = write_summary(out)
    assert "| k-center | no KD |" in summary and "| Graph cut | no KD |" in summary


def test_the_sweeps_teacher_scores_the_teacher_pruners_unchanged():
    from prunekd.pruning import el2n_scores

    config = SweepConfig(model="mlp", width=8, teacher_epochs=4, teacher_widths={"equal": 8})
    X, _, X_test, y, _, y_test = split_data(*load_digits())
    data = {
        "X_train": X,
        "y_train": y,
        "X_val": X_test,
        "y_val": y_test,
        "X_test": X_test,
        "y_test": y_test,
        "n_classes": 10,
    }
    _, _, log_p, accuracy, _, none = _sweep._fit_teacher(config, data, "equal", 8)
    *_, log_p_kept, accuracy_kept, _, teacher = _sweep._fit_teacher(
        config, data, "equal", 8, keep=True
    )
    # recording the teacher's training leaves the teacher every student learns from unchanged
    assert none is None and accuracy_kept == accuracy
    np.testing.assert_array_equal(log_p_kept, log_p)
    record = dict(teacher.callbacks_)["dynamics"]
    assert record.correct_.shape == (4, len(y))
    for name, expected in [
        ("aum_teacher", record.aum_scores()),
        ("forgetting_teacher", record.forgetting_counts()),
        ("dyn_unc_teacher", record.dynamic_uncertainty(window=3)),
        ("tdds_teacher", record.tdds_scores(window=3)),
        ("el2n_teacher", el2n_scores(np.log(teacher.predict_proba(X)), y)),
    ]:
        pruner = _sweep.make_pruner(config, name, 0, teacher=teacher).set_params(fraction=0.1)
        kept = pruner.fit_transform(X, y)
        np.testing.assert_allclose(pruner.scores_, expected, rtol=1e-5, atol=1e-6)
        assert len(kept) == 126
    with pytest.raises(ValueError, match="needs the sweep's fitted teacher"):
        _sweep.make_pruner(config, "aum_teacher", 0)


def test_a_sweep_with_another_kd_loss_trains_its_kd_students_with_it(tmp_path, monkeypatch):
    losses = []
    group_fit = _sweep._StudentGroup.fit

    def recording(self, *args, **kwargs):
        losses.append(self.kd_loss)
        return group_fit(self, *args, **kwargs)

    monkeypatch.setattr(_sweep._StudentGroup, "fit", recording)
    kd, dkd = str(tmp_path / "kd"), str(tmp_path / "dkd")
    assert cli.main(["--out", kd, *TINY]) == 0
    assert set(losses) == {"kd"}
    losses.clear()
    assert cli.main(["--out", dkd, "--kd-loss", "dkd", *TINY]) == 0
    assert set(losses) == {"dkd"}
    with open(os.path.join(dkd, "config.json")) as f:
        assert json.load(f)["key"]["kd_loss"] == "dkd"
    with open(os.path.join(kd, "config.json")) as f:
        assert "kd_loss" not in json.load(f)["key"]  # sweeps stored before the option resume
    by_run = {(r["study"], r["pruner"], r["fraction"], r["alpha"], r["teacher"]): r["test_accuracy"]
              for r in _rows(kd)}  # fmt: skip
    changed = [key for r in _rows(dkd)
               if by_run[key := (r["study"], r["pruner"], r["fraction"], r["alpha"], r["teacher"])]
               != r["test_accuracy"]]  # fmt: skip
    assert changed and all(float(key[3]) > 0 for key in changed)  # only students with KD differ


def test_dist_cannot_weight_a_coreset_and_says_so_before_running(tmp_path, capsys):
    args = [*TINY]
    args[args.index("random,el2n")] = "random,craig_teacher"
    with pytest.raises(SystemExit):
        cli.main(["--out", str(tmp_path), "--kd-loss", "dist", *args])
    assert "--kd-loss dist" in capsys.readouterr().err and not os.listdir(tmp_path)
    with pytest.raises(SystemExit):
        cli.main(["--out", str(tmp_path), "--kd-loss", "softmax", *TINY])
    assert "choose from kd, dkd, dist, mse" in capsys.readouterr().err


def test_a_weighted_coreset_is_refused_only_with_dist():
    parser = cli.build_parser()
    args = [*TINY]
    args[args.index("random,el2n")] = "random,craig_teacher"
    for loss in ("kd", "dkd", "mse"):
        cli._validate(parser.parse_args(["--kd-loss", loss, *args]), parser)  # no SystemExit
    with pytest.raises(SystemExit):
        cli._validate(parser.parse_args(["--kd-loss", "dist", *args]), parser)


def test_the_own_data_job_refuses_kd_loss(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--data", str(tmp_path / "t.csv"), "--target", "label", "--kd-loss", "dkd"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--kd-loss" in err and "belong to the paper study" in err


def test_another_kd_loss_leaves_the_frozen_choices():
    from prunekd.experiments._protocol import frozen_choices

    design = dataclasses.asdict(SweepConfig(teacher_epochs=30))  # v2's design
    assert frozen_choices({**design, "kd_loss": "kd"}) is not None
    assert frozen_choices({**design, "kd_loss": "dkd"}) is None


def test_baseline_scales_give_every_seed_its_full_data_baselines():
    config = SweepConfig(pruners=("random",), fractions=(0.5, 1.0), alphas=(1.0,), seeds=(0, 1, 2),
                         budget_scales=(0.5, 1.5), budget_seeds=0, baseline_scales=(0.5, 1.5))  # fmt: skip
    budget = [(r["seed"], r["fraction"], r["alpha"], r["budget_scale"])
              for r in plan_runs(config) if r["study"] == "budget"]  # fmt: skip
    assert budget == [(s, 1.0, 0.0, scale) for s in (0, 1, 2) for scale in (0.5, 1.5)]
    assert "baseline_scales" not in config.key()  # the grid, not the settings: runs resume


def test_baseline_scales_must_be_budget_scales(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["--out", str(tmp_path), "--budget-scales", "0.5", "--baseline-scales", "1.5"])
    assert "--baseline-scales 1.5 must be among --budget-scales (0.5)" in capsys.readouterr().err
