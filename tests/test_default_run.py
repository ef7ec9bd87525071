"""The default ``prunekd`` run is protocol v3's digits design on a few of its confirmatory seeds."""

import csv
import dataclasses
import json
import os
import shutil
from types import SimpleNamespace

from prunekd import cli
from prunekd.experiments import SweepConfig, load_results
from prunekd.experiments._config import DATASET_EPOCHS
from prunekd.experiments._protocol import protocol_v3, v3_design
from prunekd.experiments._sweep import RESULT_FIELDS

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
STORED = os.path.join(DOCS, "results", "v3", "digits")


def _default():
    parser = cli.build_parser()
    config = dataclasses.asdict(cli._config_from(parser.parse_args([]), set()))
    return json.loads(json.dumps(config))  # as config.json stores it


def test_the_default_run_trains_the_frozen_digits_design_on_confirmatory_seeds():
    config = _default()
    assert v3_design(config) == "digits"
    stored = json.load(open(os.path.join(STORED, "confirmatory", "config.json")))["config"]
    for key in ("fractions", "alphas", "budget_scales", "baseline_scales", "teacher_widths",
                "teacher_epochs", "epochs", "budget_seeds"):  # fmt: skip
        assert config[key] == stored[key], key
    assert set(stored["seeds"]) > set(config["seeds"]) and config["seeds"][0] == 30
    assert set(config["pruners"]) == set(stored["pruners"]) | {"infobatch"}
    dynamic = json.load(open(os.path.join(STORED, "dynamic-confirmatory", "config.json")))["config"]
    assert config["prune_ratios"] == dynamic["prune_ratios"]


def test_each_dataset_trains_its_own_epochs_unless_told():
    parser = cli.build_parser()
    mnist = cli._config_from(parser.parse_args(["--dataset", "mnist1d"]), set())
    assert (mnist.epochs, mnist.teacher_epochs) == DATASET_EPOCHS["mnist1d"]
    told = cli._config_from(parser.parse_args(["--dataset", "mnist1d", "--epochs", "9"]), set())
    assert told.epochs == 9
    # the protocol records the same epochs for every dataset whose design it fixed
    settings = protocol_v3()["design"]["settings"]
    for dataset, (epochs, teachers) in DATASET_EPOCHS.items():
        assert settings[dataset]["epochs"] == epochs
        if isinstance(settings[dataset]["teacher_epochs"], dict):
            assert settings[dataset]["teacher_epochs"] == teachers


def test_no_budget_study_means_no_default_baselines():
    parser = cli.build_parser()
    config = cli._config_from(parser.parse_args(["--budget-scales", "none"]), set())
    assert config.baseline_scales == ()
    half = cli._config_from(parser.parse_args(["--budget-scales", "0.5"]), set())
    assert half.baseline_scales == (0.5,)


def test_the_report_reads_v3s_family_on_the_runs_seeds(tmp_path, capsys):
    # the stored confirmatory rows of the default seeds stand in for a default run
    seeds = set(SweepConfig().seeds)
    rows = [r for part in ("confirmatory", "dynamic-confirmatory")
            for r in load_results(os.path.join(STORED, part)) if r["seed"] in seeds]  # fmt: skip
    with open(tmp_path / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    shutil.copy(os.path.join(STORED, "confirmatory", "info.json"), tmp_path / "info.json")
    cli._report(SimpleNamespace(out=str(tmp_path)), SweepConfig(), 1.0)
    out = capsys.readouterr().out
    assert "Results protocol v3, digits design: 10 seeds" in out
    assert "sized its confirmatory run at 109 seeds" in out and "SMOKE TEST" not in out
    lines = [line.split()[0] for line in out.splitlines()[2:10]]
    assert lines == protocol_v3()["family"]["primary"]
    assert "Teacher check" in out
    # a design the protocol did not freeze reads v2's rules, as before
    cli._report(SimpleNamespace(out=str(tmp_path)), SweepConfig(epochs=30), 1.0)
    assert "Results protocol v3" not in capsys.readouterr().out


def test_a_failed_teacher_check_prints_no_word(tmp_path, capsys):
    from prunekd.experiments._report_v3 import v3_verdict_table

    seeds = set(SweepConfig().seeds)
    rows = [r for part in ("confirmatory", "dynamic-confirmatory")
            for r in load_results(os.path.join(STORED, part)) if r["seed"] in seeds]  # fmt: skip
    info = json.load(open(os.path.join(STORED, "confirmatory", "info.json")))
    text = v3_verdict_table(rows, info, "digits")
    assert ": passed." in text and "no verdict" not in text
    # the equal teacher 1.5 points lower: below the full-data student by more than delta (0.425)
    for run in info["teacher_runs"]["equal"].values():
        run["val_accuracy"] -= 0.015
    failed = v3_verdict_table(rows, info, "digits")
    assert "FAILED: no verdict" in failed
    words = [line.split()[1:3] for line in failed.splitlines()[2:10]]
    assert all(w == ["no", "verdict"] for w in words)


def test_bad_seeds_and_baselines_get_errors_that_name_the_fix(capsys):
    import pytest

    with pytest.raises(SystemExit):
        cli.main(["--seeds", "30-20", "--quick"])
    assert "the range '30-20' is empty: write it low-high" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--baseline-scales", "0.7", "--budget-scales", "0.5", "--quick"])
    err = capsys.readouterr().err
    assert "--baseline-scales 0.7 must be among --budget-scales (0.5): add them there" in err


def test_the_json_files_the_package_reads_are_package_data():
    import glob

    import pytest

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    root = os.path.dirname(DOCS)
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        data = tomllib.load(f)["tool"]["setuptools"]["package-data"]["prunekd.experiments"]
    shipped = sorted(os.path.basename(p) for p in glob.glob(os.path.join(root, "prunekd", "experiments", "*.json")))
    assert sorted(data) == shipped  # a wheel without protocol_v3.json cannot run prunekd


def test_a_missing_extra_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    import pytest

    from prunekd.experiments import _sweep

    def missing(*args, **kwargs):
        raise ImportError('MNIST-1D needs the mnist1d package: pip install "prunekd[mnist1d]"')

    monkeypatch.setattr(_sweep, "load_dataset", missing)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--dataset", "mnist1d", "--quick", "--out", str(tmp_path), "--no-progress"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("prunekd: error: MNIST-1D needs the mnist1d package") and "Traceback" not in err
