"""A resumed ``prunekd --quick`` ends with the rows of an uninterrupted one: killed as a user would.

Runs ``prunekd --quick`` once uninterrupted; then, for each kill schedule,
starts the same command in a new session, kills its whole process group with
SIGKILL after the first delay, resumes and kills it again after the second,
tears the last row of the file (cuts its last 17 bytes, as a write cut short
leaves it), and resumes to the end. Every row, timing columns aside, must
equal the uninterrupted run's; the script prints each schedule's rows, how
many differ, and exits 1 if any does.

    python benchmarks/check_resume.py                    # 5 schedules, about 10 minutes on 2 cores
    python benchmarks/check_resume.py --schedules 28,8
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from prunekd.experiments._store import read_results

COMMAND = [sys.executable, "-m", "prunekd.cli", "--quick", "--no-progress", "--jobs", "1"]
TIMING = ("fit_seconds", "pruner_seconds")


def _rows(out):
    rows = read_results(os.path.join(out, "results.csv"))
    return {
        tuple(r[k] for k in ("study", "pruner", "fraction", "alpha", "seed", "teacher")): tuple(
            v for k, v in r.items() if k not in TIMING
        )
        for r in rows
    }


def _killed_after(out, seconds):
    process = subprocess.Popen([*COMMAND, "--out", out], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _tear_last_row(out, n_bytes=17):
    path = os.path.join(out, "results.csv")
    if os.path.exists(path) and os.path.getsize(path) > n_bytes:
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - n_bytes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", nargs="+", default=["28,8", "12,20", "20,5", "5,25", "16,10"],
                        help="kill delays in seconds, FIRST,SECOND")  # fmt: skip
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="prunekd-resume-")
    try:
        start = time.perf_counter()
        reference = os.path.join(work, "reference")
        subprocess.run([*COMMAND, "--out", reference], check=True, stdout=subprocess.DEVNULL)
        expected = _rows(reference)
        print(f"uninterrupted: {len(expected)} rows in {time.perf_counter() - start:.0f} s")
        failed = False
        for schedule in args.schedules:
            out = os.path.join(work, schedule.replace(",", "_"))
            for seconds in map(float, schedule.split(",")):
                _killed_after(out, seconds)
            n_before = len(_rows(out)) if os.path.exists(out) else 0
            _tear_last_row(out)
            subprocess.run([*COMMAND, "--out", out], check=True, stdout=subprocess.DEVNULL)
            got = _rows(out)
            differ = sum(got.get(key) != row for key, row in expected.items())
            failed |= differ > 0 or len(got) != len(expected)
            print(f"kills after {schedule} s: {n_before} rows before the torn resume, "
                  f"{len(got)} after; rows that differ: {differ}")  # fmt: skip
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
