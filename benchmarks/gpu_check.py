"""One command that checks prunekd on a GPU: device tests, a CIFAR-shaped sweep, throughput.

On a CUDA machine, from the repository root (with ``pip install -e ".[test]"``)::

    python benchmarks/gpu_check.py            # sized for under 8 minutes on one GPU (not yet timed on one)

It runs, printing each part's output and time:

1. ``tests/test_device.py`` with ``PRUNEKD_TEST_DEVICE=cuda``: teachers,
   students, proxies, a search and the sweep on the GPU;
2. the ``prunekd`` sweep on CIFAR-10-shaped data (``--model resnet20
   --device cuda --mixed-precision``): generated images written in
   CIFAR-10's on-disk format (class-dependent colours plus noise, so there is
   something to learn), read by torchvision as real CIFAR-10 would be; only
   torchvision's checksum test, which generated files cannot pass, is skipped;
3. ``benchmarks/bench_throughput.py``: images per second of the KD student
   against a bare PyTorch loop, float32 and bfloat16, with the ratios
   (target >= 0.9).

``--device cpu --small`` runs the same three parts in miniature on a CPU, to
check the script itself.
"""

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def write_cifar10(root, n_train, n_test, seed=0):
    """CIFAR-10-shaped images in CIFAR-10's python format: ``root/cifar-10-batches-py``."""
    rng = np.random.RandomState(seed)
    colours = rng.randint(40, 216, (10, 3))
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)

    def batch(n):
        labels = rng.randint(0, 10, n)
        images = colours[labels][:, :, None] + rng.randint(-40, 41, (n, 3, 1024))
        return {"data": np.clip(images, 0, 255).astype(np.uint8).reshape(n, 3072),
                "labels": labels.tolist()}  # fmt: skip

    files = {f"data_batch_{i}": batch(n_train // 5) for i in range(1, 6)}
    files["test_batch"] = batch(n_test)
    files["batches.meta"] = {"label_names": [f"class {i}" for i in range(10)]}
    for name, content in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(content, f)


def _part(title, run):
    print(f"\n=== {title}", flush=True)
    start = time.perf_counter()
    ok = run()
    print(f"=== {title}: {'passed' if ok else 'FAILED'} in {time.perf_counter() - start:.0f} s",
          flush=True)  # fmt: skip
    return ok


def _subprocess(command, **env):
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **env}).returncode == 0


def sweep(device, small, out):
    from torchvision.datasets import CIFAR10, cifar

    from prunekd import cli

    data = os.path.join(out, "data")
    write_cifar10(data, *((500, 100) if small else (10000, 2000)))
    # Generated files cannot match the real files' checksums: the only check skipped.
    CIFAR10._check_integrity = lambda self: True
    cifar.check_integrity = lambda *args, **kwargs: True
    args = ["--dataset", "cifar10", "--data-dir", data, "--model", "resnet20", "--width", "8"
            if small else "16", "--device", device, "--pruners", "random,el2n,grand,forgetting",
            "--fractions", "0.1,0.3,1.0", "--alphas", "0.5,1.0", "--seeds", "0,1", "--budget",
            "steps", "--steps", "20" if small else "300", "--budget-scales", "none", "--teacher-epochs", "1" if small else "8", "--n-proxies",
            "1", "--proxy-epochs", "1" if small else "3", "--teachers", "small=4,equal=8"
            if small else "small=8,equal=16", "--batch-size", "128", "--jobs", "1",
            "--no-progress", "--restart", "--out", os.path.join(out, "sweep")]  # fmt: skip
    if device.startswith("cuda"):
        args.append("--mixed-precision")
    print("prunekd " + " ".join(args), flush=True)
    if cli.main(args) != 0:
        return False
    with open(os.path.join(out, "sweep", "summary.md")) as f:
        summary = f.read()
    print(summary.split("## The paper's findings on this run")[-1].split("## Claim 2")[0])
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--small", action="store_true", help="every part in miniature")
    parser.add_argument("--out", default=None, help="folder for the sweep (default: a temporary one)")
    args = parser.parse_args(argv)
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA GPU here; pass --device cpu --small to check the script on a CPU")
        return 1
    if args.device.startswith("cuda"):
        print(f"{torch.cuda.get_device_name(args.device)}, torch {torch.__version__}, "
              f"CUDA {torch.version.cuda}")  # fmt: skip
    out = args.out or tempfile.mkdtemp(prefix="prunekd-gpu-check-")
    results = {
        "device tests": _part("tests/test_device.py", lambda: _subprocess(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "tests/test_device.py"], PRUNEKD_TEST_DEVICE=args.device)),
        "CIFAR-shaped sweep": _part("CIFAR-shaped sweep",
                                    lambda: sweep(args.device, args.small, out)),
        "throughput": _part("KD student vs bare loop throughput", lambda: _subprocess(
            [sys.executable, os.path.join(HERE, "bench_throughput.py"), "--device", args.device]
            + (["--n", "512", "--epochs", "1", "--repeats", "1", "--depth", "8", "--width", "8"]
               if args.small else []))),
    }  # fmt: skip
    print("\n" + ", ".join(f"{name}: {'passed' if ok else 'FAILED'}" for name, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
