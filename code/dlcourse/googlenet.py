"""GoogLeNet (section 8.4): the ``Inception`` block of four parallel paths and ``GoogLeNet``.

Like every network of chapter 8, it is built with each layer's input size (``nn.Conv2d`` and
``nn.Linear``, never the lazy versions), so the He (Kaiming) initialisation in the constructor
really takes effect; the shared base class and checks are in ``cnn_utils``.
GoogLeNet ends in global average pooling and pads every stride-2 layer, so it accepts
images of any size down to 1x1 (the book trains it at 96x96).
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_classifier_args, check_ints
from .cnn_utils import CNNClassifier, init_cnn_kaiming, min_input_size


class Inception(nn.Module):
    """The Inception block (section 8.4): four parallel paths whose outputs, all the size of
    the input, are concatenated along the channels: c1 + c2[1] + c3[1] + c4 channels.

    1. a 1x1 convolution with ``c1`` channels;
    2. a 1x1 convolution to ``c2[0]`` channels, then a 3x3 one (padding 1) to ``c2[1]``;
    3. a 1x1 convolution to ``c3[0]`` channels, then a 5x5 one (padding 2) to ``c3[1]``;
    4. 3x3 max pooling (stride 1, padding 1), then a 1x1 convolution to ``c4``.
    The 1x1 convolutions before the 3x3 and 5x5 ones shrink the channels and so the cost.
    """

    def __init__(
        self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int
    ):
        super().__init__()
        check_ints(in_channels=in_channels, c1=c1, c4=c4)
        for name, pair in (("c2", c2), ("c3", c3)):
            check_ints(**{f"{name}[{i}]": v for i, v in enumerate(pair)})
            if len(pair) != 2:
                raise ValueError(f"{name} must be two channel counts (1x1, then 3x3 or 5x5), "
                                 f"got {pair!r}")  # fmt: skip
        self.b1 = nn.Sequential(nn.Conv2d(in_channels, c1, kernel_size=1), nn.ReLU())
        self.b2 = nn.Sequential(
            nn.Conv2d(in_channels, c2[0], kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1),
            nn.ReLU(),
        )
        self.b3 = nn.Sequential(
            nn.Conv2d(in_channels, c3[0], kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2),
            nn.ReLU(),
        )
        self.b4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
            nn.Conv2d(in_channels, c4, kernel_size=1),
            nn.ReLU(),
        )
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        paths = [self.b1(x), self.b2(x), self.b3(x), self.b4(x)]  # each (B, c_k, h, w)
        return torch.cat(paths, dim=1)  # (B, out_channels, h, w)


class GoogLeNet(CNNClassifier):
    """GoogLeNet (section 8.4): stages b1-b5, nine Inception blocks, global average pooling
    and one linear layer. The book trains it on 96x96 Fashion-MNIST images."""

    def __init__(self, lr: float = 0.1, num_classes: int = 10):
        super().__init__()
        check_classifier_args(lr, num_classes)
        self.lr = lr
        self.net = nn.Sequential(
            self.b1(),
            self.b2(),
            self.b3(),
            self.b4(),
            self.b5(),
            nn.Linear(1024, num_classes),
        )
        self.net.apply(init_cnn_kaiming)
        self.min_size = min_input_size(self.net)

    @staticmethod
    def b1() -> nn.Sequential:
        """7x7 convolution with stride 2 and 3x3 max pooling with stride 2: size / 4."""
        return nn.Sequential(
            nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )

    @staticmethod
    def b2() -> nn.Sequential:
        """1x1 then 3x3 convolution (64 -> 192 channels), max pooling: size / 2."""
        return nn.Sequential(
            nn.Conv2d(64, 64, kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(64, 192, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )

    @staticmethod
    def b3() -> nn.Sequential:
        """Two Inception blocks (192 -> 256 -> 480 channels), max pooling: size / 2."""
        return nn.Sequential(
            Inception(192, 64, (96, 128), (16, 32), 32),
            Inception(256, 128, (128, 192), (32, 96), 64),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )

    @staticmethod
    def b4() -> nn.Sequential:
        """Five Inception blocks (480 -> 512 -> 512 -> 512 -> 528 -> 832), max pooling."""
        return nn.Sequential(
            Inception(480, 192, (96, 208), (16, 48), 64),
            Inception(512, 160, (112, 224), (24, 64), 64),
            Inception(512, 128, (128, 256), (24, 64), 64),
            Inception(512, 112, (144, 288), (32, 64), 64),
            Inception(528, 256, (160, 320), (32, 128), 128),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )

    @staticmethod
    def b5() -> nn.Sequential:
        """Two Inception blocks (832 -> 832 -> 1024), global average pooling, flatten."""
        return nn.Sequential(
            Inception(832, 256, (160, 320), (32, 128), 128),
            Inception(832, 384, (192, 384), (48, 128), 128),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
        )
