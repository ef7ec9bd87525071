"""The results pages are what docs/make_results.py renders from the stored sweeps, nothing else."""

import importlib.util
import json
import os

import pytest

from prunekd.distillation import AUTO_ALPHA_KNOTS
from prunekd.experiments import PRUNERS, fit_auto_alpha, load_results, protocol_hash
from prunekd.experiments._store import run_key

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


@pytest.fixture(scope="module")
def make_results():
    spec = importlib.util.spec_from_file_location("make_results", os.path.join(DOCS, "make_results.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results_pages_match_their_data(make_results):
    for path, text in make_results.pages().items():
        with open(path) as f:
            assert f.read() == text, (
                f"{os.path.relpath(path)} differs from what docs/make_results.py renders from "
                "docs/results/; run python docs/make_results.py"
            )


def _stored(make_results):
    return (make_results.RESULTS, make_results.EXPLORATORY, make_results.METHODS,
            *(os.path.join(make_results.SETTINGS, name)
              for name in os.listdir(make_results.SETTINGS)))  # fmt: skip


def test_the_stored_runs_record_their_code_and_protocol(make_results):
    for folder in _stored(make_results):
        config = make_results._read_json(os.path.join(folder, "config.json"))
        info = make_results._read_json(os.path.join(folder, "info.json"))
        assert config["prunekd_version"] and config["revision"]
        assert info["prunekd_version"] and info["revisions"]
        assert "+modified" not in config["revision"], folder
    # the published verdicts were made under the protocol in force: changing it needs new runs
    for folder in (make_results.RESULTS, make_results.METHODS):
        config = make_results._read_json(os.path.join(folder, "config.json"))
        assert config["protocol_sha256"] == protocol_hash(), folder


def test_the_published_runs_follow_the_protocol_design(make_results):
    rows = load_results(make_results.RESULTS)
    config = make_results._read_json(os.path.join(make_results.RESULTS, "config.json"))
    assert sorted({r["seed"] for r in rows}) == list(range(10, 20))
    assert config["config"]["budget"] == "epochs"
    explore = load_results(make_results.EXPLORATORY)
    assert sorted({r["seed"] for r in explore}) == list(range(10))
    assert sorted({r["seed"] for r in load_results(make_results.METHODS)}) == list(range(10, 20))
    # claim 2's family: every score-based method the command offers
    assert {r["pruner"] for r in load_results(make_results.METHODS)} == set(PRUNERS)


def test_runs_of_the_earlier_protocol_still_load(make_results):
    rows = load_results(os.path.join(make_results.EARLIER, "main"))
    assert len(rows) > 100 and all(r["budget_scale"] == 1.0 for r in rows)
    assert all(r["student_samples"] != r["student_samples"] for r in rows)  # NaN: not recorded


def test_auto_alpha_knots_are_the_fit_of_the_stored_sweeps(make_results):
    settings = make_results._settings()
    assert len(settings) >= 2
    assert tuple(fit_auto_alpha(settings)) == AUTO_ALPHA_KNOTS


# Words in the opening of the README, the docs' front page and the package docstring that
# assert one of the paper's findings, and the protocol v3 findings that must read "reproduced"
# for the words to stand: on every dataset the sentence names, or on every dataset of the
# protocol when it names none (a dataset not run yet reproduces nothing).
CLAIMS = {
    "without losing accuracy": ("F5a",),
    "as good as": ("F2",),
    "random pruning is enough": ("F2",),
    "not worse than the best": ("F2",),
    "not worse than the full data": ("F5a",),
    "at the same compute": ("F5b",),
    "at the same student cost": ("F5b",),
    "even with the teacher's training counted": ("F5c",),
    "recovers": ("F1",),
    "improves the student": ("F1",),
    "improves pruned students": ("F1",),
    "larger kd weight pays": ("F3",),
    "larger kd weight helps": ("F3",),
    "teacher of the student's size beats": ("F4",),
    "larger teacher hurts": ("F4",),
    "dynamic pruning with kd is not worse": ("F6",),
    "saves compute": ("F6",),
}
DATASET_NAMES = {"digits": ("digits",), "mnist1d": ("mnist-1d", "mnist1d")}


def _openings():
    root = os.path.dirname(DOCS)
    with open(os.path.join(root, "README.md")) as f:
        readme = f.read().split("## Set up")[0]
    with open(os.path.join(DOCS, "index.rst")) as f:
        index = f.read().split(".. toctree::")[0]
    import prunekd

    return {"README.md": readme, "docs/index.rst": index, "prunekd": prunekd.__doc__}


def _published():
    """``{dataset: {finding: (word, interval text)} or None}`` under protocol v3."""
    from prunekd.experiments._protocol import protocol_v3
    from prunekd.experiments._results import fmt_interval

    module, spec = _results_v3(), protocol_v3()
    runs = module.stored_runs()
    out = {}
    for dataset in spec["datasets"]:
        found = module.verdicts(spec, dataset, runs.get(dataset))
        out[dataset] = found and {
            name: (word, fmt_interval(e, lo, hi, scale=1, digits=2))
            for name, (word, e, lo, hi) in found.items()
        }
    return out


def _sentences(text):
    import re

    sentences = []
    for item in re.split(r"\n\s*[-*] ", text):  # a list item starts a sentence of its own
        flat = " ".join(item.split())
        sentences += [s for s in re.split(r"(?<=[.;])\s+(?=[A-Z(])", flat) if s]
    return sentences


def _problems(name, text, published):
    """What an opening claims beyond the published v3 verdicts, or without their intervals."""
    problems = []
    for sentence in _sentences(text):
        lower = sentence.lower()
        named = [d for d, words in DATASET_NAMES.items() if any(w in lower for w in words)]
        for phrase, needed in CLAIMS.items():
            if phrase not in lower:
                continue
            for dataset in named or list(published):
                verdicts = published[dataset]
                if verdicts is None:
                    problems.append(f"{name} says {phrase!r} of {dataset}, which has not run yet")
                    continue
                for finding in needed:
                    word, interval = verdicts[finding]
                    if word != "reproduced":
                        problems.append(f"{name} says {phrase!r}, but {finding} on {dataset} is "
                                        f"{word} ({interval})")  # fmt: skip
                    elif name != "prunekd" and interval not in sentence:
                        problems.append(f"{name} claims {finding} on {dataset} without its "
                                        f"interval {interval} in the same sentence")  # fmt: skip
    return problems


def test_the_openings_claim_only_what_the_published_verdicts_reproduce():
    published = _published()
    for name, text in _openings().items():
        assert _problems(name, text, published) == []


def test_a_planted_claim_is_caught():
    published = _published()
    names = {"digits": "digits", "mnist1d": "MNIST-1D"}
    for phrase, needed in CLAIMS.items():
        # unscoped, every claim needs every dataset
        assert _problems("README.md", f"prunekd: {phrase}.", published), phrase
        for dataset, verdicts in published.items():
            scoped = f"On {names[dataset]}, {phrase}"
            if verdicts is None:  # a dataset not run yet reproduces nothing
                assert _problems("README.md", f"{scoped}.", published), (phrase, dataset)
                continue
            # scoped, without its interval
            assert _problems("README.md", f"{scoped}.", published), (phrase, dataset)
            # scoped, with its interval: stands exactly when that dataset reproduces it
            intervals = " ".join(verdicts[f][1] for f in needed)
            problems = _problems("README.md", f"{scoped} ({intervals}).", published)
            stands = all(verdicts[f][0] == "reproduced" for f in needed)
            assert bool(problems) != stands, (phrase, dataset)
    # a list item is a sentence of its own: its claim is read against the datasets it names,
    # not those of the next item
    digits, mnist1d = published["digits"], published["mnist1d"]
    if digits["F4"][0] == "reproduced" and mnist1d and mnist1d["F4"][0] != "reproduced":
        items = (f"- On digits, a teacher of the student's size beats a larger one ({digits['F4'][1]}).\n"
                 f"- On MNIST-1D the wider teacher is the better one ({mnist1d['F4'][1]}).")  # fmt: skip
        assert _problems("README.md", items, published) == []
        assert _problems("README.md", items.replace(".\n- On", "; on"), published)


def test_the_choose_a_pruner_page_places_every_method(make_results):
    from prunekd.experiments._methods import NEEDS, label, methods

    # every method of the stored sweep has one row, in the group the registry says it needs
    with open(os.path.join(DOCS, "choose_pruner.md")) as f:
        text = f.read()
    rows = [line.split(" | ")[:2] for line in text.splitlines() if line.startswith("| ")][2:]
    groups = {method_label: need.lstrip("| ") for need, method_label in rows}
    assert len(groups) == len(rows) == len(PRUNERS)
    for method in methods("static"):
        assert groups[label(method.name)] == NEEDS[method.needs], method.name
    for method in methods("dynamic"):  # no kept fraction: named in a section of their own
        assert f"`{method.name}`" in text[text.index("## Dynamic selection"):]


def _results_v3():
    import sys

    sys.path.insert(0, DOCS)
    try:
        import _results_v3
    finally:
        sys.path.remove(DOCS)
    return _results_v3


def test_the_v3_page_sets_both_datasets_side_by_side():
    from prunekd.experiments._protocol import protocol_v3

    folder = os.path.join(DOCS, "results", "v3", "digits")
    text = _results_v3().v3_results_page(
        {"digits": {"main": os.path.join(folder, "exploratory"),
                    "dynamic": os.path.join(folder, "dynamic-exploratory")}})  # fmt: skip
    rows = [line for line in text.splitlines() if line.startswith("| F")]
    primary = protocol_v3()["family"]["primary"]
    assert [row.split(".")[0][2:] for row in rows[: len(primary)]] == primary
    assert all(row.endswith("| not run yet | not yet |") for row in rows[: len(primary)])
    assert "## digits: results protocol v3" in text and "Teacher check" in text
    assert "## mnist1d: not run yet" in text


def test_the_v3_page_publishes_every_stored_confirmatory_run():
    from prunekd.experiments._protocol import protocol_v3

    spec = protocol_v3()
    runs = _results_v3().stored_runs()
    assert "digits" in runs  # the digits runs are complete (protocol_v3.json, design.no_seeds_added)
    for dataset, run in runs.items():
        frozen = spec["frozen"][dataset]
        first, last = (int(s) for s in frozen["confirmatory_seeds"].split("-"))
        for part in ("main", "dynamic"):
            rows = load_results(run[part])
            assert sorted({r["seed"] for r in rows}) == list(range(first, last + 1)), (dataset, part)
            assert len(range(first, last + 1)) == frozen["n_seeds"]
            info = _json(os.path.join(run[part], "info.json"))
            assert info["protocol_v3_sha256"], (dataset, part)
    # a 'not worse' finding whose interval lies below 0 says so beside its word, on every table:
    # the side-by-side one and each dataset's own (F5a is below 0 on both, under either word)
    with open(os.path.join(DOCS, "results_v3.md")) as f:
        rows = [line for line in f if line.startswith("| F5a")]
    assert len(rows) == 1 + len(runs)
    for dataset, run in runs.items():
        word, _, _, high = _results_v3().verdicts(spec, dataset, run)["F5a"]
        flagged = f"{word} (significantly below 0)"
        assert high < 0 and flagged in rows[0], dataset
        assert sum(flagged in row for row in rows[1:]) >= 1, dataset


def test_every_v3_run_of_a_dataset_fits_the_same_equal_teacher_on_a_seed_or_names_its_machines():
    # The page fills the main run's missing teacher records from the dynamic run
    # (borrow_teachers); it may, because on every seed both runs record, the records are equal.
    # A run that differs was resumed on another machine (fits are deterministic on one machine
    # only): it names its machines, which the page shows, and lends nothing.
    from prunekd.experiments._report_v3 import same_teachers

    for dataset in ("digits", "mnist1d"):
        folder = os.path.join(DOCS, "results", "v3", dataset)
        main = _json(os.path.join(folder, "confirmatory", "info.json"))
        for name in ("dynamic-confirmatory", "methods"):
            path = os.path.join(folder, name, "info.json")
            if os.path.exists(path):
                info = _json(path)
                shared, same = same_teachers(main, info)
                assert shared, (dataset, name)
                if name == "dynamic-confirmatory":  # the lender agrees on every shared seed
                    assert same == shared, (dataset, name)
                else:
                    assert same == shared or len(info.get("machines", [])) > 1, (dataset, name)
    digits = _json(os.path.join(DOCS, "results", "v3", "digits", "methods", "info.json"))
    assert len(digits["machines"]) == 2  # the first invocation's machine and the last one's
    with open(os.path.join(DOCS, "results_v3.md")) as f:
        assert "The equal teacher of seeds 70-79 is the dynamic sweep's" in f.read()


def _json(path):
    with open(path) as f:
        return json.load(f)


def test_every_stored_v3_run_records_a_committed_protocol_v3():
    import glob

    named = _results_v3().PROTOCOL_COMMITS
    # a stored run has its info.json (written once its teachers are trained)
    folders = glob.glob(os.path.join(DOCS, "results", "v3", "*", "*", "info.json"))
    assert len(folders) >= 4
    for path in folders:
        config = _json(os.path.join(os.path.dirname(path), "config.json"))
        assert config["protocol_v3_sha256"][:12] in named, path
        info = _json(path)
        for h in info.get("protocol_v3_sha256", []):
            assert h[:12] in named, path


def test_each_named_protocol_hash_is_the_commit_that_made_it():
    import hashlib
    import subprocess

    root = os.path.dirname(DOCS)
    for short, (commit, _) in _results_v3().PROTOCOL_COMMITS.items():
        out = subprocess.run(
            ["git", "-C", root, "show", f"{commit}:prunekd/experiments/protocol_v3.json"],
            capture_output=True,
        )
        if out.returncode != 0:
            pytest.skip("no git history here (a shallow or exported copy)")
        assert hashlib.sha256(out.stdout).hexdigest()[:12] == short, commit


def _config_of(command):
    """The SweepConfig a documented ``prunekd ...`` command runs, as stored in config.json."""
    import dataclasses
    import json
    import shlex

    from prunekd import cli

    argv = shlex.split(command.replace("\\\n", " "))[1:]
    parser = cli.build_parser()
    args = parser.parse_args(argv)
    explicit = {a.lstrip("-").split("=")[0].replace("-", "_") for a in argv if a.startswith("--")}
    config = json.loads(json.dumps(dataclasses.asdict(cli._config_from(args, explicit))))
    return config, args.out


GRID = ("pruners", "fractions", "alphas", "seeds", "teacher_widths", "budget_scales",
        "budget_seeds", "baseline_scales", "prune_ratios")  # fmt: skip


def _same_run(config, stored):
    """The stored run's settings and grid, as the command would train them."""
    from prunekd.experiments import SweepConfig
    from prunekd.experiments._plan import primary_only

    key = SweepConfig(**{k: v for k, v in config.items()}).key()
    stored_key = SweepConfig(**{k: v for k, v in stored.items() if k in config}).key()
    # prune ratios matter to dynamic pruners only (runs before them did not record any)
    keys = [k for k in GRID if k != "prune_ratios" or any("infobatch" in p for p in config["pruners"])]
    keys = [k for k in keys if k != "budget_seeds" or config["budget_scales"]]  # no budget study
    def grid(c):  # the registry's order of pruners may change; the runs do not
        # runs stored before --baseline-scales existed trained no baselines
        c = {"baseline_scales": [], **c}
        return {k: sorted(c[k]) if k == "pruners" else c[k] for k in keys}

    # whether it trains the secondary runs (stored before the field existed: it did)
    trims = [primary_only(SweepConfig(**c)) for c in (config, {"secondary": True, **stored})]
    return json_equal(key, stored_key) and json_equal(grid(config), grid(stored)) and \
        trims[0] == trims[1]  # fmt: skip


def json_equal(a, b):
    import json

    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_the_documented_commands_rerun_the_stored_runs(make_results):
    from prunekd.experiments._protocol import protocol_v3

    folders = {"prunekd-results": make_results.RESULTS, "prunekd-exploratory": make_results.EXPLORATORY,
               "prunekd-methods": make_results.METHODS,
               "prunekd-mlp": os.path.join(make_results.SETTINGS, "mlp"),
               "prunekd-noise": os.path.join(make_results.SETTINGS, "noise")}  # fmt: skip
    import re

    commands = [c for c in re.split(r"\n(?=\S)", make_results.COMMANDS) if c.startswith("prunekd")]
    assert len(commands) == len(folders)
    for command in commands:
        config, out = _config_of(command)
        stored = _json(os.path.join(folders[out], "config.json"))["config"]
        assert _same_run(config, stored), out
    checked = []
    for dataset, frozen in protocol_v3()["frozen"].items():
        for part, name in (("main", "confirmatory"), ("dynamic", "dynamic-confirmatory")):
            path = os.path.join(DOCS, "results", "v3", dataset, name, "config.json")
            if not os.path.exists(path):  # frozen, its run not started yet
                continue
            config, out = _config_of(_results_v3().rerun_command(dataset, part))
            assert _same_run(config, _json(path)["config"]), (dataset, part)
            checked.append((dataset, part))
    assert {("digits", "main"), ("digits", "dynamic")} <= set(checked)


def test_every_stored_v3_runs_command_reruns_it():
    import glob

    module = _results_v3()
    folders = [os.path.dirname(p) for p in
               glob.glob(os.path.join(DOCS, "results", "v3", "*", "*", "info.json"))]  # fmt: skip
    assert len(folders) >= 6
    for folder in folders:
        config, out = _config_of(module.command_of(folder))
        assert os.path.abspath(os.path.join(os.path.dirname(DOCS), out)) == folder
        assert _same_run(config, _json(os.path.join(folder, "config.json"))["config"]), folder


def test_the_freeze_writes_commands_that_train_the_frozen_grid():
    # the generator that will write MNIST-1D's commands at its freeze, checked on digits, whose
    # commands were frozen by hand and whose runs are stored
    import copy
    import sys

    from prunekd.experiments._protocol import protocol_v3

    sys.path.insert(0, DOCS)
    try:
        import freeze_protocol_v3
    finally:
        sys.path.remove(DOCS)
    spec = protocol_v3()
    seeds, commands = freeze_protocol_v3._confirmatory(spec, "digits", spec["frozen"]["digits"]["n_seeds"])
    assert seeds == spec["frozen"]["digits"]["confirmatory_seeds"]
    for part, name in (("main", "confirmatory"), ("dynamic", "dynamic-confirmatory")):
        config, out = _config_of(commands[part])
        assert out == f"docs/results/v3/digits/{name}"
        stored = _json(os.path.join(DOCS, "results", "v3", "digits", name, "config.json"))
        assert _same_run(config, stored["config"]), part
    # the trimming steps the freeze applies: all three on digits; fewer keep more of the grid
    expected = {(): ([0.1, 0.2, 0.3, 0.5, 0.7, 1.0], 5, 3, [0.3, 0.5, 0.7]),
                (1, 2): ([0.1, 0.2, 0.3, 0.5, 1.0], 0, 2, [0.3, 0.5, 0.7]),
                (1, 2, 3): ([0.1, 0.2, 0.3, 0.5, 1.0], 0, 2, [0.5])}  # fmt: skip
    spec = copy.deepcopy(spec)
    explored = os.path.join(DOCS, "results", "v3", "mnist1d", "exploratory")
    freeze_protocol_v3._record_teacher_epochs(spec, "mnist1d", explored)
    for steps, (fractions, budget_seeds, n_scales, ratios) in expected.items():
        _, commands = freeze_protocol_v3._confirmatory(spec, "mnist1d", 13, steps)
        main, dynamic = (_config_of(commands[part])[0] for part in ("main", "dynamic"))
        assert main["fractions"] == fractions and main["budget_seeds"] == budget_seeds
        assert len(main["budget_scales"]) == n_scales and len(main["baseline_scales"]) == 2
        assert dynamic["prune_ratios"] == ratios and main["test_pool_seed"] == 20261205


def test_a_run_stored_part_way_is_not_read(tmp_path):
    """A confirmatory run committed part-way (it resumes across sessions) publishes nothing."""
    import shutil

    from prunekd.experiments import pending_runs
    from prunekd.experiments._store import run_key

    source = os.path.join(DOCS, "results", "v3", "digits")
    for name in ("confirmatory", "dynamic-confirmatory"):
        shutil.copytree(os.path.join(source, name), tmp_path / "digits" / name)
    main = str(tmp_path / "digits" / "confirmatory")
    assert pending_runs(main) == set()
    assert set(_results_v3().stored_runs(str(tmp_path))) == {"digits"}
    with open(os.path.join(main, "results.csv")) as f:
        lines = f.readlines()
    with open(os.path.join(main, "results.csv"), "w") as f:
        f.writelines(lines[:-2])  # the last two runs not stored yet
    last = load_results(os.path.join(source, "confirmatory"))[-2:]
    assert pending_runs(main) == {run_key(r) for r in last}
    assert _results_v3().stored_runs(str(tmp_path)) == {}


def _copy_truncated(source, target, drop):
    """Copy a stored sweep folder, its results.csv without its last ``drop`` rows."""
    import shutil

    shutil.copytree(source, target)
    path = os.path.join(target, "results.csv")
    with open(path) as f:
        lines = f.readlines()
    with open(path, "w") as f:
        f.writelines(lines[: len(lines) - drop])


def test_a_run_whose_info_json_is_missing_is_not_read(tmp_path):
    # every row stored, killed before info.json was written: not complete (the page reads
    # info.json); kills: _complete without its info.json condition
    import shutil

    source = os.path.join(DOCS, "results", "v3", "digits")
    for name in ("confirmatory", "dynamic-confirmatory"):
        shutil.copytree(os.path.join(source, name), tmp_path / "digits" / name)
    module = _results_v3()
    assert set(module.stored_runs(str(tmp_path))) == {"digits"}
    os.remove(tmp_path / "digits" / "confirmatory" / "info.json")
    assert module.stored_runs(str(tmp_path)) == {}


def test_a_frozen_run_stored_part_way_says_how_many_of_its_runs_are_stored(tmp_path, monkeypatch):
    # kills: the pending count read from the wrong folder, or left out
    from prunekd.experiments._protocol import protocol_v3

    module = _results_v3()
    source = os.path.join(DOCS, "results", "v3", "digits")
    _copy_truncated(os.path.join(source, "confirmatory"), tmp_path / "digits" / "confirmatory", 2)
    _copy_truncated(os.path.join(source, "dynamic-confirmatory"),
                    tmp_path / "digits" / "dynamic-confirmatory", 1)  # fmt: skip
    monkeypatch.setattr(module, "V3", str(tmp_path))
    spec = protocol_v3()
    seeds = spec["frozen"]["digits"]["confirmatory_seeds"]
    n_main = len(load_results(os.path.join(source, "confirmatory")))
    n_dynamic = len(load_results(os.path.join(source, "dynamic-confirmatory")))
    lines = module._frozen_lines(spec, "digits")
    assert lines[0].startswith(f"- main, seeds {seeds}, {n_main - 2} runs stored, 2 pending: `")
    assert lines[1].startswith(
        f"- dynamic, seeds {seeds}, {n_dynamic - 1} runs stored, 1 pending: `"
    )
    assert lines[0].endswith(f"`{module.rerun_command('digits', 'main')}`")
    # and the page does not read them
    assert module.stored_runs(str(tmp_path)) == {}


def test_a_methods_run_stored_part_way_publishes_no_claim_2(tmp_path, monkeypatch):
    # kills: _claim_2_sections publishing from any methods folder with a results.csv
    from prunekd.experiments._protocol import protocol_v3

    module = _results_v3()
    # v2's stored methods sweep stands in for a v3 one, two of its runs not stored yet
    _copy_truncated(os.path.join(DOCS, "results", "methods"), tmp_path / "digits" / "methods", 2)
    monkeypatch.setattr(module, "V3", str(tmp_path))
    text = "\n".join(module._claim_2_sections(protocol_v3()))
    assert "## digits: claim 2 against every method" not in text
    assert "## Claim 2 against every method: not run yet under v3" in text
    assert "Not stored complete yet on digits, mnist1d" in text
    stored = len(load_results(str(tmp_path / "digits" / "methods")))
    assert f"- digits, {stored} runs stored, 2 pending: `prunekd --dataset digits" in text
    assert "- mnist1d, not started: `prunekd --dataset mnist1d" in text


def test_a_complete_methods_run_says_whether_its_teachers_are_the_main_runs(tmp_path, monkeypatch):
    # kills: the seed-by-seed comparison counting every shared seed as equal
    import shutil

    from prunekd.experiments._protocol import protocol_v3

    module = _results_v3()
    methods, main = tmp_path / "digits" / "methods", tmp_path / "digits" / "confirmatory"
    # v2's stored methods sweep stands in for a complete v3 one, and its info.json for the
    # main run's: the same teachers on its 10 seeds, then one record planted different
    shutil.copytree(os.path.join(DOCS, "results", "methods"), methods)
    monkeypatch.setattr(module, "V3", str(tmp_path))
    assert "fits the main run's teachers" not in "\n".join(module._claim_2_sections(protocol_v3()))
    main.mkdir()
    info = _json(methods / "info.json")
    (main / "info.json").write_text(json.dumps(info))
    text = "\n".join(module._claim_2_sections(protocol_v3()))
    assert "On 10 of 10 seeds both runs record, the methods sweep's equal teacher has" in text
    assert "fits the main run's teachers again" in text and "records its equal" not in text
    info["teacher_runs"]["equal"]["13"]["test_accuracy"] += 0.001
    (main / "info.json").write_text(json.dumps(info))
    text = "\n".join(module._claim_2_sections(protocol_v3()))
    assert "On 9 of 10 seeds both runs record" in text and "on the other 1 it does not" in text
    assert "fits the main run's teachers again" not in text
    assert "The main run's machines: not recorded." in text
    # the sweep's own record: fewer seeds than it ran, and the machines it ran on
    swept = _json(methods / "info.json")
    del swept["teacher_runs"]["equal"]["10"]
    swept["machines"] = ["cpu-a (AVX2), torch x", "cpu-b (AVX512), torch x"]
    (methods / "info.json").write_text(json.dumps(swept))
    text = "\n".join(module._claim_2_sections(protocol_v3()))
    assert "The methods sweep records its equal teacher on 9 of its 10 seeds." in text
    assert "On 8 of 9 seeds both runs record" in text
    assert "The methods sweep's: cpu-a (AVX2), torch x; cpu-b (AVX512), torch x." in text


def test_the_methods_command_trains_on_the_confirmatory_seeds_and_teacher():
    # the methods sweep's rows are paired with the confirmatory ones by seed: same seeds, same
    # equal teacher (width and epochs), same test pool. NB: does not kill "--teacher-epochs
    # {epochs}", which the current protocol cannot tell apart (equal teacher epochs == epochs on
    # both datasets); it guards the command's pairing as a whole.
    from prunekd.experiments._protocol import claim_2_family_v3, protocol_v3

    module = _results_v3()
    spec = protocol_v3()
    for dataset in spec["frozen"]:
        methods, out = _config_of(module.methods_command(spec, dataset))
        main, _ = _config_of(spec["frozen"][dataset]["commands"]["main"])
        assert out == f"docs/results/v3/{dataset}/methods"
        assert methods["seeds"] == main["seeds"]
        assert methods["test_pool_seed"] == main["test_pool_seed"]
        assert methods["teacher_widths"] == {"equal": main["teacher_widths"]["equal"]}, dataset
        # one number: every teacher of the sweep (its only one, "equal") trains that long
        assert methods["teacher_epochs"] == main["teacher_epochs"]["equal"], dataset
        assert methods["epochs"] == main["epochs"] and methods["fractions"] == [0.1, 0.2, 0.3]
        assert methods["pruners"] == ["random", *claim_2_family_v3()]
        # claim 2 reads each method at its frozen alpha: the sweep trains it
        frozen = spec["frozen"][dataset]
        wanted = {frozen["pooled_alphas"][f] for f in ("0.1", "0.2", "0.3")}
        wanted |= {a[f] for a in frozen["alphas"].values() for f in ("0.1", "0.2", "0.3")}
        assert wanted <= set(methods["alphas"]), dataset


def test_each_trimming_step_trims_only_its_own_part_of_the_grid():
    # kills: step 1's and step 2's conditions swapped (the existing test only applies them
    # together); checked on MNIST-1D's exploratory teachers, as the existing test does
    import copy
    import sys

    from prunekd.experiments._protocol import protocol_v3

    sys.path.insert(0, DOCS)
    try:
        import freeze_protocol_v3
    finally:
        sys.path.remove(DOCS)
    spec = copy.deepcopy(protocol_v3())
    explored = os.path.join(DOCS, "results", "v3", "mnist1d", "exploratory")
    freeze_protocol_v3._record_teacher_epochs(spec, "mnist1d", explored)
    full, trimmed = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0], [0.1, 0.2, 0.3, 0.5, 1.0]
    expected = {(1,): (trimmed, 5, 3, [0.3, 0.5, 0.7]),
                (2,): (full, 0, 2, [0.3, 0.5, 0.7]),
                (3,): (full, 5, 3, [0.5])}  # fmt: skip
    for steps, (fractions, budget_seeds, n_scales, ratios) in expected.items():
        _, commands = freeze_protocol_v3._confirmatory(spec, "mnist1d", 13, steps)
        main, dynamic = (_config_of(commands[part])[0] for part in ("main", "dynamic"))
        assert main["fractions"] == fractions, steps
        assert main["budget_seeds"] == budget_seeds and len(main["budget_scales"]) == n_scales, steps
        assert dynamic["prune_ratios"] == ratios, steps


def test_rows_stored_by_two_runs_count_once():
    # MNIST-1D's exploratory main sweep trained InfoBatch at ratio 0.5, as its dynamic sweep did:
    # the same 40 runs, which counted twice would narrow every interval of ratio 0.5
    module = _results_v3()
    folder = os.path.join(DOCS, "results", "v3", "mnist1d")
    main, dynamic = (load_results(os.path.join(folder, name))
                     for name in ("exploratory", "dynamic-exploratory"))  # fmt: skip
    keys = {run_key(r) for r in main} & {run_key(r) for r in dynamic}
    assert len(keys) >= 40
    union = module._union(main, dynamic)
    assert len(union) == len({run_key(r) for r in main + dynamic}) == len(main) + len(dynamic) - len(keys)
    assert all(any(r is m for m in main) for r in union if run_key(r) in keys)  # the first run's


def test_the_exploratory_ratios_are_shown_only_where_the_confirmatory_run_trimmed_them():
    with open(os.path.join(DOCS, "results_v3.md")) as f:
        text = f.read()
    assert "### digits: every prune ratio, exploratory run" in text  # confirmatory: 0.5 only
    assert "### mnist1d: every prune ratio" not in text  # confirmatory: 0.3, 0.5 and 0.7
