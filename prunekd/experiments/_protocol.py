"""The results protocol: every finding's statistic, cells, margin and rule, fixed in one file.

``protocol.json`` beside this module is the rule book, committed before the
confirmatory run; the verdict functions read their cells, alphas and margin
from it, and its SHA-256 is stored in every sweep's ``config.json`` and printed
on every summary.
"""

import functools
import hashlib
import json
import os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "protocol.json")
# Results protocol v3 (drafted, then frozen per dataset before its confirmatory run): its
# hash is recorded with every sweep beside the active protocol's.
PATH_V3 = os.path.join(os.path.dirname(PATH), "protocol_v3.json")


@functools.lru_cache(maxsize=None)
def _load():
    with open(PATH, "rb") as f:
        data = f.read()
    return json.loads(data), hashlib.sha256(data).hexdigest()


def protocol():
    """The protocol as a dict (a fresh copy).

    Examples
    --------
    >>> from prunekd.experiments import protocol
    >>> p = protocol()
    >>> p["margin"], p["small_fractions"], sorted(p["findings"])[:3]
    (0.01, [0.1, 0.2, 0.3], ['1a', '1b', '2'])
    """
    return json.loads(json.dumps(_load()[0]))


def protocol_hash():
    """The SHA-256 of ``protocol.json``, as stored with every sweep.

    Examples
    --------
    >>> import hashlib
    >>> from prunekd.experiments import protocol_hash
    >>> from prunekd.experiments._protocol import PATH
    >>> protocol_hash() == hashlib.sha256(open(PATH, "rb").read()).hexdigest()
    True
    """
    return _load()[1]


def protocol_v3():
    """Results protocol v3 as a dict (a fresh copy).

    Examples
    --------
    >>> from prunekd.experiments._protocol import protocol_v3
    >>> protocol_v3()["family"]["primary"][:3]
    ['F1', 'F2', 'F3']
    """
    with open(PATH_V3) as f:
        return json.load(f)


def protocol_v3_hash():
    """The SHA-256 of ``protocol_v3.json``, recorded in every sweep's ``info.json``."""
    with open(PATH_V3, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def claim_2_family_v3():
    """Claim 2's family as protocol v3 lists it: methods registered later never enter it.

    Examples
    --------
    >>> from prunekd.experiments._protocol import claim_2_family_v3
    >>> len(claim_2_family_v3()), "random" in claim_2_family_v3()
    (27, False)
    """
    return tuple(protocol_v3()["claim_2_family"]["methods"])


def threshold(finding):
    """The threshold of ``finding``'s rule: 0, or minus the margin for non-inferiority."""
    p = _load()[0]
    value = p["findings"][finding]["threshold"]
    return -p["margin"] if value == "-margin" else float(value)


# The training settings the frozen choices were made for: a sweep that changes one of
# them chooses alpha on its own validation split instead.
_TRAINING = (
    "dataset",
    "model",
    "width",
    "budget",
    "epochs",
    "batch_size",
    "lr",
    "temperature",
    "label_noise",
    "teacher_epochs",
    "n_proxies",
    "proxy_epochs",
)


def frozen_choices(config):
    """The protocol's frozen alphas and comparators, if ``config`` trains as its design does.

    v2's design takes v2's choices, and a frozen design of protocol v3 (the
    command's default) v3's. Returns None for a sweep of other training
    settings (another dataset, model, budget...), whose alphas are then
    chosen on its own validation split.

    Examples
    --------
    >>> import dataclasses
    >>> from prunekd.experiments import SweepConfig
    >>> from prunekd.experiments._protocol import frozen_choices
    >>> v2_design = SweepConfig(teacher_epochs=30)  # the command's defaults are v3's now
    >>> sorted(frozen_choices(dataclasses.asdict(v2_design)))
    ['alphas', 'comparators', 'pooled_alphas', 'rule']
    >>> frozen_choices(dataclasses.asdict(SweepConfig()))["rule"][:40]
    'read off the exploratory runs (seeds 20,'
    >>> frozen_choices(dataclasses.asdict(SweepConfig(teacher_epochs=30, model="mlp"))) is None
    True
    """
    p = _load()[0]
    frozen, design = p.get("frozen"), p["design"]["settings"]
    if not frozen or config is None:
        return None
    if config.get("kd_loss", "kd") != "kd":  # the design's loss, set before the field existed
        return None
    if any(json.dumps(config.get(k)) != json.dumps(design.get(k)) for k in _TRAINING):
        dataset = v3_design(config)  # protocol v3's design of a dataset: its frozen choices
        if dataset is None:
            return None
        frozen = protocol_v3()["frozen"][dataset]
        return {k: frozen[k] for k in ("rule", "alphas", "pooled_alphas", "comparators")}
    return json.loads(json.dumps(frozen))


_V3_COMMON = ("model", "width", "budget", "batch_size", "lr", "temperature", "kd_loss")
_V3_COMMON += ("label_noise", "n_proxies", "proxy_epochs", "teacher_widths")


def v3_design(config):
    """The dataset whose frozen protocol-v3 design ``config`` trains as, else None.

    Seeds and the grid (pruners, fractions, alphas, budget scales) may differ:
    the verdicts read the cells they need, and say which are missing.

    Examples
    --------
    >>> import dataclasses
    >>> from prunekd.experiments import SweepConfig
    >>> from prunekd.experiments._protocol import v3_design
    >>> v3_design(dataclasses.asdict(SweepConfig()))
    'digits'
    >>> v3_design(dataclasses.asdict(SweepConfig(epochs=30))) is None
    True
    """
    spec = protocol_v3()
    dataset = (config or {}).get("dataset")
    if dataset not in spec.get("frozen", {}):
        return None
    design = {**spec["design"]["settings"]["common"], **spec["design"]["settings"][dataset]}
    for key in (*_V3_COMMON, "epochs", "teacher_epochs"):
        if json.dumps(config.get(key), sort_keys=True) != json.dumps(design[key], sort_keys=True):
            return None
    return dataset
