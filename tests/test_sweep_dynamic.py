"""The sweep's dynamic study: planned runs, real costs, comparators at the same cost, resumes."""

import csv
import math
import os

import numpy as np
import pytest

from prunekd.cli import main
from prunekd.experiments import (
    DYNAMIC,
    PRUNERS,
    SweepConfig,
    _sweep,
    get_method,
    load_results,
    methods,
    plan_groups,
    plan_runs,
    run_sweep,
    write_summary,
)
from prunekd.experiments._compute import compute_table
from prunekd.experiments._store import RESULT_FIELDS, read_results, run_key

CONFIG = dict(pruners=("random", "infobatch", "infobatch_kd"), fractions=(0.5, 1.0), alphas=(1.0,),
              seeds=(0, 1), model="mlp", width=8, epochs=8, teacher_epochs=3, budget_scales=(),
              teacher_widths={"equal": 8}, prune_ratios=(0.5,))  # fmt: skip


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("dynamic"))
    run_sweep(SweepConfig(**CONFIG), out, progress=False)
    return out


def _dynamic_rows(out):
    return [r for r in load_results(out) if r["study"] == "dynamic"]


def test_the_registry_holds_two_dynamic_methods_apart_from_the_static_ones():
    assert DYNAMIC == ("infobatch", "infobatch_kd")
    assert not set(DYNAMIC) & set(PRUNERS)
    assert [m.name for m in methods("dynamic")] == list(DYNAMIC)
    callback = get_method("infobatch_kd").build(SweepConfig(), seed=3)
    assert (type(callback).__name__, callback.score, callback.random_state) == (
        "DynamicPruning", "kd", 3)  # fmt: skip
    with pytest.raises(ValueError, match="kind must be one of"):
        methods("sometimes")


def test_the_plan_runs_each_dynamic_method_with_and_without_kd_and_two_comparators():
    config = SweepConfig(**{**CONFIG, "seeds": (0,), "prune_ratios": (0.3, 0.7)})
    runs = plan_runs(config)
    assert all(r["pruner"] not in DYNAMIC for r in runs if r["study"] != "dynamic")
    dynamic = [(r["pruner"], r["alpha"], r["teacher"], r["fraction"], r["budget_scale"])
               for r in runs if r["study"] == "dynamic" and r["prune_ratio"] == 0.3]  # fmt: skip
    assert dynamic == [
        ("infobatch", 0.0, "none", 1.0, 1.0),
        ("infobatch", 0.5, "equal", 1.0, 1.0),
        ("infobatch_kd", 0.5, "equal", 1.0, 1.0),  # scored by the KD term: with KD only
        ("random", 0.5, "equal", None, 1.0),  # static, at the measured fraction
        ("random", 0.0, "none", 1.0, None),  # the full data, for the measured share of epochs
    ]
    keys = [key for key, _ in plan_groups(config)]
    assert ("dynamic", 0, 0.3) in keys and ("dynamic", 0, 0.7) in keys


def test_dynamic_pruners_are_refused_under_a_step_budget():
    with pytest.raises(ValueError, match="budget='epochs'"):
        plan_runs(SweepConfig(**{**CONFIG, "budget": "steps"}))


def test_a_dynamic_row_costs_the_samples_its_student_processed(swept):
    rows = _dynamic_rows(swept)
    assert len(rows) == 2 * 5
    for r in rows:
        if r["pruner"] in DYNAMIC:
            full = r["epochs"] * r["n_kept"]
            # The first epoch and the last eighth use every row; the others skip some.
            assert 3 * r["n_kept"] < r["student_samples"] < full
            assert r["steps"] >= math.ceil(r["student_samples"] / 32)
            assert r["teacher_samples"] == (r["n_kept"] if r["alpha"] > 0 else 0)


def test_the_comparators_train_at_the_cost_the_dynamic_student_with_kd_measured(swept):
    for seed in (0, 1):
        rows = {(r["pruner"], r["teacher"]): r for r in _dynamic_rows(swept) if r["seed"] == seed}
        lead = rows["infobatch", "equal"]
        processed = lead["student_samples"] / (lead["epochs"] * lead["n_kept"])
        static, shorter = rows["random", "equal"], rows["random", "none"]
        assert static["fraction"] == round(processed, 4)
        assert static["n_kept"] == max(1, round(static["fraction"] * lead["n_kept"]))
        assert static["epochs"] == 8 and static["student_samples"] == 8 * static["n_kept"]
        assert shorter["epochs"] == round(processed * 8)
        assert shorter["budget_scale"] == shorter["epochs"] / 8
        assert shorter["n_kept"] == lead["n_kept"]


def test_the_main_tables_leave_the_dynamic_study_out_and_the_compute_table_shows_it(swept):
    rows = load_results(swept)
    table = "\n".join(compute_table(rows))
    assert "| InfoBatch (loss) | no | dynamic, r=0.5 |" in table
    assert "| InfoBatch (KD term) | yes | dynamic, r=0.5 |" in table
    assert "0.5 | 0.50" in table  # random at f=0.5 is still there
    text = write_summary(swept)
    main_table = text[text.index("## Accuracy by pruner"):text.index("## Dynamic pruning")]
    assert "0.8" not in main_table.split("\n")[2]  # no measured fraction became a column
    assert "| 0.5 | InfoBatch (loss), KD | static random + KD, same cost |" in text


def test_a_dynamic_group_resumes_whole_to_the_uninterrupted_rows(swept, tmp_path):
    path = os.path.join(swept, "results.csv")
    with open(path) as f:
        lines = f.read().splitlines()
    # The comparators of seed 1 lost (they are written with their group, so this is a torn
    # write of that group): the group trains again and gives the same rows.
    fields = lines[0].split(",")

    def lost(line):
        row = dict(zip(fields, line.split(",")))
        return (row["study"], row["pruner"], row["seed"]) == ("dynamic", "random", "1")

    kept = [line for line in lines if not lost(line)]
    out = str(tmp_path)
    with open(os.path.join(out, "results.csv"), "w") as f:
        f.write("\n".join(kept) + "\n")
    for name in ("config.json",):
        with open(os.path.join(swept, name)) as src, open(os.path.join(out, name), "w") as dst:
            dst.write(src.read())
    assert len(kept) == len(lines) - 2
    run_sweep(SweepConfig(**CONFIG), out, progress=False)
    timing = {"fit_seconds", "pruner_seconds"}

    def strip(rows):
        return sorted(tuple((k, v) for k, v in r.items() if k not in timing) for r in rows)

    assert strip(load_results(out)) == strip(load_results(swept))


def test_results_of_before_the_dynamic_study_are_read_and_get_its_column(tmp_path):
    path = tmp_path / "results.csv"
    old = RESULT_FIELDS[:-1]
    row = dict(study="main", pruner="random", fraction=0.5, alpha=0.0, seed=0, teacher="none",
               teacher_width=0, budget_scale=1.0, n_kept=5, epochs=2, steps=2,
               student_samples=10, teacher_samples=0, pruner_samples=0, val_accuracy=0.5,
               test_accuracy=0.5, fit_seconds=0.1, pruner_seconds=0.0)  # fmt: skip
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=old, lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
    assert read_results(str(path))[0]["prune_ratio"] == 0.0
    assert path.read_text().splitlines()[0] == ",".join(old)  # reading alone changes nothing
    read_results(str(path), repair=True)
    assert path.read_text().splitlines()[0] == ",".join(RESULT_FIELDS)
    assert read_results(str(path))[0]["test_accuracy"] == 0.5


@pytest.mark.parametrize("argv, message", [
    (["--pruners", "random,infobatch", "--prune-ratios", "1.0"], "--prune-ratios must lie"),
    (["--pruners", "random,infobatch", "--budget", "steps"], "use --budget epochs"),
    (["--pruners", "infobatch_kd", "--kd-loss", "dist"], "cannot weight the rows of infobatch_kd"),
])  # fmt: skip
def test_the_command_refuses_what_dynamic_pruning_cannot_do(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit):
        main([*argv, "--out", str(tmp_path)])
    assert message in capsys.readouterr().err


def test_the_sweep_passes_the_seed_and_ratio_to_the_callback(monkeypatch, tmp_path):
    from prunekd.experiments import _dynamic

    seen = []
    fit = _dynamic._fit

    def spy(config, data, run, teacher, relative, epochs=None, kept=None, callback=None):
        if callback is not None:
            seen.append((run["pruner"], callback.prune_ratio, callback.random_state,
                         callback.score))  # fmt: skip
        return fit(config, data, run, teacher, relative, epochs, kept, callback)

    monkeypatch.setattr(_dynamic, "_fit", spy)
    config = SweepConfig(**{**CONFIG, "seeds": (4,), "fractions": (1.0,), "prune_ratios": (0.3,)})
    _sweep.run_sweep(config, str(tmp_path), progress=False)
    assert seen == [("infobatch", 0.3, 4, "loss"), ("infobatch", 0.3, 4, "loss"),
                    ("infobatch_kd", 0.3, 4, "kd")]  # fmt: skip
    rows = [r for r in load_results(str(tmp_path)) if r["study"] == "dynamic"]
    assert np.all(np.array([r["prune_ratio"] for r in rows]) == 0.3)


def test_comparator_epochs_round_and_the_teacher_passes_cost_the_teachers_width(monkeypatch):
    from prunekd.experiments import _dynamic

    config = SweepConfig(pruners=("random", "infobatch"), epochs=8, batch_size=32)
    seen = []

    def fake_fit(config, data, run, teacher, relative, epochs=None, kept=None, callback=None):
        if callback is not None:  # processed 0.7 of 8 epochs x 100 rows: 5.6 epochs' worth
            callback.rows_per_epoch_ = [100] * 8
            callback.samples_processed_ = int(0.7 * 800)
            callback.teacher_samples_ = 100
        seen.append((run["pruner"], run.get("fraction"), epochs))
        return {**run, "epochs": epochs or 8, "n_kept": 100, "student_samples": 800.0,
                "teacher_samples": 0.0}  # fmt: skip

    monkeypatch.setattr(_dynamic, "_fit", fake_fit)
    monkeypatch.setattr(_dynamic, "_fit_static", lambda *args: {"static": True})
    runs = [r for r in plan_runs(SweepConfig(**{**config.__dict__, "seeds": (0,),
                                                "prune_ratios": (0.5,)}))
            if r["study"] == "dynamic"]  # fmt: skip
    rows = _dynamic.run_dynamic_group(config, {}, runs, None, {"equal": 2.0})
    kd = next(r for r in rows if r.get("pruner") == "infobatch" and r["alpha"] > 0)
    assert kd["teacher_samples"] == 200.0  # 100 rows x a teacher twice the student's cost
    assert ("random", 1.0, 6) in seen  # round(0.7 x 8) = 6 epochs


def test_two_prune_ratios_are_two_runs(tmp_path):
    row = dict.fromkeys(RESULT_FIELDS, "1")
    row.update(study="dynamic", pruner="infobatch", teacher="equal")
    path = tmp_path / "results.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows([{**row, "prune_ratio": p} for p in ("0.3", "0.7")])
    read = read_results(str(path))
    assert [r["prune_ratio"] for r in read] == [0.3, 0.7]
    assert run_key(read[0]) != run_key(read[1])


def test_a_planned_comparator_is_done_once_its_measured_row_is_stored():
    runs = plan_runs(SweepConfig(pruners=("random", "infobatch"), seeds=(0,), prune_ratios=(0.5,)))
    for run in (r for r in runs if r["study"] == "dynamic" and r["pruner"] == "random"):
        stored = {**run, "fraction": run["fraction"] or 0.7813,
                  "budget_scale": run["budget_scale"] or 0.75}  # fmt: skip
        assert run_key(stored) == run_key(run)


def test_an_upgraded_file_reads_prune_ratio_zero_under_the_same_key(tmp_path):
    path = tmp_path / "results.csv"
    row = dict.fromkeys(RESULT_FIELDS[:-1], "1")
    row.update(study="main", pruner="random", teacher="none")
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS[:-1], lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
    before = run_key(read_results(str(path))[0])
    read_results(str(path), repair=True)
    after = read_results(str(path))[0]
    assert after["prune_ratio"] == 0.0 and run_key(after) == before


def _study_rows():
    rows = []
    for s in range(3):
        base = dict(study="dynamic", seed=s, prune_ratio=0.5, fit_seconds=1.0, teacher_samples=0.0)
        rows += [
            dict(base, pruner="infobatch", alpha=0.5, teacher="equal", fraction=1.0,
                 test_accuracy=0.90, student_samples=70.0, teacher_samples=100.0),
            dict(base, pruner="random", alpha=0.5, teacher="equal", fraction=0.7,
                 test_accuracy=0.80, student_samples=70.0),
            dict(base, pruner="random", alpha=0.0, teacher="none", fraction=1.0,
                 test_accuracy=0.85 + 0.001 * s, student_samples=70.0),
            dict(study="main", seed=s, pruner="random", fraction=1.0, alpha=0.0, teacher="none",
                 test_accuracy=0.88, student_samples=100.0),
        ]  # fmt: skip
    return rows


def test_the_paired_differences_name_their_comparators():
    from prunekd.experiments._dynamic_report import dynamic_lines, dynamic_points

    lines = dynamic_lines(_study_rows())
    static = next(line for line in lines if "| static random + KD, same cost |" in line
                  and line.startswith("| 0.5 | InfoBatch"))  # fmt: skip
    assert "| +10.0 [+10.0, +10.0] | 3 |" in static
    assert {p["pruner"] for p in dynamic_points(_study_rows(), 100.0, 1.0)} == {"infobatch"}
