"""The shape of the package: no import cycle, one target layout, a small student, a short path."""

import ast
import re
import sys
from pathlib import Path

import numpy as np
import pytest
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


def test_the_distillation_core_stays_small():
    # Counted on the source as ruff format leaves it (CI checks the formatting).
    assert len((PACKAGE / "distillation" / "_classifier.py").read_text().splitlines()) <= 450
    long = []
    for path in sorted((PACKAGE / "distillation").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _body_lines(node) > 45:
                long.append(f"{path.name}:{node.name} ({_body_lines(node)} lines)")
    assert long == []


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
