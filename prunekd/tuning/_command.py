"""``prunekd --data FILE --target COLUMN``: the own-data job of the ``prunekd`` command."""

import csv
import time
from pathlib import Path

from ._load import load_data
from ._recommend import DEFAULT_ALPHAS, DEFAULT_FRACTIONS, recommend

# Options of the paper study that mean nothing for your own data.
_STUDY_ONLY = (
    "secondary",
    "dataset",
    "data_dir",
    "download",
    "model",
    "teachers",
    "pruners",
    "quick",
    "budget",
    "steps",
    "budget_scales",
    "budget_seeds",
    "capacity_alpha",
    "kd_loss",
)


def add_options(parser):
    """``--data`` and ``--target``, in their own group of ``prunekd --help``."""
    group = parser.add_argument_group(
        "your own data",
        "prunekd --data FILE --target COLUMN searches kept fraction x alpha on your data "
        "(random pruning, each student trained a fixed number of epochs over its kept rows) "
        "and recommends the smallest fraction within 1 point of the best cross-validated "
        f"accuracy, with its alpha. Default grid: fractions {DEFAULT_FRACTIONS}, alphas "
        f"{DEFAULT_ALPHAS}; --fractions, --alphas, --epochs, --seeds (the first), --jobs "
        "and --out apply; a teacher is fitted per CV fold. About 30 s for a 10,000-row table on "
        "2 cores.",
    )
    group.add_argument("--data", help="a .csv, .tsv or .parquet table, or .npz arrays X and y")
    group.add_argument("--target", help="the label column of a table")
    group.add_argument(
        "--shared-teacher",
        action="store_true",
        help="fit one teacher on all the training rows instead of one per CV fold: faster, but "
        "that teacher has seen every fold, so the CV accuracies of KD students are optimistic",
    )


def run(args, parser, explicit):
    """Load, check, search, then write ``recommendation.md`` and ``table.csv`` to ``--out``."""
    clash = sorted(name for name in _STUDY_ONLY if name in explicit)
    if clash:
        parser.error(
            f"--data runs the own-data job; {', '.join('--' + c.replace('_', '-') for c in clash)} "
            "belong to the paper study"
        )
    try:
        X, y = load_data(args.data, args.target)
    except (ValueError, ImportError) as exc:
        parser.exit(2, f"prunekd: error: {exc}\n")
    fractions = args.fractions if "fractions" in explicit else DEFAULT_FRACTIONS
    alphas = (0.0, *args.alphas) if "alphas" in explicit else DEFAULT_ALPHAS
    start = time.perf_counter()
    try:
        rec = recommend(
            X,
            y,
            fractions=fractions,
            alphas=alphas,
            n_jobs=args.jobs,
            progress=not args.no_progress,
            max_epochs=args.epochs if "epochs" in explicit else None,
            random_state=args.seeds[0] if "seeds" in explicit else 0,
            teacher_per_fold=not args.shared_teacher,
        )
    except ValueError as exc:  # data that loads but cannot be searched (a class too rare)
        parser.exit(2, f"prunekd: error: {exc}\n")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recommendation.md").write_text(f"# {Path(args.data).name}\n\n{rec.to_markdown()}\n")
    with open(out / "table.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rec.table[0]))
        writer.writeheader()
        writer.writerows(rec.table)
    print(rec.to_markdown())
    print(
        f"Done in {time.perf_counter() - start:.0f} s. Written to {out}/: recommendation.md, "
        "table.csv."
    )
    return 0
