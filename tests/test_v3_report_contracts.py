"""Protocol v3's reports on the branches the stored digits runs never reach: failed checks and
gates, the cost condition at its bound, other designs, and the docs-drift checker itself."""

import copy
import csv
import dataclasses
import json
import os
import shutil
from types import SimpleNamespace

import pytest

from prunekd import cli
from prunekd.experiments import SweepConfig, load_results
from prunekd.experiments._config import DATASET_EPOCHS
from prunekd.experiments._protocol import frozen_choices, protocol_v3, v3_design
from prunekd.experiments._report_v3 import _f6_cost_lines, v3_summary_lines, v3_verdict_table
from prunekd.experiments._results import Results
from prunekd.experiments._sweep import RESULT_FIELDS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
STORED = os.path.join(DOCS, "results", "v3", "digits")


def _default_rows():
    seeds = set(SweepConfig().seeds)
    return [r for part in ("confirmatory", "dynamic-confirmatory")
            for r in load_results(os.path.join(STORED, part)) if r["seed"] in seeds]  # fmt: skip


def _info():
    with open(os.path.join(STORED, "confirmatory", "info.json")) as f:
        return json.load(f)


def _results_v3():
    return _docs_check()._results_v3()  # docs/_results_v3.py, loaded as the docs test loads it


def _docs_check():
    """tests/test_docs_results.py as a module (its _problems and _sentences)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "docs_check", os.path.join(ROOT, "tests", "test_docs_results.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- _report_v3: the teacher check's threshold (M02) -----------------------------------------


def test_the_teacher_check_fails_between_minus_delta_and_minus_the_margin():
    """Gate at -delta = -margin/2 (0.425 points), not at -margin: a gap of -0.6 fails."""
    rows, info = _default_rows(), _info()
    margin = protocol_v3()["frozen"]["digits"]["margin"]
    assert "passed" in v3_verdict_table(rows, info, "digits")
    full_val = Results(rows, protocol_v3()["frozen"]["digits"]).kd("random", 1.0, 0.0, "val_accuracy")
    from prunekd.experiments._findings_v3 import teacher_gap

    gap = teacher_gap(info, dict(zip(Results(rows).seeds, full_val)))  # points, paired by seed
    target = -0.75 * margin  # between -margin and -margin/2
    for run in info["teacher_runs"]["equal"].values():
        run["val_accuracy"] += (target - gap) / 100
    assert "FAILED: no verdict" in v3_verdict_table(rows, info, "digits")


def test_the_teacher_check_pairs_the_student_with_the_seeds_whose_teachers_are_recorded():
    # the student's seeds whose teachers info.json lacks are left out of the check, not averaged in
    from prunekd.experiments._findings_v3 import teacher_gap
    from prunekd.experiments._report_v3 import _seed_list, _teacher_lines

    rows, info = _default_rows(), _info()
    r = Results(rows, protocol_v3()["frozen"]["digits"])
    full_val = dict(zip(r.seeds, r.kd("random", 1.0, 0.0, "val_accuracy")))
    dropped = r.seeds[:3]
    for by_seed in info["teacher_runs"].values():
        for seed in dropped:
            by_seed.pop(str(seed), None)
    kept = [s for s in r.seeds if s not in dropped]
    paired = 100 * sum(info["teacher_runs"]["equal"][str(s)]["val_accuracy"] - full_val[s]
                       for s in kept) / len(kept)  # fmt: skip
    assert teacher_gap(info, full_val) == pytest.approx(paired)
    # a student far off on the dropped seeds changes nothing
    assert teacher_gap(info, {**full_val, **dict.fromkeys(dropped, 0.0)}) == pytest.approx(paired)
    lines, _ = _teacher_lines(r, info, 0.85)
    assert f"info.json records the teachers of {len(kept)} of {len(r.seeds)} seeds" in "\n".join(lines)
    assert f"(not {_seed_list(dropped)}:" in "\n".join(lines)
    assert [line.split(" |")[0] for line in lines if line.startswith("| teacher")] == [
        "| teacher small", "| teacher equal", "| teacher large"]  # fmt: skip
    assert _seed_list([70, 71, 72, 80, 82, 83]) == "70-72, 80, 82-83"


# --- _report_v3._f6_cost_lines: at most 0.75 of the student's samples, as the gate reads it ---


def _cost_text(rows, info):
    frozen = protocol_v3()["frozen"]["digits"]
    r = Results([x for x in rows if x["study"] != "dynamic"], frozen)
    return " ".join(_f6_cost_lines(r, rows, info))


def _dynamic_kd(row):
    return (row["study"] == "dynamic" and row["pruner"] == "infobatch"
            and row["prune_ratio"] == 0.5 and row["alpha"] > 0)  # fmt: skip


def test_f6s_cost_condition_is_the_gates_student_samples():
    # the condition is judged as primary_family's gate judges it, on the samples the dynamic
    # student processed; KD's teacher passes are shown beside it
    rows, info = copy.deepcopy(_default_rows()), _info()
    assert ": met." in _cost_text(rows, info)  # 0.693 (0.707 with the passes) on the stored rows
    full = [r["student_samples"] for r in rows
            if r["study"] == "main" and r["pruner"] == "random" and r["fraction"] == 1.0
            and r["alpha"] == 0.0]  # fmt: skip
    mean_full = sum(full) / len(full)
    for row in rows:
        if _dynamic_kd(row):  # passes of 0.1: over 0.75 with them, not without
            row["teacher_samples"] = 0.1 * mean_full
    assert ": met." in _cost_text(rows, info)
    for row in rows:
        if _dynamic_kd(row):  # the student itself over 0.75: not met, and F6 is not tested
            row["student_samples"] = 0.8 * mean_full
    assert ": not met: F6 is not tested." in _cost_text(rows, info)
    frozen = protocol_v3()["frozen"]["digits"]
    r = Results([x for x in rows if x["study"] != "dynamic"], frozen)
    from prunekd.experiments._findings_v3 import primary_family

    notes = primary_family(r, rows, protocol_v3(), "digits", frozen, frozen["margin"], info)[1]
    assert notes["F6"].startswith("not tested at 0.75")


def test_f6s_cost_condition_is_at_most_075_inclusive():
    rows, info = copy.deepcopy(_default_rows()), _info()
    for row in rows:
        if row["study"] == "main" and row["pruner"] == "random" and row["fraction"] == 1.0 \
                and row["alpha"] == 0.0:  # fmt: skip
            row["student_samples"] = 1000.0
        if _dynamic_kd(row):  # exactly the bound
            row["student_samples"], row["teacher_samples"] = 750.0, 10.0
    text = _cost_text(rows, info)
    assert "processed 0.750: met." in text and "With KD's teacher passes it costs 0.760" in text


# --- _report_v3.v3_summary_lines (M10, M11) -------------------------------------------------


def test_the_v3_summary_counts_seeds_and_needs_teacher_runs():
    rows, info = _default_rows(), _info()
    config = json.loads(json.dumps(dataclasses.asdict(SweepConfig())))
    lines = v3_summary_lines(rows, config, info)
    assert lines[0] == "## The paper's findings on this run, under results protocol v3"
    assert "It has 10 seeds;" in lines[2]
    assert "Teacher check" in "\n".join(lines)
    # without the teachers' record (no info.json yet) there is no v3 section: v2's rules read it
    assert v3_summary_lines(rows, config, None) is None
    assert v3_summary_lines(rows, config, {}) is None
    # a design v3 did not freeze
    assert v3_summary_lines(rows, {**config, "epochs": 30}, info) is None


# --- _protocol.v3_design: every training setting must match (M12, M13, M14) ----------------

OTHER = {
    "model": "mlp", "width": 8, "budget": "steps", "batch_size": 64, "lr": 1e-3,
    "temperature": 2.0, "kd_loss": "dkd", "label_noise": 0.2, "n_proxies": 3,
    "proxy_epochs": 2, "teacher_widths": {"equal": 16}, "epochs": 30, "teacher_epochs": 30,
}  # fmt: skip


@pytest.mark.parametrize("key", sorted(OTHER))
def test_v3_design_refuses_any_other_training_setting(key):
    config = json.loads(json.dumps(dataclasses.asdict(SweepConfig())))
    assert v3_design(config) == "digits"
    assert config[key] != OTHER[key]
    assert v3_design({**config, key: OTHER[key]}) is None, key


def test_v3_design_accepts_another_grid():
    config = json.loads(json.dumps(dataclasses.asdict(SweepConfig())))
    other = {"seeds": [30, 31], "pruners": ["random"], "fractions": [0.1, 1.0],
             "alphas": [1.0], "budget_scales": [], "baseline_scales": [], "prune_ratios": []}  # fmt: skip
    assert v3_design({**config, **other}) == "digits"


def test_the_v3_design_with_another_kd_loss_reads_no_frozen_choices():
    config = dataclasses.asdict(SweepConfig())
    assert frozen_choices({**config, "kd_loss": "dkd"}) is None


# --- _protocol.frozen_choices, v3 branch (M16) ---------------------------------------------


def test_v3s_frozen_choices_hold_everything_results_reads():
    frozen = frozen_choices(dataclasses.asdict(SweepConfig()))
    v3 = protocol_v3()["frozen"]["digits"]
    assert sorted(frozen) == ["alphas", "comparators", "pooled_alphas", "rule"]
    assert {k: frozen[k] for k in frozen} == {k: v3[k] for k in frozen}
    # a pruner the design did not run takes the pooled alpha (no KeyError)
    r = Results(_default_rows(), frozen)
    assert r.chosen_alpha("moderate", 0.1) == v3["pooled_alphas"]["0.1"]


# --- _config.__post_init__ (M17, M21) -------------------------------------------------------


def test_each_config_owns_its_teacher_epochs():
    config = SweepConfig()
    config.teacher_epochs["equal"] = 1
    assert SweepConfig().teacher_epochs["equal"] == 70
    assert DATASET_EPOCHS["digits"][1]["equal"] == 70


def test_explicit_epochs_are_kept_even_when_falsy():
    assert SweepConfig(teacher_epochs=0).teacher_epochs == 0
    assert SweepConfig(epochs=0).epochs == 0


# --- cli._report: v3's table replaces v2's (M25) --------------------------------------------


def test_the_v3_report_prints_only_v3s_table(tmp_path, capsys):
    with open(tmp_path / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS)
        writer.writeheader()
        writer.writerows(_default_rows())
    shutil.copy(os.path.join(STORED, "confirmatory", "info.json"), tmp_path / "info.json")
    cli._report(SimpleNamespace(out=str(tmp_path)), SweepConfig(), 1.0)
    out = capsys.readouterr().out
    headers = [line for line in out.splitlines() if line.startswith("finding ")]
    assert len(headers) == 1 and "[95% interval]" not in headers[0]


# --- docs/_results_v3.verdicts: a gate's note is the word (M28) -----------------------------


def test_published_verdicts_carry_a_failed_gates_note(tmp_path):
    module = _results_v3()
    spec = protocol_v3()
    for name in ("results.csv", "config.json"):
        shutil.copy(os.path.join(STORED, "confirmatory", name), tmp_path / name)
    info = _info()
    for run in info["teacher_runs"]["large"].values():  # the large teacher 5 points lower
        run["val_accuracy"] -= 0.05
    with open(tmp_path / "info.json", "w") as f:
        json.dump(info, f)
    run = {"main": str(tmp_path), "dynamic": os.path.join(STORED, "dynamic-confirmatory")}
    found = module.verdicts(spec, "digits", run)
    assert found["F4"][0] == "not tested: the large teacher had not finished learning"


# --- docs/_results_v3._recheck_line: validation and test (M29) ------------------------------


@pytest.mark.parametrize("metric", ["val_accuracy", "test_accuracy"])
def test_the_resume_check_compares_validation_and_test_accuracy(tmp_path, metric):
    module = _results_v3()
    stored, recheck = (os.path.join(STORED, n) for n in ("confirmatory", "recheck"))
    line = module._recheck_line(stored, recheck)
    n = len(load_results(recheck))
    assert f": {n} of {n} rows" in line
    for name in ("config.json", "info.json"):
        shutil.copy(os.path.join(recheck, name), tmp_path / name)
    with open(os.path.join(recheck, "results.csv"), newline="") as f:
        reader = csv.DictReader(f)
        rows, fieldnames = list(reader), reader.fieldnames
    rows[0][metric] = str(float(rows[0][metric]) - 0.01)
    with open(tmp_path / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    assert f": {n - 1} of {n} rows" in module._recheck_line(stored, str(tmp_path))


# --- docs/_results_v3.stored_runs: both runs or none (M33) ----------------------------------


def test_a_dataset_with_one_of_its_two_runs_is_not_stored(tmp_path):
    module = _results_v3()
    main = tmp_path / "digits" / "confirmatory"
    shutil.copytree(os.path.join(STORED, "confirmatory"), main)
    assert module.stored_runs(str(tmp_path)) == {}
    dynamic = tmp_path / "digits" / "dynamic-confirmatory"
    shutil.copytree(os.path.join(STORED, "dynamic-confirmatory"), dynamic)
    assert module.stored_runs(str(tmp_path)) == {"digits": {"main": str(main), "dynamic": str(dynamic)}}


# --- tests/test_docs_results.py's checker, on synthetic verdicts (M37-M40) ------------------


def _synthetic(digits="reproduced", mnist1d="reproduced"):
    names = protocol_v3()["family"]["primary"]
    return {
        "digits": {f: (digits, "+1.00 [+0.50, +1.50]") for f in names},
        "mnist1d": {f: (mnist1d, "+2.00 [+1.50, +2.50]") for f in names},
    }


def test_a_sentence_naming_both_datasets_needs_both():
    check = _docs_check()
    published = _synthetic(mnist1d="inconclusive")
    sentence = "On digits and MNIST-1D, KD improves the student (+1.00 [+0.50, +1.50])."
    problems = check._problems("README.md", sentence, published)
    assert any("on mnist1d" in p for p in problems), problems


def test_not_reproduced_is_caught_like_inconclusive():
    check = _docs_check()
    for word in ("not reproduced", "inconclusive", "not tested: the large teacher had not finished learning"):
        published = _synthetic(digits=word)
        assert check._problems("README.md", "On digits, KD improves the student (+1.00 [+0.50, +1.50]).",
                               published), word  # fmt: skip


def test_each_clause_after_a_semicolon_is_scoped_on_its_own():
    check = _docs_check()
    published = _synthetic(mnist1d="inconclusive")
    text = ("On digits, random pruning is enough (+1.00 [+0.50, +1.50]); KD improves the student "
            "(+1.00 [+0.50, +1.50]).")  # fmt: skip
    # the second clause names no dataset: it claims F1 on MNIST-1D too
    assert any("on mnist1d" in p for p in check._problems("README.md", text, published))


def test_dataset_names_are_matched_whatever_their_case():
    check = _docs_check()
    published = _synthetic(digits="inconclusive")
    text = "On MNIST-1D, KD improves the student (+2.00 [+1.50, +2.50])."
    assert check._problems("README.md", text, published) == []
