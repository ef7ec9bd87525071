"""The default sweep trains what protocol v3's primary findings read; ``secondary`` the rest."""

import dataclasses
import json
import os

from prunekd import cli
from prunekd.experiments import SweepConfig, load_results, pending_runs, plan_runs
from prunekd.experiments._report_v3 import v3_verdict_table
from prunekd.experiments._store import run_key

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
STORED = os.path.join(DOCS, "results", "v3", "digits")


def _cells(config):
    return {(r["study"], r["pruner"], r["fraction"], r["alpha"], r["teacher"], r["budget_scale"])
            for r in plan_runs(config)}  # fmt: skip


def test_the_default_trains_every_pruner_and_teacher_at_the_small_fractions_only():
    primary, full = (_cells(SweepConfig(seeds=(30,), secondary=s)) for s in (False, True))
    assert primary < full
    # what only secondary statistics read: the score-based pruners at 0.5 (3 x 4 alphas), the
    # capacity study's small and large teachers at 0.5 and 1, InfoBatch without KD and the
    # dynamic study's two same-cost comparators
    secondary = full - primary
    assert len(secondary) == 12 + 4 + 3
    assert {c[1] for c in secondary if c[0] == "main"} == {"el2n", "grand", "forgetting"}
    assert {(c[2], c[4]) for c in secondary if c[0] == "capacity"} == {
        (f, t) for f in (0.5, 1.0) for t in ("small", "large")}  # fmt: skip
    assert {(c[1], c[3]) for c in secondary if c[0] == "dynamic"} == {
        ("infobatch", 0.0), ("random", 0.0), ("random", 0.5)}  # fmt: skip
    # at the large fractions: random pruning at every alpha, with the equal teacher
    large = {c for c in primary if c[0] != "dynamic" and c[2] >= 0.5}
    assert {(c[1], c[4]) for c in large} <= {("random", "none"), ("random", "equal")}
    assert {c[3] for c in large if c[0] == "main" and c[2] == 0.5} == {0.0, 0.25, 0.5, 1.0}


def test_the_primary_findings_read_nothing_the_default_leaves_out():
    # the stored confirmatory rows of the default seeds, all of them and those the default plans
    config = SweepConfig()
    planned = {run_key(r) for r in plan_runs(config)}
    rows = [r for part in ("confirmatory", "dynamic-confirmatory")
            for r in load_results(os.path.join(STORED, part)) if r["seed"] in config.seeds]  # fmt: skip
    kept = [r for r in rows if run_key(r) in planned]
    assert {run_key(r) for r in kept} == planned  # the published run trained every planned run
    assert len(kept) < len(rows) - 100
    with open(os.path.join(STORED, "confirmatory", "info.json")) as f:
        info = json.load(f)
    assert v3_verdict_table(kept, info, "digits") == v3_verdict_table(rows, info, "digits")


def test_a_design_the_protocol_did_not_freeze_trains_everything():
    other = SweepConfig(seeds=(0,), epochs=30)  # v2's rules read every cell
    assert _cells(other) == _cells(dataclasses.replace(other, secondary=True))


def test_a_sweep_stored_before_the_field_plans_its_secondary_runs(tmp_path):
    stored = dataclasses.asdict(SweepConfig(seeds=(30,), secondary=True))
    del stored["secondary"]
    with open(tmp_path / "config.json", "w") as f:
        json.dump({"config": stored}, f)
    assert len(pending_runs(str(tmp_path))) == len(plan_runs(SweepConfig(seeds=(30,), secondary=True)))
    assert "secondary" not in SweepConfig().key()  # the grid, not the settings: runs resume


def test_the_command_takes_secondary():
    parser = cli.build_parser()
    for argv, expected in (([], False), (["--secondary"], True)):
        args = parser.parse_args(argv)
        assert cli._config_from(args, set()).secondary is expected


def test_only_the_protocols_large_fractions_drop_pruners_and_teachers():
    cells = _cells(SweepConfig(pruners=("random", "el2n"), fractions=(0.15, 0.5), seeds=(0,)))
    assert {c[1] for c in cells if c[2] == 0.15} == {"random", "el2n"}  # not a large fraction
    assert {c[1] for c in cells if c[2] == 0.5} == {"random"}
    # MNIST-1D's frozen design is trimmed the same way
    mnist1d = _cells(SweepConfig(dataset="mnist1d", seeds=(10,)))
    assert {c[1] for c in mnist1d if c[0] == "main" and c[2] == 0.5} == {"random"}


def test_a_run_without_small_fractions_reads_its_findings_without_a_large_teacher():
    rows = [r for r in load_results(os.path.join(STORED, "confirmatory"))
            if r["seed"] in range(30, 40) and r["fraction"] == 1.0 and r["study"] == "main"]  # fmt: skip
    with open(os.path.join(STORED, "confirmatory", "info.json")) as f:
        info = json.load(f)
    info["teacher_runs"] = {"equal": info["teacher_runs"]["equal"]}  # no capacity study: no large
    table = v3_verdict_table(rows, info, "digits")
    assert "F4       inconclusive" in table and "Teacher check" in table


def test_a_trimmed_sweep_stored_complete_plans_nothing_more(tmp_path):
    config = SweepConfig(seeds=(30,))
    with open(tmp_path / "config.json", "w") as f:
        json.dump({"config": dataclasses.asdict(config)}, f)
    import csv

    from prunekd.experiments._sweep import RESULT_FIELDS

    with open(tmp_path / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, RESULT_FIELDS, restval="0", extrasaction="ignore")
        writer.writeheader()  # a dynamic run's fraction and budget are measured: any number
        writer.writerows({**r, "fraction": r["fraction"] or 0.7, "budget_scale": r["budget_scale"] or 0.7}
                         for r in plan_runs(config))  # fmt: skip
    assert pending_runs(str(tmp_path)) == set()


def test_resuming_a_sweep_that_trained_its_secondary_runs_keeps_them(tmp_path):
    import warnings

    import pytest

    from prunekd.experiments._plan import resumed_config

    stored = dataclasses.asdict(SweepConfig(seeds=(30,)))
    for value, kept in ((None, True), (True, True), (False, False)):
        if value is None:
            del stored["secondary"]  # stored before the field: it trained them
        else:
            stored["secondary"] = value
        with open(tmp_path / "config.json", "w") as f:
            json.dump({"config": stored}, f)
        if kept:
            with pytest.warns(UserWarning, match="--restart"):
                assert resumed_config(str(tmp_path), SweepConfig(seeds=(30,))).secondary
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                assert not resumed_config(str(tmp_path), SweepConfig(seeds=(30,))).secondary
    assert not resumed_config(str(tmp_path / "empty"), SweepConfig()).secondary


def test_the_summary_says_what_the_default_did_not_train():
    from prunekd.experiments._report_v3 import v3_summary_lines

    rows = [r for r in load_results(os.path.join(STORED, "confirmatory")) if r["seed"] in (30, 31)]
    with open(os.path.join(STORED, "confirmatory", "info.json")) as f:
        info = json.load(f)
    for secondary in (False, True):
        config = json.loads(json.dumps(dataclasses.asdict(SweepConfig(secondary=secondary))))
        text = "\n".join(v3_summary_lines(rows, config, info))
        assert ("`prunekd --secondary` trains them" in text) is not secondary
