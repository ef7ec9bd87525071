"""The main job survives faults: kill -9 at any moment, torn rows, then the same command resumes."""

import os
import signal
import subprocess
import sys
import time

import pytest

from prunekd import cli
from prunekd.experiments._store import read_results
from _helpers import tiny_sweep_args

# Two seeds: four groups of students, so a kill can land between groups.
TINY = tiny_sweep_args(seeds="0,1", epochs=5)
N_ROWS = 24


def _comparable(out):
    rows = read_results(os.path.join(out, "results.csv"))
    return sorted(
        tuple(v for k, v in r.items() if k not in ("fit_seconds", "pruner_seconds")) for r in rows
    )


def _lines(out):
    with open(os.path.join(out, "results.csv"), "rb") as f:
        return f.read().split(b"\n")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("reference"))
    assert cli.main(["--out", out, *TINY]) == 0
    rows = _comparable(out)
    assert len(rows) == N_ROWS
    return out, rows


@pytest.mark.parametrize("cut", ["header", "first row", "mid row", "last row", "last newline"])
def test_a_torn_file_resumes_to_the_uninterrupted_rows(reference, tmp_path, cut):
    out, rows = reference
    with open(os.path.join(out, "results.csv"), "rb") as f:
        data = f.read()
    header_end = data.index(b"\n") + 1
    second = data.index(b"\n", header_end) + 1
    offsets = {
        "header": header_end // 2,  # killed while writing the header
        "first row": header_end + 10,  # inside the first row
        "mid row": data.index(b"\n", len(data) // 2) - 7,  # inside a row of a later group
        "last row": len(data) - 5,
        "last newline": len(data) - 1,  # every field written, not the newline
    }
    target = str(tmp_path)
    for name in ("config.json",):
        with (
            open(os.path.join(out, name), "rb") as src,
            open(os.path.join(target, name), "wb") as dst,
        ):
            dst.write(src.read())
    with open(os.path.join(target, "results.csv"), "wb") as f:
        f.write(data[: offsets[cut]])
    assert second > header_end
    assert cli.main(["--out", target, *TINY]) == 0
    assert _comparable(target) == rows
    # no duplicate line, no torn line left behind
    lines = [line for line in _lines(target) if line]
    assert len(lines) == N_ROWS + 1 and len(set(lines)) == len(lines)


def _start(out):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "prunekd.cli", "--out", out, *TINY], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


def _kill_when(process, ready, timeout=120):
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"the sweep ended before the kill point: {process.stderr.read().decode()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the kill point was never reached")
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", ["before any row", "after the first group", "after two groups"])
def test_kill_9_then_the_same_command_resumes(reference, tmp_path, point):
    _, rows = reference
    out = str(tmp_path)
    results = os.path.join(out, "results.csv")

    def n_rows():
        return len(_lines(out)) - 2 if os.path.exists(results) else -1

    ready = {
        "before any row": lambda: os.path.exists(os.path.join(out, "config.json")),
        "after the first group": lambda: n_rows() >= 1,
        "after two groups": lambda: n_rows() > 7,
    }[point]
    _kill_when(_start(out), ready)
    killed_with = max(n_rows(), 0)
    assert killed_with < N_ROWS
    resumed = subprocess.run([sys.executable, "-m", "prunekd.cli", "--out", out, *TINY],
                             capture_output=True, text=True)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert _comparable(out) == rows
    lines = [line for line in _lines(out) if line]
    assert len(lines) == N_ROWS + 1 and len(set(lines)) == len(lines)


def test_a_pruner_added_later_trains_only_its_own_students(reference, tmp_path, monkeypatch):
    from prunekd.experiments import _sweep

    out, rows = reference
    first = [*TINY]
    first[first.index("random,el2n")] = "random"
    target = str(tmp_path)
    assert cli.main(["--out", target, *first]) == 0
    trained = []
    run_group = _sweep._run_group

    def counting(config, data, runs, *args):
        trained.extend(r["pruner"] for r in runs)
        return run_group(config, data, runs, *args)

    monkeypatch.setattr(_sweep, "_run_group", counting)
    assert cli.main(["--out", target, *TINY]) == 0
    # el2n's students only (at f=0.2: no KD and KD, two seeds), and the rows of a run that had
    # both pruners from the start
    assert trained == ["el2n"] * 4
    assert _comparable(target) == rows
