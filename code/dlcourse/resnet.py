"""Residual networks (chapter 8.6): the residual block, ResNet, ResNet-18 and the ResNeXt block.

As in ``alexnet`` to ``googlenet`` (8.1-8.4), every layer is created with its input size (no
lazy layers), so the constructor's He initialisation takes effect; the blocks therefore take
``in_channels`` before d2l's arguments (``num_channels``, ``use_1x1conv``, ``strides``, ...).
Every stride-2 layer pads its input, so ResNet accepts images of any size down to 1x1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ._checks import check_arch, check_classifier_args, check_ints, check_number
from .cnn_utils import CNNClassifier, init_cnn_kaiming, min_input_size


class Residual(nn.Module):
    """The residual block of ResNet: ``relu(bn(conv(relu(bn(conv(X))))) + shortcut(X))``.

    Two 3x3 convolutions with ``num_channels`` channels, the first with stride ``strides``.
    The shortcut is ``X`` itself, or, with ``use_1x1conv=True``, a 1x1 convolution with the
    same stride: it is needed whenever the block changes the channels or the size.
    """

    def __init__(
        self, in_channels: int, num_channels: int, use_1x1conv: bool = False, strides: int = 1
    ):
        super().__init__()
        check_ints(in_channels=in_channels, num_channels=num_channels, strides=strides)
        if not use_1x1conv and (in_channels != num_channels or strides != 1):
            raise ValueError(
                f"without a 1x1 convolution the shortcut adds the input unchanged, so it needs "
                f"in_channels == num_channels and strides == 1 (got {in_channels}, "
                f"{num_channels}, strides={strides}); pass use_1x1conv=True"
            )
        self.conv1 = nn.Conv2d(in_channels, num_channels, 3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, 3, padding=1)
        self.conv3 = (
            nn.Conv2d(in_channels, num_channels, 1, stride=strides) if use_1x1conv else None
        )
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = F.relu(self.bn1(self.conv1(X)))  # (B, num_channels, ceil(h/s), ceil(w/s))
        Y = self.bn2(self.conv2(Y))  # same shape
        if self.conv3 is not None:
            X = self.conv3(X)  # the shortcut, brought to Y's shape
        return F.relu(Y + X)


class ResNeXtBlock(nn.Module):
    """The ResNeXt block: 1x1 convolution to ``num_channels * bot_mul`` channels, a 3x3
    grouped convolution, a 1x1 convolution back to ``num_channels``, each with batch norm,
    plus the shortcut (a 1x1 convolution and batch norm when ``use_1x1conv``).

    As in d2l, ``groups`` is the *group width*: the 3x3 convolution splits its
    ``bot_channels`` channels into ``bot_channels // groups`` groups of ``groups`` channels.
    """

    def __init__(
        self,
        in_channels: int,
        num_channels: int,
        groups: int,
        bot_mul: float,
        use_1x1conv: bool = False,
        strides: int = 1,
    ):
        super().__init__()
        check_ints(
            in_channels=in_channels, num_channels=num_channels, groups=groups, strides=strides
        )
        check_number("bot_mul", bot_mul)
        bot_channels = int(round(num_channels * bot_mul))
        if bot_channels % groups:
            raise ValueError(
                f"the bottleneck's {bot_channels} channels (num_channels * bot_mul) cannot be "
                f"split into groups of width {groups}; choose a group width that divides "
                f"{bot_channels}"
            )
        if not use_1x1conv and (in_channels != num_channels or strides != 1):
            raise ValueError(
                f"without a 1x1 convolution the shortcut adds the input unchanged, so it needs "
                f"in_channels == num_channels and strides == 1 (got {in_channels}, "
                f"{num_channels}, strides={strides}); pass use_1x1conv=True"
            )
        self.bot_channels = bot_channels
        self.conv1 = nn.Conv2d(in_channels, bot_channels, 1)
        self.conv2 = nn.Conv2d(
            bot_channels,
            bot_channels,
            3,
            stride=strides,
            padding=1,
            groups=bot_channels // groups,
        )
        self.conv3 = nn.Conv2d(bot_channels, num_channels, 1)
        self.bn1 = nn.BatchNorm2d(bot_channels)
        self.bn2 = nn.BatchNorm2d(bot_channels)
        self.bn3 = nn.BatchNorm2d(num_channels)
        if use_1x1conv:
            self.conv4 = nn.Conv2d(in_channels, num_channels, 1, stride=strides)
            self.bn4 = nn.BatchNorm2d(num_channels)
        else:
            self.conv4 = self.bn4 = None

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = F.relu(self.bn1(self.conv1(X)))  # (B, bot_channels, h, w)
        Y = F.relu(self.bn2(self.conv2(Y)))  # (B, bot_channels, ceil(h/s), ceil(w/s))
        Y = self.bn3(self.conv3(Y))  # (B, num_channels, ceil(h/s), ceil(w/s))
        if self.conv4 is not None:
            X = self.bn4(self.conv4(X))
        return F.relu(Y + X)


RESNET18_ARCH = ((2, 64), (2, 128), (2, 256), (2, 512))


class ResNet(CNNClassifier):
    """ResNet: the stem ``b1`` (7x7 convolution, batch norm, 3x3 max pooling, size / 4),
    one stage of ``num_residuals`` residual blocks per (num_residuals, num_channels) pair of
    ``arch`` (every stage but the first halves the size and starts with a 1x1 shortcut),
    then global average pooling and a linear layer."""

    def __init__(self, arch: Sequence[tuple[int, int]], lr: float = 0.1, num_classes: int = 10):
        super().__init__()
        check_classifier_args(lr, num_classes)
        arch = check_arch(arch, "(num_residuals, num_channels)")
        self.arch, self.lr = arch, lr
        self.net = nn.Sequential()
        self.net.add_module("b1", self.b1())
        in_channels = 64
        for i, (num_residuals, num_channels) in enumerate(arch):
            stage = self.block(in_channels, num_residuals, num_channels, first_block=i == 0)
            self.net.add_module(f"b{i + 2}", stage)
            in_channels = num_channels
        self.net.add_module(
            "last",
            nn.Sequential(
                nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(in_channels, num_classes)
            ),
        )
        self.net.apply(init_cnn_kaiming)
        self.min_size = min_input_size(self.net)

    @staticmethod
    def b1() -> nn.Sequential:
        """7x7 convolution (64 channels, stride 2), batch norm, ReLU, 3x3 max pooling: size / 4."""
        return nn.Sequential(
            nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )

    @staticmethod
    def block(
        in_channels: int, num_residuals: int, num_channels: int, first_block: bool = False
    ) -> nn.Sequential:
        """A stage: the first block halves the size with a 1x1 shortcut (unless
        ``first_block``, which follows the stem's pooling and keeps the size)."""
        blocks = []
        for i in range(num_residuals):
            if i == 0 and not first_block:
                blocks.append(Residual(in_channels, num_channels, use_1x1conv=True, strides=2))
            elif i == 0 and in_channels != num_channels:
                blocks.append(Residual(in_channels, num_channels, use_1x1conv=True))
            else:
                blocks.append(Residual(num_channels, num_channels))
        return nn.Sequential(*blocks)


class ResNet18(ResNet):
    """ResNet-18: four stages of two residual blocks (64, 128, 256, 512 channels); with the
    stem's convolution and the final linear layer, 18 layers with weights."""

    def __init__(self, lr: float = 0.1, num_classes: int = 10):
        super().__init__(RESNET18_ARCH, lr, num_classes)
