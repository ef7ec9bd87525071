"""Reference networks: small ones for flat features and small images."""

from ._small import MLP, SmallCNN

__all__ = ["MLP", "SmallCNN"]
