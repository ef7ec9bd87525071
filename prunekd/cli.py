"""The ``prunekd`` command: the paper's findings, measured on your machine."""

import argparse
import os
import shlex
import sys
import time
from dataclasses import asdict, fields

from .experiments import (
    BUDGETS,
    DATASETS,
    KD_LOSS_NAMES,
    MODELS,
    get_method,
    method_names,
    SweepConfig,
    load_results,
    protocol,
    run_sweep,
    verdict_table,
    write_figures,
    write_summary,
)
from .experiments._plan import resumed_config
from .experiments._protocol import v3_design
from .experiments._report_v3 import v3_verdict_table
from .experiments._store import read_json
from .tuning import _command as own_data

QUICK = dict(
    pruners=("random", "el2n"),
    fractions=(0.1, 0.3, 1.0),
    alphas=(0.5, 1.0),
    seeds=(0, 1),
    epochs=20,
    steps=300,
    budget_scales=(),
    teacher_epochs=15,
    baseline_scales=(),
    n_proxies=1,
    proxy_epochs=5,
)


def _floats(text):
    return tuple(float(v) for v in text.split(","))


def _ints(text):
    """``0,1,5`` or ranges, ``30-109`` (both ends included)."""
    out = []
    for item in text.split(","):
        first, dash, last = item.strip().partition("-")
        if dash and first and not last.strip().lstrip("-").isdigit():
            raise argparse.ArgumentTypeError(f"expected an integer or a range a-b, got {item!r}")
        if dash and first and int(last) < int(first):
            raise argparse.ArgumentTypeError(f"the range {item!r} is empty: write it low-high")
        out += range(int(first), int(last) + 1) if dash and first else [int(item)]
    return tuple(out)


def _listed(values):
    return ",".join(f"{v:g}" for v in values)


def _scales(text):
    return () if text.strip().lower() in ("", "none") else _floats(text)


def _names(choices):
    def parse(text):
        names = tuple(v.strip() for v in text.split(","))
        bad = [n for n in names if n not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {', '.join(choices)}")
        return names

    return parse


def _one_of(choices):
    def parse(text):
        if text not in choices:
            raise argparse.ArgumentTypeError(f"unknown {text!r}; choose from {', '.join(choices)}")
        return text

    return parse


def _named_ints(text, unit):
    """``small=4,equal=16``: names and positive integers (``unit`` names them in errors)."""
    out = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        if not value.strip().isdigit() or int(value) < 1:
            raise argparse.ArgumentTypeError(f"expected name={unit} (at least 1), got {item!r}")
        out[name.strip()] = int(value)
    return out


def _teachers(text):
    out = _named_ints(text, "width")
    if "equal" not in out:
        raise argparse.ArgumentTypeError("the teachers must include 'equal' (the KD teacher)")
    return out


def _teacher_epochs(text):
    return int(text) if "=" not in text else _named_ints(text, "epochs")


def _default_teachers(width):
    return {"small": max(1, width // 4), "equal": width, "large": 4 * width}


def _config_options():
    """``(flag, type, help)`` of the options that set the SweepConfig field of the same name."""
    return _study_options() + _budget_options() + _training_options()


def _study_options():
    """What the sweep tries: methods, fractions, alphas, seeds and budgets."""
    return (
        ("--width", int, "student width"),
        (
            "--pruners",
            _names(method_names()),
            f"comma-separated pruners, from {', '.join(method_names())} (infobatch and "
            "infobatch_kd are dynamic: InfoBatch's recipe on the student, skipping the rows "
            "of low training loss, or of low KD term)",
        ),
        ("--fractions", _floats, "kept fractions, in (0, 1]"),
        ("--alphas", _floats, "KD weights tried (no KD, alpha=0, is always run)"),
        ("--capacity-alpha", float, "alpha of the teacher-capacity study"),
        (
            "--seeds",
            _ints,
            "seeds of pruning, initialisation and data order; results are averaged over them",
        ),
        (
            "--prune-ratios",
            _floats,
            "the dynamic study (dynamic --pruners only, e.g. infobatch): fractions of the "
            "well-learned rows skipped per epoch, each in [0, 1)",
        ),
    )


def _budget_options():
    """How long students train, and the budget study."""
    return (
        (
            "--budget",
            str,
            "epochs: every student trains --epochs epochs over its kept rows (cost "
            "proportional to its fraction); steps: about --steps optimiser steps whatever its "
            "fraction",
        ),
        (
            "--epochs",
            int,
            "epochs per student with --budget epochs (default: the dataset's, fixed by the "
            "rule of benchmarks/epoch_curve.py: digits 70, mnist1d 170, others 70)",
        ),
        ("--steps", int, "optimiser steps per student with --budget steps"),
        (
            "--budget-scales",
            _scales,
            "the budget study: random pruning with and without KD "
            "at these multiples of the budget ('none': no budget study)",
        ),
        (
            "--budget-seeds",
            int,
            "how many seeds (the first N of --seeds) run the whole budget study; the others run "
            "only the baselines of --baseline-scales",
        ),
        (
            "--baseline-scales",
            _scales,
            "budget scales at which every seed also trains the full data without KD (the "
            "baselines of same-cost findings; each must be one of --budget-scales; default: "
            "0.5,1.5143, those of them among --budget-scales)",
        ),
    )


def _training_options():
    """How every network trains."""
    return (
        (
            "--teacher-epochs",
            _teacher_epochs,
            "epochs of every teacher on the full training split: one number, or "
            "name=epochs per teacher (default: the dataset's, each teacher's own curve: digits "
            "small=120,equal=70,large=60, mnist1d small=190,equal=170,large=40, others 30)",
        ),
        ("--batch-size", int, "mini-batch size"),
        ("--lr", float, "learning rate (Adam)"),
        ("--temperature", float, "softmax temperature of the distillation term"),
        (
            "--kd-loss",
            _one_of(KD_LOSS_NAMES),
            "distillation loss of every KD student: kd (vanilla), dkd, dist or mse",
        ),
        ("--n-proxies", int, "proxies per score pruner"),
        ("--proxy-epochs", int, "proxy training epochs (Forgetting uses twice as many)"),
        (
            "--label-noise",
            float,
            "fraction of training labels changed to another class (teachers "
            "and students see the same noisy labels; validation and test stay clean)",
        ),
    )


def build_parser():
    d = SweepConfig()
    p = argparse.ArgumentParser(
        prog="prunekd",
        description=(
            "Prune the training set, distill from a teacher fitted on the full data, and "
            "measure it: for every pruner x kept fraction x {no KD, KD over an alpha grid} x "
            "seed, train a student and record its accuracy. Writes results.csv, summary.md and "
            "figures to --out, and prints the verdicts. By default it trains what results "
            "protocol v3's primary findings read on its digits design, on 10 of its 109 "
            "confirmatory seeds (CPU, about 14 minutes on 2 cores; --quick: a smoke test of about a "
            "minute that reads no verdict), and prints v3's verdicts on those seeds. "
            "Rerunning the same command resumes an interrupted sweep."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: random and EL2N, f in {0.1, 0.3, 1}, 2 seeds, 20 epochs, no "
        "budget study; too few seeds for any verdict",
    )
    p.add_argument(
        "--secondary",
        action="store_true",
        help="also train the runs only secondary statistics of protocol v3 read (every pruner "
        "and teacher at the large fractions, the dynamic study's methods without KD and its "
        "same-cost comparators), as its confirmatory runs did; other designs train them always",
    )
    p.add_argument("--out", default="prunekd-results", help="output folder")
    _add_data_options(p, d)
    for flag, kind, text in _config_options():
        field = flag[2:].replace("-", "_")
        default = getattr(d, field)
        if isinstance(default, tuple):
            default = ",".join(map(str, default))
        if field in ("epochs", "teacher_epochs", "baseline_scales"):  # see _config_from
            default = argparse.SUPPRESS
        p.add_argument(flag, type=kind, default=default, help=text)
    _add_run_options(p, d)
    own_data.add_options(p)
    return p


def _add_data_options(p, d):
    """The data, the networks and the teachers."""
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default=d.dataset,
        help="digits ships with scikit-learn; mnist1d is generated (pip install "
        '"prunekd[mnist1d]"); the others are read by torchvision from --data-dir',
    )
    p.add_argument("--data-dir", default=d.data_dir, help="torchvision data folder")
    p.add_argument(
        "--test-pool-seed",
        type=int,
        default=d.test_pool_seed,
        help="mnist1d: test every seed on a pool generated with this seed (unseen by runs "
        "of other seeds) instead of a part of the main pool",
    )
    p.add_argument("--download", action="store_true", help="let torchvision download the data")
    p.add_argument("--model", choices=MODELS, default=d.model, help="student (and teacher) network")
    p.add_argument(
        "--teachers",
        type=_teachers,
        default=argparse.SUPPRESS,
        help="teacher name=width list for the capacity study; 'equal' is the KD "
        "teacher of the main study (default: small=W/4,equal=W,large=4W for "
        "--width W)",
    )


def _add_run_options(p, d):
    """Where and how the sweep runs."""
    p.add_argument("--device", default=d.device, help="cpu, cuda, cuda:1, ...")
    p.add_argument(
        "--mixed-precision",
        action="store_true",
        help="train students, teachers and proxies under bfloat16 autocast "
        "(for GPUs with bfloat16 tensor cores)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="parallel worker processes (one torch thread each)",
    )
    p.add_argument("--restart", action="store_true", help="discard results already in --out")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _validate(args, parser):
    if any(not 0 < f <= 1 for f in args.fractions):
        parser.error("--fractions must lie in (0, 1]")
    if any(not 0 < a <= 1 for a in args.alphas):
        parser.error("--alphas must lie in (0, 1] (alpha=0 is always run)")
    if not 0 < args.capacity_alpha <= 1:
        parser.error("--capacity-alpha must lie in (0, 1]")
    if args.budget not in BUDGETS:
        parser.error(f"--budget must be one of {', '.join(BUDGETS)}; got {args.budget!r}")
    if any(not s > 0 for s in args.budget_scales):
        parser.error("--budget-scales must be positive")
    if args.budget_seeds < 0:
        parser.error("--budget-seeds must be at least 0")
    baselines = getattr(args, "baseline_scales", ())
    if not set(baselines) <= set(args.budget_scales):
        parser.error(
            f"--baseline-scales {_listed(baselines)} must be among --budget-scales "
            f"({_listed(args.budget_scales) or 'none'}): add them there, or leave them out"
        )
    for name in ("epochs", "steps", "batch_size", "n_proxies", "proxy_epochs", "jobs", "width"):
        if getattr(args, name, 1) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if isinstance(getattr(args, "teacher_epochs", None), int) and args.teacher_epochs < 1:
        parser.error("--teacher-epochs must be at least 1")
    if not 0 <= args.label_noise < 1:
        parser.error("--label-noise must lie in [0, 1)")
    if args.lr <= 0 or args.temperature <= 0:
        parser.error("--lr and --temperature must be positive")
    _validate_weights(args, parser)


def _validate_weights(args, parser):
    """Weighted coresets and dynamic pruning weight rows: refused where that cannot hold."""
    weighted = [name for name in args.pruners if get_method(name).weighted]
    dynamic = [name for name in args.pruners if get_method(name).kind == "dynamic"]
    if args.kd_loss == "dist" and (weighted or dynamic):
        parser.error(
            f"--kd-loss dist is no mean of per-sample losses, so it cannot weight the "
            f"rows of {', '.join(weighted + dynamic)}; choose another --kd-loss or --pruners"
        )
    if dynamic and args.budget != "epochs":
        parser.error(
            f"{', '.join(dynamic)} save compute by training fewer rows per epoch; --budget "
            "steps fixes the steps, so they would save nothing: use --budget epochs"
        )
    if any(not 0 <= r < 1 for r in args.prune_ratios):
        parser.error("--prune-ratios must lie in [0, 1)")


def main(argv=None):
    """Entry point of the ``prunekd`` console script."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    _validate(args, parser)
    explicit = {a.lstrip("-").split("=")[0].replace("-", "_") for a in argv if a.startswith("--")}
    if args.data is not None:
        return own_data.run(args, parser, explicit)
    if args.target is not None or args.shared_teacher:
        parser.error("--target and --shared-teacher apply to --data FILE")
    config = _config_from(args, explicit)
    config = config if args.restart else resumed_config(args.out, config)  # as the sweep resumes
    try:  # a dict of teacher epochs names every teacher
        [config.teacher_epochs_of(name) for name in config.teacher_widths]
    except ValueError as exc:
        parser.error(f"--teacher-epochs: {exc}")
    start = time.perf_counter()
    try:
        run_sweep(
            config,
            out=args.out,
            n_jobs=args.jobs,
            restart=args.restart,
            progress=not args.no_progress,
        )
    except (ValueError, ImportError) as exc:  # bad settings, or an extra not installed
        parser.exit(2, f"prunekd: error: {exc}\n")
    write_figures(args.out, vars_of(config))
    command = "prunekd " + " ".join(shlex.quote(a) for a in argv)
    write_summary(args.out, vars_of(config), command.strip())
    _report(args, config, time.perf_counter() - start)
    return 0


def _config_from(args, explicit):
    """The sweep the options ask for: each option sets the SweepConfig field of its name."""
    given = {f.name: getattr(args, f.name) for f in fields(SweepConfig) if hasattr(args, f.name)}
    # Not given: the epochs are the dataset's (SweepConfig), the baselines the default ones
    # among the budget scales asked for (none with --budget-scales none).
    if "baseline_scales" not in given:
        default = SweepConfig().baseline_scales
        given["baseline_scales"] = tuple(s for s in default if s in given["budget_scales"])
    teachers = getattr(args, "teachers", None) or _default_teachers(args.width)
    config = SweepConfig(**given, teacher_widths=teachers)
    if args.quick:
        for key, value in QUICK.items():
            if key not in explicit:
                setattr(config, key, value)
    return config


def _report(args, config, seconds):
    """The verdict table (protocol v3's on its design, else v2's rules), then where it all is."""
    rows = load_results(args.out)
    info = read_json(os.path.join(args.out, "info.json"))
    dataset = v3_design(vars_of(config))
    if dataset is not None:
        print(v3_verdict_table(rows, info, dataset))
    else:
        smoke = len(config.seeds) < protocol()["min_seeds"]
        if smoke:
            _smoke_test_banner(args.out, len(config.seeds))
        print(verdict_table(rows, vars_of(config), read=not smoke))
    print(
        f"Done in {seconds:.0f} s. Results in {args.out}/: results.csv, summary.md (tables, "
        "verdicts, accuracy against compute) and figures."
    )


def _smoke_test_banner(out, n_seeds):
    """Say on the terminal, and first in ``summary.md``, that no finding is read from this run."""
    banner = (
        f"SMOKE TEST: {n_seeds} seeds, fewer than the {protocol()['min_seeds']} a verdict "
        "needs; no finding is read from this run (protocol v2's statistics, as descriptions)."
    )
    print(banner)
    with open(os.path.join(out, "summary.md"), "r+") as f:
        text = f.read()
        f.seek(0)
        f.write(f"**{banner}**\n\n{text}")


def vars_of(config):
    return asdict(config)


if __name__ == "__main__":
    sys.exit(main())
