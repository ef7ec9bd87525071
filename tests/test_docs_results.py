"""The results pages are what docs/make_results.py renders from the stored sweeps, nothing else."""

import importlib.util
import os

import pytest

from prunekd.distillation import AUTO_ALPHA_KNOTS
from prunekd.experiments import fit_auto_alpha

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


def test_the_stored_runs_record_their_code(make_results):
    for folder in (make_results.RESULTS, make_results.RERUN, make_results.METHODS):
        config = make_results._read_json(os.path.join(folder, "config.json"))
        info = make_results._read_json(os.path.join(folder, "info.json"))
        assert config["prunekd_version"] and config["revision"]
        assert info["prunekd_version"] and info["revisions"]


def test_auto_alpha_knots_are_the_fit_of_the_stored_sweeps(make_results):
    settings = make_results._settings()
    assert len(settings) >= 2
    assert tuple(fit_auto_alpha(settings)) == AUTO_ALPHA_KNOTS
