"""What a larger vectorised group would save: time per member-step against the group size.

The sweep trains the students of one (fraction, seed) as one vectorised group
(about 14 members at the default grid). Grouping across the 10 seeds of a
fraction would make groups of about 140. This measures, on one CPU thread,
the wall time of one training step (forward, backward, Adam) of the stacked
SmallCNN for several group sizes, best of several repeats, and prints the time
per member-step relative to the default size: a ratio near 1 means larger
groups would save little.

    python benchmarks/bench_group_size.py
"""

import time

import torch

from prunekd.distillation._group import _Stacked
from prunekd.models import SmallCNN

SIZES = (14, 28, 70, 140)
BATCH, STEPS, REPEATS = 32, 20, 5


def _step_seconds(n_members):
    torch.manual_seed(0)
    net = _Stacked(SmallCNN, n_members, n_classes=10, width=16)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    x = torch.randn(n_members, BATCH, 1, 8, 8)
    y = torch.randint(0, 10, (n_members * BATCH,))
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(STEPS):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x).reshape(-1, 10), y)
            loss.backward()
            optimizer.step()
        best = min(best, (time.perf_counter() - start) / STEPS)
    return best


def main():
    torch.set_num_threads(1)
    base = None
    print("members  ms/step  ms/member-step  relative to 14")
    for k in SIZES:
        per_member = _step_seconds(k) / k
        base = base or per_member
        print(f"{k:7d}  {1e3 * per_member * k:7.2f}  {1e3 * per_member:14.3f}  {per_member / base:14.2f}")


if __name__ == "__main__":
    main()
