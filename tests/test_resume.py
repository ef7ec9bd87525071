"""The main job survives faults: kill -9 at any moment, torn rows, then the same command resumes."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zlib

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


def test_a_resumed_sweep_reuses_its_teachers_and_scores(reference, tmp_path, monkeypatch):
    from prunekd.experiments import _sweep
    from prunekd.experiments._sweep_cache import cache_dir

    _, rows = reference
    out = str(tmp_path)
    results = os.path.join(out, "results.csv")
    teachers = os.path.join(cache_dir(out), "teachers")
    # killed once the first group's rows are written: every teacher is stored by then
    _kill_when(_start(out), lambda: os.path.exists(results) and len(_lines(out)) > 3)
    stored = sorted(os.listdir(teachers))
    assert len(stored) == 6 and not [n for n in stored if n.endswith(".part")]  # 2 seeds x 3
    assert os.listdir(os.path.join(cache_dir(out), "scores"))  # EL2N's scores, kept

    def refit(*args, **kwargs):
        raise AssertionError("a stored teacher was fitted again")

    monkeypatch.setattr(_sweep, "_fit_teacher", refit)
    assert cli.main(["--out", out, *TINY]) == 0
    assert _comparable(out) == rows  # the loaded teachers give the uninterrupted rows
    assert not os.path.exists(cache_dir(out))  # complete: nothing left behind


def test_restart_discards_the_stored_teachers(reference, tmp_path):
    from prunekd.experiments._sweep_cache import cache_dir

    out = str(tmp_path)
    os.makedirs(os.path.join(cache_dir(out), "teachers"))
    marker = os.path.join(cache_dir(out), "teachers", "seed0-equal-w8-e3.joblib")
    with open(marker, "w") as f:
        f.write("not a teacher")  # would fail to load: a restart must not read it
    assert cli.main(["--out", out, "--restart", *TINY]) == 0
    assert _comparable(out) == reference[1] and not os.path.exists(cache_dir(out))


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


class _Interrupted(BaseException):
    """A stop from outside (as KeyboardInterrupt is), not an error the sweep could handle."""


def _interrupt_at_call(monkeypatch, name, n):
    """The ``n``-th call of the sweep's ``name`` (1-based) stops the run."""
    from prunekd.experiments import _sweep

    original, calls = getattr(_sweep, name), []

    def stopping(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise _Interrupted
        return original(*args, **kwargs)

    monkeypatch.setattr(_sweep, name, stopping)


def _group_ends(data):
    """Byte offsets of the ends of the reference file's groups of rows (fraction, seed)."""
    lines = data.split(b"\n")[1:-1]
    ends, offset = [], len(data.split(b"\n")[0]) + 1
    for i, line in enumerate(lines):
        offset += len(line) + 1
        fields = line.split(b",")
        following = lines[i + 1].split(b",") if i + 1 < len(lines) else None
        if following is None or (following[2], following[4]) != (fields[2], fields[4]):
            ends.append(offset)
    return ends


# Every group boundary, a row torn inside the last one of each group (a lone member left to
# train), and kills inside a teacher's fit: in a fresh run, and in a resume after seed 0's rows.
_STOPS = {
    **{f"after group {g}": [("_append_group", g + 1)] for g in (1, 2, 3)},
    **{f"torn last row of group {g}": g for g in (1, 2, 3, 4)},
    "inside the first teacher fit": [("_fit_teacher", 1)],
    # two teachers stored before the stop: the resume loads them and fits the rest
    "inside the third teacher fit": [("_fit_teacher", 3)],
    # the stored teachers removed first, so that the resume fits teachers again
    "inside a teacher fit of a resume": [("_append_group", 3), ("cache", None), ("_fit_teacher", 2)],
}


def _torn_copy(out, target, group):
    """``out``'s files, the results cut 17 bytes before the end of ``group``'s single write."""
    for name in ("config.json", "results.csv"):
        with open(os.path.join(out, name), "rb") as f:
            data = f.read()
        if name == "results.csv":
            data = data[: _group_ends(data)[group - 1] - 17]
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)


def _fingerprint_members(patch):
    """Rows carry a checksum of each member's trained weights in place of its correct count.

    Accuracy on a few hundred rows hides a change in the last bits of a weight;
    the checksum shows any.
    """
    from prunekd.distillation._group import _StudentGroup

    def checksums(group, X, y):
        module = group.module_
        # a network with buffers trains alone, unstacked
        stacked = module.weights if hasattr(module, "weights") else module.net.parameters()
        stacked = [w.detach().cpu().numpy() for w in stacked]
        stacked = stacked if hasattr(module, "weights") else [w[None] for w in stacked]
        return [zlib.crc32(b"".join(w[k].tobytes() for w in stacked))
                for k in range(len(group.alphas))]

    patch.setattr(_StudentGroup, "member_correct", checksums)


# Convolutions: the kernels whose last bits once depended on a member's group size.
CNN = [*TINY]
CNN[CNN.index("mlp")] = "smallcnn"
CNN[CNN.index("--epochs") + 1] = "2"


@pytest.fixture(scope="module")
def fingerprinted(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("fingerprinted"))
    with pytest.MonkeyPatch.context() as patch:
        _fingerprint_members(patch)
        assert cli.main(["--out", out, *CNN]) == 0
    return out, _comparable(out)


@pytest.mark.parametrize("stop", list(_STOPS))
def test_interrupted_anywhere_the_resumed_rows_equal_the_uninterrupted_ones(fingerprinted,
                                                                            tmp_path, monkeypatch,
                                                                            stop):  # fmt: skip
    out, rows = fingerprinted
    _fingerprint_members(monkeypatch)
    target = str(tmp_path)
    if isinstance(_STOPS[stop], int):
        _torn_copy(out, target, _STOPS[stop])
    else:
        for name, call in _STOPS[stop]:
            if name == "cache":
                from prunekd.experiments._sweep_cache import cache_dir

                shutil.rmtree(os.path.join(cache_dir(target), "teachers"))
                continue
            with monkeypatch.context() as patch:
                _interrupt_at_call(patch, name, call)
                with pytest.raises(_Interrupted):
                    cli.main(["--out", target, *CNN])
    assert cli.main(["--out", target, *CNN]) == 0
    assert _comparable(target) == rows
    lines = [line for line in _lines(target) if line]
    assert len(lines) == N_ROWS + 1 and len(set(lines)) == len(lines)


def _copy_run(out, target):
    """Copy a finished run's config.json and results.csv into ``target``; its config, loaded."""
    import json

    for name in ("config.json", "results.csv"):
        with open(os.path.join(out, name), "rb") as src, open(os.path.join(target, name), "wb") as dst:
            dst.write(src.read())
    with open(os.path.join(target, "config.json")) as f:
        return json.load(f)


def test_a_resume_refuses_results_of_another_protocol(reference, tmp_path, capsys):
    import json

    out, _ = reference
    target = str(tmp_path)
    config = _copy_run(out, target)
    config["protocol_sha256"] = "0" * 64  # made under another protocol.json
    with open(os.path.join(target, "config.json"), "w") as f:
        json.dump(config, f)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--out", target, *TINY])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "another results protocol (sha256 0000000000000000" in error and "--restart" in error
    with open(os.path.join(target, "config.json")) as f:
        assert json.load(f)["protocol_sha256"] == "0" * 64  # nothing overwritten
    assert cli.main(["--out", target, "--restart", *TINY]) == 0


def test_config_records_protocol_v3_and_a_new_v3_version_still_resumes(reference, tmp_path):
    import json

    from prunekd.experiments._protocol import protocol_v3_hash

    out, _ = reference
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["protocol_v3_sha256"] == protocol_v3_hash()
    target = str(tmp_path)
    config = _copy_run(out, target)
    # v3 changes at each dataset's freeze while another dataset's run is resumed
    config["protocol_v3_sha256"] = "0" * 64
    with open(os.path.join(target, "config.json"), "w") as f:
        json.dump(config, f)
    rows = len(read_results(os.path.join(target, "results.csv")))
    assert cli.main(["--out", target, *TINY]) == 0
    assert len(read_results(os.path.join(target, "results.csv"))) == rows  # resumed: nothing left to train, nothing redone
    with open(os.path.join(target, "config.json")) as f:
        assert json.load(f)["protocol_v3_sha256"] == protocol_v3_hash()


def test_a_complete_run_run_again_is_left_as_it_was(reference, tmp_path):
    # the page's commands are rerun to check a stored run: that adds no wall time, no revision
    out, rows = reference
    target = str(tmp_path)
    for name in ("config.json", "results.csv", "info.json"):
        shutil.copy(os.path.join(out, name), os.path.join(target, name))
    with open(os.path.join(target, "config.json")) as f:
        stored = json.load(f)
    stored["revision"] = "a-revision-that-made-the-rows"
    with open(os.path.join(target, "config.json"), "w") as f:
        json.dump(stored, f)
    before = _files(target)
    assert cli.main(["--out", target, *TINY]) == 0
    assert _files(target) == before and _comparable(target) == rows


def _files(folder):
    found = {}
    for name in ("config.json", "info.json", "results.csv"):
        with open(os.path.join(folder, name), "rb") as f:
            found[name] = f.read()
    return found


def test_info_names_the_revision_of_every_invocation_killed_ones_included(reference, tmp_path,
                                                                            monkeypatch):
    from prunekd.experiments import _store

    out, rows = reference
    target = str(tmp_path)
    for revision, stop in (("rev-killed", True), ("rev-completing", False)):
        with monkeypatch.context() as patch:
            patch.setattr(_store, "provenance", lambda r=revision: {"prunekd_version": "x",
                                                                     "revision": r})
            if stop:  # killed after the first group's rows, before info.json exists
                _interrupt_at_call(patch, "_append_group", 2)
                with pytest.raises(_Interrupted):
                    cli.main(["--out", target, *TINY])
                assert not os.path.exists(os.path.join(target, "info.json"))
            else:
                assert cli.main(["--out", target, *TINY]) == 0
    with open(os.path.join(target, "info.json")) as f:
        assert json.load(f)["revisions"] == ["rev-completing", "rev-killed"]
    assert _comparable(target) == rows


def test_info_names_every_machine_and_only_a_resume_on_another_warns(reference, tmp_path,
                                                                      monkeypatch):
    # Fits are deterministic on one machine only: a run resumed elsewhere says so, and info.json
    # names each machine its invocations ran on.
    from prunekd.experiments import _sweep

    _, rows = reference
    target = str(tmp_path)
    for name in ("cpu-a (AVX512), torch x", "cpu-a (AVX512), torch x"):
        with monkeypatch.context() as patch, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            patch.setattr(_sweep, "machine", lambda n=name: n)
            _interrupt_at_call(patch, "_append_group", 2)  # one more group each time
            with pytest.raises(_Interrupted):
                cli.main(["--out", target, *TINY])
        assert not [w for w in caught if "another machine" in str(w.message)]
    monkeypatch.setattr(_sweep, "machine", lambda: "cpu-b (AVX2), torch x")
    match = r"started on another machine \(cpu-a \(AVX512\), torch x\) and resumes on cpu-b.*--restart"
    with pytest.warns(UserWarning, match=match):
        assert cli.main(["--out", target, *TINY]) == 0
    with open(os.path.join(target, "info.json")) as f:
        assert json.load(f)["machines"] == ["cpu-a (AVX512), torch x", "cpu-b (AVX2), torch x"]
    assert _comparable(target) == rows  # one real machine here: the rows are the same


def test_a_machine_names_its_processor_instruction_set_and_torch():
    import torch

    from prunekd.experiments._store import machine

    name = machine()
    assert name.endswith(f"({torch.backends.cpu.get_cpu_capability()}), torch {torch.__version__}")
    assert name.split(" (")[0].strip()  # the processor's name, or platform's


def test_info_records_the_teachers_of_seeds_finished_by_a_killed_invocation(reference, tmp_path,
                                                                            monkeypatch):
    # killed once seed 0's two groups are written: the completing invocation needs no teacher
    # of seed 0, whose accuracies were in the cache only
    out, rows = reference
    target = str(tmp_path)
    with monkeypatch.context() as patch:
        _interrupt_at_call(patch, "_append_group", 3)
        with pytest.raises(_Interrupted):
            cli.main(["--out", target, *TINY])
    assert {r["seed"] for r in read_results(os.path.join(target, "results.csv"))} == {0}
    assert cli.main(["--out", target, *TINY]) == 0
    with open(os.path.join(target, "info.json")) as f:
        recorded = json.load(f)["teacher_runs"]
    with open(os.path.join(out, "info.json")) as f:
        uninterrupted = json.load(f)["teacher_runs"]
    assert {n: sorted(s) for n, s in recorded.items()} == {n: ["0", "1"] for n in ("small", "equal", "large")}
    for name, by_seed in recorded.items():
        for seed, run in by_seed.items():
            assert run["val_accuracy"] == uninterrupted[name][seed]["val_accuracy"], (name, seed)


def test_a_summary_names_the_protocol_its_run_was_made_under(reference):
    from prunekd.experiments._protocol import protocol_hash
    from prunekd.experiments._report import _provenance_line

    same = _provenance_line({"protocol_sha256": protocol_hash()}, {"prunekd_version": "x"})
    assert same.endswith(f"under results protocol sha256 `{protocol_hash()[:16]}`.")
    other = _provenance_line({"protocol_sha256": "ab" * 32}, {"prunekd_version": "x"})
    assert "under another results protocol (sha256 `abababababababab`)" in other


def test_rows_of_two_budgets_are_two_runs(tmp_path):
    # The budget study trains the same (pruner, fraction, alpha, seed, teacher) at several
    # scales: a resume must neither skip one as done nor drop one as a duplicate.
    import csv

    from prunekd.experiments._store import RESULT_FIELDS, run_key

    row = dict.fromkeys(RESULT_FIELDS, "1")
    row.update(study="budget", pruner="random", teacher="none")
    rows = [{**row, "budget_scale": scale} for scale in ("0.5", "2.0", "0.5")]
    path = tmp_path / "results.csv"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    read = read_results(str(path))
    assert [r["budget_scale"] for r in read] == [0.5, 2.0]  # the repeated 0.5 row dropped
    assert run_key(read[0]) != run_key(read[1])


def test_a_folder_without_a_recorded_protocol_is_not_resumed():
    import json

    from prunekd.experiments import SweepConfig
    from prunekd.experiments._protocol import protocol_hash
    from prunekd.experiments._store import _why_not_resumable

    config = SweepConfig()
    previous = {"key": json.loads(json.dumps(config.key()))}
    assert "another results protocol (sha256 None" in _why_not_resumable(previous, config,
                                                                         protocol_hash())  # fmt: skip
    recorded = {**previous, "protocol_sha256": protocol_hash()}
    assert _why_not_resumable(recorded, config, protocol_hash()) is None


@pytest.mark.parametrize("restart", [False, True])
def test_a_killed_invocations_wall_time_is_counted(reference, tmp_path, monkeypatch, restart):
    """info.json's wall time covers every invocation since the last completion, killed ones too."""
    import json

    from prunekd.experiments._sweep_cache import cache_dir

    out = str(tmp_path)
    with monkeypatch.context() as m:
        _interrupt_at_call(m, "_append_group", 3)  # two groups written, then killed
        with pytest.raises(_Interrupted):
            cli.main(["--out", out, *TINY])
    clock = os.path.join(cache_dir(out), "wall_seconds.json")
    with open(clock) as f:
        assert json.load(f)["seconds"] > 0  # ticked after each unit of work
    with open(clock, "w") as f:
        json.dump({"seconds": 1000.0}, f)  # as if the killed invocation had run 1,000 s
    assert cli.main(["--out", out, *TINY, *(["--restart"] if restart else [])]) == 0
    with open(os.path.join(out, "info.json")) as f:
        wall = json.load(f)["wall_seconds"]
    # the resume adds its own seconds to the killed invocation's; --restart discards them
    assert (wall < 1000.0) if restart else (1000.0 < wall < 1300.0)
    assert not os.path.exists(cache_dir(out))


def _watch_clock(monkeypatch, unit, kill_at):
    """Spy on the sweep's WallClock and on ``unit`` (a function of _sweep called once per unit
    of work): ``marks`` gets the clock's seconds right after each call of ``unit`` returns; the
    ``kill_at``-th call stops the invocation."""
    from prunekd.experiments import _sweep

    clocks, marks, calls = [], [], []

    class Clock(_sweep.WallClock):
        def __init__(self, *args):
            super().__init__(*args)
            clocks.append(self)

    original = getattr(_sweep, unit)

    def watched(*args, **kwargs):
        calls.append(1)
        if len(calls) == kill_at:
            raise _Interrupted
        result = original(*args, **kwargs)
        marks.append(clocks[-1].seconds())
        return result

    monkeypatch.setattr(_sweep, "WallClock", Clock)
    monkeypatch.setattr(_sweep, unit, watched)
    return marks


def _stored_clock(out):
    import json

    from prunekd.experiments._sweep_cache import cache_dir

    path = os.path.join(cache_dir(out), "wall_seconds.json")
    assert os.path.exists(path), "no tick before the kill"
    with open(path) as f:
        return json.load(f)["seconds"]


# TINY: 2 seeds x 3 teachers, el2n scored on each seed, 4 groups of students.
@pytest.mark.parametrize("unit, kill_at", [("save_teacher", 3), ("_score", 2), ("_append_group", 3)])
def test_each_unit_of_work_leaves_the_clock_up_to_date(tmp_path, monkeypatch, unit, kill_at):
    """A kill loses at most the time since the last teacher, scores or group: each one ticks."""
    out = str(tmp_path)
    with monkeypatch.context() as m:
        marks = _watch_clock(m, unit, kill_at)
        with pytest.raises(_Interrupted):
            cli.main(["--out", out, *TINY])
    assert len(marks) == kill_at - 1
    # the tick after the last unit done came after it: the stored total (rounded to the
    # millisecond) covers it; a missing tick leaves an earlier unit's, before this one's work
    assert _stored_clock(out) >= marks[-1] - 1e-3


def test_a_sweep_killed_twice_keeps_both_invocations_time(tmp_path, monkeypatch):
    """The second killed invocation's ticks add to the first's total, not replace it."""
    import json

    from prunekd.experiments import _sweep
    from prunekd.experiments._sweep_cache import cache_dir

    out = str(tmp_path)
    for kill_at in (3, 2):  # two groups written, then one more
        with monkeypatch.context() as m:
            original, calls = _sweep._append_group, []

            def stopping(*args, calls=calls, kill_at=kill_at, original=original, **kwargs):
                calls.append(1)
                if len(calls) == kill_at:
                    raise _Interrupted
                return original(*args, **kwargs)

            m.setattr(_sweep, "_append_group", stopping)
            with pytest.raises(_Interrupted):
                cli.main(["--out", out, *TINY])
        if kill_at == 3:
            with open(os.path.join(cache_dir(out), "wall_seconds.json"), "w") as f:
                json.dump({"seconds": 1000.0}, f)  # as if the first invocation had run 1,000 s
    assert _stored_clock(out) > 1000.0
    assert cli.main(["--out", out, *TINY]) == 0
    with open(os.path.join(out, "info.json")) as f:
        assert 1000.0 < json.load(f)["wall_seconds"] < 1300.0
