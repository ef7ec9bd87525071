"""The selection methods of ``prunekd --pruners``: one spec each, the one place a method is named.

Everything that lists methods reads this registry: the command's names, the
sweep's constructors and costs, the labels of tables and figures, the groups
of the "Choose a pruner" page, scikit-learn's estimator checks and the
method-contract tests. A new method is one :func:`register` call.
"""

from dataclasses import dataclass, field

from ..callbacks import DynamicPruning
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
from ._protocol import protocol

# What a method needs beyond the data, in the order "Choose a pruner" groups them.
NEEDS = {
    "nothing": "nothing",
    "inputs": "the inputs (distances in the input space)",
    "proxies": "proxies (networks trained to score)",
    "teacher pass": "the teacher's outputs (one inference pass)",
    "teacher pass, weights": "the teacher's outputs, and the student trains with the "
    "coreset's weights",
    "teacher pass, validation": "the teacher's outputs and a validation split taken from the "
    "training rows",
    "teacher record": "the teacher's recorded training (no pass at all)",
    "training": "the student's own training losses (dynamic: rows chosen afresh each epoch)",
}
# "static" methods select rows once, before the student; "dynamic" ones are callbacks of
# the student that choose its rows every epoch (they train one student at a time).
KINDS = ("static", "dynamic")
PAPER_PRUNERS = ("random", "el2n", "grand", "forgetting")


@dataclass(frozen=True)
class Method:
    """One selection method of the sweep: how to build it, what it needs, what it costs.

    ``cls(**kwargs)`` builds it, with the sweep's seed and, as ``needs`` says,
    the sweep's proxy settings, its teacher or its score cache. ``over_el2n``
    methods select over EL2N proxies' scores (``cls(EL2NPruner(...))``).
    ``proxy_epochs`` multiplies the sweep's proxy epochs (Forgetting counts
    during a longer training); ``scoring_pass`` says whether the proxies run
    once more over the rows to score them. A ``"dynamic"`` method is a callback
    of the student (:class:`~prunekd.callbacks.DynamicPruning`), built with the
    sweep's seed; the sweep sets its ``prune_ratio``.

    Examples
    --------
    A method of one's own, offered by ``prunekd --pruners`` once registered
    (see :func:`register`):

    >>> from prunekd.experiments import Method, SweepConfig
    >>> from prunekd.pruning import KCenterGreedyPruner
    >>> method = Method("my_kcenter", "My k-center", KCenterGreedyPruner, "inputs")
    >>> method.cost, method.trains_proxies
    ('free', False)
    >>> method.build(SweepConfig(), seed=0)
    KCenterGreedyPruner(random_state=0)
    """

    name: str
    label: str
    cls: type
    needs: str
    kwargs: dict = field(default_factory=dict)
    kind: str = "static"
    over_el2n: bool = False
    proxy_epochs: int = 1
    scoring_pass: bool = True

    def __post_init__(self):
        if self.needs not in NEEDS or self.kind not in KINDS:
            raise ValueError(
                f"method {self.name!r}: needs must be one of {list(NEEDS)} and kind one of "
                f"{list(KINDS)}; got {self.needs!r}, {self.kind!r}"
            )

    @property
    def trains_proxies(self):
        """Scored by proxies trained for it, once per seed, before the students."""
        return self.needs == "proxies"

    @property
    def reads_teacher(self):
        """Scored by the sweep's fitted "equal" teacher, whose training was recorded."""
        return self.needs.startswith("teacher")

    @property
    def weighted(self):
        """A weighted coreset: its students train with the pruner's ``sample_weight_``."""
        return self.needs == "teacher pass, weights"

    @property
    def cost(self):
        """Its cost class: "free" (no network, or no pass beyond the student's own training),
        "proxies", "teacher pass" or "teacher record"."""
        free = ("nothing", "inputs", "training")
        return "free" if self.needs in free else self.needs.split(",")[0]

    @property
    def needs_kd(self):
        """A dynamic method scored by the distillation term: its students train with KD only."""
        return self.kind == "dynamic" and self.kwargs.get("score") == "kd"

    def build(self, config, seed, memory=None, teacher=None):
        """The pruner, seeded, with the sweep's proxy settings, teacher and score cache."""
        if self.reads_teacher:
            if teacher is None:
                raise ValueError(f"the pruner {self.name!r} needs the sweep's fitted teacher")
            if self.needs == "teacher record":
                # Windows of 10 epochs (the references' default), shorter for short teachers.
                window = max(2, min(10, config.teacher_epochs_of("equal") - 1))
                return self.cls(teacher, window=window, random_state=seed, **self.kwargs)
            return self.cls(model=teacher, random_state=seed, **self.kwargs)
        if not self.trains_proxies:
            return self.cls(random_state=seed, **self.kwargs)
        proxy = dict(
            n_proxies=config.n_proxies,
            max_epochs=config.proxy_epochs * self.proxy_epochs,
            device=config.device,
            mixed_precision=config.mixed_precision,
        )
        if self.over_el2n:
            return self.cls(EL2NPruner(**proxy), random_state=seed, memory=memory, **self.kwargs)
        return self.cls(**proxy, random_state=seed, memory=memory, **self.kwargs)

    def samples(self, config, n_train, proxy_cost, teacher_cost):
        """Samples its scoring processes on ``n_train`` rows, in student-size units.

        Proxies process every row once per epoch (and once more to score it);
        a teacher pass runs the teacher over the rows once; a recorded training,
        random pruning and input-space selections run no network. Work that
        depends on the data (DeepFool's steps) is reported by the pruner.
        """
        if self.trains_proxies:
            epochs = config.proxy_epochs * self.proxy_epochs + int(self.scoring_pass)
            return float(config.n_proxies * epochs * n_train * proxy_cost)
        if self.cost == "teacher pass":
            return float(n_train * teacher_cost)
        return 0.0


_REGISTRY = {}


def register(method):
    """Add a :class:`Method` to ``prunekd --pruners``, the sweep, its tables and pages.

    Its name must be new. Register before the command line is parsed (for
    example in a script that then calls ``prunekd.cli.main``).

    Examples
    --------
    >>> from prunekd.experiments import Method, method_names, register
    >>> from prunekd.pruning import HerdingPruner
    >>> "herding" in method_names()
    True
    >>> register(Method("herding", "Herding", HerdingPruner, "inputs"))
    Traceback (most recent call last):
    ...
    ValueError: a method named 'herding' is registered already
    """
    if method.name in _REGISTRY:
        raise ValueError(f"a method named {method.name!r} is registered already")
    _REGISTRY[method.name] = method
    return method


def methods(kind=None):
    """Every registered method (of ``kind``, "static" or "dynamic", if given), in table order.

    Examples
    --------
    >>> from prunekd.experiments import methods
    >>> [m.name for m in methods() if m.weighted]
    ['craig_teacher', 'gradmatch_teacher']
    >>> [m.name for m in methods("dynamic")]
    ['infobatch', 'infobatch_kd']
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)} or None; got {kind!r}")
    return [m for m in _REGISTRY.values() if kind is None or m.kind == kind]


def method_names():
    """The names ``prunekd --pruners`` accepts.

    Examples
    --------
    >>> from prunekd.experiments import method_names
    >>> method_names()[:4]
    ('random', 'el2n', 'grand', 'forgetting')
    """
    return tuple(_REGISTRY)


def get_method(name):
    """The :class:`Method` named ``name``, or a clear error naming the choices.

    Examples
    --------
    >>> from prunekd.experiments import get_method
    >>> get_method("forgetting").needs, get_method("aum_teacher").cost
    ('proxies', 'teacher record')
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown pruner {name!r}; choose from {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def label(name):
    """The method's name in tables and figures (a name no longer registered stays as it is)."""
    return _REGISTRY[name].label if name in _REGISTRY else name


def in_frozen_family(name):
    """Whether claim 2's family, as the results protocol froze it, holds the method."""
    return name in protocol()["findings"]["2*"].get("family", ())


def make_pruner(config, name, seed, memory=None, teacher=None):
    """The pruner ``name`` of a sweep, seeded, with the sweep's proxy settings (see :class:`Method`).

    ``teacher`` is the main study's fitted teacher, whose callbacks recorded
    its training: the methods that read the teacher need it.
    """
    return get_method(name).build(config, seed, memory, teacher)


def trains_proxies(name):
    """Whether the pruner ``name`` trains proxy networks (scored before the students)."""
    return get_method(name).trains_proxies


def pruner_samples(config, name, n_train, proxy_cost, teacher_cost):
    """Samples the pruner ``name`` processes to score ``n_train`` rows, in student-size units.

    ``proxy_cost`` and ``teacher_cost`` are the forward cost of the proxy and
    of the teacher relative to the student; see :meth:`Method.samples`.

    Examples
    --------
    >>> from prunekd.experiments import SweepConfig
    >>> from prunekd.experiments._methods import pruner_samples
    >>> config = SweepConfig(n_proxies=2, proxy_epochs=10)
    >>> pruner_samples(config, "el2n", 100, proxy_cost=1.0, teacher_cost=1.0)
    2200.0
    >>> pruner_samples(config, "forgetting", 100, 1.0, 1.0), pruner_samples(config, "kcenter", 100, 1.0, 1.0)
    (4000.0, 0.0)
    """
    return get_method(name).samples(config, n_train, proxy_cost, teacher_cost)


_TEACHER_RECORD = [
    ("forgetting_teacher", "Forgetting (teacher)", "forgetting"),
    ("aum_teacher", "AUM (teacher)", "aum"),
    ("dyn_unc_teacher", "Dyn-Unc (teacher)", "dyn_unc"),
    ("tdds_teacher", "TDDS (teacher)", "tdds"),
]
_BUILTIN = [
    Method("random", "Random", RandomPruner, "nothing"),
    Method("el2n", "EL2N", EL2NPruner, "proxies"),
    Method("grand", "GraNd", GraNdPruner, "proxies"),
    Method(
        "forgetting",
        "Forgetting",
        ForgettingPruner,
        "proxies",
        proxy_epochs=2,
        scoring_pass=False,
    ),
    Method("entropy", "Entropy", EntropyPruner, "proxies"),
    Method("margin", "Margin", MarginPruner, "proxies"),
    Method("least_confidence", "Least confidence", LeastConfidencePruner, "proxies"),
    Method("ccs", "CCS (EL2N)", CoverageCentricPruner, "proxies", over_el2n=True),
    Method("d2", "D2 (EL2N)", D2Pruner, "proxies", over_el2n=True),
    Method("kcenter", "k-center", KCenterGreedyPruner, "inputs"),
    Method("herding", "Herding", HerdingPruner, "inputs"),
    Method("moderate", "Moderate-DS", ModerateDSPruner, "inputs"),
    Method("facility_location", "Facility location", FacilityLocationPruner, "inputs"),
    Method("graph_cut", "Graph cut", GraphCutPruner, "inputs"),
    Method("log_determinant", "Log-determinant", LogDeterminantPruner, "inputs"),
    Method("el2n_teacher", "EL2N (teacher)", EL2NPruner, "teacher pass"),
    *(
        Method(name, text, DynamicsPruner, "teacher record", {"score": score})
        for name, text, score in _TEACHER_RECORD
    ),
    Method(
        "cd_teacher",
        "Contextual diversity (teacher)",
        ContextualDiversityPruner,
        "teacher pass",
    ),
    Method("cal_teacher", "Cal (teacher)", CalPruner, "teacher pass"),
    Method("prototype", "Prototype", PrototypePruner, "inputs"),
    Method("prototype_teacher", "Prototype (teacher)", PrototypePruner, "teacher pass"),
    Method("glister_teacher", "GLISTER (teacher)", GlisterPruner, "teacher pass, validation"),
    # DeepFool's steps depend on the data: the pruner reports them.
    Method("deepfool", "DeepFool", DeepFoolPruner, "proxies", scoring_pass=False),
    Method("craig_teacher", "CRAIG (teacher, weighted)", CraigPruner, "teacher pass, weights"),
    Method(
        "gradmatch_teacher",
        "GradMatch (teacher, weighted)",
        GradMatchPruner,
        "teacher pass, weights",
    ),
    # InfoBatch's recipe, scored by the training loss, or by the distillation term alone.
    Method(
        "infobatch", "InfoBatch (loss)", DynamicPruning, "training", {"score": "loss"}, "dynamic"
    ),
    Method(
        "infobatch_kd",
        "InfoBatch (KD term)",
        DynamicPruning,
        "training",
        {"score": "kd"},
        "dynamic",
    ),
]


for _method in _BUILTIN:
    register(_method)
# The names of the built-in static methods (method_names() also gives the dynamic ones and
# any registered later).
PRUNERS = tuple(m.name for m in methods("static"))
DYNAMIC = tuple(m.name for m in methods("dynamic"))
WEIGHTED = tuple(m.name for m in methods() if m.weighted)
