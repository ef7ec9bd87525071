"""The shape of the package: no import cycle, one target layout, a small student, a short path."""

import ast
import re
import sys
import textwrap
from pathlib import Path

from sklearn.linear_model import LogisticRegression

import prunekd
from prunekd import DistillationClassifier
from prunekd.models import MLP

PACKAGE = Path(prunekd.__file__).parent


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer, path, node, modules):
    """The prunekd modules an import statement (at any depth, in functions too) reaches."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    base = node.module if node.level == 0 else ".".join(p for p in (package, node.module) if p)
    found = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
    return found or ([base] if base in modules else [])


def import_graph():
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[name].update(_resolve(name, path, node, modules))
    return graph


def find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    assert find_cycle(import_graph()) is None, " -> ".join(find_cycle(import_graph()))


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = import_graph()
    graph["prunekd._nets"].add("prunekd.pruning._proxy")  # _proxy imports _nets
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1]


# Reading a target row's label or teacher part: only the layout's own module does it.
_LAYOUT = re.compile(r"\[(\.\.\.|:), ?0\]\.long\(\)|\[(\.\.\.|:), ?1:\]|torch\.cat\(\s*\[\s*torch\.as_tensor\([^)]*\)\[:, None\]")


def test_the_target_layout_is_written_in_one_module():
    holders = sorted(_module_name(p) for p in PACKAGE.rglob("*.py") if _LAYOUT.search(p.read_text()))
    assert holders == ["prunekd.distillation._targets"]


def _body_lines(func):
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring is not code
    return 0 if not body else body[-1].end_lineno - body[0].lineno + 1


def _oversized(source, name):
    """What in ``source`` passes the size limits: a file over 450 lines, a body over 45."""
    found = [f"{name} ({len(source.splitlines())} lines)"] if len(source.splitlines()) > 450 else []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _body_lines(node) > 45:
            found.append(f"{name}:{node.name} ({_body_lines(node)} lines)")
    return found


def test_every_module_and_function_stays_small():
    # Counted on the source as ruff format leaves it (CI checks the formatting), with no
    # line packed past the formatter.
    oversized, packed = [], []
    for name, path in _modules().items():
        source = path.read_text()
        oversized += _oversized(source, name)
        if re.search(r"#\s*fmt:\s*(skip|off)", source):
            packed.append(name)
    assert oversized == [] and packed == []


def test_the_size_check_sees_a_long_function_and_file():
    body = "\n".join(f"    x{i} = {i}" for i in range(46))
    assert _oversized(f"def long():\n{body}\n", "m") == ["m:long (46 lines)"]
    assert _oversized("x = 1\n" * 451, "m") == ["m (451 lines)"]


def _trace_fit(student, X, y):
    """The prunekd functions ``fit`` calls (nearest prunekd caller: fit or ``_train``) before skorch's loop."""
    import skorch

    skorch_partial_fit = skorch.NeuralNet.partial_fit.__code__
    root = str(PACKAGE)
    called, done = [], []

    def nearest_prunekd(frame):
        frame = frame.f_back
        while frame is not None and not frame.f_code.co_filename.startswith(root):
            frame = frame.f_back
        return frame

    def profile(frame, event, arg):
        if event != "call" or done:
            return
        if frame.f_code is skorch_partial_fit:
            done.append(True)
            return
        if not frame.f_code.co_filename.startswith(root):
            return
        parent = nearest_prunekd(frame)
        if parent is not None and parent.f_code.co_name in ("fit", "_train"):
            called.append(frame.f_code.co_qualname)

    sys.setprofile(profile)
    try:
        student.fit(X, y)
    finally:
        sys.setprofile(None)
    assert done, "skorch's loop was never reached"
    return list(dict.fromkeys(called))


def test_fit_takes_a_short_path_to_skorchs_loop(blobs):
    X, y = blobs
    teacher = LogisticRegression().fit(X, y)
    student = DistillationClassifier(MLP, teacher=teacher, alpha=0.5, max_epochs=1, verbose=0,
                                     random_state=0)  # fmt: skip
    called = _trace_fit(student, X, y)
    assert len(called) <= 8, called
    assert "TeacherTargets.build" in called  # the teacher is resolved and cached in one place


def test_experiments_use_the_public_api_or_the_named_internal_module():
    modules = _modules()
    graph = import_graph()
    allowed_internal = {"prunekd._internal"}
    offenders = []
    for name in modules:
        if not name.startswith("prunekd.experiments"):
            continue
        for target in graph[name]:
            inside = target.startswith("prunekd.experiments")
            public = not any(part.startswith("_") for part in target.split(".")[1:])
            if not (inside or public or target in allowed_internal):
                offenders.append(f"{name} imports {target}")
    assert offenders == []


def _tempered_softmaxes(source, prefix=""):
    """Functions of ``source`` that take a (log-)softmax of something divided by a temperature.

    That is where a distillation divergence compares distributions at a
    temperature (or where the teacher's side is computed once).
    """
    found = []

    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, scope + [child.name])
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = ".".join(scope + [child.name])
                for call in ast.walk(child):
                    func = getattr(call, "func", None)
                    if (isinstance(call, ast.Call) and getattr(func, "attr", getattr(func, "id", ""))
                            in ("softmax", "log_softmax") and call.args
                            and isinstance(call.args[0], ast.BinOp)
                            and isinstance(call.args[0].op, ast.Div)):  # fmt: skip
                        found.append(prefix + name)
                        break
                visit(child, scope + [child.name])

    visit(ast.parse(source), [])
    return found


def test_each_distillation_divergence_is_computed_in_one_function():
    from prunekd.distillation._losses import KD_LOSSES

    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += _tempered_softmaxes(path.read_text(), f"{_module_name(path)}:")
    assert sorted(found) == [
        "prunekd.distillation._losses:DISTLoss._batch",  # DIST has no per-row form
        "prunekd.distillation._losses:DKDLoss._per_sample",
        "prunekd.distillation._losses:_kd_divergence",  # vanilla KD, for student and group
        "prunekd.distillation._losses:teacher_log_probs",  # the teacher's side, once per fit
    ]
    # every loss defines its divergence once: per row, or (DIST) per batch
    for name, loss in KD_LOSSES.items():
        assert len({"_per_sample", "_batch"} & set(vars(loss))) == 1, name


def test_the_divergence_scan_sees_a_second_kd_term():
    planted = "def kd(s, t, tau):\n    return F.kl_div(F.log_softmax(s / tau, -1), t)\n"
    assert _tempered_softmaxes(planted) == ["kd"]


def test_the_group_loss_has_no_loop_over_members():
    import inspect

    from prunekd.distillation import _losses
    from prunekd.distillation._group import _StudentGroup

    loops = (ast.For, ast.While, ast.comprehension)
    for func in (_StudentGroup.get_loss, _losses.kd_objective, _losses._mean,
                 _losses._hard_per_sample, _losses._KDLossBase.members):  # fmt: skip
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        assert not any(isinstance(node, loops) for node in ast.walk(tree)), func.__qualname__


# Uses of a pruner as a part of another object (not a listing of methods), with why.
_COMPOSED = {
    ("EL2NPruner", "prunekd.pruning._coverage"): "CCS selects over EL2N scores by default",
    ("EL2NPruner", "prunekd.pruning._d2"): "D2 passes messages over EL2N scores by default",
    ("RandomPruner", "prunekd.tuning._build"): "prunekd --data searches random pruning",
}
# Tests that list methods: they read the registry, never a class.
_LISTING_TESTS = ("test_estimator_checks.py", "test_method_contract.py", "test_cli.py",
                  "test_docs_results.py", "test_sweep_new_methods.py", "test_cost.py")  # fmt: skip


def _names_in_code(path, names):
    """The ``names`` a file's code refers to (imports, names, attributes, class statements)."""
    used = set()
    for node in ast.walk(ast.parse(path.read_text())):
        for value in (getattr(node, "id", None), getattr(node, "attr", None),
                      node.name if isinstance(node, (ast.alias, ast.ClassDef)) else None):  # fmt: skip
            if value in names:
                used.add(value)
    return used


def test_a_method_is_named_in_its_module_the_exports_and_the_registry_only():
    from prunekd.experiments import methods

    classes = {m.cls.__name__: m.cls.__module__ for m in methods()}
    allowed = {"prunekd", "prunekd.pruning", "prunekd.callbacks", "prunekd.experiments._methods"}
    stray = []
    for name, path in _modules().items():
        for cls in _names_in_code(path, classes):
            if name not in allowed and name != classes[cls] and (cls, name) not in _COMPOSED:
                stray.append(f"{cls} in {name}")
    tests = PACKAGE.parent / "tests"
    for test in _LISTING_TESTS:
        stray += [f"{cls} in tests/{test}" for cls in _names_in_code(tests / test, classes)]
    assert stray == []


def test_every_method_is_exported_and_in_the_api_listing():
    from prunekd.experiments import methods
    from prunekd.pruning import BasePruner

    api = (PACKAGE.parent / "docs" / "api.rst").read_text()
    listed = set(re.findall(r"^   (?:pruning\.)?(\w+)$", api, re.MULTILINE))
    public = {name for name in prunekd.pruning.__all__
              if isinstance(getattr(prunekd.pruning, name), type)
              and issubclass(getattr(prunekd.pruning, name), BasePruner)}  # fmt: skip
    registered = {m.cls.__name__ for m in methods("static")}
    assert registered <= public and registered <= set(prunekd.__all__)
    assert public <= listed, sorted(public - listed)


def test_the_examples_use_public_names_only():
    import importlib

    private = []
    for path in sorted((PACKAGE.parent / "examples").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("prunekd")):
                continue
            module = importlib.import_module(node.module)
            for alias in node.names:
                public = getattr(module, "__all__", None)
                hidden = any(p.startswith("_") for p in node.module.split("."))
                if hidden or (public is not None and alias.name not in public):
                    private.append(f"{path.name}: {node.module}.{alias.name}")
    assert private == []
