"""A main run's missing teacher records, taken from a run that fits the same teachers, and only then."""

import copy
from types import SimpleNamespace

import pytest

from prunekd.experiments._findings_v3 import teacher_gap
from prunekd.experiments._report_v3 import _recorded_seeds_lines, borrow_teachers, same_teachers


def _records(seeds, bump=0.0):
    """Teacher records whose accuracies differ per seed (and by ``bump`` from seed 8 on)."""
    return {str(s): {"val_accuracy": 0.95 + bump * (s >= 8), "test_accuracy": 0.9 + s / 1000}
            for s in seeds}  # fmt: skip


# The main run lacks seeds 8 and 9 (its info.json was written without them); the dynamic
# run fits the same equal teacher on every seed.
MAIN = {"teacher_runs": {"equal": _records(range(8), 0.01), "large": _records(range(8))}}
DYNAMIC = {"teacher_runs": {"equal": _records(range(10), 0.01)}}


def test_the_missing_seeds_come_from_a_run_that_agrees_on_every_shared_seed():
    before = copy.deepcopy(MAIN)
    out = borrow_teachers(MAIN, {"dynamic sweep": DYNAMIC}, range(10))
    assert sorted(map(int, out["teacher_runs"]["equal"])) == list(range(10))
    assert sorted(map(int, out["teacher_runs"]["large"])) == list(range(8))  # nobody has it
    assert out["teachers_borrowed"] == {"equal": [("dynamic sweep", [8, 9], 8)]}
    assert MAIN == before  # a new dict: the caller's info is left as it was


def test_a_run_that_differs_on_one_shared_seed_lends_nothing():
    other = copy.deepcopy(DYNAMIC)
    other["teacher_runs"]["equal"]["3"]["test_accuracy"] += 1e-9
    out = borrow_teachers(MAIN, {"dynamic sweep": other}, range(10))
    assert out["teacher_runs"] == MAIN["teacher_runs"] and out["teachers_borrowed"] == {}
    shared, same = same_teachers(MAIN, other)
    assert len(shared) == 8 and "3" not in same and len(same) == 7


def test_a_run_sharing_no_seed_lends_nothing():
    other = {"teacher_runs": {"equal": _records([8, 9], 0.01)}}
    assert borrow_teachers(MAIN, {"dynamic sweep": other}, range(10))["teachers_borrowed"] == {}


def test_only_the_seeds_of_the_main_run_are_taken():
    out = borrow_teachers(MAIN, {"dynamic sweep": DYNAMIC}, range(9))
    assert "9" not in out["teacher_runs"]["equal"]
    assert out["teachers_borrowed"] == {"equal": [("dynamic sweep", [8], 8)]}


def test_the_teacher_check_pairs_on_the_borrowed_seeds_and_the_page_says_where_they_are_from():
    full_val = {s: 0.95 for s in range(10)}
    assert teacher_gap(MAIN, full_val) == pytest.approx(0.0)  # seeds 0-7: equal to the student
    out = borrow_teachers(MAIN, {"dynamic sweep": DYNAMIC}, range(10))
    assert teacher_gap(out, full_val) == pytest.approx(0.2)  # 1 point on 2 of 10 seeds
    text = _recorded_seeds_lines(SimpleNamespace(seeds=list(range(10))), out["teacher_runs"],
                                 out["teachers_borrowed"])[0]  # fmt: skip
    assert "records the teachers of 8 of 10 seeds (not 8-9" in text
    assert "The equal teacher of seeds 8-9 is the dynamic sweep's" in text
    assert "on all 8 seeds both runs record" in text
