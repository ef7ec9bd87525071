"""Small networks for flat features and small images (such as 8x8 digits)."""

from torch import nn


class MLP(nn.Module):
    """Multi-layer perceptron returning logits.

    Parameters
    ----------
    n_features : int
        Number of input features. Inputs with more than two dimensions are
        flattened, so image arrays work too.
    n_classes : int
        Number of output logits.
    hidden : tuple of int, default=(64,)
        Width of each hidden layer.

    Examples
    --------
    >>> import torch
    >>> from prunekd.models import MLP
    >>> MLP(n_features=64, n_classes=10)(torch.zeros(2, 64)).shape
    torch.Size([2, 10])
    """

    def __init__(self, n_features, n_classes, hidden=(64,)):
        super().__init__()
        layers, width = [nn.Flatten()], n_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class SmallCNN(nn.Module):
    """Two-block convolutional network returning logits, for small images.

    ``width`` scales every layer, which gives the family of teacher and
    student sizes used in teacher-capacity studies.

    Parameters
    ----------
    n_classes : int, default=10
        Number of output logits.
    in_channels : int, default=1
        Number of image channels. Inputs of shape ``(n, H, W)`` are treated as
        single-channel images.
    width : int, default=16
        Channels of the first convolution; the second has ``2 * width``.

    Examples
    --------
    >>> import torch
    >>> from prunekd.models import SmallCNN
    >>> SmallCNN(n_classes=10)(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    """

    def __init__(self, n_classes=10, in_channels=1, width=16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            # Pooling to a fixed 2x2 grid makes the network work on any image
            # size while keeping some spatial layout.
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(8 * width, n_classes)

    def forward(self, x):
        if x.dim() == 3:
            x = x.unsqueeze(1)
        return self.classifier(self.features(x))


class SmallCNN1d(nn.Module):
    """Two-block 1-D convolutional network returning logits, for signals ``(n, channels, length)``.

    Parameters
    ----------
    n_classes : int, default=10
        Number of output logits.
    in_channels : int, default=1
        Number of signal channels. Inputs of shape ``(n, length)`` are treated
        as single-channel signals.
    width : int, default=16
        Channels of the first convolution; the second has ``2 * width``.

    Examples
    --------
    >>> import torch
    >>> from prunekd.models import SmallCNN1d
    >>> SmallCNN1d(n_classes=3, in_channels=2)(torch.zeros(5, 2, 40)).shape
    torch.Size([5, 3])
    """

    def __init__(self, n_classes=10, in_channels=1, width=16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(in_channels, width, 5, padding=2),
            nn.ReLU(),
            # ceil_mode keeps a length-1 signal at length 1 instead of 0
            nn.MaxPool1d(2, ceil_mode=True),
            nn.Conv1d(width, 2 * width, 5, padding=2),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(4),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(8 * width, n_classes)

    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(1)
        return self.classifier(self.features(x))
