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


def _undocumented(obj):
    """numpydoc's complaints about ``obj``'s parameter list: missing, unknown or out of order."""
    from numpydoc.docscrape import get_doc_object
    from numpydoc.validate import validate

    errors = validate(get_doc_object(obj))["errors"]
    return [message for code, message in errors if code in ("PR01", "PR02", "PR03")]


def _public_estimators():
    from sklearn.base import BaseEstimator

    return sorted({(qualname.rsplit(".", 1)[1], obj) for qualname, obj in _public_names()
                   if inspect.isclass(obj) and issubclass(obj, BaseEstimator)},
                  key=lambda item: item[0])  # fmt: skip


@pytest.mark.parametrize("name, estimator", _public_estimators(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_estimator_documents_exactly_its_parameters(name, estimator):
    pytest.importorskip("numpydoc")
    assert _undocumented(estimator) == []


def test_the_parameter_check_sees_an_undocumented_parameter():
    pytest.importorskip("numpydoc")
    from prunekd import RandomPruner

    class Planted(RandomPruner):
        __doc__ = RandomPruner.__doc__

        def __init__(self, fraction=0.5, *, class_balanced=True, random_state=None,
                     undocumented=1):  # fmt: skip
            super().__init__(fraction, class_balanced=class_balanced, random_state=random_state)
            self.undocumented = undocumented

    assert _undocumented(RandomPruner) == []
    assert any("undocumented" in message for message in _undocumented(Planted))


def test_shared_sections_survive_stripped_docstrings():
    from prunekd._docstrings import shared_sections

    @shared_sections(parameters="a : int")
    class Stripped:  # as under python -OO
        pass

    assert Stripped.__doc__ is None
