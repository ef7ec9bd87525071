"""Your own data: which kept fraction and alpha to use, from a cross-validated search.

``prunekd --data FILE --target COLUMN`` runs it from the command line.
"""

from ._load import load_data
from ._recommend import DEFAULT_ALPHAS, DEFAULT_FRACTIONS, Recommendation, recommend

__all__ = ["DEFAULT_ALPHAS", "DEFAULT_FRACTIONS", "Recommendation", "load_data", "recommend"]
