"""Every public name has a numpydoc docstring with a runnable example (run by doctest)."""

import importlib
import inspect

import pytest

PUBLIC_MODULES = [
    "prunekd",
    "prunekd.pruning",
    "prunekd.distillation",
    "prunekd.callbacks",
    "prunekd.datasets",
    "prunekd.models",
    "prunekd.experiments",
    "prunekd.parallel",
]


def _public_names():
    seen = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj not in seen:
                seen.add(obj)
                yield f"{module_name}.{name}", obj


@pytest.mark.parametrize("qualname, obj", list(_public_names()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_name_has_docstring_with_example(qualname, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{qualname} has no docstring"
    assert "Examples\n--------" in doc and ">>> " in doc, f"{qualname} has no runnable example"
