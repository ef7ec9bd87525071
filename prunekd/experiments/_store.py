"""A sweep's folder: its results file, read back after any interruption, and its JSON files."""

import csv
import dataclasses
import json
import os
import platform
import subprocess

import torch

from ._config import _SCHEMA

RESULT_FIELDS = (
    "study",
    "pruner",
    "fraction",
    "alpha",
    "seed",
    "teacher",
    "teacher_width",
    "budget_scale",
    "n_kept",
    "epochs",
    "steps",
    "student_samples",
    "teacher_samples",
    "pruner_samples",
    "val_accuracy",
    "test_accuracy",
    "fit_seconds",
    "pruner_seconds",
    "prune_ratio",
)
# The columns before the dynamic study (schema 3 without prune_ratio): read, and a file
# resumed with them gets the new header first.
_SCHEMA_3_FIELDS = RESULT_FIELDS[:-1]
# The columns of results written before cost was recorded (schema 2): still
# read, for the stored sweeps of the documentation, with no cost.
_SCHEMA_2_FIELDS = (
    "study",
    "pruner",
    "fraction",
    "alpha",
    "seed",
    "teacher",
    "teacher_width",
    "n_kept",
    "epochs",
    "val_accuracy",
    "test_accuracy",
    "fit_seconds",
)
_FLOATS = (
    "fraction",
    "alpha",
    "budget_scale",
    "student_samples",
    "teacher_samples",
    "pruner_samples",
    "val_accuracy",
    "test_accuracy",
    "fit_seconds",
    "pruner_seconds",
    "prune_ratio",
)
_INTS = ("seed", "n_kept", "epochs", "steps", "teacher_width")
_OLD_DEFAULTS = dict(
    budget_scale="1.0",
    steps="nan",
    student_samples="nan",
    teacher_samples="nan",
    pruner_samples="nan",
    pruner_seconds="nan",
    prune_ratio="0.0",
)


def run_key(row):
    """What identifies a run: its study, pruner, fraction, alpha, seed, teacher, budget, ratio.

    A dynamic-study row is identified by its prune ratio: its fraction and
    budget follow what its dynamic student processed, measured when it runs.
    """
    measured = row["study"] == "dynamic"
    return (
        row["study"],
        row["pruner"],
        -1.0 if measured else float(row["fraction"]),
        float(row["alpha"]),
        int(row["seed"]),
        row["teacher"],
        -1.0 if measured else float(row.get("budget_scale", 1.0)),
        float(row.get("prune_ratio", 0.0)),
    )


def _parse_row(row):
    if None in row or any(v is None for v in row.values()):
        raise ValueError("wrong number of fields")
    parsed = {**_OLD_DEFAULTS, **row}
    for k in _FLOATS:
        parsed[k] = float(parsed[k])
    for k in _INTS:
        value = float(parsed[k])
        parsed[k] = int(value) if value == value else value  # NaN: not recorded
    return parsed


def read_results(path, repair=False):
    """The complete rows of ``results.csv``, parsed, the first of any duplicate kept.

    A process killed while appending leaves a torn last line (no newline).
    It is ignored, and with ``repair=True`` cut off the file, so that the next
    rows start on a line of their own. Rows of the previous schema (no cost
    columns) are read with their cost missing (NaN); rows of before the
    dynamic study with ``prune_ratio`` 0 (with ``repair=True`` the file gets
    that column, so that new rows can be appended).
    """
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    complete = data.rfind(b"\n") + 1
    if repair and complete < len(data):
        with open(path, "r+b") as f:
            f.truncate(complete)
    lines = data[:complete].decode("utf-8").splitlines()
    if not lines:
        return []
    header = tuple(next(csv.reader(lines[:1])))
    if repair and header == _SCHEMA_3_FIELDS:  # rows appended next carry the new column
        _add_prune_ratio_column(path, lines)
    if header not in (RESULT_FIELDS, _SCHEMA_3_FIELDS, _SCHEMA_2_FIELDS):
        raise ValueError(
            f"{path} was written by another version of prunekd (its columns differ); pass "
            "--restart to discard it, or choose another --out"
        )
    rows, seen = [], set()
    for row in csv.DictReader(lines):
        try:
            row = _parse_row(row)
        except ValueError:
            continue  # a damaged line: its run counts as not done, and runs again
        if run_key(row) not in seen:
            seen.add(run_key(row))
            rows.append(row)
    return rows


def _add_prune_ratio_column(path, lines):
    """Rewrite a results file of before the dynamic study with its column (0: no dynamic run)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write("\n".join([",".join(RESULT_FIELDS), *(line + ",0.0" for line in lines[1:])]))
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path, obj):
    """Write JSON atomically: a kill leaves the old file or the new one, never half of one."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def provenance():
    """The installed prunekd version and the git revision of its source, if it has one.

    Examples
    --------
    >>> from prunekd.experiments import provenance
    >>> sorted(provenance())
    ['prunekd_version', 'revision']
    """
    from .. import __version__

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    revision = None
    try:
        out = subprocess.run(
            ["git", "-C", package, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if out.returncode == 0:
            revision = out.stdout.strip()
            dirty = subprocess.run(
                ["git", "-C", package, "status", "--porcelain", "--untracked-files=no", "--", "."],
                capture_output=True,
                text=True,
                timeout=10,
            )
            if dirty.returncode == 0 and dirty.stdout.strip():
                revision += "+modified"
    except (OSError, subprocess.SubprocessError):
        pass
    return {"prunekd_version": __version__, "revision": revision}


def machine():
    """The processor and torch build a sweep computes on, as one line.

    A fit is deterministic on one machine, but another processor may take
    other floating-point kernels (another instruction set, another of MKL's
    code paths) and learn other weights from the same seed. A sweep records
    every machine its invocations ran on, so a resumed run says whether its
    rows all come from one.
    """
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        model = names[0] if names else model
    except OSError:  # not Linux: platform's name of the processor
        pass
    return f"{model} ({torch.backends.cpu.get_cpu_capability()}), torch {torch.__version__}"


def prepare_out(out, config, restart, protocol_hash, recorded=None):
    """Create ``out``, refuse results of other settings or rules in it, and write ``config.json``.

    Results made under another protocol (another ``protocol.json`` hash) are
    refused too: a resume would mix runs of two rule books under one hash.
    ``recorded``: more entries for ``config.json`` that a resume does not
    compare (protocol v3's hash, which changes at each dataset's freeze).
    """
    os.makedirs(out, exist_ok=True)
    config_path = os.path.join(out, "config.json")
    results_path = os.path.join(out, "results.csv")
    if restart:
        for name in ("results.csv", "info.json"):
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
    previous = read_json(config_path)
    if os.path.exists(results_path) and previous:
        why = _why_not_resumable(previous, config, protocol_hash)
        if why:
            raise ValueError(
                f"{out} holds {why}; pass --restart to discard them, or choose another --out"
            )
    write_json(
        config_path,
        {
            "config": dataclasses.asdict(config),
            "key": config.key(),
            "protocol_sha256": protocol_hash,
            **(recorded or {}),
            **provenance(),
        },
    )
    return results_path


def _why_not_resumable(previous, config, protocol_hash):
    """Why the results of ``previous`` (a ``config.json``) cannot be resumed; None if they can."""
    if previous.get("key") != json.loads(json.dumps(config.key())):
        schema = previous.get("key", {}).get("schema")
        if schema != _SCHEMA:
            return f"results of an earlier protocol (schema {schema}, now {_SCHEMA})"
        return "results of a sweep with other settings"
    stored = previous.get("protocol_sha256")
    if stored != protocol_hash:
        return (
            f"results made under another results protocol (sha256 {str(stored)[:16]}, "
            f"now {protocol_hash[:16]})"
        )
    return None
