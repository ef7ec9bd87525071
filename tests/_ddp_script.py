"""Fit an AcceleratedDistillationClassifier in every process this script is launched in.

Launched by tests/test_accelerate.py as ``torchrun --nproc_per_node 2
_ddp_script.py OUT STORED`` (two CPU processes, gloo backend), where STORED
holds the teacher's outputs, computed by the test; every process writes its
weights and its predictions to ``OUT/<case>-rank<r>.npz`` for the test to
compare.
"""

import os
import sys

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration

from prunekd import AcceleratedDistillationClassifier, DistillationClassifier
from prunekd.callbacks import DynamicPruning
from prunekd.datasets import load_digits
from prunekd.distillation import TeacherOutputs
from prunekd.models import MLP

N, BATCH = 512, 64  # a whole number of global batches: no padded last batch (but when pruned)


def data():
    X, y = load_digits()
    return X.reshape(len(X), -1)[:N], y[:N].astype(np.int64)


def teacher(X, y):
    return DistillationClassifier(MLP, alpha=0, max_epochs=5, lr=1e-2, optimizer=torch.optim.Adam,
                                  random_state=0, verbose=0).fit(X, y)  # fmt: skip


def student_params(teacher, shuffle, cache):
    return dict(teacher=teacher, alpha=0.5, max_epochs=3, batch_size=BATCH, lr=1e-2,
                optimizer=torch.optim.Adam, random_state=0, verbose=0, cache_teacher=cache,
                iterator_train__shuffle=shuffle)  # fmt: skip


# case: (shuffle, cache_teacher); "stored" reads the teacher's outputs from disk.
CASES = {"cached": (False, True), "on_the_fly": (False, False), "shuffled": (True, True),
         "stored": (False, True)}  # fmt: skip


def main(out, stored):
    torch.set_num_threads(1)
    X, y = data()
    fitted = teacher(X, y)
    accelerator = Accelerator(cpu=True, dataloader_config=DataLoaderConfiguration(split_batches=True))
    for case, (shuffle, cache) in CASES.items():
        source = TeacherOutputs(stored) if case == "stored" else fitted
        net = AcceleratedDistillationClassifier(MLP, accelerator=accelerator,
                                                **student_params(source, shuffle, cache))  # fmt: skip
        net.fit(X, y)
        weights = torch.cat([p.detach().flatten() for p in net.module_.parameters()]).numpy()
        np.savez(os.path.join(out, f"{case}-rank{accelerator.process_index}.npz"), weights=weights,
                 proba=net.predict_proba(X), world=accelerator.num_processes,
                 distributed=accelerator.distributed_type.value,
                 backend=torch.distributed.get_backend())  # fmt: skip
    dynamic(X, fitted, accelerator, out)


def dynamic(X, fitted, accelerator, out):
    """Dynamic pruning on two processes: its selections and the samples it processed, per rank."""
    y = data()[1]
    for seeded in (True, False):  # random_state 0, and None (drawn once, by the first process)
        prune = DynamicPruning(prune_ratio=0.5, random_state=0 if seeded else None)
        net = AcceleratedDistillationClassifier(MLP, accelerator=accelerator,
                                                callbacks=[("prune", prune)],
                                                **student_params(fitted, False, True))  # fmt: skip
        net.fit(X, y)
        weights = torch.cat([p.detach().flatten() for p in net.module_.parameters()]).numpy()
        np.savez(os.path.join(out, f"dynamic-{seeded}-rank{accelerator.process_index}.npz"),
                 weights=weights, keep_counts=prune.keep_counts_, rows=prune.rows_per_epoch_,
                 scores=prune.scores_, proba=net.predict_proba(X))  # fmt: skip


if __name__ == "__main__":
    try:
        main(*sys.argv[1:3])
    finally:
        # Left to the interpreter's exit, the process group's threads may still be running
        # when their C++ objects are destroyed ("terminate called without an active
        # exception"), which a loaded machine makes likelier: wind them down first.
        if torch.distributed.is_initialized():
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()
