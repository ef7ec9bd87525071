"""Reference networks: a family of sizes for teacher-capacity studies.

Small MLPs and CNNs for flat features, 1-D signals and small images (such as
the 8x8 digits), and the CIFAR ResNets (20, 32, 56, 110 layers) for 32x32 images.
For ImageNet-size inputs use torchvision's ResNets
(``torchvision.models.resnet18`` ... ``resnet152``, with ``weights=None`` or
weights you have on disk) directly: they return logits as the students and
teachers here expect.
"""

from ._resnet_cifar import ResNetCIFAR, resnet20, resnet32, resnet56, resnet110
from ._small import MLP, SmallCNN, SmallCNN1d

__all__ = [
    "MLP",
    "ResNetCIFAR",
    "SmallCNN",
    "SmallCNN1d",
    "resnet20",
    "resnet32",
    "resnet56",
    "resnet110",
]
