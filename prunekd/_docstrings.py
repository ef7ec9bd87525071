"""Docstring sections shared by several estimators, written once and filled in by a decorator."""

import re
import textwrap

_PLACEHOLDER = re.compile(r"^([ \t]*)\{\{(\w+)\}\}[ \t]*$", re.MULTILINE)


def fill_sections(doc, sections):
    """``doc`` with every line ``{{name}}`` replaced by ``sections[name]``, indented as the line.

    ``None`` (``python -OO`` strips docstrings) stays ``None``.

    Examples
    --------
    >>> from prunekd._docstrings import fill_sections
    >>> print(fill_sections("Summary.\\n\\n    {{params}}\\n", {"params": "a : int\\n    Some."}))
    Summary.
    <BLANKLINE>
        a : int
            Some.
    <BLANKLINE>
    """
    if doc is None:
        return None

    def replace(match):
        indent, name = match.groups()
        return textwrap.indent(textwrap.dedent(sections[name]).strip("\n"), indent)

    return _PLACEHOLDER.sub(replace, doc)


def shared_sections(**sections):
    """Class decorator: fill the ``{{name}}`` lines of the class's docstring with ``sections``."""

    def decorate(cls):
        cls.__doc__ = fill_sections(cls.__doc__, sections)
        return cls

    return decorate
