"""Network in Network (section 8.3): ``nin_block`` (a convolution and two 1x1 convolutions)
and ``NiN``, which replaces the dense layers with global average pooling.

Like every network of chapter 8, it is built with each layer's input size (``nn.Conv2d`` and
``nn.Linear``, never the lazy versions), so the He (Kaiming) initialisation in the constructor
really takes effect; the shared base class and checks are in ``cnn_utils``.
NiN accepts any image at least ``min_size`` (67) wide.
"""

from __future__ import annotations

from torch import nn

from ._checks import check_classifier_args, check_int, check_ints
from .cnn_utils import CNNClassifier, init_cnn_kaiming, min_input_size


def nin_block(
    in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int
) -> nn.Sequential:
    """A NiN block: one ordinary convolution, then two 1x1 convolutions (a small MLP applied
    at every pixel), each followed by ReLU."""
    check_ints(in_channels=in_channels, out_channels=out_channels)
    check_ints(kernel_size=kernel_size, stride=stride)
    check_int("padding", padding, minimum=0)
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
    )


class NiN(CNNClassifier):
    """Network in Network (section 8.3): AlexNet-like NiN blocks and no dense layers; the last
    block has one channel per class and global average pooling turns each into a score."""

    def __init__(self, lr: float = 0.1, num_classes: int = 10):
        super().__init__()
        check_classifier_args(lr, num_classes)
        self.lr = lr
        self.net = nn.Sequential(
            nin_block(1, 96, kernel_size=11, stride=4, padding=0),
            nn.MaxPool2d(3, stride=2),
            nin_block(96, 256, kernel_size=5, stride=1, padding=2),
            nn.MaxPool2d(3, stride=2),
            nin_block(256, 384, kernel_size=3, stride=1, padding=1),
            nn.MaxPool2d(3, stride=2),
            nn.Dropout(0.5),
            nin_block(384, num_classes, kernel_size=3, stride=1, padding=1),
            nn.AdaptiveAvgPool2d((1, 1)),  # (num_classes, h, w) -> (num_classes, 1, 1)
            nn.Flatten(),
        )
        self.net.apply(init_cnn_kaiming)
        self.min_size = min_input_size(self.net)
