"""The results pages are what docs/make_results.py renders from the stored sweeps, nothing else."""

import importlib.util
import os

import pytest

from prunekd.distillation import AUTO_ALPHA_KNOTS
from prunekd.experiments import PRUNERS, fit_auto_alpha, load_results, protocol_hash

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
# assert one of the paper's findings, and the findings the published verdicts must reproduce
# for the words to stand.
CLAIMS = {
    "without losing accuracy": ("5b",),
    "as good as": ("2", "2*"),
    "random pruning is enough": ("2", "2*"),
    "not worse than the best": ("2",),
    "not worse than any": ("2*",),
    "not worse than the full data": ("5a",),
    "at the same compute": ("5b",),
    "recovers": ("1a",),
    "improves the student": ("1a",),
    "most of all at small": ("1b",),
    "more at small fractions": ("1b",),
    "larger kd weight": ("3",),
    "larger teacher hurts": ("4",),
}


def _openings():
    root = os.path.dirname(DOCS)
    with open(os.path.join(root, "README.md")) as f:
        readme = f.read().split("## Set up")[0]
    with open(os.path.join(DOCS, "index.rst")) as f:
        index = f.read().split(".. toctree::")[0]
    import prunekd

    return {"README.md": readme, "docs/index.rst": index, "prunekd": prunekd.__doc__}


def _published(make_results):
    from prunekd.experiments import findings
    from prunekd.experiments._findings import Results, random_against_each

    from prunekd.experiments._protocol import frozen_choices

    rows = load_results(make_results.RESULTS)
    config = make_results._read_json(os.path.join(make_results.RESULTS, "config.json"))["config"]
    verdicts = findings(rows, config["capacity_alpha"], config)
    methods = make_results._read_json(os.path.join(make_results.METHODS, "config.json"))["config"]
    family = random_against_each(Results(load_results(make_results.METHODS),
                                         frozen_choices(methods)))[1]  # fmt: skip
    return {v.finding: v for v in [*verdicts, family]}


def _problems(name, text, published):
    """What an opening claims beyond the published verdicts, or without their intervals."""
    from prunekd.experiments._results import fmt_interval

    problems = []
    flat = " ".join(text.lower().split())
    for phrase, needed in CLAIMS.items():
        if phrase not in flat:
            continue
        for finding in needed:
            v = published[finding]
            interval = fmt_interval(v.estimate, v.low, v.high)
            if v.word != "reproduced":
                problems.append(f"{name} says {phrase!r}, but finding {finding} is {v.word} "
                                f"({interval})")  # fmt: skip
            elif name != "prunekd" and interval not in " ".join(text.split()):
                problems.append(f"{name} claims finding {finding} without its interval {interval}")
    return problems


def test_the_openings_claim_only_what_the_published_verdicts_reproduce(make_results):
    published = _published(make_results)
    for name, text in _openings().items():
        assert _problems(name, text, published) == []


def test_a_planted_claim_is_caught(make_results):
    published = _published(make_results)
    # the slogan of the earlier README, and every other claim, without its interval
    for phrase in CLAIMS:
        assert _problems("README.md", f"prunekd: {phrase}.", published), phrase


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


def test_the_v3_page_sets_both_datasets_side_by_side():
    import sys

    sys.path.insert(0, DOCS)
    try:
        from _results_v3 import v3_results_page
    finally:
        sys.path.remove(DOCS)
    from prunekd.experiments._protocol import protocol_v3

    folder = os.path.join(DOCS, "results", "v3", "digits")
    text = v3_results_page({"digits": {"main": os.path.join(folder, "exploratory"),
                                       "dynamic": os.path.join(folder, "dynamic-exploratory")}})  # fmt: skip
    rows = [line for line in text.splitlines() if line.startswith("| F")]
    primary = protocol_v3()["family"]["primary"]
    assert [row.split(".")[0][2:] for row in rows[: len(primary)]] == primary
    assert all(row.endswith("| not run yet | not yet |") for row in rows[: len(primary)])
    assert "## digits: results protocol v3" in text and "Teacher check" in text
