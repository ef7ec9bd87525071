"""Sphinx configuration of the prunekd documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import prunekd  # noqa: E402

project = "prunekd"
copyright = "the prunekd developers"
version = release = prunekd.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# Sweep folders hold their own summary.md: data, not pages of the site.
exclude_patterns = ["_build", "results_discussion.md", "results/**"]
templates_path = ["_templates"]
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",  # cifar10_recipe.py is shown, not run
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "pydata_sphinx_theme"
html_title = "prunekd"
html_theme_options = {"navigation_with_keys": False}
