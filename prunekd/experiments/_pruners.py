"""The pruners a sweep can run, by name, and what each costs to score."""

from ..pruning import (
    CalPruner,
    ContextualDiversityPruner,
    CoverageCentricPruner,
    CraigPruner,
    D2Pruner,
    DeepFoolPruner,
    DynamicsPruner,
    EL2NPruner,
    EntropyPruner,
    FacilityLocationPruner,
    ForgettingPruner,
    GlisterPruner,
    GradMatchPruner,
    GraNdPruner,
    GraphCutPruner,
    HerdingPruner,
    KCenterGreedyPruner,
    LeastConfidencePruner,
    LogDeterminantPruner,
    MarginPruner,
    ModerateDSPruner,
    PrototypePruner,
    RandomPruner,
)

# Pruners that train proxies: scored once per seed, in parallel, before the students.
_PROXY_PRUNERS = {
    "el2n": EL2NPruner,
    "grand": GraNdPruner,
    "forgetting": ForgettingPruner,
    "entropy": EntropyPruner,
    "margin": MarginPruner,
    "least_confidence": LeastConfidencePruner,
    "deepfool": DeepFoolPruner,
}
# Selections in the input space: no network to train or run.
_EMBEDDING_PRUNERS = {
    "kcenter": KCenterGreedyPruner,
    "herding": HerdingPruner,
    "moderate": ModerateDSPruner,
    "facility_location": FacilityLocationPruner,
    "graph_cut": GraphCutPruner,
    "log_determinant": LogDeterminantPruner,
    "prototype": PrototypePruner,
}
# Scored by the main study's teacher (the "equal" one), at no extra training.
_TEACHER_PRUNERS = ("el2n_teacher", "forgetting_teacher", "aum_teacher", "dyn_unc_teacher",
                    "tdds_teacher", "cd_teacher", "cal_teacher", "prototype_teacher",
                    "glister_teacher", "craig_teacher", "gradmatch_teacher")  # fmt: skip
# Teacher-scored pruners that run the teacher over the rows once (the others read its record).
_TEACHER_PASS = {"el2n_teacher": EL2NPruner, "cd_teacher": ContextualDiversityPruner,
                 "cal_teacher": CalPruner, "prototype_teacher": PrototypePruner,
                 "glister_teacher": GlisterPruner, "craig_teacher": CraigPruner,
                 "gradmatch_teacher": GradMatchPruner}  # fmt: skip
# Weighted coresets: their students train with the pruner's ``sample_weight_``.
WEIGHTED = ("craig_teacher", "gradmatch_teacher")
# Selections over EL2N proxies' scores: coverage-centric (CCS) and message passing (D2).
_OVER_EL2N = ("ccs", "d2")
PRUNERS = ("random", *_PROXY_PRUNERS, *_OVER_EL2N, *_EMBEDDING_PRUNERS, *_TEACHER_PRUNERS)
PAPER_PRUNERS = ("random", "el2n", "grand", "forgetting")


def trains_proxies(name):
    """Whether the pruner ``name`` trains proxy networks (scored before the students)."""
    return name in _PROXY_PRUNERS or name in _OVER_EL2N


def _proxy_epochs(config, name):
    return config.proxy_epochs * (2 if name == "forgetting" else 1)


def make_pruner(config, name, seed, memory=None, teacher=None):
    """The pruner ``name`` of a sweep, seeded, with the sweep's proxy settings.

    ``ccs`` is coverage-centric selection over EL2N scores and ``d2`` D2
    pruning over them (a kNN graph in the input space); ``kcenter``,
    ``herding``, ``moderate``, ``facility_location``, ``graph_cut``,
    ``log_determinant`` and ``prototype`` (the distance to the class centroid)
    measure distances in the input space. ``el2n_teacher``,
    ``forgetting_teacher``, ``aum_teacher``, ``dyn_unc_teacher``,
    ``tdds_teacher``, ``cd_teacher`` (contextual diversity), ``cal_teacher``,
    ``prototype_teacher``, ``glister_teacher``, ``craig_teacher`` and
    ``gradmatch_teacher`` (last-layer gradient coresets, whose students train
    with their weights) are scored by ``teacher``, the fitted teacher of the
    main study, whose callbacks recorded its training. ``deepfool`` trains
    proxies, as DeepCore does.
    """
    if name in _TEACHER_PRUNERS:
        if teacher is None:
            raise ValueError(f"the pruner {name!r} needs the sweep's fitted teacher")
        if name in _TEACHER_PASS:
            return _TEACHER_PASS[name](model=teacher, random_state=seed)
        # Windows of 10 epochs (the references' default), shorter for short teachers.
        window = max(2, min(10, config.teacher_epochs - 1))
        return DynamicsPruner(teacher, score=name.removesuffix("_teacher"), window=window,
                              random_state=seed)  # fmt: skip
    if trains_proxies(name):
        proxy = dict(
            n_proxies=config.n_proxies,
            max_epochs=_proxy_epochs(config, name),
            device=config.device,
            mixed_precision=config.mixed_precision,
        )
        if name == "ccs":
            return CoverageCentricPruner(EL2NPruner(**proxy), random_state=seed, memory=memory)
        if name == "d2":  # the kNN graph in the input space
            return D2Pruner(EL2NPruner(**proxy), random_state=seed, memory=memory)
        return _PROXY_PRUNERS[name](**proxy, random_state=seed, memory=memory)
    if name == "random":
        return RandomPruner(random_state=seed)
    if name in _EMBEDDING_PRUNERS:
        return _EMBEDDING_PRUNERS[name](random_state=seed)
    raise ValueError(f"unknown pruner {name!r}; choose from {', '.join(PRUNERS)}")


def pruner_samples(config, name, n_train, proxy_cost, teacher_cost):
    """Samples the pruner ``name`` processes to score ``n_train`` rows, in student-size units.

    A proxy processes every row once per training epoch and once more to
    score it (Forgetting counts during training, with twice the epochs;
    DeepFool's scoring work depends on the data and is reported by the pruner);
    ``proxy_cost`` and ``teacher_cost`` are the forward cost of the proxy and
    of the teacher relative to the student. A teacher-scored pruner runs the
    teacher over the rows once (EL2N) or reads what the teacher's training
    recorded (Forgetting, AUM: free); input-space selections and random
    pruning run no network.

    Examples
    --------
    >>> from prunekd.experiments import SweepConfig
    >>> from prunekd.experiments._pruners import pruner_samples
    >>> config = SweepConfig(n_proxies=2, proxy_epochs=10)
    >>> pruner_samples(config, "el2n", 100, proxy_cost=1.0, teacher_cost=1.0)
    2200.0
    >>> pruner_samples(config, "forgetting", 100, 1.0, 1.0), pruner_samples(config, "kcenter", 100, 1.0, 1.0)
    (4000.0, 0.0)
    """
    if trains_proxies(name):
        scoring = 0 if name in ("forgetting", "deepfool") else 1
        return float(config.n_proxies * (_proxy_epochs(config, name) + scoring) * n_train
                     * proxy_cost)  # fmt: skip
    if name in _TEACHER_PASS:
        return float(n_train * teacher_cost)
    return 0.0
