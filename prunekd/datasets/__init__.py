"""Data loaders: the embedded digits."""

from ._digits import load_digits

__all__ = ["load_digits"]
