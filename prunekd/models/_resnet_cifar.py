"""ResNets for 32x32 images (CIFAR-10/100, SVHN): 20, 32, 56 and 110 layers."""

from torch import nn
from torch.nn import functional as F


class _BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Identity()
        if stride != 1 or in_planes != planes:
            # 1x1 projection when the shape changes
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNetCIFAR(nn.Module):
    """ResNet of depth ``6 n + 2`` for small images, returning logits.

    Three stages of ``n`` basic blocks with ``width``, ``2 width`` and
    ``4 width`` channels (16, 32, 64 by default), global average pooling and a
    linear classifier, as in the CIFAR experiments of the original ResNet
    paper; shortcuts that change shape use a 1x1 projection.

    Parameters
    ----------
    depth : {20, 32, 44, 56, 110} or any ``6 n + 2``, default=20
    n_classes : int, default=10
    in_channels : int, default=3
    width : int, default=16
        Channels of the first stage.

    Examples
    --------
    >>> import torch
    >>> from prunekd.models import ResNetCIFAR
    >>> ResNetCIFAR(depth=20)(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """

    def __init__(self, depth=20, n_classes=10, in_channels=3, width=16):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(
                f"depth must be 6 n + 2 with n >= 1 (20, 32, 56, 110, ...); got {depth}"
            )
        n = (depth - 2) // 6
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        layers, in_planes = [], width
        for stage, planes in enumerate((width, 2 * width, 4 * width)):
            for block in range(n):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(_BasicBlock(in_planes, planes, stride))
                in_planes = planes
        self.layers = nn.Sequential(*layers)
        self.head = nn.Linear(in_planes, n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        out = self.layers(self.stem(x))
        return self.head(F.adaptive_avg_pool2d(out, 1).flatten(1))


def resnet20(n_classes=10, **kwargs):
    """ResNet-20 for 32x32 images. See :class:`ResNetCIFAR`.

    Examples
    --------
    >>> from prunekd.models import resnet20
    >>> sum(p.numel() for p in resnet20().parameters()) > 250_000
    True
    """
    return ResNetCIFAR(20, n_classes, **kwargs)


def resnet32(n_classes=10, **kwargs):
    """ResNet-32 for 32x32 images. See :class:`ResNetCIFAR`.

    Examples
    --------
    >>> from prunekd.models import resnet32
    >>> len(resnet32().layers)
    15
    """
    return ResNetCIFAR(32, n_classes, **kwargs)


def resnet56(n_classes=10, **kwargs):
    """ResNet-56 for 32x32 images. See :class:`ResNetCIFAR`.

    Examples
    --------
    >>> from prunekd.models import resnet56
    >>> len(resnet56().layers)
    27
    """
    return ResNetCIFAR(56, n_classes, **kwargs)


def resnet110(n_classes=10, **kwargs):
    """ResNet-110 for 32x32 images. See :class:`ResNetCIFAR`.

    Examples
    --------
    >>> from prunekd.models import resnet110
    >>> len(resnet110().layers)
    54
    """
    return ResNetCIFAR(110, n_classes, **kwargs)
